"""The run loop: oracle calls, the update rule, recording, divergence detection.

One call of :func:`simulate` is a pure function of its configuration and seed: the same seed on the
same backend gives a bit-identical :class:`~lsgdsim.result.Result`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from . import __version__
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
from .objectives.base import Objective
from .result import Result


class DivergenceError(FloatingPointError):
    """A run's iterate became non-finite; ``step`` and ``worker`` say where it was first seen."""

    def __init__(self, step: int, worker: int, value: float):
        self.step, self.worker, self.value = step, worker, value
        super().__init__(f"run diverged: worker {worker} has a non-finite objective value ({value}) "
                         f"after step {step}; lower lr (or the pulls) and retry")

    def __reduce__(self):  # picklable, so that process pools can report it
        return (type(self), (self.step, self.worker, self.value))


def _check_int(value, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {value!r}")
    return int(value)


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


def validate_run(objective, algorithm, workers, steps, x0, grad_noise, batch_size, seed, backend, dtype,
                 record_every):
    """Check every argument of :func:`simulate`; ``ValueError`` naming the first bad one."""
    if not isinstance(objective, Objective):
        raise ValueError(f"objective must be an lsgdsim Objective; got {type(objective).__name__}")
    if not isinstance(algorithm, Algorithm):
        raise ValueError(f"algorithm must be an lsgdsim Algorithm; got {type(algorithm).__name__}")
    workers = _check_int(workers, "workers", 1)
    steps = _check_int(steps, "steps", 1)
    if isinstance(grad_noise, bool) or not isinstance(grad_noise, (int, float)) or not (
            math.isfinite(grad_noise) and grad_noise >= 0):
        raise ValueError(f"grad_noise must be a finite number >= 0; got {grad_noise!r}")
    if batch_size is not None:
        if not objective.is_finite_sum:
            raise ValueError(f"batch_size applies to finite-sum objectives only; {objective.name} is not one")
        batch_size = _check_int(batch_size, "batch_size", 1)
        if batch_size > objective.n_samples:
            raise ValueError(f"batch_size must be <= n_samples = {objective.n_samples}; got {batch_size}")
    _check_int(seed, "seed", 0)
    check_dtype(dtype)
    if record_every is not None:
        _check_int(record_every, "record_every", 1)
    algorithm.validate(workers, objective.dim)
    x0 = None if x0 is None else _check_x0(x0, workers, objective.dim)
    xp = resolve(backend)
    return workers, steps, batch_size, x0, xp


def simulate(objective: Objective, algorithm: Algorithm, workers: int = 8, steps: int = 1000, x0=None,
             grad_noise: float = 0.0, batch_size: int | None = None, seed: int = 0, backend: str = "numpy",
             dtype: str = "float64", record_every: int | None = None, progress: bool = False,
             monitor: Callable | None = None, on_interrupt: str = "raise") -> Result:
    """Run ``algorithm`` with ``workers`` workers for ``steps`` synchronous steps on ``objective``.

    Parameters
    ----------
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
    monitor : callable, optional
        ``monitor(t, X, state, values) -> dict`` of arrays, called at each record with the workers' f
        values (p,); stacked into ``Result.monitor``.
    on_interrupt : "raise" or "return"
        On KeyboardInterrupt, re-raise, or return the records so far with ``meta["interrupted"] = True``.

    Raises ``ValueError`` (naming the parameter) on bad input before any work, and
    :class:`DivergenceError` (naming step and worker) when an iterate becomes non-finite.
    """
    if on_interrupt not in ("raise", "return"):
        raise ValueError(f"on_interrupt must be 'raise' or 'return'; got {on_interrupt!r}")
    workers, steps, batch_size, x0, xp = validate_run(
        objective, algorithm, workers, steps, x0, grad_noise, batch_size, seed, backend, dtype, record_every)
    record_every = record_every or max(1, steps // 500)
    dt = xp_dtype(xp, dtype)
    streams = RandomStreams(seed, xp, dtype)
    if x0 is None:
        x0 = objective.initial_point(workers, streams.numpy_generator("init"))
    X = from_numpy(np.asarray(x0, dtype=float), xp, dt)
    ctx = RunContext(xp=xp, dtype=dt, workers=workers, dim=objective.dim, streams=streams)
    X, state = algorithm.init(X, ctx)

    minibatch = batch_size is not None
    stream_kw = {"streams": streams} if getattr(objective, "uses_streams", False) else {}
    rec = _Recorder(xp, monitor)
    start = time.perf_counter()
    rec.clock = lambda: time.perf_counter() - start
    leaders, leader_steps, local_leaders = [], [], []
    floats = communications = 0
    interrupted = False
    bar = _progress(steps, progress)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for t in range(1, steps + 1):
                if minibatch:
                    idx = objective.sample_batch(streams, workers, batch_size)
                    losses, G = objective.batch_value_and_grad(X, idx, **stream_kw)
                else:
                    losses, G = objective.value_and_grad(X)
                _check_finite(xp, losses, t - 1)
                exact = _LazyValues(objective, X, None if minibatch else losses)
                if (t - 1) % record_every == 0:
                    rec.record(t - 1, X, exact(), state)
                if grad_noise > 0:
                    # In place: the oracle's gradient array is fresh and owned by this loop.
                    G += streams.normal("grad_noise", (workers, objective.dim), scale=grad_noise)
                X, state, events = algorithm.step(X, state, StepInput(t, G, losses, exact, streams))
                if events:
                    floats += events["floats"]
                    communications += 1
                    if "leader" in events:
                        leaders.append(events["leader"])
                        leader_steps.append(t)
                    if "local_leaders" in events:
                        local_leaders.append(events["local_leaders"])
                if bar is not None:
                    bar.update(1)
            final = objective.value(X)
            _check_finite(xp, final, steps)
            rec.record(steps, X, final, state)
    except KeyboardInterrupt:
        if on_interrupt == "raise":
            raise
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start

    n_steps = int(rec.steps[-1]) if rec.steps else 0
    meta = {
        "objective": objective.describe(),
        "algorithm": algorithm.describe(),
        "workers": workers, "steps": steps, "grad_noise": float(grad_noise), "batch_size": batch_size,
        "seed": int(seed), "backend": backend_name(xp), "dtype": dtype, "record_every": record_every,
        "x0": "given" if x0 is not None else "default", "version": __version__,
        "numpy_version": np.__version__,
        "gradient_evaluations": workers * n_steps,
        "samples_processed": workers * n_steps * (batch_size or 1) if minibatch else None,
        "floats_communicated": int(floats), "communications": communications,
        "wall_time_s": wall,
    }
    if interrupted:
        meta["interrupted"] = True
    center = state.get("center", state.get("server"))
    return Result(
        f=rec.stack("f"), steps=np.asarray(rec.steps, dtype=np.int64), x=to_numpy(X).astype(float),
        leaders=_stack_ints(xp, leaders), leader_steps=np.asarray(leader_steps, dtype=np.int64),
        local_leaders=_stack_ints(xp, local_leaders, ndim=2) if local_leaders else None,
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
    def __init__(self, xp, monitor):
        self.xp, self.monitor = xp, monitor
        self.steps: list[int] = []
        self.times: list[float] = []
        self.clock = None
        self.rows: dict[str, list] = {"f": [], "dist_to_leader": [], "dist_to_center": []}
        self.monitor_keys: list[str] = []

    def record(self, t, X, values, state):
        xp = self.xp
        self.steps.append(t)
        self.times.append(self.clock() if self.clock else 0.0)
        self.rows["f"].append(values)
        best = xp.argmin(values)
        self.rows["dist_to_leader"].append(xp.linalg.vector_norm(X - take_row(X, best), axis=1))
        center = state.get("center", state.get("server"))
        if center is None:
            center = xp.mean(X, axis=0)
        self.rows["dist_to_center"].append(xp.linalg.vector_norm(X - center[None, :], axis=1))
        if self.monitor is not None:
            for key, val in self.monitor(t, X, state, values).items():
                if key not in self.rows:
                    self.rows[key] = []
                    self.monitor_keys.append(key)
                self.rows[key].append(val)

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
