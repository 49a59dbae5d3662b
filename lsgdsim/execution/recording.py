"""What an executor records while a run goes: consistent snapshots, the recorded rows, the tally of
communications, divergence. Shared by every executor (lockstep, the virtual clock)."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import kernels
from ..backend import take_row, to_numpy


class DivergenceError(FloatingPointError):
    """A run's iterate became non-finite; ``step`` and ``worker`` say where it was first seen."""

    def __init__(self, step: int, worker: int, value: float):
        self.step, self.worker, self.value = step, worker, value
        super().__init__(f"run diverged: worker {worker} has a non-finite objective value ({value}) "
                         f"after step {step}; lower lr (or the pulls) and retry")

    def __reduce__(self):  # picklable, so that process pools can report it
        return (type(self), (self.step, self.worker, self.value))



class Snapshot(NamedTuple):
    """A consistent state at the end of step ``t``: iterate, rule state, f values, and the tally counts."""

    t: int
    X: Any
    state: dict
    values: Any
    counts: tuple


class Tally:
    """What the communications produced: leaders, their steps, group leaders, floats (summed over the
    collectives' messages), and the number of steps that communicated."""

    def __init__(self):
        self.leaders, self.leader_steps, self.local_leaders = [], [], []
        self.floats = self.communications = 0
        self.counts = (0, 0, 0, 0)  # (leaders, local leaders, floats, communications), set after each add

    def add(self, events, messages, t):
        self.floats += sum(m.total_floats for m in messages)
        self.communications += 1
        if "leader" in events:
            self.leaders.append(events["leader"])
            self.leader_steps.append(t)
        if "local_leaders" in events:
            self.local_leaders.append(events["local_leaders"])
        self.counts = (len(self.leader_steps), len(self.local_leaders), self.floats, self.communications)

    def truncate(self, counts):
        """Back to the counts of a snapshot (drops what a step interrupted half-way had appended)."""
        n_leaders, n_local, self.floats, self.communications = counts
        del self.leaders[n_leaders:], self.leader_steps[n_leaders:], self.local_leaders[n_local:]


class LazyValues:
    """f(x_i) at the current iterate, computed once on first call (free when the oracle is exact)."""

    def __init__(self, objective, X, known):
        self.objective, self.X, self.known = objective, X, known

    def __call__(self):
        if self.known is None:
            self.known = self.objective.value(self.X)
        return self.known


class Recorder:
    """Rows of f, distances and monitor values, one per record; a record is all-or-nothing."""

    def __init__(self, xp, monitor, pool=None):
        self.xp, self.monitor = xp, monitor
        self.map_blocks = None if pool is None else pool.map   # threads for the compiled distances
        self.steps: list[int] = []
        self.times: list[float] = []
        self.clock = None
        self.rows: dict[str, list] = {"f": [], "dist_to_leader": [], "dist_to_center": []}
        self.monitor_keys: list[str] = []
        self.last: Snapshot | None = None  # the snapshot of the last complete record
        self.count = 0                        # number of complete records
        self._scratch = None                  # (p, d) NumPy buffer the distances are computed in

    def record(self, snap: Snapshot):
        xp, t, X, state = self.xp, snap.t, snap.X, snap.state
        values = snap.values()
        self.steps.append(t)
        self.times.append(self.clock() if self.clock else 0.0)
        self.rows["f"].append(values)
        best = xp.argmin(values)
        held = state.held_center()
        # One compiled pass where numba is installed (kernels.py: the same bits), else NumPy's passes.
        fused = kernels.record_distances(X, best, held, self.map_blocks)
        if fused is None:
            center = _column_mean(xp, X) if held is None else held[None, :]
            leader = take_row(X, best)
            fused = self._row_norms(X, leader), self._row_norms(X, center)
        to_leader, to_center = fused
        self.rows["dist_to_leader"].append(to_leader)
        self.rows["dist_to_center"].append(to_center)
        if self.monitor is not None:
            for key, val in self.monitor(t, X, state, values).items():
                if key not in self.rows:
                    self.rows[key] = []
                    self.monitor_keys.append(key)
                self.rows[key].append(val)
        self.last, self.count = snap, len(self.steps)

    def _row_norms(self, X, ref):
        """‖x_i − ref‖ of every row: NumPy's vector_norm operations (difference, square, pairwise sum,
        sqrt), so the same bits, in a buffer kept between records (``kernels.numpy_row_norms``) and without
        linalg's dispatch."""
        if type(X) is not np.ndarray or not X.flags.c_contiguous:
            # (another layout sums in another order: the difference takes X's layout, as it always did)
            D = X - ref
            return self.xp.sqrt(self.xp.sum(D * D, axis=1))
        if self._scratch is None or self._scratch.shape != X.shape or self._scratch.dtype != X.dtype:
            self._scratch = np.empty(X.shape, dtype=X.dtype)          # C order, as X − ref of a C-order X
        return kernels.numpy_row_norms(X, ref, self._scratch)

    def rollback(self):
        """Drop a record that an interrupt left half-written."""
        n = self.count
        del self.steps[n:], self.times[n:]
        for rows in self.rows.values():
            del rows[n:]

    def close_at(self, snap: Snapshot) -> Snapshot:
        """End a stopped run: make ``snap`` the last record (unless it already is) and return the
        snapshot the Result describes. A second interrupt while recording falls back to the last
        complete record, so the Result stays consistent either way."""
        self.rollback()
        if self.last is not None and self.last.t == snap.t:
            return self.last
        try:
            self.record(snap)
        except KeyboardInterrupt:
            self.rollback()
            if self.last is None:
                raise
        return self.last

    def stack(self, key):
        rows = self.rows[key]
        return np.stack([np.asarray(to_numpy(r), dtype=float) for r in rows]) if rows else np.zeros((0,))


def _column_mean(xp, X):
    """The mean of the rows (1, d): NumPy's ``mean`` without its per-call overhead (the same sum and the same
    division, so the same bits; a third of a small run's record)."""
    return xp.mean(X, axis=0, keepdims=True) if type(X) is not np.ndarray else kernels.numpy_column_mean(X)


def check_finite(xp, values, step):
    if not bool(xp.all(xp.isfinite(values))):
        host = to_numpy(values)
        worker = int(np.flatnonzero(~np.isfinite(host))[0])
        raise DivergenceError(step, worker, float(host[worker]))


def stack_ints(xp, items, ndim=1):
    if not items:
        return np.zeros((0,) * ndim, dtype=np.int64)
    return np.stack([np.asarray(to_numpy(i)) for i in items]).astype(np.int64).reshape(len(items), -1) \
        if ndim == 2 else np.asarray([int(to_numpy(i)) for i in items], dtype=np.int64)


def progress_bar(steps, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=steps, unit="step", desc="simulate", leave=False, mininterval=0.5)


def stop_safely(body, committed, on_interrupt, on_divergence):
    """Run ``body``; on an interrupt or a divergence either re-raise or return (None, what stopped it)."""
    stop = {}
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return body(), stop
    except KeyboardInterrupt as exc:
        if on_interrupt == "raise" or committed() is None:
            raise
        stop["interrupted"] = True
        stop["interrupted_by"] = getattr(exc, "signal_name", type(exc).__name__)
    except DivergenceError as err:
        if on_divergence == "raise" or committed() is None:
            raise
        stop["diverged"] = {"step": err.step, "worker": err.worker, "value": err.value}
    return None, stop
