"""The MPI executor: one block of workers per rank, the same rule objects, lockstep's numbers.

Every rank builds the run from the same RunSpec (:class:`~lsgdsim.mpi.rank.RankSetup`) and keeps its rows
[lo, hi). Each step it evaluates its rows one by one (the row-wise oracle, as ``simulate(...,
oracle="rowwise")``), draws only its workers' noise, and runs the rule's own ``step`` with
:class:`~lsgdsim.mpi.collective.RankCollective`: for the synchronous rules the result equals the
simulation bit for bit.

After its oracle each step, every rank reports its status (a non-finite value, an error, a signal) in
one small all-gather, so that all ranks stop together at the same step; rank 0 then closes the records
at the last step every rank completed, as ``lsgdsim run`` does with a partial result. Rank 0 gathers the
records (f, and the parameters for the distances) and builds the same Result; the time each rank spent
computing, communicating and waiting is measured (:class:`~lsgdsim.mpi.timeline.Timeline`) and fills
``sim_time``, ``breakdown`` and ``trace`` as on the clock, in measured seconds.
"""
from __future__ import annotations

import numpy as np

from ..algorithms.base import StepInput
from ..backend import resolve
from ..execution.recording import LazyValues, Recorder, Snapshot, Tally
from .collective import RankCollective
from .guard import RankGuard
from .rank import RankSetup
from .timeline import Timeline


class Stop(Exception):
    """Every rank stops at this step; ``reason`` is {"diverged": ...}, {"interrupted": ...} or {"error": ...}."""

    def __init__(self, reason: dict):
        super().__init__(reason)
        self.reason = reason


class RankRun:
    """One rank's part of a synchronous MPI run of ``spec`` (module docstring)."""

    def __init__(self, spec, comm):
        self.spec, self.mpi = spec, comm
        self.rank = comm.Get_rank()
        per = spec.workers // comm.Get_size()
        self.setup = RankSetup(spec, self.rank, np.arange(self.rank * per, (self.rank + 1) * per))
        self.objective, self.algorithm = self.setup.objective, self.setup.algorithm
        self.comm = RankCollective(comm, spec.workers, self.setup.lo, self.setup.hi)
        self.comm.reset(spec.workers, np.dtype(spec.dtype).itemsize)
        self.timeline, self.tally, self.guard = Timeline(), Tally(), RankGuard()
        self.rec = Recorder(resolve("numpy"), None) if self.rank == 0 else None
        self.committed = None           # (t, X rows, state, f rows, time): the last step every rank completed
        self.record_times: list[float] = []

    # -- the run -------------------------------------------------------------------------------------
    def run(self) -> dict:
        """The whole run on this rank; returns why it stopped early ({} when it did not)."""
        X, state = self.setup.own()
        self.mpi.Barrier()
        self.timeline.start()
        stop = {}
        # divergence is reported in one line, not warned about; a signal is noted for the next status
        with self.guard, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                done_at = 0.0
                for t in range(1, self.spec.steps + 1):
                    X, state, done_at = self.step(t, X, state, done_at)
                with self.timeline.compute():
                    final, problem = self.setup.values(X, self.spec.steps)
                self._status(problem)
                self.committed = (self.spec.steps, X, state, final, done_at)
                self._record(self.committed)
            except Stop as exc:
                stop = exc.reason
                self._close()
            self.timeline.finish(self.mpi)
        return stop

    def step(self, t, X, state, done_at):
        """Step t: the oracle on this rank's rows, every rank's status, the record, the rule's own step."""
        with self.timeline.compute():
            losses, G, problem = self.setup.oracle(X, t)
        self._status(problem)
        exact = LazyValues(self.objective, X, None if self.spec.batch_size is not None else losses)
        self.committed = (t - 1, X, state, exact, done_at)
        if (t - 1) % self.spec.record_every == 0:
            self._record(self.committed)
        before = self.comm.seconds
        with self.timeline.compute() as span:
            inp = StepInput(t, G, losses, exact, self.setup.view, self.comm)
            X, state, events = self.algorithm.step(X, state, inp)
            span.split(self.comm.seconds - before)       # the collectives' share of the step
        messages = self.comm.drain(t)
        if messages or events:
            self.tally.add(events, messages, t)
            if "leader" in events:
                self.timeline.mark_leader()
        return X, state, self.timeline.now()

    def _status(self, problem):
        """Every rank's news, all-gathered: a Stop on every rank together if any has some."""
        mine = problem or ({"interrupted": self.guard.signal} if self.guard.signal else None)
        with self.timeline.wait():
            news = self.mpi.allgather(mine)
        for kind in ("error", "diverged", "interrupted"):
            for item in news:
                if item and kind in item:
                    reason = {kind: item[kind]}
                    if kind == "interrupted":
                        reason = {"interrupted": True, "interrupted_by": item[kind]}
                    raise Stop(reason)

    # -- records -------------------------------------------------------------------------------------
    def _record(self, snap):
        """Gather the snapshot ``snap`` (every rank's rows) to rank 0 and record it there. Untimed: every
        rank's clock stays paused until rank 0 has recorded (the barrier), so the ranks' times agree."""
        t, X, state, values, at = snap
        with self.timeline.paused():
            f = np.asarray(values() if callable(values) else values)
            rows = self.mpi.gather((np.asarray(X), f), root=0)
            if self.rank == 0:
                X_all, f_all = np.concatenate([x for x, _ in rows]), np.concatenate([v for _, v in rows])
                self.rec.record(Snapshot(t, X_all, state, LazyValues(None, None, f_all), self.tally.counts))
                self.record_times.append(at)
            self.mpi.Barrier()

    def _close(self):
        """After a stop: the records end at the last step every rank completed."""
        if self.committed is None:
            return
        last = self.rec.last.t if self.rank == 0 and self.rec.last is not None else None
        if self.mpi.bcast(last, root=0) != self.committed[0]:
            self._record(self.committed)
