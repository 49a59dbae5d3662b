"""The saved data of a figure (NAME.json + NAME.npz, no pickle, atomic writes) and of its unfinished tasks.

``NAME.json`` holds the experiment's name, title, claim, configuration, the JSON-able numbers the
figure quotes (``info``) and ``meta`` (version, code fingerprint, configuration hash, mode, seed,
timings, and which arrays are ``volatile``: wall-clock times, stored but not part of the
reproducibility guarantee); ``NAME.npz`` the arrays the figure draws. A task's result is saved to
``.parts/NAME-<config hash>-<code>/KEY.npz`` as soon as it finishes, so that a killed run resumes
where it stopped; the folder is removed once the figure's data are written.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lsgdsim import __version__, digest
from lsgdsim.result import atomic_write_bytes, atomic_write_text

PARTS = ".parts"


@functools.cache
def code_fingerprint(name: str | None = None) -> str:
    """A hash of the code behind the saved data: lsgdsim/ and, for experiment ``name``, its module and the
    figures/ and theory_checks/ modules it imports (transitively), so that editing a check or another
    figure does not throw away an experiment's data; without ``name``, lsgdsim/, theory_checks/ and figures/."""
    import lsgdsim
    root = Path(__file__).resolve().parents[1]
    files = sorted(Path(lsgdsim.__file__).parent.rglob("*.py"))
    files += (sorted([*root.joinpath("theory_checks").glob("*.py"), *Path(__file__).parent.glob("*.py")])
              if name is None else _local_imports(_module_file(name), root))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _module_file(name: str) -> Path:
    """The file of experiment ``name`` (its module in ``figures.EXPERIMENTS``; "cluster-time" is cluster_time.py)."""
    from . import EXPERIMENTS
    return Path(__file__).with_name(EXPERIMENTS.get(name, f"figures.{name}").rsplit(".", 1)[-1] + ".py")


def _local_imports(path: Path, root: Path) -> list[Path]:
    """``path`` and every module of figures/ or theory_checks/ it imports, directly or not (sorted)."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        package = current.parent.name
        for node in ast.walk(ast.parse(current.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{package}.{node.module or ''}".rstrip(".") if node.level else node.module or ""]
                     if isinstance(node, ast.ImportFrom) else [])
            if isinstance(node, ast.ImportFrom):      # "from . import x" / "from pkg import module"
                names += [f"{names[0]}.{a.name}" for a in node.names]
            for mod in names:
                parts = mod.split(".")
                if parts[0] in ("figures", "theory_checks"):
                    for cand in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
                        if cand.is_file():
                            todo.append(cand)
    return sorted(seen)


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FigureData:
    """What one figure draws: ``arrays`` (name → ndarray, numeric or string) and JSON-able ``info``."""

    name: str
    title: str
    claim: str
    config: dict
    arrays: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def identity(self) -> dict:
        """What must match for saved data to stand for a new run."""
        return {k: self.meta.get(k) for k in ("config_hash", "code")}

    def stable_arrays(self) -> dict:
        """The arrays the reproducibility guarantee covers (all but the volatile wall-clock ones)."""
        volatile = set(self.meta.get("volatile", ()))
        return {k: v for k, v in self.arrays.items() if k not in volatile}

    def save(self, folder) -> list[Path]:
        """Write ``folder/NAME.npz`` then ``folder/NAME.json`` (each atomically; the JSON last, so that a
        JSON on disk always has its arrays)."""
        folder = Path(folder)
        for key, arr in self.arrays.items():
            if np.asarray(arr).dtype == object:
                raise ValueError(f"figure data {self.name!r}: array {key!r} has dtype object")
        npz = atomic_write_bytes(folder / f"{self.name}.npz", digest.npz_bytes(self.arrays))
        doc = {"name": self.name, "title": self.title, "claim": self.claim, "config": self.config,
               "info": self.info, "meta": self.meta,
               "arrays": {k: {"shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)}
                          for k, v in self.arrays.items()}}
        doc = json.loads(json.dumps(doc, allow_nan=True, default=_json_default))    # as a reader will see it
        doc[digest.FIELD] = digest.of({k: np.asarray(v) for k, v in self.arrays.items()}, doc)
        text = json.dumps(doc, indent=1, allow_nan=True) + "\n"
        return [atomic_write_text(folder / f"{self.name}.json", text), npz]

    @classmethod
    def load(cls, path) -> FigureData:
        """Read data saved by :meth:`save` (``path`` is NAME.json); ValueError if missing or unreadable."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"no saved figure data at {path}") from None
        except (OSError, ValueError) as exc:
            raise digest.DamagedFile(path, f"not readable figure data ({' '.join(str(exc).split())})") from None
        keys = ("name", "title", "claim", "config", "arrays")
        if not isinstance(doc, dict) or any(k not in doc for k in keys) or not isinstance(doc["arrays"], dict):
            raise digest.DamagedFile(path, f"not figure data (it needs the fields {', '.join(keys)})")
        recorded = doc.pop(digest.FIELD, None)
        arrays = digest.arrays_of(path.with_suffix(".npz"), doc["arrays"])
        digest.check(path, recorded, arrays, doc)
        return cls(doc["name"], doc["title"], doc["claim"], doc["config"], arrays, doc.get("info", {}),
                   doc.get("meta", {}))


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


class Parts:
    """The finished task results of one experiment run, one .npz per task, under ``folder/.parts/``."""

    def __init__(self, folder, name: str, config: dict):
        self.dir = Path(folder) / PARTS / f"{name}-{config_hash(config)}-{code_fingerprint(name)}"

    def _path(self, key: str) -> Path:
        return self.dir / (re.sub(r"[^A-Za-z0-9_.=-]+", "_", key) + ".npz")

    def get(self, key: str) -> dict | None:
        """The saved result of task ``key``, or None: none saved, or one that fails its content digest
        (damaged: said in one line, removed, and the task is run again)."""
        path = self._path(key)
        try:
            return digest.read_npz(path)
        except FileNotFoundError:
            return None
        except ValueError as exc:                   # DamagedFile, or a name that is not a file
            print(f"lsgdsim: {exc}; running task {key} again", file=sys.stderr)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, result: dict) -> None:
        atomic_write_bytes(self._path(key), digest.npz_bytes(result))

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            self.dir.parent.rmdir()          # the .parts folder, once empty
        except OSError:
            pass


def describe(name: str, config: dict, quick: bool, seed: int) -> dict:
    """The identity part of experiment ``name``'s meta."""
    return {"version": __version__, "code": code_fingerprint(name), "config_hash": config_hash(config),
            "mode": "quick" if quick else "full", "seed": seed}
