"""The run loop: oracle calls, the update rule, recording, divergence detection.

One call of :func:`simulate` is a pure function of its configuration and seed: the same seed on the
same backend gives a bit-identical :class:`~lsgdsim.result.Result`.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np

from ._version import __version__
from .algorithms.base import Algorithm, RunContext, StepInput
from .backend import (
    RandomStreams,
    backend_name,
    check_dtype,
    from_numpy,
    resolve,
    take_row,
    to_numpy,
    xp_dtype,
)
from .collectives import Collective, Vectorized
from .objectives.base import Objective
from .parallel import WorkerPool, check_threads, default_threads
from .result import Result
from .validate import check_choice, check_float, check_int, check_memory, check_seed


class DivergenceError(FloatingPointError):
    """A run's iterate became non-finite; ``step`` and ``worker`` say where it was first seen."""

    def __init__(self, step: int, worker: int, value: float):
        self.step, self.worker, self.value = step, worker, value
        super().__init__(f"run diverged: worker {worker} has a non-finite objective value ({value}) "
                         f"after step {step}; lower lr (or the pulls) and retry")

    def __reduce__(self):  # picklable, so that process pools can report it
        return (type(self), (self.step, self.worker, self.value))


# -- validation ------------------------------------------------------------------------------------
def _check_x0(x0, workers: int, dim: int) -> np.ndarray:
    try:
        arr = np.asarray(to_numpy(x0), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x0 must be an array of shape ({workers}, {dim}) or ({dim},); got {x0!r}") from exc
    if arr.shape == (dim,):
        arr = np.broadcast_to(arr, (workers, dim))
    if arr.shape != (workers, dim):
        raise ValueError(f"x0 must have shape ({workers}, {dim}) or ({dim},); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x0 must be finite (it contains NaN or inf)")
    return np.array(arr)


def default_record_every(steps: int) -> int:
    """The recording interval when none is given: about 500 records per run."""
    return max(1, steps // 500)


def validate_run(objective, algorithm, workers, steps, x0, grad_noise, batch_size, seed, backend, dtype,
                 record_every):
    """Check every argument of :func:`simulate` (NumPy scalars accepted); ``ValueError`` naming the first
    bad one. Returns them normalised: workers, steps, grad_noise, batch_size, seed, record_every, x0, xp."""
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an lsgdsim Objective; got {type(objective).__name__}")
    if not isinstance(algorithm, Algorithm):
        raise ValueError(f"algorithm must be an lsgdsim Algorithm; got {type(algorithm).__name__}")
    workers = check_int(workers, "workers", 1)
    steps = check_int(steps, "steps", 1)
    grad_noise = check_float(grad_noise, "grad_noise", 0.0)
    if batch_size is not None:
        if not objective.is_finite_sum:
            raise ValueError(f"batch_size applies to finite-sum objectives only; {objective.name} is not one")
        batch_size = check_int(batch_size, "batch_size", 1)
        if batch_size > objective.n_samples:
            raise ValueError(f"batch_size must be <= n_samples = {objective.n_samples}; got {batch_size}")
    seed = check_seed(seed)
    check_dtype(dtype)
    record_every = default_record_every(steps) if record_every is None else check_int(record_every, "record_every", 1)
    algorithm.validate(workers, objective.dim)
    x0 = None if x0 is None else _check_x0(x0, workers, objective.dim)
    xp = resolve(backend)
    check_memory(workers, objective.dim, steps, record_every, np.dtype(dtype).itemsize)
    return workers, steps, grad_noise, batch_size, seed, record_every, x0, xp


# -- the run loop ------------------------------------------------------------------------------------
def simulate(objective: Objective, algorithm: Algorithm, *, workers: int = 8, steps: int = 1000, x0=None,
             grad_noise: float = 0.0, batch_size: int | None = None, seed: int = 0,
             backend: Literal["numpy", "cupy", "array_api_strict"] = "numpy",
             dtype: Literal["float64", "float32"] = "float64", record_every: int | None = None,
             progress: bool = False, monitor: Callable | None = None,
             on_interrupt: Literal["raise", "return"] = "raise",
             on_divergence: Literal["raise", "return"] = "raise", collective: Collective | None = None,
             threads: int | None = None) -> Result:
    """Run ``algorithm`` with ``workers`` workers for ``steps`` synchronous steps on ``objective``.

    Every option after ``algorithm`` is keyword-only.

    Parameters
    ----------
    objective : Objective
        The function every worker minimises (:mod:`lsgdsim.objectives`, or a network objective).
    algorithm : Algorithm
        The update rule (:mod:`lsgdsim.algorithms`), checked against ``workers`` before any work.
    workers : int
        p, the number of workers (rows of the (p, d) iterate), >= 1.
    steps : int
        T, the number of synchronous steps, >= 1.
    x0 : (p, d) or (d,) array, optional
        Starting points; default ``objective.initial_point`` drawn from the run's "init" stream.
    grad_noise : float
        σ of additive Gaussian gradient noise: g_i = ∇f(x_i) + σ ξ_i, ξ_i ~ N(0, I_d).
    batch_size : int, optional
        For finite sums: each worker's gradient is the mean over ``batch_size`` samples drawn with
        replacement (the objective's ``sample_batch``); the observed losses are the mini-batch losses.
    record_every : int, optional
        Record f, distances and ``monitor`` every this many steps (default: about 500 records); the
        start (step 0) and the last step are always recorded.
    seed : int
        Seed of every random stream of the run (x0, gradient noise, leader noise, mini-batches).
    backend : "numpy", "cupy" or "array_api_strict"
        The array library the run computes on (:func:`lsgdsim.backend.resolve`).
    dtype : "float64" or "float32"
        The floating type of the iterate, gradients and state.
    progress : bool
        Show a tqdm progress bar.
    monitor : callable, optional
        ``monitor(t, X, state, values) -> dict`` of arrays, called at each record with the workers' f
        values (p,); stacked into ``Result.monitor``.
    on_interrupt : "raise" or "return"
        On KeyboardInterrupt (or a subclass, e.g. the CLI's SIGTERM), re-raise, or return a partial
        Result with ``meta["interrupted"] = True``: its last record is the latest completed step, and
        every field (f, steps, x, center, leaders, counts) refers to that same step.
    on_divergence : "raise" or "return"
        When an iterate becomes non-finite, raise :class:`DivergenceError`, or return the Result up to
        the last finite step (its last record) with ``meta["diverged"] = {"step", "worker", "value"}``.
    threads : int, optional
        Threads for the oracle and the noise over worker blocks (NumPy only; ``lsgdsim.parallel``).
        Default: min(cores, 2) when p·d ≥ 2^18, else 1. Results are bit-identical for any value.
    collective : Collective, optional
        How the rule's cross-worker operations run (:mod:`lsgdsim.collectives`): ``Vectorized()`` by
        default; ``PerWorker()`` handles every worker's row as a separate rank (same results).
        With ``record=True`` its ``log`` holds every message [(step, Message)] after the run.

    Returns
    -------
    Result
        f (R, p), steps (R,), the final x (p, d), leaders and their steps, center (the EASGD center or
        DOWNPOUR server, else None), distances, times, monitor, and ``meta`` (configuration, counts,
        ``floats_communicated``, wall time); see :class:`~lsgdsim.result.Result`.

    Examples
    --------
    >>> from lsgdsim import algorithms, objectives, simulate
    >>> obj = objectives.Quadratic.random(dim=5, cond=10.0, seed=0)
    >>> res = simulate(obj, algorithms.LSGD(lr=0.05, pull=0.1, period=2), workers=4, steps=200, seed=1)
    >>> res.f.shape, bool(res.final_f.max() < res.f[0].max())
    ((201, 4), True)

    Raises ``ValueError`` (naming the parameter) on bad input before any work, including a run whose
    arrays would not fit in memory (with the estimate), and :class:`DivergenceError` (naming step and
    worker) when an iterate becomes non-finite and ``on_divergence="raise"``.
    """
    check_choice(on_interrupt, "on_interrupt", ("raise", "return"))
    check_choice(on_divergence, "on_divergence", ("raise", "return"))
    threads = check_threads(threads)
    if collective is not None and not isinstance(collective, Collective):
        raise ValueError(f"collective must be an lsgdsim.collectives.Collective; got {type(collective).__name__}")
    workers, steps, grad_noise, batch_size, seed, record_every, x0, xp = validate_run(
        objective, algorithm, workers, steps, x0, grad_noise, batch_size, seed, backend, dtype, record_every)
    dt = xp_dtype(xp, dtype)
    pool = WorkerPool(default_threads(workers, objective.dim, backend == "numpy") if threads is None else threads)
    streams = RandomStreams(seed, xp, dtype, pool=pool)
    x0_given = x0 is not None  # before the default fills it in (meta["x0"] says which)
    if x0 is None:
        x0 = objective.initial_point(workers, streams.numpy_generator("init"))
    X = from_numpy(np.asarray(x0, dtype=float), xp, dt)
    comm = Vectorized() if collective is None else collective
    comm.reset(workers, np.dtype(dtype).itemsize)
    ctx = RunContext(xp=xp, dtype=dt, workers=workers, dim=objective.dim, streams=streams, comm=comm)
    X, state = algorithm.init(X, ctx)
    comm.drain(0)  # the set-up (e.g. the first center) is logged at step 0, not counted as communication

    rec = _Recorder(xp, monitor)
    tally = _Tally()
    start = time.perf_counter()
    rec.clock = lambda: time.perf_counter() - start
    loop = _Loop(objective, algorithm, streams, rec, tally, workers, steps, grad_noise, batch_size, record_every,
                 comm)
    stop, last = {}, None
    bar = _progress(steps, progress)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            last = loop.run(X, state, bar)
    except KeyboardInterrupt as exc:
        if on_interrupt == "raise" or loop.committed is None:
            raise
        stop["interrupted"] = True
        stop["interrupted_by"] = getattr(exc, "signal_name", type(exc).__name__)
    except DivergenceError as err:
        if on_divergence == "raise" or loop.committed is None:
            raise
        stop["diverged"] = {"step": err.step, "worker": err.worker, "value": err.value}
    finally:
        pool.close()
        if bar is not None:
            bar.close()
    if last is None:  # stopped early: close the records at the latest consistent step
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            last = rec.close_at(loop.committed)
    wall = time.perf_counter() - start
    return _result(objective, algorithm, rec, tally, last, stop, wall, workers=workers, steps=steps,
                   grad_noise=grad_noise, batch_size=batch_size, seed=seed, xp=xp, dtype=dtype,
                   record_every=record_every, x0_given=x0_given)


class _Snapshot(NamedTuple):
    """A consistent state at the end of step ``t``: iterate, rule state, f values, and the tally counts."""

    t: int
    X: Any
    state: dict
    values: Any
    counts: tuple


class _Loop:
    """The body of :func:`simulate`; ``committed`` is the latest step checked finite (for a stop)."""

    def __init__(self, objective, algorithm, streams, rec, tally, workers, steps, grad_noise, batch_size,
                 record_every, comm):
        self.objective, self.algorithm, self.streams, self.rec, self.tally = objective, algorithm, streams, rec, tally
        self.workers, self.steps, self.grad_noise = workers, steps, grad_noise
        self.batch_size, self.record_every, self.comm = batch_size, record_every, comm
        self.committed: _Snapshot | None = None

    def run(self, X, state, bar) -> _Snapshot:
        objective, algorithm, streams, rec, tally = self.objective, self.algorithm, self.streams, self.rec, self.tally
        xp, workers, steps, grad_noise, comm = rec.xp, self.workers, self.steps, self.grad_noise, self.comm
        batch_size, record_every = self.batch_size, self.record_every
        minibatch = batch_size is not None
        stream_kw = {"streams": streams} if getattr(objective, "uses_streams", False) else {}
        snapshot = tuple.__new__  # _Snapshot(...) without the keyword-argument machinery (hot loop)
        for t in range(1, steps + 1):
            if minibatch:
                idx = objective.sample_batch(streams, workers, batch_size)
                losses, G = objective.batch_value_and_grad(X, idx, **stream_kw)
                if grad_noise > 0:  # in place: the oracle's gradient array is fresh and owned by this loop
                    G += streams.normal("grad_noise", (workers, objective.dim), scale=grad_noise)
            else:  # the noise is drawn (same stream, same draw) and added block by block with the gradient
                losses, G = objective.noisy_value_and_grad(X, streams, grad_noise)
            _check_finite(xp, losses, t - 1)
            exact = _LazyValues(objective, X, None if minibatch else losses)
            # One assignment: an interrupt lands either before or after it, never half-way.
            self.committed = snapshot(_Snapshot, (t - 1, X, state, exact, tally.counts))
            if (t - 1) % record_every == 0:
                rec.record(self.committed)
            X, state, events = algorithm.step(X, state, StepInput(t, G, losses, exact, streams, comm))
            messages = comm.drain(t)
            if messages or events:
                tally.add(events, messages, t)
            if bar is not None:
                bar.update(1)
        final = objective.value(X)
        _check_finite(xp, final, steps)
        self.committed = _Snapshot(steps, X, state, _LazyValues(objective, X, final), tally.counts)
        rec.record(self.committed)
        return self.committed


class _Tally:
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


def _result(objective, algorithm, rec, tally, last: _Snapshot, stop: dict, wall: float, *, workers, steps,
            grad_noise, batch_size, seed, xp, dtype, record_every, x0_given) -> Result:
    tally.truncate(last.counts)
    n_steps = last.t
    meta = {
        "objective": objective.describe(),
        "algorithm": algorithm.describe(),
        "workers": workers, "steps": steps, "grad_noise": float(grad_noise), "batch_size": batch_size,
        "seed": int(seed), "backend": backend_name(xp), "dtype": dtype, "record_every": record_every,
        "x0": "given" if x0_given else "default", "version": __version__,
        "numpy_version": np.__version__,
        "gradient_evaluations": workers * n_steps,
        "samples_processed": workers * n_steps * batch_size if batch_size is not None else None,
        "floats_communicated": int(tally.floats), "communications": tally.communications,
        "wall_time_s": wall, **stop,
    }
    center = last.state.held_center()
    return Result(
        f=rec.stack("f"), steps=np.asarray(rec.steps, dtype=np.int64), x=to_numpy(last.X).astype(float),
        leaders=_stack_ints(xp, tally.leaders), leader_steps=np.asarray(tally.leader_steps, dtype=np.int64),
        local_leaders=_stack_ints(xp, tally.local_leaders, ndim=2) if tally.local_leaders else None,
        center=None if center is None else to_numpy(center).astype(float),
        dist_to_leader=rec.stack("dist_to_leader"), dist_to_center=rec.stack("dist_to_center"),
        times=np.asarray(rec.times, dtype=float),
        monitor={k: rec.stack(k) for k in rec.monitor_keys}, meta=meta)


class _LazyValues:
    """f(x_i) at the current iterate, computed once on first call (free when the oracle is exact)."""

    def __init__(self, objective, X, known):
        self.objective, self.X, self.known = objective, X, known

    def __call__(self):
        if self.known is None:
            self.known = self.objective.value(self.X)
        return self.known


class _Recorder:
    """Rows of f, distances and monitor values, one per record; a record is all-or-nothing."""

    def __init__(self, xp, monitor):
        self.xp, self.monitor = xp, monitor
        self.steps: list[int] = []
        self.times: list[float] = []
        self.clock = None
        self.rows: dict[str, list] = {"f": [], "dist_to_leader": [], "dist_to_center": []}
        self.monitor_keys: list[str] = []
        self.last: _Snapshot | None = None  # the snapshot of the last complete record
        self.count = 0                        # number of complete records

    def record(self, snap: _Snapshot):
        xp, t, X, state = self.xp, snap.t, snap.X, snap.state
        values = snap.values()
        self.steps.append(t)
        self.times.append(self.clock() if self.clock else 0.0)
        self.rows["f"].append(values)
        best = xp.argmin(values)
        self.rows["dist_to_leader"].append(xp.linalg.vector_norm(X - take_row(X, best), axis=1))
        center = state.held_center()
        center = xp.mean(X, axis=0, keepdims=True) if center is None else center[None, :]
        self.rows["dist_to_center"].append(xp.linalg.vector_norm(X - center, axis=1))
        if self.monitor is not None:
            for key, val in self.monitor(t, X, state, values).items():
                if key not in self.rows:
                    self.rows[key] = []
                    self.monitor_keys.append(key)
                self.rows[key].append(val)
        self.last, self.count = snap, len(self.steps)

    def rollback(self):
        """Drop a record that an interrupt left half-written."""
        n = self.count
        del self.steps[n:], self.times[n:]
        for rows in self.rows.values():
            del rows[n:]

    def close_at(self, snap: _Snapshot) -> _Snapshot:
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


def _check_finite(xp, values, step):
    if not bool(xp.all(xp.isfinite(values))):
        host = to_numpy(values)
        worker = int(np.flatnonzero(~np.isfinite(host))[0])
        raise DivergenceError(step, worker, float(host[worker]))


def _stack_ints(xp, items, ndim=1):
    if not items:
        return np.zeros((0,) * ndim, dtype=np.int64)
    return np.stack([np.asarray(to_numpy(i)) for i in items]).astype(np.int64).reshape(len(items), -1) \
        if ndim == 2 else np.asarray([int(to_numpy(i)) for i in items], dtype=np.int64)


def _progress(steps, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=steps, unit="step", desc="simulate", leave=False, mininterval=0.5)
