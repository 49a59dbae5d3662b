"""The communication seam: the per-worker collective (one row per rank, Python loops) runs the same rule
objects as the vectorized one and gives bit-identical Results; every call records its messages."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim import objectives, simulate
from lsgdsim.collectives import GroupBroadcasts, Message, PerWorker, Vectorized

P, D, STEPS = 6, 3, 12
LEADERS = {"exact": L.Exact(), "noisy": L.Noisy(0.5), "window": L.Window(3, 0.2), "worst": L.Worst(L.Exact()),
           "worst-window": L.Worst(L.Window(2)), "random": L.Random()}
LSGD_CONFIGS = {"single": {}, "momentum": {"momentum": 0.5, "nesterov": True},
                "groups": {"groups": 2, "global_pull": 0.2, "global_period": 3},
                "groups-3-local-only": {"groups": 3}}
RULES = {
    "sgd": A.SGD(lr=0.05), "allreduce": A.AllReduceSGD(lr=0.05, momentum=0.5),
    "easgd": A.EASGD(lr=0.05, alpha=0.1, period=2), "easgd-beta": A.EASGD(lr=0.05, alpha=0.1, beta=0.5, period=2),
    "eamsgd": A.EAMSGD(lr=0.05, alpha=0.1, period=3), "localsgd": A.LocalSGD(lr=0.05, period=2, momentum=0.3),
    "downpour": A.Downpour(lr=0.05, period=3),
}
RULES.update({f"lsgd-{c}-{name}": A.LSGD(lr=0.05, pull=0.3, period=2, leader=rule, **kw)
              for c, kw in LSGD_CONFIGS.items() for name, rule in LEADERS.items()})


def _run(alg, collective, dtype="float64", steps=STEPS):
    obj = objectives.Quadratic.random(dim=D, cond=10.0, seed=3)
    x0 = np.random.default_rng(7).standard_normal((P, D))
    return simulate(obj, alg, workers=P, steps=steps, x0=x0, grad_noise=0.3, seed=11, record_every=1, dtype=dtype,
                    collective=collective)


def _same(a, b):
    return (a is None and b is None) or np.array_equal(a, b)


@pytest.mark.parametrize("name", sorted(RULES))
def test_per_worker_collective_is_bit_identical(name):
    vec, per = Vectorized(record=True), PerWorker(record=True)
    r1, r2 = _run(RULES[name], vec), _run(RULES[name], per)
    for field in ("x", "f", "leaders", "leader_steps", "local_leaders", "center", "dist_to_leader", "dist_to_center"):
        assert _same(getattr(r1, field), getattr(r2, field)), field
    assert r1.meta["floats_communicated"] == r2.meta["floats_communicated"]
    assert vec.log == per.log                      # the same messages, call by call
    assert sum(m.total_floats for t, m in vec.log if t > 0) == r1.meta["floats_communicated"]


def test_per_worker_float32_is_bit_identical():
    alg = A.LSGD(lr=0.05, pull=0.3, period=1, groups=3, global_pull=0.1)
    assert np.array_equal(_run(alg, Vectorized(), "float32").x, _run(alg, PerWorker(), "float32").x)


def test_default_collective_is_the_vectorized_one():
    alg = RULES["lsgd-groups-window"]
    assert np.array_equal(_run(alg, None).x, _run(alg, Vectorized()).x)


def test_lsgd_messages_are_a_min_loc_then_a_broadcast():
    """LSGD, p workers, τ = 1: per step the p scores go to the coordinator (rank p), the winning index
    comes back, and the leader's d floats are broadcast to the p − 1 others."""
    comm = PerWorker(record=True)
    res = _run(A.LSGD(lr=0.05, pull=0.3, period=1), comm, steps=4)
    by_step = {}
    for t, m in comm.log:
        by_step.setdefault(t, []).append(m)
    assert sorted(by_step) == [1, 2, 3, 4]
    for k, t in enumerate(res.leader_steps):
        gather, reply, bcast = by_step[t]
        assert gather == Message("min_loc", range(P), range(P, P + 1), 1, 8)
        assert reply.senders == range(P, P + 1) and reply.receivers == range(P) and reply.floats == 0
        leader = int(res.leaders[k])
        assert bcast == Message("broadcast", range(leader, leader + 1), range(P), D, 8 * D)
        assert bcast.links == P - 1 and bcast.total_floats == (P - 1) * D
    assert res.meta["floats_communicated"] == 4 * (P + (P - 1) * D)


def test_multi_leader_broadcasts_within_each_group():
    comm = Vectorized(record=True)
    res = _run(A.LSGD(lr=0.05, pull=0.3, period=1, groups=2), comm, steps=1)
    msgs = [m for t, m in comm.log if t == 1]
    bcasts = [m for m in msgs if m.op == "broadcast"]
    leaders = res.local_leaders[0].tolist()
    assert [m.receivers for m in bcasts] == [range(0, 3), range(3, 6)]
    assert [m.senders.start for m in bcasts] == leaders and all(m.links == 2 for m in bcasts)
    assert res.meta["floats_communicated"] == P + 2 * 2 * D


@pytest.mark.parametrize("name, ops", [
    ("easgd", ["broadcast", "reduce_sum"]), ("easgd-beta", ["broadcast", "reduce_mean"]),
    ("downpour", ["reduce_sum", "broadcast"]), ("localsgd", ["reduce_mean", "broadcast"]),
    ("allreduce", ["reduce_mean", "broadcast"])])
def test_server_rules_send_2pd_floats_per_communication(name, ops):
    comm = Vectorized(record=True)
    res = _run(RULES[name], comm)
    steps = sorted({t for t, _ in comm.log if t > 0})
    for t in steps:
        assert [m.op for s, m in comm.log if s == t] == ops
    assert res.meta["communications"] == len(steps)
    assert res.meta["floats_communicated"] == len(steps) * 2 * P * D


def test_sgd_sends_nothing():
    comm = Vectorized(record=True)
    res = _run(RULES["sgd"], comm)
    assert comm.log == [] and res.meta["floats_communicated"] == 0 and res.meta["communications"] == 0


def test_bad_collective_is_rejected_before_work():
    with pytest.raises(ValueError, match="collective"):
        _run(RULES["sgd"], "per_worker")


@pytest.mark.parametrize("config", ["groups", "groups-3-local-only"])
def test_group_broadcasts_count_the_floats_of_their_messages(config):
    """Without a log the n groups' broadcasts of a call are one record (GroupBroadcasts) whose floats are
    summed at once; they must equal the logged messages' floats, one by one."""
    alg = RULES[f"lsgd-{config}-exact"]
    quiet, logged = _run(alg, Vectorized()), _run(alg, Vectorized(record=True))
    assert quiet.meta["floats_communicated"] == logged.meta["floats_communicated"] > 0
    record = GroupBroadcasts("broadcast", (1, 0, 4), 2, D, 8 * D)          # group 1 (ranks 2, 3) from rank 0
    assert record.total_floats == sum(m.total_floats for m in record.messages()) == (6 - 2) * D
