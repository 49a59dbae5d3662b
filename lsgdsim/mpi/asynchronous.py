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
problem on any rank (a non-finite value, an error, a signal) reaches the server with the rank's next
report and every rank stops at its next one. The Result holds the start and the end (``worker_steps``,
the measured ``breakdown`` and ``trace`` as on the clock).
"""
from __future__ import annotations

import time

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
    X, _ = run.committed
    with np.errstate(over="ignore", invalid="ignore"):
        f = run.objective.value(X)
    parts = workers_comm.gather((X, f, run.count, run.timeline.export()), root=0)
    if comm.Get_rank() != 0:
        return None
    report = comm.recv(source=server, tag=DONE)
    return _result(run, parts, report, time.perf_counter() - started)


def _result(run, parts, report, wall):
    """Rank 0: the Result of the run (the start and the end) from every worker rank's part and the server's report."""
    from ..simulate import result_of
    from .timing import measured_fields
    spec, s = run.spec, run.setup
    per = spec.workers // len(parts)
    rec = Recorder(resolve("numpy"), None)
    state = s.state0
    rec.record(Snapshot(0, np.asarray(s.X0), state, LazyValues(None, None, s.objective.value(np.asarray(s.X0))),
                        (0, 0, 0, 0)))
    counts = np.repeat([c for _, _, c, _ in parts], per)
    if report["center"] is not None:
        state = state.update(**{"center" if hasattr(state, "center") else "server": report["center"]})
    X = np.concatenate([x for x, _, _, _ in parts])
    f = np.concatenate([v for _, v, _, _ in parts])
    last = Snapshot(int(counts.sum()) // spec.workers, X, state, LazyValues(None, None, f), run.tally.counts)
    rec.record(last)
    fields = measured_fields([t for _, _, _, t in parts], [0.0, 0.0], np.stack([np.zeros_like(counts), counts]),
                             run.timeline.leaders[:len(run.tally.leaders)], spec.workers)
    staleness = np.asarray(report["staleness"], dtype=np.int64)
    if staleness.size:
        values, n = np.unique(staleness, return_counts=True)
        fields["meta"]["staleness"] = {"exchanges": int(staleness.size), "stale": int(np.count_nonzero(staleness)),
                                       "mean": float(staleness.mean()), "max": int(staleness.max()),
                                       "histogram": {str(int(v)): int(c) for v, c in zip(values, n, strict=True)}}
    fields["meta"].update(ranks=len(parts) + 1, server_rank=len(parts), trigger=run.algorithm.trigger)
    stop = dict(run.stop)
    if "interrupted" in stop:
        stop = {"interrupted": True, "interrupted_by": stop["interrupted"]}
    res = result_of(run.objective, run.algorithm, rec, run.tally, last, stop, wall, workers=spec.workers,
                    steps=spec.steps, grad_noise=spec.grad_noise, batch_size=spec.batch_size, seed=spec.seed,
                    xp=np, dtype=spec.dtype, record_every=spec.record_every, x0_given=False,
                    gradients=int(counts.sum()), clock_fields=fields, oracle="rowwise")
    res.meta.update(spec=spec.to_dict(), spec_hash=spec.hash)
    return res


class _Setup:
    """What every rank (the server too) builds from the spec: objective, rule, streams, starting state."""

    def __init__(self, spec, rows, ranks):
        self.spec = spec
        self.objective = RowWise(spec.build_objective())
        self.algorithm = spec.build_algorithm()
        self.streams = RandomStreams(spec.seed, resolve("numpy"), spec.dtype)
        self.rows = rows
        xp = resolve("numpy")
        dtype = xp_dtype(xp, spec.dtype)
        x0 = self.objective.initial_point(spec.workers, self.streams.numpy_generator("init"))
        ctx = RunContext(xp=xp, dtype=dtype, workers=spec.workers, dim=self.objective.dim, streams=self.streams,
                         comm=Vectorized())
        self.X0, self.state0 = self.algorithm.init(from_numpy(np.asarray(x0, dtype=float), xp, dtype), ctx)


class Server:
    """The server rank: the total of local steps, and the center of the asynchronous rules."""

    def __init__(self, spec, comm):
        self.spec, self.comm = spec, comm
        self.setup = _Setup(spec, None, comm.Get_size() - 1)
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
                        "total": self.total}, dest=0, tag=DONE)

    def _one(self, msg, status):
        """Answer one request: a worker rank's step report, or an exchange."""
        source, tag = status.Get_source(), status.Get_tag()
        if tag == STEP:
            n, problem = msg
            self.total += n
            self.stop = self.stop or problem
            self.comm.send((self.total, self.stop), dest=source, tag=STEP)
        elif tag == EXCHANGE:
            self.comm.send(self.exchange(source, *msg), dest=source, tag=EXCHANGE)

    def exchange(self, source, rows, t, x_pre, x_post, accumulated):
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
        acc = None if out_acc[0] is None else np.concatenate(out_acc)
        return np.concatenate(out_x), acc


class AsyncRank:
    """One worker rank of an Algorithm 1 or asynchronous-server run (module docstring)."""

    def __init__(self, spec, comm, workers_comm, server):
        self.spec, self.comm, self.wcomm, self.server = spec, comm, workers_comm, server
        per = spec.workers // (comm.Get_size() - 1)
        self.rank = comm.Get_rank()
        self.lo, self.hi = self.rank * per, (self.rank + 1) * per
        self.setup = _Setup(spec, np.arange(self.lo, self.hi), comm.Get_size() - 1)
        s = self.setup
        self.objective, self.algorithm = s.objective, s.algorithm
        self.view = RowStreams(s.streams, spec.workers, owned=s.rows).view(s.rows)
        self.coll = RankCollective(workers_comm, spec.workers, self.lo, self.hi)
        self.coll.reset(spec.workers, np.dtype(spec.dtype).itemsize)
        self.timeline, self.tally, self.guard = Timeline(), Tally(), RankGuard()
        periods = self.algorithm.active_communications(s.state0) if self.algorithm.trigger == "total" else {}
        self.next_round = {name: spec.workers * tau for name, tau in periods.items()}
        self.last_total = spec.workers * spec.steps          # no round after the end of the run
        self.taus = periods
        self.count, self.stop, self.total = 0, {}, 0

    def run(self):
        s = self.setup
        X, state = np.array(s.X0[self.lo:self.hi]), self.algorithm.take_rows(s.state0, s.rows)
        self.committed = (X, state)
        self.wcomm.Barrier()                      # the workers start together (the server is serving)
        self.timeline.start()
        with self.guard, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while True:
                X, state, problem = self.step(X, state)
                with self.timeline.compute() as span:
                    before = self.coll.seconds
                    t0 = time.perf_counter()
                    self.total, stop = self.comm.sendrecv((self.hi - self.lo, problem), dest=self.server,
                                                          sendtag=STEP, source=self.server, recvtag=STEP)
                    span.split(time.perf_counter() - t0 + self.coll.seconds - before)
                X, state = self._round(X, state)
                if problem is None:
                    self.committed = (X, state)
                if stop or self.total >= self.spec.workers * self.spec.steps:
                    self.stop = stop or {}
                    break
            self.comm.send(None, dest=self.server, tag=DONE)
            self.timeline.finish(self.wcomm)

    def step(self, X, state):
        """One local step of this rank's workers (an exchange step's exchange included)."""
        t = self.count + 1
        with self.timeline.compute() as span:
            try:
                losses, G = self.objective.noisy_value_and_grad(X, self.view, self.spec.grad_noise)
            except Exception as exc:
                return X, state, {"error": f"rank {self.rank}: {type(exc).__name__}: {' '.join(str(exc).split())}"}
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                return X, state, {"diverged": {"step": t - 1, "worker": self.lo + int(bad[0]),
                                               "value": float(losses[int(bad[0])])}}
            inp = StepInput(t, G, losses, LazyValues(self.objective, X, losses), self.view, self.coll)
            X_new, state = self.algorithm.local_update(X, state, inp)
            self._last = (X, inp)
            if self.algorithm.trigger == "asynchronous" and t % self.algorithm.period == 0:
                t0 = time.perf_counter()
                X_new, state = self._exchange(X, X_new, state, t)
                span.split(time.perf_counter() - t0)
        self.count = t
        if self.guard.signal:
            return X_new, state, {"interrupted": self.guard.signal}
        return X_new, state, None

    def _exchange(self, X, X_new, state, t):
        acc = getattr(state, "accumulated", None)
        x_new, acc_new = self.comm.sendrecv((list(range(self.lo, self.hi)), t, np.asarray(X), np.asarray(X_new), acc),
                                            dest=self.server, sendtag=EXCHANGE, source=self.server, recvtag=EXCHANGE)
        if acc_new is not None:
            state = state.update(accumulated=acc_new)
        return x_new, state

    def _round(self, X, state):
        """Algorithm 1: join every round whose total has been reached (the worker ranks agree on the set)."""
        due = tuple(name for name, m in self.next_round.items() if m <= min(self.total, self.last_total))
        if not due:
            return X, state
        with self.timeline.wait():                      # every worker rank joins this round, at its own time
            agreed = self.wcomm.allgather(due)
        due = tuple(name for name in self.next_round if any(name in d for d in agreed))
        if not due:
            return X, state
        for name in due:
            self.next_round[name] += self.spec.workers * self.taus[name]
        X_before, inp = self._last
        before = self.coll.seconds
        with self.timeline.compute() as span:
            X, state, events = self.algorithm.communicate(X_before, X, state, due, inp)
            span.split(self.coll.seconds - before)
        messages = self.coll.drain(self.count)
        if messages or events:
            self.tally.add(events, messages, self.count)
            if "leader" in events:
                self.timeline.mark_leader()
        return X, state

