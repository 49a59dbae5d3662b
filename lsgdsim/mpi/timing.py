"""A measured MPI run's time in the Result's clock fields: the same names and meaning as the virtual
clock's (``sim_time``, ``worker_steps``, ``breakdown``, ``trace``, ``leader_times``), in measured
seconds, so that a real run and a simulated one are read, compared and plotted by the same code."""
from __future__ import annotations

import numpy as np

from ..clock.schedule import breakdown_of, cut_intervals


def measured_fields(times: list[dict], record_times, worker_steps, leader_times, workers: int,
                    until: float | None = None) -> dict:
    """The clock fields of a run whose worker ranks measured ``times`` (each rank's ``Timeline.export()``),
    recorded at ``record_times`` with each worker's steps ``worker_steps`` (R, p).

    A rank's intervals stand for each of its workers; every worker's time from its rank's end to the
    last rank's end (the makespan) is waiting, so each worker's intervals add up to the makespan, which
    is also the time of the last record (the end of the run). A run that stopped early ends at its last
    record, ``until``: its intervals are cut there."""
    per = workers // len(times)
    makespan = max(float(t["stop"]) for t in times) if until is None else float(until)
    parts: dict[str, list] = {"worker": [], "kind": [], "start": [], "end": []}
    for rank, t in enumerate(times):
        n = len(t["kind"])
        for w in range(rank * per, (rank + 1) * per):
            parts["worker"].append(np.full(n, w, dtype=np.int64))
            parts["kind"].append(np.asarray(t["kind"], dtype=np.int8))
            parts["start"].append(np.asarray(t["start"], dtype=float))
            parts["end"].append(np.asarray(t["end"], dtype=float))
    trace = cut_intervals({k: np.concatenate(v) for k, v in parts.items()}, makespan, workers)
    worker_steps = np.asarray(worker_steps, dtype=np.int64)
    sim_time = np.asarray(record_times, dtype=float)
    sim_time[-1] = makespan
    breakdown = {**breakdown_of(trace, workers), "local_steps": worker_steps[-1].copy()}
    leader_times = np.asarray(leader_times, dtype=float)
    leader_times = leader_times[leader_times <= makespan]
    meta = {"executor": "mpi", "ranks": len(times), "measured": True, "makespan": makespan,
            "breakdown": {k: [round(float(v), 9) for v in a] for k, a in breakdown.items()}}
    return {"sim_time": sim_time, "worker_steps": worker_steps, "leader_times": leader_times,
            "breakdown": breakdown, "trace": trace, "meta": meta}
