"""Algorithm 1 and the asynchronous server rules for real: workers at their own pace, one server rank.

As in the authors' code (digest §5.2) the last rank is a server: it keeps the total number of local steps
over all workers, and, for asynchronous EASGD/EAMSGD/DOWNPOUR, the center (server) state. The other ranks
hold the workers in equal blocks and run at their own pace:

- after every local step a worker rank tells the server how many steps its workers did and hears the
  total back (and whether the run must stop);
- ``LSGD(trigger="total")``: when the total reaches a multiple of p·τ (p·τ_G) the worker ranks join a
  round, the rule's own ``communicate`` over the worker ranks (:class:`RankCollective`) on the
  parameters after the step (``order="after"``); the steps finished after the trigger count toward
  the next one, and the run ends when the total reaches p·T (after that round, if it is one);
- ``asynchronous=True``: every τ of its own steps a worker rank sends its workers' rows to the server,
  which applies the rule's ``exchange`` for each in arrival order, one request at a time, and sends back
  the workers' new rows. Stale reads are counted as on the clock.

Real timing decides the order, so a run is not bit-comparable with the clock, only statistically. A
problem on any rank (a non-finite value, an error, a signal) reaches the server with that rank's report;
from then on the server answers every report with the same frozen total and the order to stop, so every
worker rank joins the same rounds (those the frozen total has reached) and stops. The Result holds the
start and the end (``worker_steps``, the measured ``breakdown`` and ``trace`` as on the clock).
"""
from __future__ import annotations

import time

import numpy as np

from ..algorithms.base import StepInput
from ..backend import resolve
from ..clock.schedule import staleness_summary
from ..collectives import Vectorized
from ..execution.recording import LazyValues, Recorder, Snapshot, Tally
from .collective import RankCollective
from .guard import RankGuard
from .rank import RankSetup
from .timeline import Timeline

STEP, EXCHANGE, DONE = 1, 2, 3


def run_asynchronous(spec, comm):
    """Run an Algorithm 1 or asynchronous-server ``spec``; rank 0 returns the Result, the others None."""
    server = comm.Get_size() - 1            # the layout was checked (lsgdsim.mpi.check_layout)
    workers_comm = comm.Split(0 if comm.Get_rank() < server else 1, comm.Get_rank())
    if comm.Get_rank() == server:
        Server(spec, comm).serve()
        return None
    started = time.perf_counter()
    run = AsyncRank(spec, comm, workers_comm, server)
    run.run()
    X, _, count = run.committed
    with np.errstate(over="ignore", invalid="ignore"):
        f = run.setup.objective.value(X)
    parts = workers_comm.gather((X, f, count, run.timeline.export()), root=0)
    if comm.Get_rank() != 0:
        return None
    report = comm.recv(source=server, tag=DONE)
    with np.errstate(over="ignore", invalid="ignore"):        # a diverged run's records are reported, not warned
        return _result(run, parts, report, time.perf_counter() - started)


def _result(run, parts, report, wall):
    """Rank 0: the Result (the start and the end) from every worker rank's part and the server's report."""
    from ..simulate import result_of
    from .timing import measured_fields
    spec, s = run.spec, run.setup
    per = spec.workers // len(parts)
    rec, state = Recorder(resolve("numpy"), None), s.state0
    X0 = np.asarray(s.X0)
    rec.record(Snapshot(0, X0, state, LazyValues(None, None, s.objective.value(X0)), (0, 0, 0, 0)))
    counts = np.repeat([c for _, _, c, _ in parts], per)
    if report["center"] is not None:
        state = state.update(**{"center" if hasattr(state, "center") else "server": report["center"]})
    X, f = np.concatenate([x for x, _, _, _ in parts]), np.concatenate([v for _, v, _, _ in parts])
    last = Snapshot(int(counts.sum()) // spec.workers, X, state, LazyValues(None, None, f), run.tally.counts)
    rec.record(last)
    fields = measured_fields([t for _, _, _, t in parts], [0.0, 0.0], np.stack([np.zeros_like(counts), counts]),
                             run.timeline.leaders[:len(run.tally.leaders)], spec.workers)
    if report["staleness"]:
        fields["meta"]["staleness"] = staleness_summary(report["staleness"])
    fields["meta"].update(ranks=len(parts) + 1, server_rank=len(parts), trigger=run.algorithm.trigger)
    stop = dict(report["stop"] or {})
    if "interrupted" in stop:
        stop = {"interrupted": True, "interrupted_by": stop["interrupted"]}
    res = result_of(s.objective, run.algorithm, rec, run.tally, last, stop, wall, workers=spec.workers,
                    steps=spec.steps, grad_noise=spec.grad_noise, batch_size=spec.batch_size, seed=spec.seed,
                    xp=np, dtype=spec.dtype, record_every=spec.record_every, x0_given=False,
                    gradients=int(counts.sum()), clock_fields=fields, oracle="rowwise")
    res.meta.update(spec=spec.to_dict(), spec_hash=spec.hash)
    return res


class Server:
    """The server rank: the total of local steps, the order to stop, the asynchronous rules' center."""

    def __init__(self, spec, comm):
        self.spec, self.comm = spec, comm
        self.setup = RankSetup(spec, comm.Get_rank(), [])
        self.state = self.setup.state0
        self.total, self.stop = 0, None
        self.served, self.previous, self.staleness = 0, {}, []

    def serve(self):
        from mpi4py import MPI
        status, done, ranks = MPI.Status(), 0, self.comm.Get_size() - 1
        with RankGuard():
            while done < ranks:
                self._one(self.comm.recv(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status), status)
                done += status.Get_tag() == DONE
        center = self.state.held_center()
        self.comm.send({"center": None if center is None else np.asarray(center), "staleness": self.staleness,
                        "total": self.total, "stop": self.stop}, dest=0, tag=DONE)

    def _one(self, msg, status):
        """Answer one request: a worker rank's step report (the total is frozen once a problem came), or an
        exchange."""
        source, tag = status.Get_source(), status.Get_tag()
        if tag == STEP:
            n, problem = msg
            if self.stop is None:
                self.total += n
                self.stop = problem
            self.comm.send((self.total, self.stop), dest=source, tag=STEP)
        elif tag == EXCHANGE:
            self.comm.send(self.exchange(*msg), dest=source, tag=EXCHANGE)

    def exchange(self, rows, t, x_pre, x_post, accumulated):
        """The rule's exchange for each of ``rows`` in turn (one request at a time): their new rows."""
        algorithm, out_x, out_acc = self.setup.algorithm, [], []
        for j, i in enumerate(rows):
            part = algorithm.take_rows(self.state, np.array([i]))
            if accumulated is not None:
                part = part.update(accumulated=accumulated[j:j + 1])
            x_new, part, self.state = algorithm.exchange(x_pre[j:j + 1], x_post[j:j + 1], part, self.state, t,
                                                         self.spec.workers, Vectorized())
            out_x.append(np.asarray(x_new))
            out_acc.append(getattr(part, "accumulated", None))
            last = self.previous.get(i)
            self.staleness.append(self.served - last - 1 if last is not None else self.served)
            self.previous[i], self.served = self.served, self.served + 1
        return np.concatenate(out_x), None if out_acc[0] is None else np.concatenate(out_acc)


class AsyncRank:
    """One worker rank of an Algorithm 1 or asynchronous-server run (module docstring)."""

    def __init__(self, spec, comm, workers_comm, server):
        self.spec, self.comm, self.wcomm, self.server = spec, comm, workers_comm, server
        per = spec.workers // (comm.Get_size() - 1)
        rank = comm.Get_rank()
        self.setup = RankSetup(spec, rank, np.arange(rank * per, (rank + 1) * per))
        self.algorithm = self.setup.algorithm
        self.coll = RankCollective(workers_comm, spec.workers, self.setup.lo, self.setup.hi)
        self.coll.reset(spec.workers, np.dtype(spec.dtype).itemsize)
        self.timeline, self.tally, self.guard = Timeline(), Tally(), RankGuard()
        periods = self.algorithm.active_communications(self.setup.state0) if self.algorithm.trigger == "total" else {}
        self.next_round = {name: spec.workers * tau for name, tau in periods.items()}
        self.taus = periods
        self.last_total = spec.workers * spec.steps          # no round after the end of the run
        self.count, self.total = 0, 0
        self.committed = (*self.setup.own(), 0)   # the last (X, state, steps) whose values were found finite

    def run(self):
        X, state, _ = self.committed
        self.wcomm.Barrier()                      # the workers start together (the server is serving)
        self.timeline.start()
        with self.guard, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while True:
                X_before, state_before, count_before = X, state, self.count
                X, state, inp, problem = self.step(X, state)
                if problem is None or "interrupted" in problem:     # the oracle found X_before finite
                    self.committed = (X_before, state_before, count_before)
                with self.timeline.compute() as span:
                    t0 = time.perf_counter()
                    failed = problem is not None and "interrupted" not in problem     # that step did not happen
                    done = 0 if failed else self.setup.hi - self.setup.lo
                    self.total, stop = self.comm.sendrecv((done, problem), dest=self.server, sendtag=STEP,
                                                          source=self.server, recvtag=STEP)
                    span.split(time.perf_counter() - t0)
                X, state = self._rounds(X_before, X, state, inp)
                if stop or self.total >= self.last_total:
                    break
            if not stop and np.all(np.isfinite(self.setup.objective.value(X))):
                self.committed = (X, state, self.count)       # a complete run ends at its last step
            self.comm.send(None, dest=self.server, tag=DONE)
            self.timeline.finish(self.wcomm)

    def step(self, X, state):
        """One local step of this rank's workers (an exchange step's exchange included); on a problem,
        the parameters as they were (the losses inf, so that a round can still go on)."""
        t = self.count + 1
        with self.timeline.compute() as span:
            losses, G, problem = self.setup.oracle(X, t)
            inp = StepInput(t, G, losses, LazyValues(self.setup.objective, X, losses), self.setup.view, self.coll)
            if problem is not None:
                return X, state, inp, problem
            X_new, state = self.algorithm.local_update(X, state, inp)
            if self.algorithm.trigger == "asynchronous" and t % self.algorithm.period == 0:
                t0 = time.perf_counter()
                X_new, state = self._exchange(X, X_new, state, t)
                span.split(time.perf_counter() - t0)
        self.count = t
        if self.guard.signal:
            return X_new, state, inp, {"interrupted": self.guard.signal}
        return X_new, state, inp, None

    def _exchange(self, X, X_new, state, t):
        acc = getattr(state, "accumulated", None)
        request = (list(range(self.setup.lo, self.setup.hi)), t, np.asarray(X), np.asarray(X_new), acc)
        x_new, acc_new = self.comm.sendrecv(request, dest=self.server, sendtag=EXCHANGE, source=self.server,
                                            recvtag=EXCHANGE)
        if acc_new is not None:
            state = state.update(accumulated=acc_new)
        return x_new, state

    def _rounds(self, X_before, X, state, inp):
        """Algorithm 1: join every round the total has reached (once a problem came, the server's total is
        frozen, so every worker rank joins the same rounds before it stops)."""
        due = tuple(name for name, m in self.next_round.items() if m <= min(self.total, self.last_total))
        if not due:
            return X, state
        with self.timeline.wait():                      # every worker rank joins this round, at its own time
            agreed = self.wcomm.allgather(due)
        due = tuple(name for name in self.next_round if any(name in d for d in agreed))
        for name in due:
            self.next_round[name] += self.spec.workers * self.taus[name]
        before = self.coll.seconds
        with self.timeline.compute() as span:
            X, state, events = self.algorithm.communicate(X_before, X, state, due, inp)
            span.split(self.coll.seconds - before)
        messages = self.coll.drain(self.count)
        if messages or events:
            self.tally.add(events, messages, self.count)
            if "leader" in events:
                self.timeline.mark_leader()
        return self._rounds(X_before, X, state, inp)        # a total can have reached two rounds at once
