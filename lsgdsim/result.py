"""The Result record of a run: NumPy arrays plus JSON metadata; .npz on disk, no pickle.

Saving is atomic (:func:`lsgdsim.outputs.atomic_write`: a temporary file in the same folder, then
``os.replace``), so an interrupted save never leaves a half-written file behind; loading refuses, with a
one-line ``ValueError`` naming the file, anything that is not a complete lsgdsim result.
"""
from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from . import digest
from .outputs import atomic_write, atomic_write_text

MAX_LOAD_BYTES = 16 * 2**30     # Result.load refuses archives whose arrays would inflate beyond this

ARRAY_FIELDS = ("f", "steps", "x", "leaders", "leader_steps", "local_leaders", "center",
                "dist_to_leader", "dist_to_center", "times", "sim_time", "worker_steps", "leader_times")
DICT_FIELDS = ("monitor", "breakdown", "trace")   # saved as NAME__KEY arrays


@dataclass(repr=False)
class Result:
    """Arrays of one run (all NumPy) and its metadata.

    f               (R, p)  objective value of every worker at each recorded step
    steps           (R,)    step index of each record; step 0 is the start
    x               (p, d)  final worker parameters
    leaders         (C,)    index of the (global) leader chosen at each communication (LSGD)
    leader_steps    (C,)    step t of each of those communications
    local_leaders   (C, n)  multi-leader LSGD: each group's leader at each local communication, else None
    center          (d,)    the point the rule keeps besides the workers, at the last step (the rule
                            state's ``held_center()``): EASGD/EAMSGD the elastic center c, DOWNPOUR the
                            parameter server s; None for LSGD (its consensus is the leader row
                            x[leaders[-1]]), LocalSGD, SGD and all-reduce SGD (their consensus is
                            the worker mean x.mean(0); for all-reduce SGD every worker is equal to it)
    dist_to_leader  (R, p)  ‖x_i − x_b‖ with b the best worker (lowest f) at that record
    dist_to_center  (R, p)  ‖x_i − c‖, c the EASGD center, DOWNPOUR server or worker mean
    times           (R,)    wall-clock seconds since the start of the run at each record
    monitor         {name: (R, ...)} extra per-record quantities from a ``monitor`` callback

    On the virtual clock (``simulate(..., clock=...)``; None otherwise):
    sim_time        (R,)    simulated seconds at each record
    worker_steps    (R, p)  local steps each worker had completed at each record (``steps`` is the
                            nominal mean step the record was due at)
    leader_times    (C,)    simulated time of each communication in ``leaders``
    breakdown       {"compute", "communicate", "wait": (p,) seconds, adding up to ``sim_time[-1]`` for
                    every worker; "local_steps": (p,) steps each worker did}
    trace           {"worker", "kind", "start", "end"}: every worker's intervals, kind 0 compute,
                    1 communicate, 2 wait (``save_trace`` writes them for Perfetto / chrome://tracing)
    meta            JSON-able: config, seed, version, backend, counts (gradients, floats), wall time;
                    ``floats_communicated`` sums the floats of every message the collectives recorded
                    (lsgdsim.collectives.Message), ``communications`` the steps that sent any
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
    sim_time: np.ndarray | None = None
    worker_steps: np.ndarray | None = None
    leader_times: np.ndarray | None = None
    breakdown: dict | None = None
    trace: dict | None = None

    def __repr__(self) -> str:
        """One line: what ran and how it ended, and the arrays by shape (``summary()`` has the numbers)."""
        algorithm = self.meta.get("algorithm", {}).get("algorithm", "?")
        objective = self.meta.get("objective", {}).get("name", "?")
        arrays = ", ".join(f"{name} {tuple(getattr(self, name).shape)}" for name in ARRAY_FIELDS
                           if getattr(self, name) is not None)
        return (f"<Result {algorithm} on {objective}: {self.workers} workers × d = {self.x.shape[1]}, "
                f"{int(self.steps[-1])} steps, {len(self.steps)} records, final best f {float(self.best_f[-1]):.6g}; "
                f"{arrays}>")

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
        """(R,) mean objective value over the workers at each record (inf once a worker overflows)."""
        with np.errstate(over="ignore", invalid="ignore"):
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

    def plot(self, *others: Result, out=None):
        """The figure of this run, with ``others`` overlaid (one colour per method): objective, spread,
        leaders and, on the clock, the time breakdown (:mod:`lsgdsim.plot_run`, as ``lsgdsim plot``).
        With ``out``, also saved there (PNG/PDF/SVG, atomically). Returns the Figure."""
        from . import plotting
        from .plot_run import figure
        fig = figure([self, *others])
        if out is not None:
            plotting.save(fig, out, close=False)
        return fig

    def save_trace(self, path) -> Path:
        """Write the Chrome trace-event JSON of a clock run (one track per worker; Perfetto and
        chrome://tracing open it); see :mod:`lsgdsim.trace`. ValueError for a lockstep run."""
        from .trace import write_chrome_trace
        return write_chrome_trace(self, path)

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
        if self.sim_time is not None:
            b = self.breakdown
            out["simulated_time_s"] = float(self.sim_time[-1])
            total = float(sum(b[k].sum() for k in ("compute", "communicate", "wait"))) or 1.0
            out.update({f"{k}_share": round(float(b[k].sum()) / total, 4) for k in ("compute", "communicate", "wait")})
            out["local_steps"] = [int(v) for v in b["local_steps"]]
        if self.meta.get("interrupted"):
            out["interrupted"] = True
        diverged = self.meta.get("diverged")
        if diverged:  # the value is inf or nan: a string keeps --json strict JSON
            out["diverged"] = {"step": diverged["step"], "worker": diverged["worker"], "value": str(diverged["value"])}
        if self.meta.get("interrupted") or diverged:
            out["steps_requested"] = self.meta.get("steps")
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

        return atomic_write(Path(path), write)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Save as .npz (arrays) with the metadata as a JSON string; atomic; returns the path."""
        path = Path(path)
        arrays = {}
        for name in ARRAY_FIELDS:
            val = getattr(self, name)
            if val is not None:
                arrays[name] = np.asarray(val)
        for group in DICT_FIELDS:
            for name, val in (getattr(self, group) or {}).items():
                arrays[f"{group}__{name}"] = np.asarray(val)
        arrays["meta_json"] = np.array(json.dumps(self.meta, default=_json_default))
        arrays[digest.KEY] = np.array(digest.of(arrays))     # a reader verifies it (lsgdsim.digest)
        return atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays), binary=True)

    @classmethod
    def load(cls, path, require_digest: bool = False, max_bytes: int = MAX_LOAD_BYTES) -> Result:
        """Load a Result written by :meth:`save` (never unpickles).

        Raises ``FileNotFoundError`` when there is no file, and a one-line ``ValueError`` naming the file
        and what is wrong when it is not a complete lsgdsim result: empty, truncated, corrupted, edited
        (its content digest does not match: :class:`lsgdsim.digest.DamagedFile`), not a regular file (a
        FIFO is refused, not waited on), arrays that would inflate beyond ``max_bytes``, arrays of the
        wrong kind or whose shapes do not fit together, or a spec in its meta that the arrays contradict.
        Files from an lsgdsim without digests load unverified unless ``require_digest`` (what a cache
        that reuses results asks for).
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no result file at {path}")
        _check_container(path, max_bytes)
        members = digest.read_npz(path, verify=False)
        recorded = members.pop(digest.KEY, None)
        if recorded is not None or require_digest:
            digest.check(path, None if recorded is None else str(recorded), members)
        try:
            kw = {name: members[name] for name in ARRAY_FIELDS if name in members}
            groups = {g: {k[len(g) + 2:]: v for k, v in members.items() if k.startswith(g + "__")}
                      for g in DICT_FIELDS}
            meta = json.loads(str(members["meta_json"])) if "meta_json" in members else None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is damaged: its metadata is not valid JSON ({_one_line(exc)})") from None
        missing = [n for n in ("f", "steps", "x", "leaders", "leader_steps") if n not in kw]
        if meta is None:
            missing.append("meta_json")
        if missing:
            raise ValueError(f"{path} is not an lsgdsim result (missing {', '.join(missing)})")
        if not isinstance(meta, dict):
            raise ValueError(f"{path} is not an lsgdsim result: its metadata is a {type(meta).__name__}, "
                             "not an object")
        _check_arrays(path, kw, meta)
        monitor = groups.pop("monitor")
        return cls(**kw, monitor=monitor, meta=meta, **{g: v or None for g, v in groups.items()})

    def __eq__(self, other) -> bool:
        """Same numbers, bit for bit (wall-clock ``times`` and ``meta`` are not compared)."""
        if not isinstance(other, Result):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("meta", "times"):
                continue
            if f.name in DICT_FIELDS:
                a, b = a or {}, b or {}
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_container(path: Path, max_bytes: int) -> None:
    """A .npz is a zip archive: say plainly when the file is empty, a folder, a FIFO or device (never
    opened: reading one would block), something else, or when its arrays would inflate beyond
    ``max_bytes`` (read from the archive's directory, before anything is inflated)."""
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an lsgdsim result file")
    if not path.is_file():
        raise ValueError(f"{path} is not a regular file (a FIFO, socket or device), not an lsgdsim result")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not head:
        raise ValueError(f"{path} is empty (0 bytes): not an lsgdsim result (an interrupted copy?)")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        kind = "a text file" if all(32 <= c < 127 or c in (9, 10, 13) for c in head) else "not a .npz archive"
        raise ValueError(f"{path} is not an lsgdsim result ({kind}; a result is a .npz written by Result.save)")
    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise digest.DamagedFile(path, f"damaged: truncated or corrupted ({_one_line(exc)})") from None
    if inflated > max_bytes:
        raise ValueError(f"{path}: its arrays would take {inflated / 2**30:.1f} GiB once read, more than "
                         f"max_bytes = {max_bytes / 2**30:.1f} GiB (Result.load(..., max_bytes=...) allows more)")


def _check_arrays(path: Path, arrays: dict, meta: dict) -> None:
    """The arrays of a result fit together: numbers where numbers belong, shapes that agree, leaders that
    are workers, and the spec in ``meta`` (workers, dim) agreeing with them; ``ValueError`` otherwise."""
    def bad(why):
        raise ValueError(f"{path} is damaged: {why}")

    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            bad(f"{name} holds {a.dtype} values, not numbers")
    f, steps, x, leaders = arrays["f"], arrays["steps"], arrays["x"], arrays["leaders"]
    if f.ndim != 2 or steps.shape != (f.shape[0],) or x.ndim != 2 or x.shape[0] != f.shape[1] or \
            leaders.shape != arrays["leader_steps"].shape:
        bad(f"inconsistent shapes (f {f.shape}, steps {steps.shape}, x {x.shape}, leaders {leaders.shape}, "
            f"leader_steps {arrays['leader_steps'].shape})")
    p, d = x.shape
    if leaders.size and (leaders.dtype.kind not in "iu" or leaders.min() < 0 or leaders.max() >= p):
        bad(f"leaders must be worker indices in [0, {p}); got {leaders.min()} … {leaders.max()}")
    center = arrays.get("center")
    if center is not None and center.shape[-1:] != (d,):
        bad(f"center has shape {center.shape}, not (…, {d}) for d = {d}")
    for name in ("dist_to_leader", "dist_to_center", "worker_steps"):
        if arrays.get(name) is not None and arrays[name].shape != f.shape:
            bad(f"{name} has shape {arrays[name].shape}, not f's {f.shape}")
    spec = meta.get("spec") if isinstance(meta.get("spec"), dict) else {}
    for key, have in (("workers", p), ("dim", d)):
        want = spec.get(key, meta.get(key))
        if isinstance(want, int) and not isinstance(want, bool) and want != have:
            bad(f"its meta says {key} = {want}, its arrays hold {have}")


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(data), binary=True)


__all__ = ["ARRAY_FIELDS", "Result", "atomic_write_bytes", "atomic_write_text"]
