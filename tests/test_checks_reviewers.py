"""The reviewers' checks (leader stickiness, communication period, iteration complexity) in quick mode.

Each check runs once per module (its verdict is pinned, so that a change in the simulator or in the check
is noticed) and its key numbers are checked for sanity. The mutation tests flip the sign of the LSGD pull
(x ← x + λ(x − z), away from the leader) and assert that the numbers each check is built on change far
beyond their tolerance: a check that could not see a wrong leader term would be no check at all.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import lsgdsim.algorithms.lsgd as lsgd_module
from lsgdsim import algorithms
from theory_checks import comm_period, complexity, load, stickiness
from theory_checks.record import VERDICTS


def _run_quick(module, tmp_path_factory):
    fig_dir = tmp_path_factory.mktemp("report") / "figures"
    res = module.run(quick=True, seed=0, figure_dir=fig_dir)
    return res, fig_dir


@pytest.fixture(scope="module")
def sticky(tmp_path_factory):
    return _run_quick(stickiness, tmp_path_factory)


@pytest.fixture(scope="module")
def period(tmp_path_factory):
    return _run_quick(comm_period, tmp_path_factory)


@pytest.fixture(scope="module")
def iters(tmp_path_factory):
    return _run_quick(complexity, tmp_path_factory)


@pytest.fixture
def pull_away(monkeypatch):
    """Make every LSGD pull point away from the leader: x − λ(x − z) becomes x + λ(x − z)."""
    row = lsgd_module.take_row
    monkeypatch.setattr(lsgd_module, "take_row", lambda X, i: 2 * X - row(X, i))


@pytest.mark.parametrize("name", ["leader-stickiness", "comm-period", "iteration-complexity"])
def test_registered(name):
    mod = load(name)
    assert mod.NAME == name and mod.CLAIM and mod.__doc__ and "Verdict" in mod.__doc__


@pytest.mark.parametrize("fixture", ["sticky", "period", "iters"])
def test_record_shape_and_figure(fixture, request):
    res, fig_dir = request.getfixturevalue(fixture)
    assert res.verdict in VERDICTS
    assert res.figure == f"figures/{res.name}.png" and (fig_dir / f"{res.name}.png").stat().st_size > 10_000
    d = res.to_dict()
    assert d["measured"] and d["expected"] and d["setting"] and res.summary


# -- leader stickiness --------------------------------------------------------------------------------------

def test_leader_stats_by_hand():
    st = stickiness.leader_stats([0, 0, 1, 1, 1, 2], workers=4)
    assert st["counts"] == [2, 3, 1, 0] and st["longest_run"] == 3 and st["switches"] == 2
    assert st["max_share"] == pytest.approx(0.5) and st["workers_who_led"] == 3
    assert st["longest_run_fraction"] == pytest.approx(0.5) and st["mean_run"] == pytest.approx(2.0)
    even = stickiness.leader_stats(np.arange(8) % 4, workers=4)
    assert even["normalized_entropy"] == pytest.approx(1.0) and even["chi2"] == pytest.approx(0.0)
    # the paper's figure: counts 34/38/48/62 of 182
    paper = stickiness._paper_reference()
    assert paper["max_share"] == pytest.approx(62 / 182) and paper["chi2"] == pytest.approx(467 / 45.5)


def test_stickiness_verdict_and_numbers(sticky):
    res, _ = sticky
    assert res.verdict == "holds under conditions"
    rows = {r["config"]: r for r in res.measured["configs"]}
    base = rows["logistic/base"]
    # the paper-like setting switches like the paper's figure (max share 0.34, longest run ≈ 5%)
    assert not base["sticks"] and 0.25 <= base["max_share"] <= 0.45 and base["longest_run_fraction"] <= 0.1
    assert base["workers_who_led"] == 4 and base["communications"] == 100
    # on Rastrigin with a weak pull one worker keeps the lead and the others stay in other basins ...
    assert rows["rastrigin/base"]["sticks"] and rows["rastrigin/base"]["max_share"] > 0.8
    assert rows["rastrigin/base"]["other_basin_fraction"] == 1.0
    # ... while a strong pull brings every worker into the leader's basin and the lead rotates
    strong = rows["rastrigin/pull=0.5"]
    assert not strong["sticks"] and strong["other_basin_fraction"] == 0.0 and strong["nonleader_dist_ratio"] < 0.1
    assert res.measured["base_sticks"] == {"logistic": False, "rastrigin": True}


def test_stickiness_sees_a_pull_away_from_the_leader(pull_away):
    cfg = stickiness.Config("rastrigin", pull=0.5)
    row, _ = stickiness.measure(cfg, seeds=[0], comms=40, quick=True)
    # correct pull: non-leaders end ~1-2% of their initial distance from the best worker (see the pinned run)
    assert row["nonleader_dist_ratio"] > 10 and row["other_basin_fraction"] == 1.0


# -- communication period ----------------------------------------------------------------------------------

def test_comm_period_verdict_and_numbers(period):
    res, _ = period
    assert res.verdict == "holds under conditions"
    curves, per = res.measured["curves"], res.measured["per_problem"]
    steps, p = res.setting["steps"], res.setting["workers"]
    for problem, dim in (("quadratic", 20), ("logistic", 10)):
        lsgd = curves[problem]["lsgd"]
        # floats: p losses gathered + the leader's d-vector to p − 1 workers, once per τ steps
        assert [r["floats"] for r in lsgd] == [(steps // t) * (p + (p - 1) * dim) for t in comm_period.PERIODS]
        assert all(per[problem]["converges"])
        gaps = [r["gap"] for r in lsgd]
        assert gaps[-1] > gaps[0] and gaps[-1] <= 1.1 * res.measured["sgd_no_communication"][problem]["gap"]
        assert per[problem]["benefit_retained"][0] == pytest.approx(1.0)
    assert per["quadratic"]["degradation_vs_tau1"][-1] > comm_period.MODEST      # not modest at τ = 64 ...
    assert per["logistic"]["degradation_vs_tau1"][-1] < comm_period.MODEST       # ... modest here


def test_comm_period_sees_a_pull_away_from_the_leader(period, pull_away):
    res, _ = period
    instance = comm_period._problems(True, 0)["quadratic"]
    make = comm_period._methods(1, quick=True)["lsgd"]
    wrong = comm_period._one(instance, make, res.setting["steps"], 0)["gap"]
    right = res.measured["curves"]["quadratic"]["lsgd"][0]["gap"]                 # τ = 1, mean over 3 seeds
    assert not wrong < 100 * right                                               # diverges (inf) or far worse


# -- iteration complexity ----------------------------------------------------------------------------------

def test_median_ci():
    med, lo, hi, cov = complexity.median_ci([3.0, 1.0, 2.0])
    assert (med, lo, hi) == (2.0, 1.0, 3.0) and cov == pytest.approx(0.75)
    med, lo, hi, cov = complexity.median_ci(np.arange(11.0))
    assert med == 5.0 and lo < med < hi and cov >= 0.95


def test_complexity_verdict_and_numbers(iters):
    res, _ = iters
    assert res.verdict == "holds"
    table = res.measured["problems"]
    grid = res.setting["lr_grid_over_L"]
    for t in table.values():
        m = t["methods"]
        assert all(row["lr_over_L"] in grid for row in m.values())
        assert all(math.isfinite(m[k]["median_iterations"]) for k in ("lsgd", "easgd", "sgd", "allreduce"))
        # all-reduce averages 8 gradients per step: never slower than independent SGD workers
        assert m["allreduce"]["median_iterations"] <= m["sgd"]["median_iterations"]
        # the best of 8 independent workers (an oracle pick) beats their mean
        assert m["sgd (best worker)"]["median_iterations"] <= m["sgd"]["median_iterations"]
        term = t["theory_term"]
        # the one-step theorem's term is a lower bound on what the pull realizes, and LSGD gains over SGD
        assert term["realized_over_predicted"] > 1.0 and term["measured_improvement_over_sgd_per_step"] > 0
    assert table["quadratic κ=100"]["sgd_over_lsgd_improvement"] >= 1.5


def test_complexity_sees_a_pull_away_from_the_leader(iters, pull_away):
    res, _ = iters
    prob = complexity.problems(True, 0)["quadratic κ=100"]
    c = res.measured["problems"]["quadratic κ=100"]["methods"]["lsgd"]["lr_over_L"]
    term = complexity.pull_decomposition(prob, c / prob["obj"].L, seed=0)
    assert term["realized_over_predicted"] < 0            # the pull now raises f (pinned run: > 1)
    hit = complexity.hitting_time(complexity._run(prob, "lsgd", c / prob["obj"].L, 0, 4), prob["obj"].fmin,
                                  prob["eps"])["mean"]
    assert hit > 2 * res.measured["problems"]["quadratic κ=100"]["methods"]["lsgd"]["median_iterations"]


def test_lsgd_pull_patch_is_what_the_mutation_tests_assume(pull_away):
    """The fixture really flips the pull: one LSGD communication step moves a worker away from the leader."""
    from lsgdsim import objectives, simulate
    q = objectives.Quadratic(np.eye(2))
    x0 = np.array([[1.0, 0.0], [0.0, 0.0]])                              # worker 1 is the leader (f = 0)
    res = simulate(q, algorithms.LSGD(lr=1e-9, pull=0.5, period=1), workers=2, steps=1, x0=x0)
    assert res.x[0, 0] == pytest.approx(1.5, abs=1e-6)                   # correct rule gives 0.5
