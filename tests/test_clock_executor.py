"""The clock executor: the rules' arithmetic replayed in simulated time (lsgdsim.execution.clocked)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lsgdsim import Result, algorithms, leaders, objectives, simulate
from lsgdsim.clock import Clock, Constant, Lognormal, Network, Pareto, TwoLevel
from lsgdsim.collectives import Vectorized

QUAD = objectives.Quadratic.random(dim=6, cond=10.0, seed=1)
RAS = objectives.Rastrigin(dim=5)
LOCKSTEP_FIELDS = [f.name for f in dataclasses.fields(Result)
                   if f.name not in ("meta", "times", "sim_time", "worker_steps", "leader_times", "breakdown", "trace")]

SYNCHRONOUS = {
    "sgd": algorithms.SGD(lr=0.05),
    "lsgd": algorithms.LSGD(lr=0.05, pull=0.2, period=3),
    "lsgd-after": algorithms.LSGD(lr=0.05, pull=0.2, period=2, order="after"),
    "lsgd-multi-window": algorithms.LSGD(lr=0.05, pull=0.2, period=2, groups=2, global_pull=0.1, global_period=4,
                                         leader=leaders.Window(3, 0.05)),
    "lsgd-noisy-schedule": algorithms.LSGD(lr=0.05, pull=0.2, period=2, leader=leaders.Noisy(0.1),
                                           momentum=0.5, nesterov=True),
    "easgd": algorithms.EASGD(lr=0.05, alpha=0.1, period=3),
    "eamsgd": algorithms.EAMSGD(lr=0.05, alpha=0.1, period=2),
    "localsgd": algorithms.LocalSGD(lr=0.05, period=3),
    "downpour": algorithms.Downpour(lr=0.02, period=3),
    "allreduce": algorithms.AllReduceSGD(lr=0.05),
}


def same_numbers(a: Result, b: Result) -> list[str]:
    """The lockstep fields in which a and b differ (bit for bit)."""
    out = []
    for name in LOCKSTEP_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, dict):
            if x.keys() != y.keys() or any(not np.array_equal(x[k], y[k]) for k in x):
                out.append(name)
        elif (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
            out.append(name)
    return out


@pytest.mark.parametrize("name", SYNCHRONOUS)
def test_equal_constant_speeds_and_a_free_network_give_lockstep_bit_for_bit(name):
    kw = dict(workers=4, steps=37, grad_noise=0.1, seed=3, record_every=4)
    lock = simulate(QUAD, SYNCHRONOUS[name], **kw)
    clock = simulate(QUAD, SYNCHRONOUS[name], **kw, clock=Clock(compute=Constant(0.5)))
    assert same_numbers(lock, clock) == []
    assert np.array_equal(clock.worker_steps, np.repeat(lock.steps[:, None], 4, axis=1))
    np.testing.assert_allclose(clock.sim_time, 0.5 * lock.steps)
    assert clock.meta["floats_communicated"] == lock.meta["floats_communicated"]
    assert clock.meta["communications"] == lock.meta["communications"]


def test_minibatches_and_their_draws_replay_per_worker_exactly():
    logistic = objectives.LogisticRegression(n_samples=60, dim=4, seed=2)
    alg = algorithms.LSGD(lr=0.1, pull=0.2, period=2, leader=leaders.Window(4))
    kw = dict(workers=4, steps=25, grad_noise=0.05, batch_size=5, seed=1, record_every=3)
    assert same_numbers(simulate(logistic, alg, **kw), simulate(logistic, alg, **kw, clock=Clock())) == []


def test_algorithm_1_with_equal_speeds_is_lockstep_lsgd_pulling_after_the_step():
    kw = dict(workers=4, steps=40, grad_noise=0.1, seed=2, record_every=5)
    after = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=4, order="after"), **kw)
    total = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=4, trigger="total"), **kw, clock=Clock())
    assert same_numbers(after, total) == []
    multi = dict(groups=2, global_pull=0.1, global_period=8, leader=leaders.Window(3))
    after = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=4, order="after", **multi), **kw)
    total = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=4, trigger="total", **multi), **kw,
                     clock=Clock(compute=Constant(0.01), network=Network()))
    assert same_numbers(after, total) == []
    # and the order matters: pulling before the step is another algorithm
    before = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=4), **kw)
    assert "x" in same_numbers(before, after)


@pytest.mark.parametrize("name", ["lsgd", "lsgd-multi-window", "easgd", "localsgd", "downpour", "allreduce"])
def test_synchronous_rules_compute_the_same_numbers_at_any_speeds_the_clock_only_adds_time(name):
    kw = dict(workers=4, steps=30, grad_noise=0.1, seed=5, record_every=3)
    lock = simulate(QUAD, SYNCHRONOUS[name], **kw)
    slow = Clock(compute=Pareto([0.5, 0.5, 1.0, 2.0], 1.2), network=Network(latency=0.05, bandwidth=1e4))
    clock = simulate(QUAD, SYNCHRONOUS[name], **kw, clock=slow)
    assert np.array_equal(clock.x, lock.x) and np.array_equal(clock.leaders, lock.leaders)
    if lock.center is not None:
        assert np.array_equal(clock.center, lock.center)
    assert clock.sim_time[-1] > 30 * 0.5


def test_a_workers_noise_at_its_kth_step_does_not_depend_on_the_others_speeds():
    # No communication (pull 0): each worker is plain SGD on an elementwise objective, so its row after k
    # steps is a function of its own draws 1..k only: the same whatever the others do meanwhile.
    alg = algorithms.LSGD(lr=0.01, pull=0.0, period=4, trigger="total")
    kw = dict(workers=8, steps=40, grad_noise=0.3, seed=11, record_every=1)
    even = simulate(RAS, alg, **kw, clock=Clock())
    uneven = simulate(RAS, alg, **kw, clock=Clock(compute=Lognormal([1, 1, 1, 1, 1, 2, 3, 0.5], 0.4)))
    assert len(set(uneven.breakdown["local_steps"].tolist())) > 3          # the workers did differ
    for w in range(8):
        k = int(uneven.breakdown["local_steps"][w])
        lock = simulate(RAS, algorithms.SGD(lr=0.01), **{**kw, "steps": k})
        assert np.array_equal(uneven.x[w], lock.x[w]), w
        assert np.array_equal(even.x[w], simulate(RAS, algorithms.SGD(lr=0.01), **kw).x[w])


def test_per_worker_trigger_a_slow_worker_makes_the_others_wait():
    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=4)
    res = simulate(QUAD, alg, workers=4, steps=40, seed=0, clock=Clock(compute=Constant([1.0, 1.0, 1.0, 2.0])))
    assert np.array_equal(res.breakdown["local_steps"], [40] * 4)
    np.testing.assert_allclose(res.breakdown["wait"], [40.0, 40.0, 40.0, 0.0])
    assert res.sim_time[-1] == pytest.approx(80.0)


def test_total_trigger_a_twice_slower_worker_does_about_half_the_steps():
    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=16, trigger="total")
    res = simulate(QUAD, alg, workers=4, steps=400, seed=0, clock=Clock(compute=Constant([1.0, 1.0, 1.0, 2.0])))
    steps = res.breakdown["local_steps"]
    assert 1.85 < steps[:3].mean() / steps[3] <= 2.0
    assert res.breakdown["wait"].max() < 0.15 * res.sim_time[-1]


@pytest.mark.parametrize("alg", [algorithms.EASGD(lr=0.05, alpha=0.1, period=3, asynchronous=True),
                                 algorithms.Downpour(lr=0.01, period=3, asynchronous=True)], ids=["easgd", "downpour"])
def test_asynchronous_rules_converge_with_stale_reads(alg):
    res = simulate(QUAD, alg, workers=4, steps=400, seed=0, grad_noise=0.05,
                   clock=Clock(compute=Lognormal(1.0, 0.5), network=Network(latency=0.01, bandwidth=1e6)))
    gap0, gap = res.f[0].mean() - QUAD.fmin, res.f[-1].mean() - QUAD.fmin
    assert gap < 0.01 * gap0
    stale = res.meta["staleness"]
    assert stale["stale"] > 0 and stale["exchanges"] > 4 * 100
    assert len(set(res.breakdown["local_steps"].tolist())) > 1


def test_an_asynchronous_rule_needs_a_clock():
    with pytest.raises(ValueError, match="asynchronous=True needs a clock"):
        simulate(QUAD, algorithms.EASGD(lr=0.05, period=2, asynchronous=True), workers=4, steps=5)
    with pytest.raises(ValueError, match="time_budget needs a clock"):
        simulate(QUAD, algorithms.SGD(lr=0.05), workers=4, steps=5, time_budget=3.0)
    with pytest.raises(ValueError, match="backend 'numpy'"):
        simulate(QUAD, algorithms.SGD(lr=0.05), workers=4, steps=5, clock=Clock(), backend="array_api_strict")
    with pytest.raises(ValueError, match="one per worker"):
        simulate(QUAD, algorithms.SGD(lr=0.05), workers=4, steps=5, clock=Clock(compute=Constant([1.0, 2.0])))
    with pytest.raises(ValueError, match="nodes"):
        simulate(QUAD, algorithms.SGD(lr=0.05), workers=4, steps=5,
                 clock=Clock(network=TwoLevel(3, 2, Network(), Network())))
    with pytest.raises(ValueError, match="time_budget"):
        simulate(QUAD, algorithms.SGD(lr=0.05), workers=4, steps=5, clock=Clock(), time_budget=-1.0)


def test_a_time_budget_stops_the_run_at_that_simulated_time():
    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=2, trigger="total")
    res = simulate(QUAD, alg, workers=4, steps=1000, seed=0, clock=Clock(compute=Lognormal(0.1, 0.3)), time_budget=5.0)
    assert res.sim_time[-1] == 5.0 and res.breakdown["local_steps"].sum() < 4 * 1000
    total = res.breakdown["compute"] + res.breakdown["communicate"] + res.breakdown["wait"]
    np.testing.assert_allclose(total, 5.0)
    assert np.all(np.diff(res.sim_time) >= 0) and np.all(np.diff(res.worker_steps, axis=0) >= 0)


@pytest.mark.parametrize("name", ["lsgd", "easgd", "localsgd", "allreduce"])
def test_the_breakdown_adds_up_and_communication_costs_what_the_network_says(name):
    net = Network(latency=1e-3, bandwidth=1e6)
    res = simulate(QUAD, SYNCHRONOUS[name], workers=4, steps=12, seed=0, clock=Clock(compute=Constant(1.0),
                                                                                      network=net))
    b = res.breakdown
    np.testing.assert_allclose(b["compute"] + b["communicate"] + b["wait"], res.sim_time[-1])
    nbytes = 6 * 8
    per_round = {"lsgd": net.minloc(4) + net.broadcast(4, nbytes),
                 "easgd": 2 * net.gather(5, nbytes), "localsgd": net.allreduce(4, nbytes),
                 "allreduce": net.allreduce(4, nbytes)}[name]
    rounds = {"lsgd": 4, "easgd": 4, "localsgd": 4, "allreduce": 12}[name]
    np.testing.assert_allclose(b["communicate"], rounds * per_round)
    np.testing.assert_allclose(b["compute"], 12.0)


def test_model_bytes_price_a_row_as_a_large_network():
    alg = algorithms.LocalSGD(lr=0.05, period=3)
    net = Network(latency=1e-4, bandwidth=1.25e9)
    res = simulate(QUAD, alg, workers=4, steps=9, clock=Clock(network=net, model_bytes=4 * 10**6))
    np.testing.assert_allclose(res.breakdown["communicate"], 3 * net.allreduce(4, 4 * 10**6))


def test_round_ops_are_what_communicate_sends_on_the_collective():
    # The clock prices what a rule declares (round_ops); the collective records what it really calls.
    for name, alg in SYNCHRONOUS.items():
        comm = Vectorized(record=True)
        simulate(QUAD, alg, workers=4, steps=8, collective=comm)
        state = None
        by_step: dict[int, list] = {}
        for t, op in comm.op_log:
            by_step.setdefault(t, []).append(op)
        for t, ops in by_step.items():
            if t == 0:
                continue
            from lsgdsim.algorithms.base import RunContext
            ctx = RunContext(xp=np, dtype=np.float64, workers=4, dim=6, comm=Vectorized())
            _, state = alg.init(np.zeros((4, 6)), ctx)
            assert ops == alg.round_ops(alg.due(t, state), 4, 6 * 8), (name, t)


def test_an_interrupted_clock_run_returns_its_last_complete_record():
    calls = []

    def monitor(t, X, state, values):
        calls.append(t)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return {}

    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=2, trigger="total")
    res = simulate(QUAD, alg, workers=4, steps=100, seed=0, record_every=5, monitor=monitor, on_interrupt="return",
                   clock=Clock(compute=Lognormal(1.0, 0.3)))
    assert res.meta["interrupted"] and len(res.steps) == 5
    np.testing.assert_allclose(res.f[-1], QUAD.value(res.x))
    assert res.breakdown["local_steps"].sum() == res.worker_steps[-1].sum() == res.meta["gradient_evaluations"]
    np.testing.assert_allclose(res.breakdown["compute"] + res.breakdown["communicate"] + res.breakdown["wait"],
                               res.sim_time[-1])
    assert np.all(res.leader_times <= res.sim_time[-1])


def test_a_diverging_clock_run_names_the_worker_and_its_step():
    from lsgdsim import DivergenceError
    alg = algorithms.LSGD(lr=5.0, pull=0.1, period=2, trigger="total")
    with pytest.raises(DivergenceError, match="worker"):
        simulate(QUAD, alg, workers=4, steps=400, seed=0, clock=Clock(compute=Lognormal(1.0, 0.3)))
    res = simulate(QUAD, alg, workers=4, steps=400, seed=0, clock=Clock(compute=Lognormal(1.0, 0.3)),
                   on_divergence="return")
    assert res.meta["diverged"]["step"] >= 0 and np.all(np.isfinite(res.f[-1]))


def test_a_clock_result_saves_loads_and_writes_a_chrome_trace(tmp_path):
    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=4, trigger="total")
    clock = Clock(compute=Lognormal(0.05, 0.4), network=TwoLevel(4, 4, Network(5e-6, 1.2e10), Network(5e-5, 1.25e9)),
                  model_bytes=4 * 10**6)
    res = simulate(QUAD, alg, workers=16, steps=60, seed=0, grad_noise=0.1, clock=clock)
    back = Result.load(res.save(tmp_path / "run.npz"))
    assert back == res and back.breakdown.keys() == res.breakdown.keys()
    trace = json.loads(back.save_trace(tmp_path / "run.trace.json").read_text())
    events = trace["traceEvents"]
    named = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    assert named == {i: f"worker {i}" for i in range(16)}
    slices = [e for e in events if e["ph"] == "X"]
    assert {e["tid"] for e in slices} == set(range(16)) and {e["name"] for e in slices} == {"compute", "communicate",
                                                                                             "wait"}
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in slices)
    for w in range(16):   # each track tiles the run: its slices add up to the makespan
        assert sum(e["dur"] for e in slices if e["tid"] == w) == pytest.approx(res.sim_time[-1] * 1e6)
    with pytest.raises(ValueError, match="only runs on the virtual clock"):
        simulate(QUAD, alg, workers=4, steps=3).save_trace(tmp_path / "none.json")


def test_same_seed_same_clock_run_whatever_the_threads():
    alg = algorithms.LSGD(lr=0.01, pull=0.2, period=3, trigger="total")
    clock = Clock(compute=Pareto(1.0, 1.5))
    runs = [simulate(RAS, alg, workers=64, steps=30, grad_noise=0.1, seed=4, clock=clock, threads=n) for n in (1, 2)]
    assert runs[0] == runs[1]


def test_a_recorded_trace_just_long_enough_for_the_run_is_enough():
    from lsgdsim.clock import Trace
    times = np.full((4, 10), 0.5)
    easgd = algorithms.EASGD(lr=0.05, alpha=0.1, period=5, asynchronous=True)
    res = simulate(QUAD, easgd, workers=4, steps=10, clock=Clock(compute=Trace(times)))
    assert np.array_equal(res.breakdown["local_steps"], [10] * 4) and res.sim_time[-1] == 5.0
    kw = dict(workers=4, steps=10, grad_noise=0.1, seed=1)
    total = simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=2, trigger="total"), **kw,
                     clock=Clock(compute=Trace(times)))
    assert same_numbers(total, simulate(QUAD, algorithms.LSGD(lr=0.05, pull=0.2, period=2, order="after"), **kw)) == []
    with pytest.raises(ValueError, match="compute trace has 10 steps per worker"):
        simulate(QUAD, easgd, workers=4, steps=11, clock=Clock(compute=Trace(times)))


def test_a_network_objective_with_shards_runs_on_the_clock_per_worker():
    from lsgdsim.nn.train import build_objective, load_data
    obj = build_objective("mlp", load_data("digits"), workers=4, shards="disjoint", seed=0)
    alg = algorithms.LSGD(lr=0.05, pull=0.2, period=2, leader=leaders.Window(4))
    kw = dict(workers=4, steps=12, batch_size=8, seed=0, record_every=4)
    lock = simulate(obj, alg, **kw)
    assert same_numbers(lock, simulate(obj, alg, **kw, clock=Clock())) == []
    # at uneven speeds each worker still draws its own batches from its own shard, at its own count
    total = algorithms.LSGD(lr=0.05, pull=0.2, period=2, trigger="total", leader=leaders.Window(4))
    res = simulate(obj, total, **kw, clock=Clock(compute=Constant([1.0, 1.0, 2.0, 3.0])))
    assert res.breakdown["local_steps"][0] > res.breakdown["local_steps"][3]
    assert np.all(np.isfinite(res.f))
