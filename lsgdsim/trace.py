"""A clock run's time, for people and for trace viewers: the breakdown table and the Chrome trace.

:func:`chrome_trace` turns ``Result.trace`` (every worker's compute / communicate / wait intervals in
simulated seconds) into the Trace Event Format that Perfetto (ui.perfetto.dev) and chrome://tracing open:
one process, one track (thread) per worker, a complete event ("ph": "X") per interval, timestamps and
durations in microseconds, and instant events for the leader choices.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .outputs import atomic_write_text

KINDS = ("compute", "communicate", "wait")
MAX_ROWS = 16   # workers listed one by one in the breakdown table; more are summarised


def chrome_trace(result) -> dict:
    """The Trace Event Format dict of a clock run's ``result`` (ValueError if it has no trace)."""
    trace = result.trace
    if trace is None:
        raise ValueError("this result has no trace: only runs on the virtual clock (simulate(..., clock=...)) do")
    p = result.workers
    name = result.meta.get("algorithm", {}).get("algorithm", "run")
    events = [{"ph": "M", "pid": 0, "name": "process_name", "args": {"name": f"lsgdsim {name}, {p} workers"}}]
    events += [{"ph": "M", "pid": 0, "tid": i, "name": "thread_name", "args": {"name": f"worker {i}"}}
               for i in range(p)]
    events += [{"ph": "M", "pid": 0, "tid": i, "name": "thread_sort_index", "args": {"sort_index": i}}
               for i in range(p)]
    start, end = np.asarray(trace["start"]) * 1e6, np.asarray(trace["end"]) * 1e6
    for w, k, s, e in zip(np.asarray(trace["worker"]).tolist(), np.asarray(trace["kind"]).tolist(),
                          start.tolist(), end.tolist(), strict=True):
        events.append({"ph": "X", "pid": 0, "tid": w, "name": KINDS[k], "cat": KINDS[k], "ts": s, "dur": e - s})
    if result.leader_times is not None:
        for t, leader in zip(result.leader_times.tolist(), result.leaders.tolist(), strict=False):
            events.append({"ph": "i", "pid": 0, "tid": int(leader), "name": "leader", "s": "t", "ts": t * 1e6})
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"makespan_s": float(result.sim_time[-1]), "version": result.meta.get("version")}}


def write_chrome_trace(result, path) -> Path:
    """Write :func:`chrome_trace` as JSON to ``path`` (atomically); returns the path."""
    return atomic_write_text(Path(path), json.dumps(chrome_trace(result), separators=(",", ":")))


def breakdown_lines(result) -> list[str]:
    """The per-worker time breakdown of a clock run as text lines (empty for a lockstep run)."""
    b = result.breakdown
    if b is None:
        return []
    makespan = float(result.sim_time[-1])
    total = b["compute"] + b["communicate"] + b["wait"]
    lines = [f"time breakdown, simulated seconds (each worker's compute + communicate + wait = the makespan "
             f"{makespan:.6g} s)", f"{'worker':>8} {'steps':>8} {'compute':>12} {'communicate':>12} {'wait':>12}"]
    rows = list(range(result.workers)) if result.workers <= MAX_ROWS else [*range(MAX_ROWS // 2),
                                                                          *range(result.workers - MAX_ROWS // 2,
                                                                                 result.workers)]
    for n, i in enumerate(rows):
        if n == MAX_ROWS // 2 and result.workers > MAX_ROWS:
            lines.append(f"{'…':>8} ({result.workers - MAX_ROWS} more)")
        lines.append(f"{i:>8} {int(b['local_steps'][i]):>8} {b['compute'][i]:>12.6g} {b['communicate'][i]:>12.6g} "
                     f"{b['wait'][i]:>12.6g}")
    share = {k: float(b[k].sum() / max(total.sum(), 1e-300)) for k in KINDS}
    lines.append(f"{'mean':>8} {float(b['local_steps'].mean()):>8.6g} {b['compute'].mean():>12.6g} "
                 f"{b['communicate'].mean():>12.6g} {b['wait'].mean():>12.6g}   "
                 + ", ".join(f"{k} {100 * v:.1f} %" for k, v in share.items()))
    return lines
