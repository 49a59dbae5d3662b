"""The record of a theory check: everything it measured, enough to recompute its verdict and redraw its figure.

A check is split PEPit-style into four steps (theory_checks/__init__.py):

    measure(...) -> CheckRecord        the only step that simulates
    verdict(record) -> str             pure function of the record
    summary(record) -> str             pure function of the record
    figure(record) -> Figure           pure function of the record (draws, never simulates)

A record is saved as ``NAME.json`` (the JSON-able parts) with ``NAME.npz`` beside it for the arrays a
figure draws. Non-finite floats are written as JSON ``NaN``/``Infinity`` (Python's json reads them
back exactly), so that a verdict recomputed from a reloaded record is the verdict of the live run: the
framework always judges the round-tripped record (:meth:`CheckRecord.normalized`), never the in-memory
one, so there is no second code path to disagree.
"""
from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from lsgdsim import digest

VERDICTS = ("holds", "holds under conditions", "fails")
JSON_FIELDS = ("name", "claim", "reading", "setting", "measured", "expected", "controls", "details", "verdict",
               "summary", "figure", "elapsed_s", "meta")


@dataclass
class CheckRecord:
    """What one check measured and, once judged, what it concluded.

    name      short id (``lsgdsim check --only NAME``)
    claim     the paper's claim, in words
    reading   exactly which reading of the claim is tested (assumptions, definitions, thresholds)
    setting   the experiment: objectives, sizes, seeds, step sizes (JSON-able)
    measured  the measured quantities the verdict uses (JSON-able numbers, not prose)
    expected  the bound or expectation they are compared with (JSON-able)
    controls  the same LSGD-specific quantities with control leaders, {"random": {...}, "worst": {...}}
    arrays    NumPy arrays the figure draws (saved to NAME.npz); names are free, values any dtype but object
    details   further JSON-able numbers for the curious reader (not used by the verdict)
    verdict   one of VERDICTS, set by the framework from ``verdict(record)``; None before judging
    summary   one or two sentences, set from ``summary(record)``
    figure    path of the figure relative to the report folder, or None
    meta      version, mode (quick/full), seed, leader control installed, timings
    """

    name: str
    claim: str
    reading: str
    setting: dict
    measured: dict
    expected: dict
    controls: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    verdict: str | None = None
    summary: str = ""
    figure: str | None = None
    elapsed_s: float = 0.0
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}; got {self.verdict!r}")
        for key, arr in self.arrays.items():
            if np.asarray(arr).dtype == object:
                raise ValueError(f"record array {key!r} has dtype object; arrays must be numeric or strings")

    # -- JSON ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON-able parts (arrays are listed by name, shape and dtype only)."""
        out = {f: _clean(getattr(self, f)) for f in JSON_FIELDS}
        out["arrays"] = {k: {"shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)}
                         for k, v in self.arrays.items()}
        return out

    def to_json(self) -> str:
        """The record's JSON file: :meth:`to_dict` and its content digest over that and the arrays."""
        doc = json.loads(json.dumps(self.to_dict(), allow_nan=True))     # as a reader will see it
        doc[digest.FIELD] = digest.of({k: np.asarray(v) for k, v in self.arrays.items()}, doc)
        return json.dumps(doc, indent=1, allow_nan=True) + "\n"

    def normalized(self) -> CheckRecord:
        """The record as a reload would see it: JSON parts round-tripped (tuples → lists, NumPy → Python)."""
        data = json.loads(json.dumps(self.to_dict(), allow_nan=True))
        return replace(self, **{f: data[f] for f in JSON_FIELDS},
                       arrays={k: np.asarray(v) for k, v in self.arrays.items()})

    # -- files ---------------------------------------------------------------------------------------
    def save(self, folder) -> list[Path]:
        """Write ``folder/NAME.json`` and, if there are arrays, ``folder/NAME.npz`` (atomically)."""
        from lsgdsim.result import atomic_write_bytes, atomic_write_text
        folder = Path(folder)
        written = []
        if self.arrays:
            buf = io.BytesIO()
            np.savez_compressed(buf, **{k: np.asarray(v) for k, v in self.arrays.items()})
            written.append(atomic_write_bytes(folder / f"{self.name}.npz", buf.getvalue()))
        written.insert(0, atomic_write_text(folder / f"{self.name}.json", self.to_json()))
        return written

    @classmethod
    def load(cls, path) -> CheckRecord:
        """Read a record saved by :meth:`save` (``path`` is NAME.json; its NAME.npz is read if listed) and
        verify its content digest: a record that is damaged, edited or from an lsgdsim without digests
        raises :class:`lsgdsim.digest.DamagedFile` (a ValueError naming the file and why)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"no check record at {path}") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise digest.DamagedFile(path, f"not a check record: unreadable ({' '.join(str(exc).split())})") from None
        if not isinstance(data, dict) or any(f not in data for f in ("name", "claim", "measured")):
            raise digest.DamagedFile(path, "not a check record (no name, claim and measured fields)")
        recorded = data.pop(digest.FIELD, None)
        listed = data.get("arrays") or {}
        if not isinstance(listed, dict):
            raise digest.DamagedFile(path, "not a check record (its arrays field is not an object)")
        arrays = digest.arrays_of(path.with_suffix(".npz"), listed) if listed else {}
        digest.check(path, recorded, arrays, data)
        kw = {f.name: data[f.name] for f in fields(cls) if f.name in data and f.name != "arrays"}
        try:
            return cls(**kw, arrays=arrays)
        except (TypeError, ValueError) as exc:
            raise digest.DamagedFile(path, f"not a valid check record ({' '.join(str(exc).split())})") from None


# The records of checks not yet split into measure/verdict/figure were built with this name.
CheckResult = CheckRecord


def _clean(obj):
    """JSON-able copy: NumPy scalars/arrays to Python, tuples to lists, dict keys to strings."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    if isinstance(obj, float) and math.isnan(obj):
        return float("nan")
    return obj
