"""Leader rules and schedules in isolation."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import leaders as L
from lsgdsim import schedules as S
from lsgdsim.backend import RandomStreams
from lsgdsim.schedules import Hyper, check_hyper


def test_window_is_the_mean_of_the_last_losses():
    rule = L.Window(size=3)
    streams = RandomStreams(0, np)
    state = rule.init(2, np, np.float64)
    history = [np.array([1.0, 10.0]), np.array([2.0, 20.0]), np.array([3.0, 30.0]), np.array([4.0, 40.0])]
    state = rule.observe(state, history[0], streams)
    np.testing.assert_allclose(rule.scores(state, None, streams), [1.0, 10.0])  # mean of filled slots
    for h in history[1:]:
        state = rule.observe(state, h, streams)
    np.testing.assert_allclose(rule.scores(state, None, streams), [3.0, 30.0])  # last three: 2, 3, 4


def test_window_zero_init_reproduces_the_authors_bias():
    rule = L.Window(size=4, zero_init=True)
    state = rule.observe(rule.init(1, np, np.float64), np.array([8.0]), RandomStreams(0, np))
    assert rule.scores(state, None, None)[0] == 2.0  # 8 / 4: biased low, as AverageMeter was


def test_noisy_scores_are_unbiased_with_the_given_spread():
    rule = L.Noisy(sigma=0.5)
    streams = RandomStreams(1, np)
    f = np.array([1.0, 2.0, 3.0])
    draws = np.stack([rule.scores(None, lambda: f, streams) for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), f, atol=0.03)
    np.testing.assert_allclose(draws.std(axis=0), 0.5, rtol=0.05)


def test_exact_scores_are_the_values():
    f = np.array([3.0, 1.0])
    assert L.Exact().scores(None, lambda: f, None) is f


def test_make_rule():
    assert L.make_rule("noisy", sigma=0.2) == L.Noisy(0.2)
    with pytest.raises(ValueError, match="leader must be one of"):
        L.make_rule("oracle")


def test_schedules_values():
    assert S.InverseTime(2.0, 3.0)(1) == 0.5
    assert S.StepDecay(1.0, 0.5, 10)(10) == 1.0 and S.StepDecay(1.0, 0.5, 10)(11) == 0.5
    assert S.Constant(0.3)(100) == 0.3


def test_hyper_forms():
    assert Hyper(0.1, np, np.float64).at(5) == 0.1
    col = Hyper(np.array([0.1, 0.2]), np, np.float64).at(1)
    assert col.shape == (2, 1)
    assert Hyper(S.InverseTime(1.0, 1.0), np, np.float64).at(3) == 0.25


@pytest.mark.parametrize(("value", "ok"), [
    (0.5, True), (1.0, True), (0.0, True), (1.01, False), (-0.01, False), (float("nan"), False),
    (np.array([0.1, 0.9]), True), (np.array([0.1, 1.9]), False), (np.array([[0.1]]), False),
    (S.InverseTime(1.0, 1.0), True), (S.InverseTime(3.0, 1.0), False), (S.Constant(2.0), False), (True, False),
])
def test_check_hyper_ranges(value, ok):
    if ok:
        check_hyper(value, "pull", 0.0, 1.0, workers=2)
    else:
        with pytest.raises(ValueError, match="pull"):
            check_hyper(value, "pull", 0.0, 1.0, workers=2)


def test_random_streams_are_independent_and_reproducible():
    a, b = RandomStreams(7, np), RandomStreams(7, np)
    np.testing.assert_array_equal(a.normal("grad_noise", (3, 4)), b.normal("grad_noise", (3, 4)))
    assert not np.array_equal(RandomStreams(7, np).normal("grad_noise", (3, 4)),
                              RandomStreams(7, np).normal("loss_noise", (3, 4)))
    with pytest.raises(ValueError, match="seed"):
        RandomStreams(-1, np)


def test_worst_rule_picks_the_worst_worker_of_its_inner_rule():
    f = np.array([3.0, 1.0, 7.0, 2.0])
    assert int(np.argmin(L.Worst().scores(None, lambda: f, None))) == 2
    rule = L.Worst(L.Window(size=2))
    streams = RandomStreams(0, np)
    state = rule.init(2, np, np.float64)
    assert rule.observes_every_step
    for losses in ([1.0, 5.0], [1.0, 6.0]):
        state = rule.observe(state, np.array(losses), streams)
    assert int(np.argmin(rule.scores(state, None, streams))) == 1


def test_random_rule_is_uniform_and_reproducible():
    rule = L.Random()
    picks = [int(np.argmin(rule.scores(rule.init(4, np, np.float64), None, s)))
             for s in [RandomStreams(0, np)] for _ in range(4000)]
    counts = np.bincount(picks, minlength=4)
    assert counts.min() > 900 and counts.max() < 1100
    again = RandomStreams(0, np)
    assert [int(np.argmin(rule.scores(4, None, again))) for _ in range(10)] == picks[:10]


def test_lsgd_with_the_worst_leader_pulls_toward_the_worst_worker():
    from lsgdsim import algorithms, objectives, simulate
    obj = objectives.Quadratic(A=np.eye(1))
    x0 = np.array([[0.1], [1.0], [-3.0]])
    res = simulate(obj, algorithms.LSGD(lr=1e-9, pull=0.5, leader=L.Worst()), workers=3, steps=1, x0=x0)
    assert res.leaders.tolist() == [2]
    np.testing.assert_allclose(res.x[:, 0], [-1.45, -1.0, -3.0], atol=1e-8)
