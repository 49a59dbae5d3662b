"""Content digests: a file lsgdsim writes and later trusts says what it holds, and a reader checks it.

Results (``Result.save``), check records, figure data, the saved parts of unfinished experiments and a
sweep's results are reused by later commands (``--resume``, ``reproduce``'s cache, a sweep's restart).
A file that was truncated, had a bit flipped, or was edited by hand must not be reused: each carries a
SHA-256 of its arrays (name, dtype, shape, bytes) and of its JSON fields (canonical form), written with it,
and a reader recomputes it. What does not match raises :class:`DamagedFile`, a one-line ``ValueError``
naming the file and why; a cache that gets one measures again and says so in one line.

In a ``.npz`` the digest is the 0-d string array ``__digest__`` over every other member; a JSON document
with arrays beside it (records, figure data) keeps it in its field ``"digest"``, over the document without
that field and the arrays it lists.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

KEY = "__digest__"                # the member of a .npz that holds its digest
FIELD = "digest"                  # the field of a JSON document that holds its digest
PREFIX = "sha256:"


class DamagedFile(ValueError):
    """A file lsgdsim wrote that is not what it wrote (truncated, corrupted, edited, or written by an older
    lsgdsim without a digest); ``path`` and ``why`` say which and how, ``str()`` in one line."""

    def __init__(self, path, why: str):
        self.path, self.why = Path(path), why
        super().__init__(f"{path}: {why}")


def of(arrays: Mapping[str, np.ndarray] | None = None, fields=None) -> str:
    """The digest of ``arrays`` (name → array, any order) and the JSON-able ``fields``."""
    h = hashlib.sha256()
    for name in sorted(arrays or {}):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    if fields is not None:
        h.update(b"\0fields\0" + canonical(fields).encode())
    return PREFIX + h.hexdigest()


def canonical(fields) -> str:
    """The JSON text a digest covers: sorted keys, no spaces (NaN and ±inf as JSON's extensions)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=True)


def check(path, recorded, arrays=None, fields=None) -> None:
    """Raise :class:`DamagedFile` unless ``recorded`` is the digest of ``arrays`` and ``fields``."""
    if not recorded:
        raise DamagedFile(path, "no content digest (written by an older lsgdsim, or not by lsgdsim)")
    if of(arrays, fields) != recorded:
        raise DamagedFile(path, "its content does not match its digest (truncated, corrupted or edited)")


# -- .npz files that carry their own digest ----------------------------------------------------------------
def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed .npz of ``arrays`` with their digest as the member ``__digest__``."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    if KEY in arrays:
        raise ValueError(f"an array may not be named {KEY!r}")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays, **{KEY: np.array(of(arrays))})
    return buf.getvalue()


NPZ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError)


def read_npz(path, names=None, verify: bool = True) -> dict:
    """The arrays of a .npz (never unpickled): every member, or ``names`` only once the whole was verified.

    ``verify``: the file must carry ``__digest__`` and match it (else :class:`DamagedFile`; without
    ``verify`` the member ``__digest__`` is returned with the others, unchecked). Any way the
    archive cannot be read (truncated, not a zip, a bad member) is a :class:`DamagedFile` too."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except NPZ_ERRORS as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise DamagedFile(path, f"damaged: truncated or corrupted ({why})") from None
    if verify:
        recorded = arrays.pop(KEY, None)
        check(path, str(recorded) if recorded is not None else None, arrays)
    if names is not None:
        missing = [n for n in names if n not in arrays]
        if missing:
            raise DamagedFile(path, f"missing arrays {', '.join(missing)}")
        arrays = {n: arrays[n] for n in names}
    return arrays


def arrays_of(path, listed: Mapping[str, Mapping]) -> dict:
    """The arrays a JSON document lists (name → {"shape", "dtype"}) from its .npz, checked against the
    listing (:class:`DamagedFile` when unreadable or different); the document's digest covers the rest."""
    path = Path(path)
    try:
        arrays = read_npz(path, list(listed), verify=False)
    except FileNotFoundError:
        raise DamagedFile(path, "missing (the document lists arrays kept in it)") from None
    for name, spec in listed.items():
        a = arrays[name]
        if list(a.shape) != list(spec.get("shape", a.shape)) or str(a.dtype) != spec.get("dtype", str(a.dtype)):
            raise DamagedFile(path, f"array {name!r} is {a.dtype}{list(a.shape)}, listed as "
                                    f"{spec.get('dtype')}{spec.get('shape')}")
    return arrays
