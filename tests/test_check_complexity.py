"""The iteration-complexity check (reviewer 2)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim import leaders, simulate
from lsgdsim.algorithms import LSGD
from theory_checks import _complexity as cx
from theory_checks import complexity
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def iters(quick_record):
    return quick_record("iteration-complexity")


def test_median_ci():
    med, lo, hi, cov = cx.median_ci([3.0, 1.0, 2.0])
    assert (med, lo, hi) == (2.0, 1.0, 3.0) and cov == pytest.approx(0.75)
    med, lo, hi, cov = cx.median_ci(np.arange(11.0))
    assert med == 5.0 and lo < med < hi and cov >= 0.95


def test_complexity_verdict_and_numbers(iters):
    res = iters
    assert res.verdict == "holds"
    assert res.measured["lsgd_worse_than"] == [] and res.measured["leader_fails_on"] == []
    table = res.measured["problems"]
    grid = res.setting["lr_grid_over_L"]
    for t in table.values():
        m = t["methods"]
        assert set(m) == {"lsgd", "lsgd (best worker)", "random pull", "easgd", "sgd", "sgd (best worker)"}
        assert all(row["lr_over_L"] in grid for row in m.values())          # one grid for every method
        assert all(math.isfinite(m[k]["median_iterations"]) for k in ("lsgd", "random pull", "easgd", "sgd"))
        # the best of 8 independent workers (an oracle pick) beats their mean
        assert m["sgd (best worker)"]["median_iterations"] <= m["sgd"]["median_iterations"]
        g = t["leader_gain"]
        assert g["over_random_pull"] > 5 * g["over_random_pull_se"] > 0     # the choice of leader helps, clearly
        assert g["over_sgd"] > g["over_random_pull"]                        # the pull itself helps as well
        assert t["lsgd_over_random_pull"] < 1.0 and t["lsgd_over_sgd"] < 1.0
        term = t["theory_term"]
        # the one-step theorem's term is a lower bound on what the pull realizes, and LSGD gains over SGD
        assert term["realized_over_predicted"] > 1.0 and term["measured_improvement_over_sgd_per_step"] > 0
    assert table["quadratic κ=100"]["lsgd_over_sgd"] <= 1 / 1.5
    assert len(res.summary) <= 220 and all(len(r["measured"]) <= 40 for r in complexity.key_numbers(res))


def test_controls_are_in_the_record(iters):
    c = iters.controls
    assert set(c) == {"random", "worst"}
    n = iters.measured["problems_count"]
    assert len(c["worst"]["leader_fails_on"]) == n and len(c["random"]["leader_fails_on"]) == n
    for p, t in c["worst"]["problems"].items():
        g = t["leader_gain"]
        assert g["over_random_pull"] + 5 * g["over_random_pull_se"] < 0      # a worst leader is worse than none
        assert t["lsgd"]["lr_over_L"] in iters.setting["lr_grid_over_L"]     # tuned on the same grid
        assert t["lsgd"]["median_iterations"] >= iters.measured["problems"][p]["methods"]["lsgd"]["median_iterations"]
    for t in c["random"]["problems"].values():                            # a random leader IS the random pull
        assert t["leader_gain"]["over_random_pull"] == 0 and t["lsgd_over_random_pull"] == 1.0


def test_verdict_reads_the_record(iters):
    r = copy.deepcopy(iters)
    assert complexity.verdict(r) == "holds"
    r.measured["leader_fails_on"] = ["logistic"]
    assert complexity.verdict(r) == "holds under conditions"
    r.measured["leader_fails_on"] = ["logistic", "quadratic κ=10"]
    assert complexity.verdict(r) == "fails"


def test_worst_leader_makes_the_check_fail():
    rec = run_check("iteration-complexity", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert len(rec.measured["leader_fails_on"]) == rec.measured["problems_count"]


def test_complexity_sees_a_pull_away_from_the_leader(iters, pull_away):
    prob = cx.problems(True, 0)["quadratic κ=100"]
    row = iters.measured["problems"]["quadratic κ=100"]["methods"]["lsgd"]
    lr = row["lr_over_L"] / prob["obj"].L
    term = cx.pull_decomposition(prob, lr, seed=0)
    assert term["realized_over_predicted"] < 0            # the pull now raises f (pinned run: > 1)
    hit = cx.hitting_time(cx.run(prob, "lsgd", lr, 0, 4), prob["obj"].fmin, prob["eps"])["mean"]
    assert hit > 2 * row["median_iterations"]


def test_leader_gain_sees_flipped_pulls(iters, monkeypatch):
    prob = cx.problems(True, 0)["quadratic κ=100"]
    row = iters.measured["problems"]["quadratic κ=100"]["methods"]["lsgd"]
    lr, T = row["lr_over_L"] / prob["obj"].L, int(row["median_iterations"])
    assert cx.leader_gain(cx.GroupRuns(prob, 8, 5), lr, T, leaders.Exact())["over_random_pull"] > 0
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))      # every pull (group leaders too) reversed
    with np.errstate(all="ignore"):
        gain = cx.leader_gain(cx.GroupRuns(prob, 8, 5), lr, T, leaders.Exact())
    assert gain["over_random_pull"] < 0                   # pushed away from the best worker: worse than a random one


def test_group_runs_are_independent_copies():
    """Copy k of a vectorized group run is the single run of p workers from its start (multi-leader LSGD with
    no global pull); deterministic gradients, so that no noise stream tells the runs apart."""
    prob = {**cx.problems(True, 0)["quadratic κ=10"], "kw": {"grad_noise": 0.0}}
    obj, lr, T = prob["obj"], 0.5 / prob["obj"].L, 20
    groups = cx.GroupRuns(prob, 3, 11)
    gaps = groups.gaps("lsgd", lr, T, leaders.Exact())
    assert gaps.shape[1] == 3
    for k in range(3):
        one = simulate(obj, cx.make_algorithm("lsgd", lr), workers=cx.WORKERS, steps=T, record_every=1,
                       x0=groups.x0[k * cx.WORKERS:(k + 1) * cx.WORKERS])
        want = (one.f[one.steps >= T / 2] - obj.fmin).mean(axis=1)
        np.testing.assert_allclose(gaps[:, k], want, rtol=1e-12)
