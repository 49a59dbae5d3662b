"""Real distributed runs over MPI: ``mpiexec -n P python -m lsgdsim mpi-run <the options of lsgdsim run>``.

The third executor of the rules (after lockstep and the virtual clock): one block of workers per rank,
the same rule objects, objectives and leader rules, and for the synchronous rules the simulation's
numbers bit for bit (:mod:`.runner`, :mod:`.collective`). Rank 0 gathers the records and returns the same
Result as ``lsgdsim run``, with the measured time breakdown in the clock's fields. The set-up is
``pip install -e ".[mpi]"`` (mpi4py and the MPICH wheels; no system MPI needed).
"""
from __future__ import annotations

import os
import time

import numpy as np

LAUNCHED = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MPI_LOCALRANKID")
RANK_VARIABLES = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")


class NothingFinished(Exception):
    """A run stopped before any step was complete on every rank: ``reason`` says why, nothing is written."""

    def __init__(self, reason: dict):
        super().__init__(reason)
        self.reason = reason


def launched_by_mpiexec() -> bool:
    """True when this process was started by mpiexec (its launcher's environment is there)."""
    return any(name in os.environ for name in LAUNCHED)


def is_rank_zero() -> bool:
    """Rank 0, or not under mpiexec: the process that speaks (before MPI itself is started)."""
    return all(os.environ.get(name, "0") == "0" for name in RANK_VARIABLES)


def world():
    """MPI's world communicator; ValueError (one line) without mpi4py or outside mpiexec."""
    if not launched_by_mpiexec():
        raise ValueError("mpi-run runs under mpiexec: mpiexec -n P python -m lsgdsim mpi-run ... (P processes, "
                         "one block of workers each)")
    try:
        from mpi4py import MPI
    except ImportError:
        raise ValueError("mpi-run needs mpi4py and an MPI library: pip install -e \".[mpi]\" (mpi4py with the "
                         "MPICH wheels)") from None
    return MPI.COMM_WORLD


def with_server(spec) -> bool:
    """True for the runs that need a server rank (Algorithm 1's counter, the asynchronous rules' center)."""
    return bool(spec.algorithm.get("asynchronous")) or spec.algorithm.get("trigger", "own") != "own"


def check_layout(spec, ranks: int) -> None:
    """The workers must fill the worker ranks in equal blocks (all ranks, or all but the server)."""
    if with_server(spec):
        if ranks < 2:
            raise ValueError("Algorithm 1 and the asynchronous rules under MPI need a server rank besides the "
                             "workers: run at least 2 processes (the last one serves)")
        if spec.workers % (ranks - 1):
            raise ValueError(f"--workers ({spec.workers}) must be a multiple of the worker processes ({ranks - 1}: "
                             f"the last of the {ranks} serves)")
    elif spec.workers % ranks:
        raise ValueError(f"--workers ({spec.workers}) must be a multiple of the number of MPI processes ({ranks}): "
                         "every rank holds the same number of workers")


def run_world(spec, comm):
    """Run ``spec`` on every rank of ``comm``; rank 0 returns the Result, the others None."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"):     # one core per rank, and the one-process numbers
        check_layout(spec, comm.Get_size())
        if with_server(spec):
            from .asynchronous import run_asynchronous
            return run_asynchronous(spec, comm)
        return _run_synchronous(spec, comm)


def _run_synchronous(spec, comm):
    from ..simulate import result_of
    from .runner import RankRun
    from .timing import measured_fields
    started = time.perf_counter()
    run = RankRun(spec, comm)
    stop = run.run()
    times = comm.gather(run.timeline.export(), root=0)
    if comm.Get_rank() != 0:
        return None
    last = run.rec.last
    if last is None:
        raise NothingFinished(stop)
    run.tally.truncate(last.counts)
    steps = np.asarray(run.rec.steps)
    fields = measured_fields(times, run.record_times, np.repeat(steps[:, None], spec.workers, axis=1),
                             run.timeline.leaders[:len(run.tally.leaders)], spec.workers,
                             until=run.record_times[-1] if stop else None)
    res = result_of(run.objective, run.algorithm, run.rec, run.tally, last, stop, time.perf_counter() - started,
                    workers=spec.workers, steps=spec.steps, grad_noise=spec.grad_noise, batch_size=spec.batch_size,
                    seed=spec.seed, xp=np, dtype=spec.dtype, record_every=spec.record_every, x0_given=False,
                    clock_fields=fields, oracle="rowwise")
    res.meta.update(spec=spec.to_dict(), spec_hash=spec.hash)
    return res
