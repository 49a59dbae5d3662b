"""Measured time of one MPI rank: compute, communicate and wait intervals, in seconds since a common start.

The same three kinds as the virtual clock (lsgdsim.clock.schedule): ``compute`` (the oracle and the
local update), ``communicate`` (inside the rule's collectives), ``wait`` (the per-step status exchange,
where a rank waits for the slowest, and the final barrier). Record-keeping (gathering the records to
rank 0) is left out: the clock is paused meanwhile, so the times are the algorithm's. Within a step
the trace puts the step's communication after its local work (their sums are exact, their order within
the step is not). The intervals tile the run: each starts where the previous one ended.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ..clock.schedule import COMMUNICATE, COMPUTE, WAIT


class Span:
    """An interval being measured; ``split(s)`` turns its last ``s`` seconds into communication."""

    def __init__(self):
        self.communicate = 0.0

    def split(self, seconds: float) -> None:
        self.communicate = max(0.0, seconds)


class Timeline:
    """The intervals of one rank (module docstring)."""

    def __init__(self):
        self.t0 = None
        self.paused_total = 0.0
        self.kind: list[int] = []
        self.start_s: list[float] = []
        self.end_s: list[float] = []
        self.leaders: list[float] = []
        self.end = 0.0

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self.t0 - self.paused_total

    @property
    def _cursor(self) -> float:
        """Where the next interval starts: the end of the last one (so the intervals tile the run, the few
        microseconds of bookkeeping between two going to the second)."""
        return self.end_s[-1] if self.end_s else 0.0

    def _add(self, kind: int, a: float, b: float) -> None:
        if b <= a:
            return
        if self.kind and self.kind[-1] == kind and abs(self.end_s[-1] - a) < 1e-12:
            self.end_s[-1] = b                      # one interval for a run of the same kind
            return
        self.kind.append(kind)
        self.start_s.append(a)
        self.end_s.append(b)

    @contextlib.contextmanager
    def compute(self):
        span = Span()
        yield span
        a, b = self._cursor, self.now()
        c = min(span.communicate, b - a)
        self._add(COMPUTE, a, b - c)
        self._add(COMMUNICATE, b - c, b)

    @contextlib.contextmanager
    def wait(self):
        yield
        self._add(WAIT, self._cursor, self.now())

    @contextlib.contextmanager
    def paused(self):
        a = time.perf_counter()
        yield
        self.paused_total += time.perf_counter() - a

    def mark_leader(self) -> None:
        self.leaders.append(self.now())

    def finish(self, comm) -> None:
        """Wait for every rank at the end (a barrier), then stop the clock."""
        with self.wait():
            comm.Barrier()
        self.end = self.now()

    def export(self) -> dict:
        return {"kind": np.asarray(self.kind, dtype=np.int8), "start": np.asarray(self.start_s),
                "end": np.asarray(self.end_s), "stop": self.end, "leaders": np.asarray(self.leaders)}
