"""A run: validation, set-up, one of the executors, the Result.

Without a clock the run is lockstep (:mod:`lsgdsim.execution.lockstep`): all p workers take step t
together. With ``clock=`` it runs on the virtual clock (:mod:`lsgdsim.execution.clocked`): each worker at
its own pace, communications priced by the network model, and simulated time recorded.
One call of :func:`simulate` is a pure function of its configuration and seed: the same seed on the
same backend gives a bit-identical :class:`~lsgdsim.result.Result` (no measured time enters it).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from . import kernels
from ._version import __version__
from .algorithms.base import Algorithm, RunContext
from .backend import RandomStreams, backend_name, check_dtype, from_numpy, resolve, to_numpy, xp_dtype
from .clock import Clock
from .collectives import Collective, Vectorized
from .execution.clocked import run_on_clock
from .execution.lockstep import Lockstep
from .execution.recording import DivergenceError, Recorder, Tally, progress_bar, stack_ints, stop_safely
from .objectives.base import Objective
from .objectives.rowwise import ORACLES, RowWise
from .parallel import WorkerPool, check_threads, default_threads
from .result import Result
from .validate import check_choice, check_float, check_int, check_memory, check_seed


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
    kernels.check_env()
    return workers, steps, grad_noise, batch_size, seed, record_every, x0, xp


# -- the run loop ------------------------------------------------------------------------------------
def simulate(objective: Objective, algorithm: Algorithm, *, workers: int = 8, steps: int = 1000, x0=None,
             grad_noise: float = 0.0, batch_size: int | None = None, seed: int = 0,
             backend: Literal["numpy", "cupy", "array_api_strict"] = "numpy",
             dtype: Literal["float64", "float32"] = "float64", record_every: int | None = None,
             progress: bool = False, monitor: Callable | None = None,
             on_interrupt: Literal["raise", "return"] = "raise",
             on_divergence: Literal["raise", "return"] = "raise", collective: Collective | None = None,
             threads: int | None = None, clock: Clock | None = None, time_budget: float | None = None,
             oracle: Literal["stacked", "rowwise"] = "stacked") -> Result:
    """Run ``algorithm`` with ``workers`` workers for ``steps`` steps each on ``objective``.

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
    clock : lsgdsim.clock.Clock, optional
        Run on the virtual clock (NumPy backend): each worker at the pace of ``clock.compute``, every
        communication priced by ``clock.network`` (docs/clock.md). The run ends when the workers have
        done p·``steps`` local steps in total (each worker ``steps`` under a per-worker trigger), or at
        ``time_budget``. Records are taken in simulated time; the Result adds ``sim_time``,
        ``worker_steps``, ``breakdown``, ``leader_times`` and the trace (``save_trace``). With equal
        constant compute times and a free network a synchronous rule gives lockstep's Result exactly.
        Needed by ``EASGD/Downpour(asynchronous=True)``; without it the run is lockstep.
    time_budget : float, optional
        With a clock: stop at this simulated time (seconds); what has not completed by then does not happen.
    oracle : "stacked" or "rowwise"
        "rowwise" evaluates every worker's value and gradient on its own row, as an MPI rank does
        (:mod:`lsgdsim.objectives.rowwise`), so that ``lsgdsim mpi-run`` equals the simulation bit for
        bit; "stacked" (default) evaluates all workers in one call. NumPy only.

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
    time_budget = check_clock(clock, time_budget, algorithm, workers, backend)
    check_choice(oracle, "oracle", ORACLES)
    if oracle == "rowwise":
        if backend != "numpy":
            raise ValueError(f"oracle 'rowwise' needs backend 'numpy'; got {backend!r}")
        objective = RowWise(objective)
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

    rec, tally = Recorder(xp, monitor, pool), Tally()
    start = time.perf_counter()
    rec.clock = lambda: time.perf_counter() - start
    config = dict(workers=workers, steps=steps, grad_noise=grad_noise, batch_size=batch_size, seed=seed, xp=xp,
                  dtype=dtype, record_every=record_every, x0_given=x0_given)
    bar = progress_bar(steps, progress)
    # BLAS at one thread for the whole run (parallel.py): the numbers depend neither on the cores nor on the
    # BLAS settings, so a run in a process pool or an MPI rank equals the same run here.
    with pool.blas_guard():
        try:
            if clock is not None:
                out = run_on_clock(objective, algorithm, X, state, streams, comm, rec, clock=clock,
                                   time_budget=time_budget, bar=bar, on_interrupt=on_interrupt,
                                   on_divergence=on_divergence, workers=workers, steps=steps, grad_noise=grad_noise,
                                   batch_size=batch_size, seed=seed, dtype=dtype, record_every=record_every)
                return result_of(objective, algorithm, rec, out.tally, out.last, out.stop, time.perf_counter() - start,
                               gradients=out.gradients, clock_fields=out.fields, oracle=oracle, **config)
            loop = Lockstep(objective, algorithm, streams, rec, tally, workers, steps, grad_noise, batch_size,
                            record_every, comm)
            last, stop = stop_safely(lambda: loop.run(X, state, bar), lambda: loop.committed, on_interrupt,
                                      on_divergence)
        finally:
            pool.close()   # (a record that closes a stopped run then computes on this thread)
            if bar is not None:
                bar.close()
        if last is None:  # stopped early: close the records at the latest consistent step
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                last = rec.close_at(loop.committed)
        tally.truncate(last.counts)
    return result_of(objective, algorithm, rec, tally, last, stop, time.perf_counter() - start, oracle=oracle, **config)


def check_clock(clock, time_budget, algorithm, workers, backend):
    """The clock options: ValueError naming the bad one (before any work); returns the budget as float."""
    if clock is not None and not isinstance(clock, Clock):
        raise ValueError(f"clock must be an lsgdsim.clock.Clock; got {type(clock).__name__}")
    if clock is None:
        if time_budget is not None:
            raise ValueError("time_budget needs a clock (simulated seconds); pass clock=lsgdsim.clock.Clock(...)")
        if algorithm.trigger == "asynchronous":
            raise ValueError(f"{algorithm.name} with asynchronous=True needs a clock: pass "
                             "clock=lsgdsim.clock.Clock(...) (without one the run is lockstep, where nothing is "
                             "asynchronous)")
        return None
    if backend != "numpy":
        raise ValueError(f"a clock run needs backend 'numpy' (the clock executor is NumPy-only); got {backend!r}")
    clock.validate(workers)
    _price_every_round(clock, algorithm, workers)
    return None if time_budget is None else check_float(time_budget, "time_budget", 0.0, lo_open=True)


def _price_every_round(clock, algorithm, workers):
    """Price each kind of round the rule can send on the clock's network, so that a round the network
    cannot carry (a group that straddles nodes) is refused before any work."""
    from .clock import Op
    try:
        if algorithm.trigger == "asynchronous":
            clock.network.cost(Op("exchange", 8, worker=workers - 1), workers)
        names = tuple(algorithm.communications())
        for due in {*((n,) for n in names), names}:
            for op in algorithm.round_ops(due, workers, 8):
                clock.network.cost(op, workers)
    except ValueError as exc:
        raise ValueError(f"clock network: {' '.join(str(exc).split())}") from None


def result_of(objective, algorithm, rec, tally, last, stop: dict, wall: float, *, workers, steps, grad_noise,
            batch_size, seed, xp, dtype, record_every, x0_given, gradients=None, clock_fields=None,
            oracle="stacked") -> Result:
    """The Result of a run whose last consistent state is the snapshot ``last`` (every executor's)."""
    n_steps = last.t
    gradients = workers * n_steps if gradients is None else gradients
    meta = {
        "objective": objective.describe(),
        "algorithm": algorithm.describe(),
        "workers": workers, "steps": steps, "grad_noise": float(grad_noise), "batch_size": batch_size,
        "seed": int(seed), "backend": backend_name(xp), "dtype": dtype, "record_every": record_every,
        "x0": "given" if x0_given else "default", "version": __version__,
        "numpy_version": np.__version__,
        "gradient_evaluations": gradients,
        "samples_processed": gradients * batch_size if batch_size is not None else None,
        "floats_communicated": int(tally.floats), "communications": tally.communications,
        "wall_time_s": wall, **stop,
    }
    if oracle != "stacked":
        meta["oracle"] = oracle
    clock_fields = clock_fields or {}
    meta.update(clock_fields.pop("meta", {}))
    center = last.state.held_center()
    return Result(
        f=rec.stack("f"), steps=np.asarray(rec.steps, dtype=np.int64), x=to_numpy(last.X).astype(float),
        leaders=stack_ints(xp, tally.leaders), leader_steps=np.asarray(tally.leader_steps, dtype=np.int64),
        local_leaders=stack_ints(xp, tally.local_leaders, ndim=2) if tally.local_leaders else None,
        center=None if center is None else to_numpy(center).astype(float),
        dist_to_leader=rec.stack("dist_to_leader"), dist_to_center=rec.stack("dist_to_center"),
        times=np.asarray(rec.times, dtype=float),
        monitor={k: rec.stack(k) for k in rec.monitor_keys}, meta=meta, **clock_fields)


__all__ = ["DivergenceError", "check_clock", "default_record_every", "result_of", "simulate", "validate_run"]
