"""The comm-period check (reviewer 2)."""
from __future__ import annotations

import pytest

from theory_checks import comm_period


def _run_quick(module, tmp_path_factory):
    fig_dir = tmp_path_factory.mktemp("report") / "figures"
    res = module.run(quick=True, seed=0, figure_dir=fig_dir)
    return res, fig_dir


@pytest.fixture(scope="module")
def period(tmp_path_factory):
    return _run_quick(comm_period, tmp_path_factory)


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

