"""The MPI executor: one block of workers per rank, the same rule objects, lockstep's numbers.

Every rank builds the run from the same RunSpec: the objective, the rule, the full starting point and
the rule's starting state (``init`` on all p rows, the same on every rank), then keeps its rows
[lo, hi) (``take_rows``). Each step it evaluates its rows one by one (the row-wise oracle, as
``simulate(..., oracle="rowwise")``), draws only its workers' noise (their rows of the worker-block
streams, :class:`lsgdsim.execution.rowstreams.RowStreams`), and runs the rule's own ``step`` with
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

import os

import numpy as np

from ..algorithms.base import RunContext, StepInput
from ..backend import RandomStreams, from_numpy, resolve, xp_dtype
from ..collectives import Vectorized
from ..execution.recording import LazyValues, Recorder, Snapshot, Tally
from ..execution.rowstreams import RowStreams
from ..objectives.rowwise import RowWise
from .collective import RankCollective
from .guard import RankGuard
from .timeline import Timeline

# "RANK:STEP": that rank's oracle raises at that step. The failure path of a real job (a bad input on one
# node, a full disk) cannot be made on purpose from the outside; the tests make it with this.
FAULT = "LSGDSIM_MPI_FAULT"


class Stop(Exception):
    """Every rank stops at this step; ``reason`` is {"diverged": ...}, {"interrupted": ...} or {"error": ...}."""

    def __init__(self, reason: dict):
        super().__init__(reason)
        self.reason = reason


class RankRun:
    """One rank's part of a synchronous MPI run of ``spec`` (module docstring)."""

    def __init__(self, spec, comm):
        self.spec, self.mpi = spec, comm
        self.rank, size = comm.Get_rank(), comm.Get_size()
        per = spec.workers // size
        self.lo, self.hi = self.rank * per, (self.rank + 1) * per
        self.rows = np.arange(self.lo, self.hi)
        self.objective = RowWise(spec.build_objective())
        self.algorithm = spec.build_algorithm()
        self.streams = RandomStreams(spec.seed, resolve("numpy"), spec.dtype)
        self.view = RowStreams(self.streams, spec.workers, owned=self.rows).view(self.rows)
        self.comm = RankCollective(comm, spec.workers, self.lo, self.hi)
        self.comm.reset(spec.workers, np.dtype(spec.dtype).itemsize)
        self.timeline = Timeline()
        self.rec = Recorder(resolve("numpy"), None) if self.rank == 0 else None
        self.tally = Tally()
        self.guard = RankGuard()
        self.committed = None           # (t, X rows, state, f rows, time): the last step every rank completed
        self.comm_step = 0
        self.record_times: list[float] = []

    def start(self):
        """This rank's rows of the starting point and of the rule's starting state."""
        xp, spec = resolve("numpy"), self.spec
        x0 = self.objective.initial_point(spec.workers, self.streams.numpy_generator("init"))
        dtype = xp_dtype(xp, spec.dtype)
        X = from_numpy(np.asarray(x0, dtype=float), xp, dtype)
        ctx = RunContext(xp=xp, dtype=dtype, workers=spec.workers, dim=self.objective.dim,
                         streams=self.streams, comm=Vectorized())
        X, state = self.algorithm.init(X, ctx)
        return np.array(X[self.lo:self.hi]), self.algorithm.take_rows(state, self.rows)

    # -- the run -------------------------------------------------------------------------------------
    def run(self) -> dict:
        """The whole run on this rank; returns why it stopped early ({} when it did not)."""
        X, state = self.start()
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
                    (final, _), problem = self._checked(lambda: (self.objective.value(X), None), self.spec.steps)
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
        self.comm_step = t
        with self.timeline.compute():
            (losses, G), problem = self._checked(lambda: self._oracle(X), t - 1)
        self._status(problem)
        exact = LazyValues(self.objective, X, None if self.spec.batch_size is not None else losses)
        self.committed = (t - 1, X, state, exact, done_at)
        if (t - 1) % self.spec.record_every == 0:
            self._record(self.committed)
        before = self.comm.seconds
        with self.timeline.compute() as span:
            X, state, events = self.algorithm.step(X, state, StepInput(t, G, losses, exact, self.view, self.comm))
            span.split(self.comm.seconds - before)       # the collectives' share of the step
        messages = self.comm.drain(t)
        if messages or events:
            self.tally.add(events, messages, t)
            if "leader" in events:
                self.timeline.mark_leader()
        return X, state, self.timeline.now()

    def _oracle(self, X):
        spec = self.spec
        if os.environ.get(FAULT) == f"{self.rank}:{self.comm_step}":
            raise RuntimeError(f"fault injected by {FAULT} at step {self.comm_step}")
        if spec.batch_size is None:
            return self.objective.noisy_value_and_grad(X, self.view, spec.grad_noise)
        idx = self.objective.sample_batch(self.view, X.shape[0], spec.batch_size)
        losses, G = self.objective.batch_value_and_grad(X, idx)
        if spec.grad_noise > 0:
            G += self.view.normal("grad_noise", G.shape, scale=spec.grad_noise)
        return losses, G

    def _checked(self, fn, step):
        """``fn()`` → (values, rest), and the problem it had: an error, or the first non-finite value."""
        try:
            out = fn()
        except Exception as exc:  # every rank hears of it at the status, none is left waiting
            return (None, None), {"error": f"rank {self.rank}: {type(exc).__name__}: {' '.join(str(exc).split())}"}
        bad = np.flatnonzero(~np.isfinite(np.asarray(out[0])))
        if bad.size:
            i = int(bad[0])
            return out, {"diverged": {"step": step, "worker": self.lo + i, "value": float(np.asarray(out[0])[i])}}
        return out, None

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
        """Gather the snapshot ``snap`` (every rank's rows) to rank 0 and record it there (untimed)."""
        t, X, state, values, at = snap
        with self.timeline.paused():
            f = np.asarray(values() if callable(values) else values)
            rows = self.mpi.gather((np.asarray(X), f), root=0)
            if self.rank == 0:
                X_all, f_all = np.concatenate([x for x, _ in rows]), np.concatenate([v for _, v in rows])
                self.rec.record(Snapshot(t, X_all, state, LazyValues(None, None, f_all), self.tally.counts))
                self.record_times.append(at)

    def _close(self):
        """After a stop: the records end at the last step every rank completed."""
        if self.committed is None:
            return
        last = self.rec.last.t if self.rank == 0 and self.rec.last is not None else None
        if self.mpi.bcast(last, root=0) != self.committed[0]:
            self._record(self.committed)
