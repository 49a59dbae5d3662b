"""How long a batch of work will take, said before it starts (``lsgdsim check``, ``lsgdsim reproduce``).

Each unit of work (a theory check, a figure experiment) has a cost: the seconds it took on the project's
machine (:data:`REFERENCE`), kept in a table beside the work. Here those costs are scaled by how fast this
machine runs a short calibration (:func:`calibrate`: a small simulation, best of 5 runs of about 0.15 s, one
thread) against the reference machine, and packed onto the processes longest first (:func:`makespan`, the order the
runners start them in). The estimate is a forecast, not a promise: the host's speed drifts (±15 % between
identical runs on the reference machine) and a new unit without a measured cost counts as ``default``.
"""
from __future__ import annotations

import heapq
import time

# The machine the cost tables were measured on, and its calibration time (quiet: 0.146–0.152 s in four
# calls of calibrate(), 2026-12-07; single runs vary 0.16–0.27 s on this host, hence the best of 5).
REFERENCE = {"machine": "2 vCPUs reported as AMD EPYC, 24 GiB, Python 3.11", "calibration_s": 0.148}
ANNOUNCE_S = 20.0       # batches forecast (unscaled) to take longer than this say so before they start


def calibrate(repeats: int = 5) -> float:
    """Seconds of a fixed small workload on this machine (best of ``repeats``): a 16-worker LSGD run on a
    20-dimensional quadratic, 5000 steps, one thread, which exercises what the checks spend their time on
    (many small NumPy calls)."""
    from . import algorithms, objectives, simulate
    obj = objectives.Quadratic.random(dim=20, cond=10.0, seed=0)
    alg = algorithms.LSGD(lr=0.01, pull=0.1, period=4)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        simulate(obj, alg, workers=16, steps=5000, grad_noise=0.1, seed=0, threads=1, record_every=10**9)
        best = min(best, time.perf_counter() - start)
    return best


def makespan(costs, jobs: int) -> float:
    """The finishing time of ``costs`` (seconds) on ``jobs`` processes, each unit started, longest first,
    on the process that frees first."""
    loads = [0.0] * max(1, int(jobs))
    for cost in sorted(costs, reverse=True):
        heapq.heapreplace(loads, loads[0] + float(cost))
    return max(loads)


def duration(seconds: float) -> str:
    """"4 min 10 s", "35 s"."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


class Forecast:
    """The scaled costs of one batch and the line that announces it."""

    def __init__(self, costs: dict, jobs: int, scale: float | None = None):
        self.scale = scale if scale is not None else calibrate() / REFERENCE["calibration_s"]
        self.costs = {name: cost * self.scale for name, cost in costs.items()}
        self.jobs = jobs
        self.seconds = makespan(self.costs.values(), jobs)

    @classmethod
    def announced(cls, costs: dict, jobs: int):
        """The forecast of a batch long enough to announce (:data:`ANNOUNCE_S`, before scaling: no
        calibration run for a short one), else None."""
        return cls(costs, jobs) if makespan(costs.values(), jobs) > ANNOUNCE_S else None

    def units(self) -> dict:
        """Progress-bar units of each item: its forecast seconds, at least 1."""
        return {name: max(1, round(cost)) for name, cost in self.costs.items()}

    def line(self, what: str) -> str:
        return (f"estimated {duration(self.seconds)} for {what} on {self.jobs} process"
                f"{'' if self.jobs == 1 else 'es'} (costs measured on {REFERENCE['machine']}, scaled "
                f"×{self.scale:.2f} by a calibration run here)")
