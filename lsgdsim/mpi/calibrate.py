"""Calibrate the virtual clock from this machine: ``lsgdsim calibrate --ranks P --out cluster.toml``.

Closing the loop between the clock and a real MPI run: under mpiexec with P ranks,

- the network: rank 0 broadcasts one row of 8 B to 4 MiB to rank 1 through the MPI executor's own
  collective (so the latency counts what a round really pays, Python and mpi4py included); the time of
  each size is the fastest of the repeats, and α (latency) and β (bandwidth) come from the least-squares
  fit of t(n) = α + n/β (the raw MPI ping-pong, fitted the same way, is noted beside it);
- the compute time per step: pilot MPI runs of the chosen configuration (``lsgdsim mpi-run``'s
  executor, for ``--steps`` steps; the median of three, the first run of a job is often slower): each
  rank's seconds per step outside the rule's collectives (its oracle and local update, and the per-step
  status exchange every MPI step makes), one number per worker.

The result is a clock table, ``[clock]`` with a Constant compute model and a flat network, that
``lsgdsim run --clock cluster.toml`` (the same options) uses to predict the makespan and the breakdown of
the same MPI run. The file's comments say what was measured, where and when.
"""
from __future__ import annotations

import datetime
import platform
import time

import numpy as np

SIZES = (*(8 * 8**k for k in range(8)), 4 * 2**20)     # 8 B ... 2 MiB, and 4 MiB
REPEATS = 30
PILOTS = 3


def ping_pong(comm, sizes=SIZES, repeats=REPEATS) -> dict:
    """One-way seconds per message size between ranks 0 and 1 (rank 0 gets them; the others wait)."""
    from mpi4py import MPI
    rank, times = comm.Get_rank(), {}
    for n in sizes:
        buf = np.zeros(n, dtype=np.uint8)
        best = np.inf
        comm.Barrier()
        for _ in range(repeats):
            if rank == 0:
                t0 = MPI.Wtime()
                comm.Send(buf, dest=1, tag=7)
                comm.Recv(buf, source=1, tag=7)
                best = min(best, (MPI.Wtime() - t0) / 2)
            elif rank == 1:
                comm.Recv(buf, source=0, tag=7)
                comm.Send(buf, dest=0, tag=7)
        times[n] = best
    return times


def broadcast_times(comm, sizes=SIZES, repeats=REPEATS) -> dict:
    """Seconds of the MPI executor's own broadcast of one row of n bytes from rank 0 (what a round pays,
    Python included), as rank 1 sees it: the fastest of the repeats (rank 0 gets them)."""
    from .collective import RankCollective
    rank, size, times = comm.Get_rank(), comm.Get_size(), {}
    coll = RankCollective(comm, size, rank, rank + 1)
    for n in sizes:
        X = np.zeros((1, max(1, n // 8)))
        best = np.inf
        for _ in range(repeats):
            comm.Barrier()
            t0 = time.perf_counter()
            coll._row_from_owner(X, 0)
            best = min(best, time.perf_counter() - t0)
        seen = comm.gather(best, root=0)
        if rank == 0:
            times[n] = seen[1]
    return times


def fit_alpha_beta(times: dict) -> tuple[float, float, float]:
    """(α, β, worst relative residual) of the least-squares line t = α + n/β through ``times``."""
    n = np.array(sorted(times), dtype=float)
    t = np.array([times[k] for k in sorted(times)])
    slope, intercept = np.polyfit(n, t, 1, w=1 / t)        # relative errors: small messages count too
    alpha, beta = max(float(intercept), 0.0), 1.0 / max(float(slope), 1e-30)
    residual = float(np.max(np.abs(alpha + n / beta - t) / t))
    return alpha, beta, residual


def calibrate(spec, comm) -> str | None:
    """Measure on every rank of ``comm``; rank 0 returns the clock table's TOML text."""
    from . import run_world
    if comm.Get_size() < 2:
        raise ValueError("calibrate needs at least 2 ranks (a ping-pong): --ranks 2 or more")
    raw = ping_pong(comm)
    seen = broadcast_times(comm)
    pilots = [run_world(spec, comm) for _ in range(PILOTS)]       # the first may run cold: the median of several
    if comm.Get_rank() != 0:
        return None
    per_step = [(r.breakdown["compute"] + r.breakdown["wait"]) / np.maximum(r.breakdown["local_steps"], 1)
                for r in pilots]                                  # outside the rule's collectives
    seconds = np.median(np.stack(per_step), axis=0)
    res = sorted(pilots, key=lambda r: float(r.sim_time[-1]))[len(pilots) // 2]
    return _toml(spec, comm.Get_size(), fit_alpha_beta(raw), fit_alpha_beta(seen), seconds, res)


def _toml(spec, ranks, raw, seen, seconds, res) -> str:
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    (a0, b0, r0), (alpha, beta, residual) = raw, seen
    lines = [
        f"# lsgdsim calibrate: {ranks} ranks, {when}, {platform.node()} ({_cpu()})",
        f"# network: the MPI executor's broadcast of one row, 8 B - 4 MiB, rank 0 to rank 1: t = alpha + n/beta "
        f"fitted (worst relative residual {residual:.0%}); raw MPI ping-pong gives alpha {a0:.3g} s, "
        f"beta {b0:.3g} B/s (residual {r0:.0%})",
        f"# compute: seconds per step outside the rule's collectives, the median of {PILOTS} pilot mpi-runs of "
        f"{spec.steps} steps ({spec.objective['name']}, {spec.algorithm['name']}, {spec.workers} workers); their "
        f"median makespan {float(res.sim_time[-1]):.6g} s",
        "[clock.compute]",
        'model = "constant"',
        "seconds = [" + ", ".join(f"{s:.9g}" for s in seconds) + "]",
        "[clock.network]",
        'network = "flat"',
        f"latency = {alpha:.9g}",
        f"bandwidth = {beta:.9g}",
        "",
    ]
    return "\n".join(lines)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
