"""The time of a clock run without its arithmetic (lsgdsim.clock.schedule): who steps, waits and talks when."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim.clock import Constant, Lognormal, Network, Pareto
from lsgdsim.clock.schedule import Exchange, Pattern, Record, Round, lay_out

EVERY_OTHER = {t: ("local",) for t in range(2, 201, 2)}
PATTERNS = {
    "own": Pattern("own", rounds=EVERY_OTHER, round_cost=lambda due: 0.3),
    "total": Pattern("total", periods={"local": 2}, round_cost=lambda due: 0.3),
    "asynchronous": Pattern("asynchronous", period=2, exchange_cost=lambda w: 0.05),
}
MODELS = {"constant": Constant(1.0), "slow-worker": Constant([1.0, 1.0, 1.0, 2.0]),
          "lognormal": Lognormal(1.0, 0.5), "pareto": Pareto(0.5, 1.5)}


def schedule(kind, model, steps=60, budget=None, every=3, workers=4):
    return lay_out(PATTERNS[kind], workers=workers, steps=steps, compute=MODELS[model], seed=7, record_every=every,
                   time_budget=budget)


@pytest.mark.parametrize("kind", PATTERNS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("budget", [None, 17.3])
def test_every_worker_time_adds_up_to_the_makespan(kind, model, budget):
    s = schedule(kind, model, budget=budget)
    total = s.breakdown["compute"] + s.breakdown["communicate"] + s.breakdown["wait"]
    np.testing.assert_allclose(total, s.end, rtol=1e-12)
    assert np.all(s.breakdown["compute"] > 0)
    if budget is not None:
        assert s.end == budget
    # the intervals tile [0, end] for every worker: no gap, no overlap
    for w in range(4):
        mine = s.intervals["worker"] == w
        starts, ends = s.intervals["start"][mine], s.intervals["end"][mine]
        assert starts[0] == 0 and np.allclose(starts[1:], ends[:-1]) and ends[-1] == pytest.approx(s.end)


@pytest.mark.parametrize("kind", PATTERNS)
def test_records_are_snapshots_in_time_with_growing_counts(kind):
    s = schedule(kind, "lognormal")
    records = [e for e in s.effects if isinstance(e, Record)]
    times = [r.time for r in records]
    assert times == sorted(times) and records[0].time == 0 and records[-1].time == s.end
    counts = np.stack([r.counts for r in records])
    assert np.all(np.diff(counts, axis=0) >= 0)
    assert np.array_equal(counts[-1], s.counts)
    # each intermediate record is taken when the total first reaches p·every·m
    for r in records[1:-1]:
        assert r.counts.sum() >= 4 * r.step and r.step % 3 == 0
    effect_times = [e.time for e in s.effects]
    assert effect_times == sorted(effect_times)


def test_per_worker_trigger_every_worker_does_every_step_and_the_fast_ones_wait():
    s = schedule("own", "slow-worker")
    assert np.array_equal(s.counts, [60, 60, 60, 60])
    rounds = [e for e in s.effects if isinstance(e, Round)]
    assert len(rounds) == 30 and all(np.all(r.counts == r.counts[0]) for r in rounds)
    assert s.end == pytest.approx(30 * (2 * 2.0 + 0.3))                 # the slow worker sets the pace
    np.testing.assert_allclose(s.breakdown["wait"], [60.0, 60.0, 60.0, 0.0])  # each round the others wait 2 s
    np.testing.assert_allclose(s.breakdown["communicate"], 30 * 0.3)


@pytest.mark.parametrize("tau, lo", [(8, 1.7), (64, 1.95)])
def test_total_trigger_a_twice_slower_worker_does_half_the_steps(tau, lo):
    pattern = Pattern("total", periods={"local": tau}, round_cost=lambda due: 0.3)
    s = lay_out(pattern, workers=4, steps=1024, compute=Constant([1.0, 1.0, 1.0, 2.0]), seed=0, record_every=4)
    fast, slow = s.counts[:3].mean(), s.counts[3]
    # ~2× fewer: a little less, because at each round the fast workers wait for the slow one's step in flight
    assert lo < fast / slow <= 2.0
    assert 4 * 1024 <= s.counts.sum() < 4 * 1024 + 4
    rounds = [e for e in s.effects if isinstance(e, Round)]
    # a round every time the total reaches a multiple of p·τ (the steps in flight finish first)
    assert len(rounds) == 1024 // tau
    assert np.all(np.diff([r.counts.sum() for r in rounds]) >= 4 * tau - 3)
    assert np.all(s.breakdown["wait"] <= 2.0 * len(rounds))   # nobody waits longer than one slow step per round


def test_total_trigger_with_equal_speeds_is_lockstep_in_time():
    s = schedule("total", "constant")
    rounds = [e for e in s.effects if isinstance(e, Round)]
    assert [int(r.counts[0]) for r in rounds] == list(range(2, 61, 2))
    assert all(np.all(r.counts == r.counts[0]) for r in rounds)
    assert s.end == pytest.approx(60 + 30 * 0.3)


def test_asynchronous_server_serves_one_request_at_a_time_in_arrival_order():
    s = schedule("asynchronous", "lognormal", steps=100)
    exchanges = [e for e in s.effects if isinstance(e, Exchange)]
    starts = np.array([e.start for e in exchanges])
    ends = np.array([e.time for e in exchanges])
    assert np.all(starts[1:] >= ends[:-1] - 1e-12)                          # never two at once
    np.testing.assert_allclose(ends - starts, 0.05)
    assert all(e.step % 2 == 0 for e in exchanges)
    assert s.staleness.size == len(exchanges) and s.staleness.max() > 0


def test_asynchronous_equal_speeds_serve_in_rank_order_and_each_exchange_is_stale_by_the_others():
    pattern = Pattern("asynchronous", period=3, exchange_cost=lambda w: 0.0)
    s = lay_out(pattern, workers=4, steps=30, compute=Constant(1.0), seed=0, record_every=3)
    exchanges = [e for e in s.effects if isinstance(e, Exchange)]
    assert [e.worker for e in exchanges] == [0, 1, 2, 3] * 10
    assert list(s.staleness[:4]) == [0, 1, 2, 3] and set(s.staleness[4:]) == {3}
    assert np.array_equal(s.counts, [30] * 4) and s.end == 30.0


def test_a_round_costs_what_the_network_prices():
    net = Network(latency=1e-3, bandwidth=1e6, algorithms="textbook")
    pattern = Pattern("own", rounds={5: ("local",)}, round_cost=lambda due: net.broadcast(4, 8000))
    s = lay_out(pattern, workers=4, steps=5, compute=Constant(1.0), seed=0, record_every=5)
    (rnd,) = [e for e in s.effects if isinstance(e, Round)]
    assert rnd.time - rnd.start == pytest.approx(2 * (1e-3 + 8000 / 1e6))   # ⌈log₂ 4⌉(α + n/β)


def test_the_schedule_is_a_pure_function_of_its_inputs():
    a, b = schedule("total", "pareto"), schedule("total", "pareto")
    assert a.end == b.end and np.array_equal(a.counts, b.counts)
    assert all(np.array_equal(a.intervals[k], b.intervals[k]) for k in a.intervals)


def test_a_bad_pattern_is_refused():
    with pytest.raises(ValueError, match="pattern must be one of"):
        lay_out(Pattern("sometimes"), workers=2, steps=3, compute=Constant(1.0), seed=0, record_every=1)
