"""The Result record of a run: NumPy arrays plus JSON metadata; .npz on disk, no pickle.

Saving is atomic (write to a temporary file in the same folder, then ``os.replace``), so an interrupted
save never leaves a half-written file behind.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

ARRAY_FIELDS = ("f", "steps", "x", "leaders", "leader_steps", "local_leaders", "center",
                "dist_to_leader", "dist_to_center", "times")


@dataclass
class Result:
    """Arrays of one run (all NumPy) and its metadata.

    f               (R, p)  objective value of every worker at each recorded step
    steps           (R,)    step index of each record; step 0 is the start
    x               (p, d)  final worker parameters
    leaders         (C,)    index of the (global) leader chosen at each communication (LSGD)
    leader_steps    (C,)    step t of each of those communications
    local_leaders   (C, n)  multi-leader LSGD: each group's leader at each local communication, else None
    center          (d,)    final center variable (EASGD), else None
    dist_to_leader  (R, p)  ‖x_i − x_b‖ with b the best worker (lowest f) at that record
    dist_to_center  (R, p)  ‖x_i − c‖, c the EASGD center, DOWNPOUR server or worker mean
    times           (R,)    wall-clock seconds since the start of the run at each record
    monitor         {name: (R, ...)} extra per-record quantities from a ``monitor`` callback
    meta            JSON-able: config, seed, version, backend, counts (gradients, floats), wall time
    """

    f: np.ndarray
    steps: np.ndarray
    x: np.ndarray
    leaders: np.ndarray
    leader_steps: np.ndarray
    local_leaders: np.ndarray | None = None
    center: np.ndarray | None = None
    dist_to_leader: np.ndarray | None = None
    dist_to_center: np.ndarray | None = None
    times: np.ndarray | None = None
    monitor: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    # -- derived views -----------------------------------------------------------------------------
    @property
    def workers(self) -> int:
        return int(self.f.shape[1])

    @property
    def best_f(self) -> np.ndarray:
        """(R,) lowest objective value over the workers at each record."""
        return self.f.min(axis=1)

    @property
    def mean_f(self) -> np.ndarray:
        """(R,) mean objective value over the workers at each record."""
        return self.f.mean(axis=1)

    @property
    def final_f(self) -> np.ndarray:
        """(p,) objective value of every worker at the last record."""
        return self.f[-1]

    def leader_share(self) -> np.ndarray:
        """(p,) fraction of communications at which each worker was the leader."""
        counts = np.bincount(self.leaders.astype(int), minlength=self.workers)
        return counts / max(1, len(self.leaders))

    def leader_runs(self) -> np.ndarray:
        """Lengths of the runs of consecutive communications with the same leader."""
        if len(self.leaders) == 0:
            return np.zeros(0, dtype=int)
        change = np.flatnonzero(np.diff(self.leaders)) + 1
        bounds = np.concatenate([[0], change, [len(self.leaders)]])
        return np.diff(bounds)

    def summary(self) -> dict:
        """A small JSON-able digest for printing and ``--json``."""
        out = {
            "objective": self.meta.get("objective", {}).get("name"),
            "algorithm": self.meta.get("algorithm", {}).get("algorithm"),
            "workers": self.workers,
            "steps": int(self.steps[-1]),
            "final_best_f": float(self.best_f[-1]),
            "final_mean_f": float(self.mean_f[-1]),
            "initial_best_f": float(self.best_f[0]),
            "gradient_evaluations": self.meta.get("gradient_evaluations"),
            "floats_communicated": self.meta.get("floats_communicated"),
            "communications": self.meta.get("communications"),
            "wall_time_s": self.meta.get("wall_time_s"),
            "seed": self.meta.get("seed"),
            "backend": self.meta.get("backend"),
        }
        fmin = self.meta.get("objective", {}).get("fmin")
        if fmin is not None:
            out["final_best_gap"] = float(self.best_f[-1] - fmin)
        if len(self.leaders):
            out["leader_changes"] = int(len(self.leader_runs()) - 1)
            out["leader_share"] = [round(float(s), 4) for s in self.leader_share()]
        if self.meta.get("interrupted"):
            out["interrupted"] = True
        return out

    # -- tidy export ------------------------------------------------------------------------------
    def to_table(self) -> dict[str, np.ndarray]:
        """Tidy columns, one row per (record, worker): step, worker, f, dist_to_leader, dist_to_center."""
        R, p = self.f.shape
        cols = {"step": np.repeat(self.steps, p), "worker": np.tile(np.arange(p), R), "f": self.f.ravel()}
        for name in ("dist_to_leader", "dist_to_center"):
            arr = getattr(self, name)
            if arr is not None:
                cols[name] = arr.ravel()
        for name, arr in self.monitor.items():
            arr = np.asarray(arr)
            if arr.ndim == 2 and arr.shape == (R, p):
                cols[name] = arr.ravel()
        return cols

    def to_csv(self, path) -> Path:
        """Write :meth:`to_table` as CSV (atomically); returns the path."""
        cols = self.to_table()
        names = list(cols)

        def write(fh):
            w = csv.writer(fh)
            w.writerow(names)
            w.writerows(zip(*(cols[n].tolist() for n in names), strict=True))

        return _atomic_write(Path(path), write, mode="w")

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save as .npz (arrays) with the metadata as a JSON string; atomic; returns the path."""
        path = Path(path)
        arrays = {}
        for name in ARRAY_FIELDS:
            val = getattr(self, name)
            if val is not None:
                arrays[name] = np.asarray(val)
        for name, val in self.monitor.items():
            arrays[f"monitor__{name}"] = np.asarray(val)
        arrays["meta_json"] = np.array(json.dumps(self.meta, default=_json_default))
        return _atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays), mode="wb")

    @classmethod
    def load(cls, path) -> Result:
        """Load a Result written by :meth:`save` (never unpickles)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no result file at {path}")
        with np.load(path, allow_pickle=False) as data:
            kw = {name: data[name] for name in ARRAY_FIELDS if name in data.files}
            monitor = {k[len("monitor__"):]: data[k] for k in data.files if k.startswith("monitor__")}
            meta = json.loads(str(data["meta_json"])) if "meta_json" in data.files else {}
        missing = [n for n in ("f", "steps", "x", "leaders", "leader_steps") if n not in kw]
        if missing:
            raise ValueError(f"{path} is not an lsgdsim result (missing {', '.join(missing)})")
        return cls(**kw, monitor=monitor, meta=meta)

    def __eq__(self, other) -> bool:
        """Same numbers, bit for bit (wall-clock ``times`` and ``meta`` are not compared)."""
        if not isinstance(other, Result):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("meta", "times"):
                continue
            if f.name == "monitor":
                if a.keys() != b.keys() or any(not np.array_equal(a[k], b[k]) for k in a):
                    return False
            elif (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
                return False
        return True


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _atomic_write(path: Path, write, mode: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (used for JSON summaries and reports)."""
    return _atomic_write(Path(path), lambda fh: fh.write(text), mode="w")


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return _atomic_write(Path(path), lambda fh: fh.write(data), mode="wb")
