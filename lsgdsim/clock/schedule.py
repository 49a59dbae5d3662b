"""The time of a run on the virtual clock, without its arithmetic: who steps when, who waits, who talks.

A run's timing depends on the compute-time model, the network and the rule's communication pattern,
never on the parameters, so the clock first lays out the whole run in time (this module, vectorized over
workers between synchronisation points) and the executor then replays the arithmetic along it
(:mod:`lsgdsim.execution.clocked`). Three patterns (:class:`Pattern`):

- ``own``: a round when every worker has done its own step t, for the steps t in ``rounds`` (the rule's
  ``due``); a barrier: a worker that arrives first waits for the last, then all communicate for the
  round's cost and resume together. Every worker does exactly T steps.
- ``total`` (Algorithm 1): a round when the total number of local steps over all p workers reaches a
  multiple of p·τ (of each communication's τ). The worker whose step reaches it and the workers that
  just finished a step join at once; the others finish the step they are computing, then join; the
  round starts when the last one arrives. The run ends when the total reaches p·T (after the round, if
  that total also triggers one).
- ``asynchronous``: every τ of its own steps a worker computes its step's gradient, then sends a request
  to the parameter server, which serves one request at a time in arrival order (ties: lowest rank
  first); the worker waits in the queue, exchanges for its cost, and resumes. Its step completes when its
  exchange ends. The run ends when the total reaches p·T.

``time_budget`` stops every pattern at that simulated time: what has not completed by then (a step, a
round, an exchange) does not happen. The state of a run at time s is every step, round and exchange
completed at or before s; at equal times steps come first, then rounds and exchanges (in their order),
then records. A record is taken when the total number of completed steps first reaches p·r·m (r the
recording interval, m = 1, 2, ...), plus one at time 0 and one at the end; a record that falls while a
round is open (some worker has arrived and waits for it) is taken when that round ends, so that every
record sees each worker at rest (between steps, never half-way through a round). At equal speeds on a
free network the records are lockstep's.

Every worker's time from 0 to the end is cut into ``compute``, ``communicate`` and ``wait`` intervals
(the trace); their sums are its breakdown, and add up to the run's end (the makespan) for every worker.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

COMPUTE, COMMUNICATE, WAIT = 0, 1, 2
KINDS = ("compute", "communicate", "wait")
PATTERNS = ("own", "total", "asynchronous")
CHUNK_ELEMENTS = 2**22   # steps × workers drawn at once in a window without communication


class Round(NamedTuple):
    """A communication round ending at ``time``, started at ``start`` (the last arrival) and opened at
    ``opened`` (the first: from then on some worker waits in it): every worker has done ``counts[i]``
    steps, its last one just before the round; ``due`` names the communications."""

    time: float
    counts: np.ndarray
    due: tuple
    start: float
    opened: float


class Exchange(NamedTuple):
    """Worker ``worker``'s exchange with the server, ending at ``time``: its step ``step`` (its gradient
    taken before, at step − 1) completes with it. ``staleness``: exchanges of other workers served since
    this worker's previous one."""

    time: float
    worker: int
    step: int
    staleness: int
    start: float


class Record(NamedTuple):
    """A record at ``time``: worker i has completed ``counts[i]`` steps; ``step`` is the nominal step
    (the mean over workers that the record was due at)."""

    time: float
    counts: np.ndarray
    step: int


@dataclass(frozen=True)
class Pattern:
    """A rule's communication pattern, as the clock needs it (see the module docstring).

    ``rounds`` (own): step t → the communications due at t; ``periods`` (total): communication → τ;
    ``period`` (asynchronous): τ; ``round_cost(due)`` and ``exchange_cost(worker)``: seconds."""

    kind: str
    round_cost: Callable[[tuple], float] = lambda due: 0.0
    rounds: dict = field(default_factory=dict)
    periods: dict = field(default_factory=dict)
    period: int = 1
    exchange_cost: Callable[[int], float] = lambda worker: 0.0


@dataclass
class Schedule:
    """A run laid out in time: the effects the executor replays, in order, and every worker's time.

    effects      Round / Exchange / Record, in time order (records last at equal times)
    end          the makespan (seconds)
    counts       (p,) steps each worker completed
    breakdown    {"compute", "communicate", "wait"}: (p,) seconds, adding up to ``end`` for every worker
    intervals    the trace: {"worker", "kind", "start", "end"} arrays, kind indexing KINDS
    staleness    (E,) staleness of every exchange served (asynchronous)
    """

    effects: list
    end: float
    counts: np.ndarray
    breakdown: dict
    intervals: dict
    staleness: np.ndarray


class _Timeline:
    """Per-worker time being laid out: step completion times and the intervals of the trace."""

    def __init__(self, workers: int, compute, seed: int):
        self.p, self.compute, self.seed = workers, compute, seed
        self.all = np.arange(workers)
        self.done = np.zeros(workers, dtype=np.int64)      # steps laid out per worker
        self.completions: list[tuple[np.ndarray, np.ndarray]] = []
        self.spans: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        self.effects: list = []

    def draw(self, workers, count: int) -> np.ndarray:
        """Durations (n, count) of the next ``count`` steps of ``workers``."""
        return self.compute.durations(self.seed, workers, self.done[workers], count)

    def steps(self, workers, starts, durations, n=None) -> np.ndarray:
        """Lay out n[i] (default all) of ``durations`` (n, K) from ``starts``; returns the end times (n, K)."""
        ends = starts[:, None] + np.cumsum(durations, axis=1)
        n = np.full(len(workers), durations.shape[1]) if n is None else n
        mask = np.arange(durations.shape[1])[None, :] < n[:, None]
        self.completions.append((ends[mask], np.broadcast_to(workers[:, None], ends.shape)[mask]))
        busy = n > 0
        last = ends[np.arange(len(workers)), np.maximum(n - 1, 0)]
        self.span(workers[busy], COMPUTE, starts[busy], last[busy])
        self.done[workers] += n
        return ends

    def span(self, workers, kind: int, starts, ends) -> None:
        keep = ends > starts
        if np.any(keep):
            self.spans.append((np.asarray(workers)[keep], kind, np.asarray(starts)[keep], np.asarray(ends)[keep]))

    def barrier(self, arrivals, due, cost: float) -> float:
        """Every worker waits for the last arrival, then all communicate for ``cost``; the round's end."""
        start = float(arrivals.max())
        end = start + cost
        self.span(self.all, WAIT, arrivals, np.full(self.p, start))
        self.span(self.all, COMMUNICATE, np.full(self.p, start), np.full(self.p, end))
        self.effects.append(Round(end, self.done.copy(), tuple(due), start, float(arrivals.min())))
        return end


# -- the three patterns --------------------------------------------------------------------------------------
def _lay_out_own(tl: _Timeline, pattern: Pattern, steps: int, budget: float) -> float:
    starts = np.zeros(tl.p)
    bounds = sorted({t for t in pattern.rounds if 1 <= t <= steps} | {steps})
    chunk = max(1, CHUNK_ELEMENTS // tl.p)
    recorded = tl.compute.steps_known()
    for b in bounds:
        while tl.done[0] < b:
            if starts.min() > budget:
                return float(starts.max())
            n = min(chunk, b - int(tl.done[0]))
            if recorded is not None:      # a recorded trace: draw no further than it goes, then stop at the budget
                n = min(n, max(1, recorded - int(tl.done[0])))
            ends = tl.steps(tl.all, starts, tl.draw(tl.all, n))
            starts = ends[:, -1]
        if b in pattern.rounds:
            starts = np.full(tl.p, tl.barrier(starts, pattern.rounds[b], pattern.round_cost(pattern.rounds[b])))
    return float(starts.max())


def _next_target(periods: dict, workers: int, after: int, last: int):
    """The next total (> after) at which a round is due, and the communications due there (none: the end)."""
    nxt = {name: (after // (workers * tau) + 1) * workers * tau for name, tau in periods.items()}
    target = min([*nxt.values(), last])
    return target, tuple(name for name, t in nxt.items() if t == target)


def _lay_out_total(tl: _Timeline, pattern: Pattern, steps: int, budget: float) -> float:
    p, start, reached, last = tl.p, 0.0, 0, steps * tl.p
    while True:
        target, due = _next_target(pattern.periods, p, reached, last)
        durations, ends, trigger = _trigger(tl, start, target - int(tl.done.sum()), budget)
        if trigger is None:                                  # the budget ends the run before the next target
            tl.steps(tl.all, np.full(p, start), durations)
            return budget
        counts = (ends <= trigger).sum(axis=1)
        n = counts + ~(ends == trigger).any(axis=1)         # the others finish the step they are in
        tl.steps(tl.all, np.full(p, start), durations, n)
        if not due:                                          # the end: steps after it are cut off
            return trigger
        start = tl.barrier(ends[np.arange(p), n - 1], due, pattern.round_cost(due))
        reached = target      # the steps that finish after it count toward the next target
        if target >= last or start > budget:
            return start


def _trigger(tl: _Timeline, start: float, need: int, budget: float = np.inf):
    """Durations and completion times (p, K) of every worker's next steps from ``start``, enough to hold
    the ``need``-th completion over all workers and every worker's first step after it; its time (None
    when every worker's drawn steps already end after ``budget``, before that completion)."""
    k = max(2, 2 * -(-need // tl.p) + 2)
    recorded = tl.compute.steps_known()
    while True:
        if recorded is not None:        # a recorded trace: ask for no more than it holds (the run may not need it)
            k = max(1, min(k, recorded - int(tl.done.max())))
        durations = tl.draw(tl.all, k)
        ends = start + np.cumsum(durations, axis=1)
        horizon = ends[:, -1].min()
        known = ends[ends <= horizon]
        if known.size >= need:
            trigger = np.partition(known, need - 1)[need - 1]
            # every worker is at a step boundary then, or its next completion after it is drawn
            if np.all((ends[:, -1] > trigger) | (ends == trigger).any(axis=1)):
                return durations, ends, float(trigger)
        if ends[:, -1].min() > budget:
            return durations, ends, None
        if recorded is not None and k >= recorded - int(tl.done.max()):
            raise ValueError(f"compute trace has {recorded} steps per worker; the run needs more")
        k *= 2


def _lay_out_asynchronous(tl: _Timeline, pattern: Pattern, steps: int, budget: float) -> tuple[float, list]:
    """One server, one exchange at a time; an event per exchange, plain Python lists between them (the
    per-exchange NumPy calls of the other patterns would dominate at many workers)."""
    p, tau, last = tl.p, pattern.period, steps * tl.p
    lay = _AsyncLog(tl, tau)
    heap = [s for s in (lay.segment(i, 0.0) for i in range(p)) if s is not None]
    heapq.heapify(heap)
    staleness, served, previous, server_free = [], 0, [-1] * p, 0.0
    while True:
        request, i = heapq.heappop(heap) if heap else (np.inf, -1)
        end = lay.count_until(min(request, budget), last)
        if end is not None or request > budget or i < 0:
            tl.completions.append(lay.completions())
            tl.spans.extend(lay.spans())
            end = budget if end is None else end
            short = [w for w, t in lay.exhausted.items() if t < end]
            if short or math.isinf(end):          # a worker would have gone on computing past its recorded steps
                raise ValueError(f"compute trace has {tl.compute.steps_known()} steps per worker; worker "
                                 f"{short[0] if short else 0} needs more (a trace holds every step a worker "
                                 "completes or is computing before the run ends)")
            return end, staleness
        begin = max(request, server_free)
        end = server_free = begin + pattern.exchange_cost(i)
        lay.exchange(i, request, begin, end)
        staleness.append(served - previous[i] - 1 if previous[i] >= 0 else served)
        previous[i], served = served, served + 1
        tl.done[i] += 1
        tl.effects.append(Exchange(end, i, int(tl.done[i]), staleness[-1], begin))
        following = lay.segment(i, end)
        if following is not None:
            heapq.heappush(heap, following)


class _AsyncLog:
    """The asynchronous pattern's steps and intervals, kept as Python lists, with durations drawn ahead in
    chunks per worker and a heap of completions not yet counted (every new one is later than the current
    request, so those at or before it are final)."""

    CHUNK = 64

    def __init__(self, tl: _Timeline, tau: int):
        self.tl, self.tau = tl, tau
        self.ahead = [np.zeros(0)] * tl.p                  # durations drawn, not yet laid out, per worker
        self.drawn = np.zeros(tl.p, dtype=np.int64)
        self.times: list[float] = []
        self.ranks: list[int] = []
        self.span_lists: tuple[list, list, list, list] = ([], [], [], [])
        self.uncounted: list[float] = []
        self.counted = 0
        self.exhausted: dict[int, float] = {}              # worker → when its recorded trace ran out

    def durations(self, worker: int) -> np.ndarray:
        if len(self.ahead[worker]) < self.tau:
            count = self.CHUNK * self.tau
            known = self.tl.compute.steps_known()       # a recorded trace: never ask past its end early
            if known is not None:
                count = max(self.tau - len(self.ahead[worker]), min(count, known - int(self.drawn[worker])))
            more = self.tl.compute.durations(self.tl.seed, np.array([worker]), self.drawn[[worker]], count)[0]
            self.drawn[worker] += len(more)
            self.ahead[worker] = np.concatenate([self.ahead[worker], more])
        out, self.ahead[worker] = self.ahead[worker][:self.tau], self.ahead[worker][self.tau:]
        return out

    def segment(self, worker: int, start: float) -> tuple[float, int] | None:
        """Lay out ``worker``'s next τ − 1 steps from ``start`` and the compute of its τ-th, an exchange
        step whose request goes to the server when that compute ends: (request time, worker). A recorded
        trace that ends before that exchange: its last steps, and None (the worker has no more)."""
        known = self.tl.compute.steps_known()
        left = None if known is None else known - int(self.tl.done[worker])
        if left is not None and left < self.tau:
            ends = (start + np.cumsum(self.tl.draw(np.array([worker]), left)[0])).tolist() if left > 0 else []
            for t in ends:
                self._complete(t, worker)
            if ends:
                self._span(worker, COMPUTE, start, ends[-1])
            self.tl.done[worker] += left
            self.exhausted[worker] = ends[-1] if ends else start
            return None
        ends = (start + np.cumsum(self.durations(worker))).tolist()
        for t in ends[:-1]:
            self._complete(t, worker)
        self._span(worker, COMPUTE, start, ends[-1])
        self.tl.done[worker] += self.tau - 1
        return ends[-1], worker

    def exchange(self, worker: int, request: float, begin: float, end: float) -> None:
        self._span(worker, WAIT, request, begin)
        self._span(worker, COMMUNICATE, begin, end)
        self._complete(end, worker)

    def count_until(self, horizon: float, last: int) -> float | None:
        """Count the completions at or before ``horizon``; the time the total reaches ``last``, if it does."""
        while self.uncounted and self.uncounted[0] <= horizon:
            t = heapq.heappop(self.uncounted)
            self.counted += 1
            if self.counted == last:
                return t
        return None

    def _complete(self, t: float, worker: int) -> None:
        self.times.append(t)
        self.ranks.append(worker)
        heapq.heappush(self.uncounted, t)

    def _span(self, worker, kind, start, end) -> None:
        if end > start:
            for column, value in zip(self.span_lists, (worker, kind, start, end), strict=True):
                column.append(value)

    def completions(self):
        return np.asarray(self.times, dtype=float), np.asarray(self.ranks, dtype=np.int64)

    def spans(self):
        worker, kind, start, end = (np.asarray(c) for c in self.span_lists)
        return [(worker[kind == k], k, start[kind == k], end[kind == k]) for k in (COMPUTE, COMMUNICATE, WAIT)]


# -- the whole run ----------------------------------------------------------------------------------------------
def lay_out(pattern: Pattern, *, workers: int, steps: int, compute, seed: int, record_every: int,
            time_budget: float | None = None) -> Schedule:
    """The schedule of a run of ``steps`` steps per worker (p·T in total) on ``workers`` workers."""
    if pattern.kind not in PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}; got {pattern.kind!r}")
    budget = np.inf if time_budget is None else float(time_budget)
    tl = _Timeline(workers, compute, seed)
    staleness: list = []
    if pattern.kind == "own":
        end = _lay_out_own(tl, pattern, steps, budget)
    elif pattern.kind == "total":
        end = _lay_out_total(tl, pattern, steps, budget)
    else:
        end, staleness = _lay_out_asynchronous(tl, pattern, steps, budget)
    end = min(end, budget)
    times, ranks = _completed(tl, end)
    counts = np.bincount(ranks, minlength=workers).astype(np.int64)
    effects = [e for e in tl.effects if e.time <= end]
    served = sum(isinstance(e, Exchange) for e in effects)
    records = _records(times, ranks, workers, record_every, end, counts,
                       [e for e in effects if isinstance(e, Round)])
    intervals = _intervals(tl, end)
    breakdown = breakdown_of(intervals, workers)
    return Schedule(effects=_merge(effects, records), end=float(end), counts=counts, breakdown=breakdown,
                    intervals=intervals, staleness=np.asarray(staleness[:served], dtype=np.int64))


def _completed(tl: _Timeline, end: float):
    """Every step completed by ``end``: times and workers, sorted by time, then rank."""
    times = np.concatenate([c for c, _ in tl.completions]) if tl.completions else np.zeros(0)
    ranks = np.concatenate([w for _, w in tl.completions]).astype(np.int64) if tl.completions else np.zeros(0, int)
    keep = times <= end
    times, ranks = times[keep], ranks[keep]
    order = np.lexsort((ranks, times))
    return times[order], ranks[order]


def _records(times, ranks, workers: int, every: int, end: float, final_counts, rounds) -> list[Record]:
    """Records at time 0, when the total first reaches p·every·m (m = 1, 2, ...) or, if a round is open
    then, when it ends; and at the end."""
    opened = np.array([r.opened for r in rounds])
    closed = np.array([r.time for r in rounds])
    out = [Record(0.0, np.zeros(workers, dtype=np.int64), 0)]
    counts, upto = np.zeros(workers, dtype=np.int64), 0
    target = workers * every
    while target <= len(times):
        at = times[target - 1]
        k = int(np.searchsorted(opened, at, side="right")) - 1
        if k >= 0 and at < closed[k]:
            at = closed[k]                               # a round is open: the record waits for its end
        stop = int(np.searchsorted(times, at, side="right"))
        counts = counts + np.bincount(ranks[upto:stop], minlength=workers)
        upto = stop
        if at > out[-1].time or len(out) == 1:
            out.append(Record(float(at), counts.copy(), target // workers))
        else:                                            # two targets in one moment: one record, the later
            out[-1] = Record(float(at), counts.copy(), target // workers)
        target = (stop // (workers * every) + 1) * workers * every
    if len(out) > 1 and np.array_equal(out[-1].counts, final_counts):
        out.pop()                       # the end record replaces it: rounds may still end before the end
    out.append(Record(float(end), final_counts.copy(), int(final_counts.sum()) // workers))
    return out


def _merge(effects: list, records: list) -> list:
    """Effects and records in time order; at equal times the effects (in their order) before the records."""
    keyed = [(e.time, 0, i, e) for i, e in enumerate(effects)] + [(r.time, 1, i, r) for i, r in enumerate(records)]
    return [item[3] for item in sorted(keyed, key=lambda k: k[:3])]


def _intervals(tl: _Timeline, end: float) -> dict:
    """The trace laid out, cut at ``end`` (:func:`cut_intervals`)."""
    if tl.spans:
        worker = np.concatenate([w for w, _, _, _ in tl.spans]).astype(np.int64)
        kind = np.concatenate([np.full(len(w), k, dtype=np.int8) for w, k, _, _ in tl.spans])
        start = np.concatenate([s for _, _, s, _ in tl.spans]).astype(float)
        stop = np.concatenate([e for _, _, _, e in tl.spans]).astype(float)
    else:
        worker, kind, start, stop = (np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0), np.zeros(0))
    return cut_intervals({"worker": worker, "kind": kind, "start": start, "end": stop}, end, tl.p)


def cut_intervals(intervals: dict, end: float, workers: int) -> dict:
    """The trace up to ``end``: intervals cut there, and each worker's idle time until ``end`` as waiting
    (so every worker's intervals tile [0, end]); sorted by worker, then start."""
    worker, kind, start, stop = (intervals[k] for k in ("worker", "kind", "start", "end"))
    keep = start < end
    worker, kind, start, stop = worker[keep], kind[keep], start[keep], np.minimum(stop[keep], end)
    busy_until = np.zeros(workers)
    np.maximum.at(busy_until, worker, stop)
    idle = np.flatnonzero(busy_until < end)
    worker = np.concatenate([worker, idle])
    kind = np.concatenate([kind, np.full(idle.size, WAIT, dtype=np.int8)])
    start = np.concatenate([start, busy_until[idle]])
    stop = np.concatenate([stop, np.full(idle.size, end)])
    order = np.lexsort((start, worker))
    return {"worker": worker[order], "kind": kind[order], "start": start[order], "end": stop[order]}


def breakdown_of(intervals: dict, workers: int) -> dict:
    """Seconds per worker in each kind of interval: {"compute", "communicate", "wait"} → (p,)."""
    length = intervals["end"] - intervals["start"]
    return {name: np.bincount(intervals["worker"][intervals["kind"] == k], weights=length[intervals["kind"] == k],
                              minlength=workers) for k, name in enumerate(KINDS)}


def staleness_summary(staleness) -> dict:
    """The distribution of the exchanges' staleness, as ``meta["staleness"]`` holds it."""
    staleness = np.asarray(staleness, dtype=np.int64)
    values, counts = np.unique(staleness, return_counts=True)
    return {"exchanges": int(staleness.size), "stale": int(np.count_nonzero(staleness)),
            "mean": float(staleness.mean()), "max": int(staleness.max()),
            "histogram": {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}}
