"""The clock executor: a rule's arithmetic replayed along its schedule in simulated time.

:func:`lsgdsim.clock.schedule.lay_out` says, from the compute-time model and the network alone, when each
worker completes each step and when the rounds and exchanges happen. :class:`ClockedRun` then does the
arithmetic in that order, vectorized: it moves the workers forward only when an effect needs them (a
round needs every worker at its count; an exchange needs one worker) and then moves every worker that
can go as far as its next effect, so the local steps between synchronisation points run as few array
calls over many rows. A row's step uses that row's own step counter (schedules) and its own draws
(:class:`~lsgdsim.execution.rowstreams.RowStreams`). When all workers are at the same step (every
synchronous rule, at any speeds) a step is exactly lockstep's call on the whole iterate, so the
synchronous rules compute on the clock exactly what they compute in lockstep.

A record is a consistent snapshot at a simulated time: worker i at the version (steps, rounds and
exchanges it had completed then) the schedule gives. It is filled as the rows pass that version, which
may be before or after the other effects are replayed; f comes from the row's next oracle call (as in
lockstep), or is evaluated where there is none.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..algorithms.base import StepInput
from ..clock.network import Op
from ..clock.schedule import (
    Exchange,
    Pattern,
    Record,
    Round,
    breakdown_of,
    cut_intervals,
    lay_out,
    staleness_summary,
)
from .recording import DivergenceError, LazyValues, Snapshot, Tally, stop_safely
from .rowstreams import RowStreams


class ClockOutcome(NamedTuple):
    """What a clock run hands back to :func:`lsgdsim.simulate`: its last consistent record (a Snapshot),
    why it stopped early (empty when it did not), the communications up to that record, the gradients
    computed, and the Result's clock fields (``sim_time``, ``worker_steps``, ``breakdown``, ``leader_times``,
    ``trace``, ``meta``)."""

    last: Snapshot
    stop: dict
    tally: Tally
    gradients: int
    fields: dict


def pattern_for(algorithm, state, workers: int, steps: int, clock, nbytes: int) -> Pattern:
    """The communication pattern of ``algorithm`` (its trigger, due steps and prices) on ``clock``."""
    network, costs = clock.network, {}

    def round_cost(due):
        if due not in costs:
            costs[due] = float(sum(network.cost(op, workers) for op in algorithm.round_ops(due, workers, nbytes)))
        return costs[due]

    if algorithm.trigger == "asynchronous":
        exchange = [network.cost(Op("exchange", nbytes, worker=w), workers) for w in range(workers)]
        return Pattern("asynchronous", period=algorithm.period, exchange_cost=exchange.__getitem__)
    if algorithm.trigger == "total":
        return Pattern("total", round_cost=round_cost, periods=algorithm.active_communications(state))
    rounds = {t: due for t in _candidate_steps(algorithm, steps) if (due := algorithm.due(t, state))}
    return Pattern("own", round_cost=round_cost, rounds=rounds)


def _candidate_steps(algorithm, steps: int):
    """The steps at which some communication's period comes round (the others cannot be due)."""
    periods = set(algorithm.communications().values())
    return sorted({t for tau in periods for t in range(tau, steps + 1, tau)})


def run_on_clock(objective, algorithm, X, state, streams, comm, rec, *, clock, time_budget, bar, on_interrupt,
                 on_divergence, workers, steps, grad_noise, batch_size, seed, dtype, record_every) -> ClockOutcome:
    """Lay the run out in simulated time, replay it, and collect what the Result needs (ClockOutcome)."""
    nbytes = clock.row_bytes(objective.dim, np.dtype(dtype).itemsize)
    schedule = lay_out(pattern_for(algorithm, state, workers, steps, clock, nbytes), workers=workers, steps=steps,
                       compute=clock.compute, seed=seed, record_every=record_every, time_budget=time_budget)
    run = ClockedRun(objective, algorithm, schedule, streams, comm, grad_noise=grad_noise, batch_size=batch_size,
                     recorder=rec)
    _, stop = stop_safely(lambda: run.run(X, state, bar), lambda: run.committed, on_interrupt, on_divergence)
    if stop:
        rec.rollback()               # a record an interrupt left half-written
    record, last = run.committed
    tally, leader_times = Tally(), []
    for effect, events, messages in run.events:
        if effect.time <= record.time and (messages or events):
            tally.add(events, messages, int(np.sum(effect.counts)) // workers if isinstance(effect, Round)
                      else int(effect.step))
            if "leader" in events:
                leader_times.append(effect.time)
    return ClockOutcome(last, stop, tally, int(record.counts.sum()),
                        _clock_fields(schedule, run, record, clock, time_budget, leader_times, algorithm))


def _clock_fields(schedule, run, record, clock, time_budget, leader_times, algorithm) -> dict:
    p = len(record.counts)
    complete = record.time >= schedule.end and np.array_equal(record.counts, schedule.counts)
    trace = schedule.intervals if complete else cut_intervals(schedule.intervals, record.time, p)
    breakdown = {**breakdown_of(trace, p), "local_steps": record.counts.astype(np.int64)}
    total = breakdown["compute"] + breakdown["communicate"] + breakdown["wait"]
    if not np.allclose(total, record.time, rtol=1e-9, atol=1e-12):   # the invariant, after every run
        raise RuntimeError(f"internal error: the time breakdown does not add up to the makespan {record.time} "
                           f"(worker totals {total.tolist()}); please report it")
    staleness = schedule.staleness[:sum(1 for e, _, _ in run.events if isinstance(e, Exchange)
                                        and e.time <= record.time)]
    meta = {"executor": "clock", "clock": clock.describe(), "trigger": algorithm.trigger,
            "time_budget": time_budget, "makespan": float(record.time),
            "breakdown": {k: [round(float(v), 9) for v in a] for k, a in breakdown.items()}}
    if staleness.size:
        meta["staleness"] = staleness_summary(staleness)
    return {"sim_time": np.asarray(run.sim_time, dtype=float), "worker_steps": np.stack(run.worker_steps),
            "leader_times": np.asarray(leader_times, dtype=float), "breakdown": breakdown,
            "trace": trace, "meta": meta}


class ClockedRun:
    """Replay ``algorithm`` on ``objective`` along ``schedule`` (see the module docstring)."""

    def __init__(self, objective, algorithm, schedule, streams, comm, *, grad_noise, batch_size, recorder):
        self.objective, self.algorithm, self.schedule, self.comm = objective, algorithm, schedule, comm
        self.grad_noise, self.batch_size, self.rec = grad_noise, batch_size, recorder
        self.streams = streams
        self.p = len(schedule.counts)
        self.rows_all = np.arange(self.p)
        self.rs = RowStreams(streams, self.p)
        self.done = np.zeros(self.p, dtype=np.int64)       # steps replayed per worker
        self.syncs = np.zeros(self.p, dtype=np.int64)      # rounds and exchanges replayed per worker
        self.limit, self.exchanges = _limits(schedule, self.p)
        self.waiting = np.zeros(self.p, dtype=bool)        # local part of its exchange step done, exchange not yet
        self.x_pre = None                                   # (p, d): the parameters a waiting worker stepped from
        self.records = _Records(schedule, self.p)
        self.events: list = []                              # (effect, events, messages) per communication
        self.sim_time: list[float] = []                     # the simulated time of each record made
        self.worker_steps: list[np.ndarray] = []            # each worker's steps at each record made
        self.committed = None                               # the last complete record: (Record, Snapshot)

    # -- the run -------------------------------------------------------------------------------------
    def run(self, X, state, bar=None):
        self.X, self.state = X, state
        self.records.arrive(self, self.rows_all, mid_step=False)
        for effect in self.schedule.effects:
            if isinstance(effect, Record):
                self.records.take_state(self.state)
            elif isinstance(effect, Round):
                self._advance(effect.counts - 1)
                self._round(effect)
            else:
                self._exchange(effect)
            self._commit()
            if bar is not None:
                bar.n = int(self.done.sum()) // self.p
                bar.refresh()
        self._advance(self.schedule.counts)
        self.records.finish()
        self._commit()
        return self.committed

    def _commit(self):
        """Hand every record completed so far to the recorder, in order."""
        for record, snap in self.records.complete(self.objective):
            self.rec.record(snap)
            self.sim_time.append(record.time)
            self.worker_steps.append(record.counts)
            self.committed = (record, snap)

    def _ready(self, worker: int) -> None:
        """Make ``worker`` wait for its exchange: every worker not waiting (a batch, so that the local steps
        between exchanges run as few array calls) steps up to its next exchange step and does that step's
        local part, keeping the parameters it started from for the exchange."""
        if self.waiting[worker]:
            return
        movers = np.flatnonzero(~self.waiting & (self.syncs < self.exchanges))
        targets = self.done.copy()
        targets[movers] = self.limit[movers, self.syncs[movers]]
        self._advance(targets)
        if self.x_pre is None:
            self.x_pre = np.empty_like(self.X)
        inp = self._oracle(movers)
        part = self.algorithm.take_rows(self.state, movers)
        self.x_pre[movers] = self.X[movers]
        X_rows, part = self.algorithm.local_update(self.X[movers], part, inp)
        self.X[movers] = X_rows
        self.state = self.algorithm.put_rows(self.state, movers, part)
        self.waiting[movers] = True

    # -- steps ---------------------------------------------------------------------------------------
    def _advance(self, targets):
        """Plain local steps until every worker has done ``targets`` steps (or more already)."""
        while True:
            rows = np.flatnonzero(self.done < targets)
            if not rows.size:
                return
            inp = self._oracle(rows)
            if rows.size == self.p:
                self.X, self.state = self.algorithm.local_update(self.X, self.state, inp)
            else:
                part = self.algorithm.take_rows(self.state, rows)
                X_rows, part = self.algorithm.local_update(self.X[rows], part, inp)
                self.X[rows] = X_rows
                self.state = self.algorithm.put_rows(self.state, rows, part)
            self.done[rows] += 1
            self.records.arrive(self, rows, mid_step=False)

    def _oracle(self, rows) -> StepInput:
        """Values and noisy gradients of the workers ``rows`` at their current parameters; the StepInput
        of their next step (each row's own step index)."""
        full = rows.size == self.p
        X = self.X if full else self.X[rows]
        view = self.rs.view(rows)
        t = self.done[rows] + 1
        if self.batch_size is not None:
            idx = self.objective.sample_batch(view, rows.size, self.batch_size)
            kw = {"streams": view} if getattr(self.objective, "uses_streams", False) else {}
            losses, G = self.objective.batch_value_and_grad(X, idx, **kw)
            if self.grad_noise > 0:
                G += view.normal("grad_noise", G.shape, scale=self.grad_noise)
        elif full and self.rs.aligned("grad_noise"):    # lockstep's own fused call, same draws
            losses, G = self.objective.noisy_value_and_grad(X, self.streams, self.grad_noise)
            if self.grad_noise > 0:
                self.rs.note_full_draw("grad_noise", G.shape[1])
        else:
            # the oracle on some rows, by worker blocks on the run's threads (no noise: the rows' own draws follow)
            losses, G = self.objective.noisy_value_and_grad(X, self.streams, 0.0)
            if self.grad_noise > 0:
                G += view.normal("grad_noise", G.shape, scale=self.grad_noise)
        _check(losses, rows, t)
        self.records.oracle(rows, losses)
        exact = LazyValues(self.objective, X, None if self.batch_size is not None else losses)
        step = int(t[0]) if np.all(t == t[0]) else t
        return StepInput(step, G, losses, exact, view, self.comm)

    def _round(self, effect: Round):
        """Every worker's last step before the round, then the round (``communicate``) on all rows."""
        inp = self.algorithm.reduce_gradients(self._oracle(self.rows_all))
        X_new, self.state = self.algorithm.local_update(self.X, self.state, inp)
        self.done[:] = effect.counts
        self.X = X_new
        self.records.arrive(self, self.rows_all, mid_step=True)
        X_before = inp.exact_values.X                    # the parameters the round's local step started from
        self.X, self.state, events = self.algorithm.communicate(X_before, X_new, self.state, effect.due, inp)
        self.syncs += 1
        self._tally(effect, events)
        self.records.arrive(self, self.rows_all, mid_step=False)

    def _exchange(self, effect: Exchange):
        """Worker ``effect.worker``'s exchange with the server (the local part of its step done before)."""
        self._ready(effect.worker)
        row = np.array([effect.worker])
        part = self.algorithm.take_rows(self.state, row)
        x_new, part, self.state = self.algorithm.exchange(self.x_pre[row], self.X[row], part, self.state, effect.step,
                                                          self.p, self.comm)
        self.X[row] = x_new
        self.state = self.algorithm.put_rows(self.state, row, part)
        self.waiting[row] = False
        self.done[row] += 1
        self.syncs[row] += 1
        self._tally(effect, {})
        self.records.arrive(self, row, mid_step=False)

    def _tally(self, effect, events):
        self.events.append((effect, events, self.comm.drain(int(self.done.sum()) // self.p)))


def _check(losses, rows, t):
    """DivergenceError naming the first worker (and its own step) whose value is not finite."""
    bad = ~np.isfinite(np.asarray(losses))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DivergenceError(int(t[i]) - 1, int(rows[i]), float(np.asarray(losses)[i]))


def _limits(schedule, p):
    """(p, k + 1) table: worker i steps freely up to its (j + 1)-th exchange's step − 1, then its final
    count (k the most exchanges of any worker); and the number of exchanges of each worker (p,)."""
    exchanges = [(e.worker, e.step) for e in schedule.effects if isinstance(e, Exchange)]
    workers, steps = (np.array(exchanges, dtype=np.int64).T if exchanges else (np.zeros(0, np.int64),) * 2)
    per = np.bincount(workers, minlength=p)
    table = np.repeat(schedule.counts[:, None].astype(np.int64), per.max(initial=0) + 1, axis=1)
    order = np.argsort(workers, kind="stable")
    slot = np.arange(len(workers)) - np.repeat(np.cumsum(per) - per, per)
    table[workers[order], slot] = steps[order] - 1
    return table, per


class _Records:
    """The records of a clock run, filled as the rows pass the versions the schedule gives them.

    Record m wants worker i at (counts[m, i] steps, syncs[m, i] rounds/exchanges); ``ptr[i]`` is the
    first record row i has not reached yet."""

    def __init__(self, schedule, p):
        self.p = p
        self.order: list[Record] = [e for e in schedule.effects if isinstance(e, Record)]
        versions, syncs = [], np.zeros(p, dtype=np.int64)
        for e in schedule.effects:
            if isinstance(e, Round):
                syncs = syncs + 1
            elif isinstance(e, Exchange):
                syncs = syncs.copy()
                syncs[e.worker] += 1
            else:
                versions.append(syncs)
        end = np.full((1, p), -1, dtype=np.int64)
        self.counts = np.concatenate([np.stack([r.counts for r in self.order]), end])
        self.syncs = np.concatenate([np.stack(versions), end])
        self.ptr = np.zeros(p, dtype=np.int64)
        self.X: dict[int, np.ndarray] = {}
        self.f: dict[int, np.ndarray] = {}
        self.filled = np.zeros(len(self.order), dtype=np.int64)
        # records [f_from[i], f_to[i]] take worker i's f from its next oracle call (-1: none waits)
        self.f_from, self.f_to = np.full(p, -1, dtype=np.int64), np.full(p, -1, dtype=np.int64)
        self.evaluate: dict[int, list] = {}                 # record → rows whose f must be evaluated
        self.state: list = []                               # the rule's state at each record's time
        self.next = 0                                       # the next record to complete

    def arrive(self, run, rows, mid_step: bool):
        """Rows ``rows`` are now at (done, syncs): copy them into every record that wants that version."""
        while True:
            at = self.ptr[rows]
            hit = (self.counts[at, rows] == run.done[rows]) & (self.syncs[at, rows] == run.syncs[rows])
            if not hit.any():
                return
            for m in np.unique(at[hit]):
                self._fill(run, int(m), rows[hit & (at == m)], mid_step)
            self.ptr[rows[hit]] += 1

    def _fill(self, run, m, rows, mid_step):
        if m not in self.X:
            self.X[m] = np.empty((self.p, run.X.shape[1]), dtype=run.X.dtype)
            self.f[m] = np.full(self.p, np.nan)
        self.X[m][rows] = run.X[rows]
        self.filled[m] += rows.size
        if mid_step or run.batch_size is not None:
            self.evaluate.setdefault(m, []).append(rows)
        else:
            self.f_from[rows] = np.where(self.f_from[rows] < 0, m, self.f_from[rows])
            self.f_to[rows] = m

    def oracle(self, rows, losses):
        """The oracle's values at rows ``rows``: f of every record waiting for them there."""
        waits = self.f_from[rows] >= 0
        if not waits.any():
            return
        rows, values = rows[waits], np.asarray(losses)[waits]
        lo, hi = self.f_from[rows], self.f_to[rows]
        for m in range(int(lo.min()), int(hi.max()) + 1):
            pick = (lo <= m) & (m <= hi)
            self.f[m][rows[pick]] = values[pick]
        self.f_from[rows] = self.f_to[rows] = -1

    def take_state(self, state):
        """The rule's state at the next record's time (its shared part: center, server, leader)."""
        self.state.append(state)

    def finish(self):
        """At the end: rows that will not step again have their f evaluated."""
        for i in np.flatnonzero(self.f_from >= 0):
            for m in range(int(self.f_from[i]), int(self.f_to[i]) + 1):
                self.evaluate.setdefault(m, []).append(np.array([i]))
        self.f_from[:] = self.f_to[:] = -1

    def complete(self, objective):
        """The records that are now complete, in order: (Record, Snapshot)."""
        out = []
        while (self.next < len(self.order) and self.filled[self.next] == self.p and self.next < len(self.state)
               and not np.any((self.f_from >= 0) & (self.f_from <= self.next) & (self.next <= self.f_to))):
            m = self.next
            pending = self.evaluate.pop(m, [])
            if pending:
                rows = np.unique(np.concatenate(pending))
                X = self.X[m] if rows.size == self.p else self.X[m][rows]
                self.f[m][rows] = np.asarray(objective.value(X))
            r = self.order[m]
            out.append((r, Snapshot(r.step, self.X.pop(m), self.state[m], LazyValues(None, None, self.f.pop(m)),
                                    None)))
            self.state[m] = None
            self.next += 1
        return out
