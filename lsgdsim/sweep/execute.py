"""Where runs execute: this process, local processes, or a Dask cluster — all behind ``concurrent.futures``.

Every run is a pure function of its spec, and each executing process limits BLAS to one thread, so a
run gives the same numbers, bit for bit, in this process, in a pool of any size and on any Dask worker:
the executor changes the wall time, never a number.

- :func:`process_pool`: ``jobs`` local processes started with "spawn" (nothing inherited from the
  caller), BLAS limited to one thread each, Ctrl-C left to the parent (which stops them).
- :func:`dask_executor`: the ``concurrent.futures`` face of a ``distributed.Client`` — of an existing
  cluster (``address="tcp://host:8786"``) or of a LocalCluster of ``local_workers`` single-threaded
  worker processes. Needs the ``dask`` extra.
- :func:`map_runs`: run many specs on one of them, results in the order given.
"""
from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import re
import signal
import threading
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, InvalidStateError, ProcessPoolExecutor

from ..lifeline import watch_parent
from ..spec import RunSpec
from ..validate import check_choice, check_int


class MissingExtra(ImportError, ValueError):
    """An optional dependency is not installed (one line naming the extra that brings it)."""


def require(module: str, extra: str, what: str):
    """``importlib.import_module(module)``, or :class:`MissingExtra` saying ``pip install 'lsgdsim[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs {module.split('.')[0]}, which is not installed: "
                           f"pip install 'lsgdsim[{extra}]'") from None


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# -- in each executing process ------------------------------------------------------------------------------
_BLAS_LIMITED = False


def limit_blas() -> None:
    """One BLAS thread in this process (once): p processes on p cores must not oversubscribe them."""
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
        _BLAS_LIMITED = True


def _init_process(parent: int, initializer=None, initargs=()) -> None:
    watch_parent(parent)                           # gone with the parent, even after a SIGKILL (lifeline.py)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops the pool
    # ...by SIGTERM, which must end this process: as a KeyboardInterrupt (the command's own handler, which a
    # spawned process may have installed while importing the parent's main module) the pool's worker loop
    # would catch it and live on, and the stopped pool's manager thread would wait for it forever at exit.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ.setdefault("MPLBACKEND", "Agg")
    limit_blas()
    if initializer is not None:
        initializer(*initargs)


def run_task(spec: dict, on_divergence: str = "raise"):
    """Run one spec (its nested form) here; what an executor calls. Returns the Result."""
    limit_blas()
    return RunSpec.from_dict(spec).run(on_divergence=on_divergence)


def sweep_task(spec: dict) -> tuple[str, object]:
    """Run one spec of a sweep: ``("ok", Result)`` (diverged runs too, marked in their meta) or
    ``("error", {"error", "message", "traceback"})`` for a run that raised; never raises itself."""
    try:
        return "ok", run_task(spec, on_divergence="return")
    except Exception as exc:  # recorded beside the results; the sweep goes on
        return "error", {"error": type(exc).__name__, "message": " ".join(str(exc).split()),
                         "traceback": traceback.format_exc()}


_ADDRESS = re.compile(r"((tcp|tls|ws|wss|ucx|inproc)://)?[^\s/:]+(:\d+)?/?")


# -- executors ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def process_pool(jobs: int | None = None, initializer=None, initargs: tuple = ()) -> Iterator[Executor]:
    """A pool of ``jobs`` (default: the cores) spawned processes, BLAS at one thread each; on leaving
    the block because of an error or Ctrl-C, its processes are stopped at once.

    ``initializer(*initargs)`` runs in each process after that set-up (the theory checks pass the
    queue their progress goes back on). The sweeps, ``lsgdsim check --jobs`` and ``lsgdsim reproduce
    --jobs`` all run on this one pool."""
    jobs = default_jobs() if jobs is None else check_int(jobs, "jobs", 1)
    pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init_process,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        yield pool
    except BaseException:
        with _quiet_manager(pool):
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def _quiet_manager(pool):
    """While a stopped pool winds down, its manager thread may try to fail futures that were just cancelled
    (CPython 3.11: InvalidStateError in ``terminate_broken``, also at exit), printing a thread traceback
    after the command's one line; that one error is silenced until the thread has ended (for good if it
    has not ended within 5 s: the process is stopping)."""
    previous = threading.excepthook
    manager = getattr(pool, "_executor_manager_thread", None)     # shutdown() forgets it

    def hook(args):
        if not issubclass(args.exc_type, InvalidStateError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        if manager is not None:
            manager.join(timeout=5)
        if manager is None or not manager.is_alive():
            threading.excepthook = previous


@contextlib.contextmanager
def dask_executor(address: str | None = None, local_workers: int | None = None,
                  connect_timeout: float = 10.0) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on Dask: the cluster at ``address``, or a LocalCluster of
    ``local_workers`` worker processes with one thread each (exactly one of the two). A scheduler
    that does not answer within ``connect_timeout`` seconds is a ``ValueError`` naming the address."""
    if (address is None) == (local_workers is None):
        raise ValueError("give a scheduler address or a number of local Dask workers (one of the two)")
    if address is not None:
        check_scheduler_address(address)
    distributed = require("distributed", "dask", "running on Dask")
    cluster = None
    if local_workers is not None:
        local_workers = check_int(local_workers, "local Dask workers", 1)
        cluster = distributed.LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    try:
        try:
            client = distributed.Client(cluster if cluster is not None else address, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler: no Dask scheduler answered at {address} within {connect_timeout:g} s "
                             f"({type(exc).__name__}); start one with `dask scheduler`") from None
        with client:
            yield client.get_executor(pure=False)  # pure=False: a spec run twice is run twice (--force)
    finally:
        if cluster is not None:
            cluster.close()


def check_scheduler_address(address, name: str = "scheduler") -> str:
    """``tcp://host:port``, ``host:port`` (tcp) or another Dask scheme (tls, ws, wss, ucx, inproc);
    else ValueError naming it."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ValueError(f"{name} must be an address like tcp://host:8786; got {address!r}")
    return address


def describe_executor(executor) -> str:
    """A few words for the progress line: "2 local processes", "Dask at tcp://...", "this process"."""
    if executor is None:
        return "this process"
    if isinstance(executor, ProcessPoolExecutor):
        n = executor._max_workers
        return f"{n} local process{'es' if n > 1 else ''}"
    client = getattr(executor, "_client", None)
    if client is not None:
        workers = len(client.scheduler_info().get("workers", {}))
        return f"Dask at {client.scheduler.address} ({workers} workers)"
    return type(executor).__name__


# -- many runs -------------------------------------------------------------------------------------------------
def map_runs(specs: Iterable[RunSpec], jobs: int | None = None, executor: Executor | None = None,
             on_divergence: str = "raise") -> list:
    """Run every spec; the Results in the order of ``specs``, identical (bit for bit) to
    ``[s.run() for s in specs]``.

    ``executor``: any ``concurrent.futures`` executor (a :func:`process_pool` or :func:`dask_executor`
    kept open across calls saves their start-up); else ``jobs`` spawned processes (default: the cores),
    or this process when ``jobs=1`` or there is one spec. A run that raises (``DivergenceError`` unless
    ``on_divergence="return"``) stops the rest and is re-raised here.
    """
    specs = list(specs)
    for i, spec in enumerate(specs):
        if not isinstance(spec, RunSpec):
            raise ValueError(f"specs[{i}] must be a RunSpec; got {type(spec).__name__}")
    check_choice(on_divergence, "on_divergence", ("raise", "return"))
    jobs = default_jobs() if jobs is None else check_int(jobs, "jobs", 1)
    if executor is None and (jobs == 1 or len(specs) <= 1):
        return [spec.run(on_divergence=on_divergence) for spec in specs]
    with contextlib.nullcontext(executor) if executor is not None else process_pool(min(jobs, len(specs))) as ex:
        futures = [ex.submit(run_task, spec.to_dict(), on_divergence) for spec in specs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise
