"""The comm-period check (reviewer 2): the benefit over no communication per τ, and its leader controls."""
from __future__ import annotations

import numpy as np
import pytest

from theory_checks import comm_period
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def period(quick_record):
    return quick_record("comm-period")


def test_comm_period_verdict_and_numbers(period):
    r = period
    assert r.verdict == "holds under conditions"
    curves, per = r.measured["curves"], r.measured["per_problem"]
    steps, p, periods = r.setting["steps"], r.setting["workers"], r.setting["periods"]
    for problem, dim in (("quadratic", 20), ("logistic", 10)):
        lsgd, s = curves[problem]["lsgd"], per[problem]
        # floats: p losses gathered + the leader's d-vector to p − 1 workers, once per τ steps
        assert [row["floats"] for row in lsgd] == [(steps // t) * (p + (p - 1) * dim) for t in periods]
        assert all(s["converges"]) and comm_period._significant(s)
        assert s["kept"][0] == pytest.approx(1.0)
        assert s["kept"][-1] < comm_period.KEPT                       # not a modest cost at τ = 64 ...
        assert s["kept_up_to_period"] in periods[1:-1]                # ... but at the first larger τ
        # the benefit is recomputed from the per-seed gaps in the arrays (paired by seed)
        sgd, gaps = r.arrays[f"gap.{problem}.sgd"], r.arrays[f"gap.{problem}.lsgd"]
        assert gaps.shape == (len(periods), len(r.setting["seeds"]))
        np.testing.assert_allclose([row["benefit"] for row in lsgd], (sgd - gaps).mean(axis=1) / sgd.mean(),
                                   rtol=1e-12)
        assert lsgd[-1]["gap"] <= 1.1 * r.measured["sgd_no_communication"][problem]["gap"]
    assert per["quadratic"]["benefit_tau1"] > 0.4 and per["logistic"]["benefit_tau1"] > 0.15


def test_controls_are_in_the_record(period):
    c, per = period.controls, period.measured["per_problem"]
    assert set(c) == {"random", "worst"}
    for problem in comm_period.PROBLEMS:
        worst, rand = c["worst"]["per_problem"][problem], c["random"]["per_problem"][problem]
        assert len(c["worst"]["curves"][problem]["lsgd"]) == len(period.setting["periods"])
        assert worst["benefit_tau1"] < per[problem]["benefit_tau1"]
        assert worst["over_random_tau1_upper"] < 0                   # the worst leader does worse than chance
        assert rand["over_random_tau1"] == 0.0                       # the random control is the reference itself
        assert 0.5 < rand["share_of_right_tau1"][0] <= 1.2           # coupling alone keeps most of the benefit
    assert not comm_period._significant(c["worst"]["per_problem"]["quadratic"])


def test_worst_leader_makes_the_check_fail():
    rec = run_check("comm-period", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert not all(comm_period._significant(s) for s in rec.measured["per_problem"].values())


def _stats(**kw):
    base = {"benefit_tau1": 0.5, "benefit_tau1_lower": 0.4, "over_random_tau1": 0.0,
            "over_random_tau1_upper": 0.05, "over_random_tau1_lower": 0.01, "converges": [True] * 3,
            "kept": [1.0, 0.7, 0.6],
            "kept_up_to_period": 4}
    return {**base, **kw}


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"),
    ({"kept": [1.0, 0.7, 0.3]}, "holds under conditions"),
    ({"benefit_tau1_lower": -0.01}, "fails"),                   # (0): not significant
    ({"benefit_tau1": 0.05, "benefit_tau1_lower": 0.01}, "fails"),   # (0): too small to call a benefit
    ({"over_random_tau1_lower": -0.01}, "fails"),               # (0'): not above a random leader
    ({"converges": [True, False, True]}, "fails"),              # (a)
])
def test_verdict_rule(change, expected):
    rec = comm_period.CheckRecord(name="comm-period", claim="", reading="", setting={}, expected={},
                                  measured={"per_problem": {"quadratic": _stats(), "logistic": _stats(**change)}})
    assert comm_period.verdict(rec) == expected


def test_comm_period_sees_a_pull_away_from_the_leader(period, pull_away):
    instance = comm_period._problems(True, 0)["quadratic"]
    wrong = comm_period._one(instance, comm_period.make_method("lsgd", 1), period.setting["steps"], 0)["gap"]
    right = period.measured["curves"]["quadratic"]["lsgd"][0]["gap"]              # τ = 1, mean over 3 seeds
    assert not wrong < 100 * right                                               # diverges (inf) or far worse


def test_a_diverged_run_cannot_pass():
    runs = {"gap": np.array([[0.1, np.inf, 0.1]]), "gap_average": np.array([[0.1, np.inf, 0.1]]),
            "initial_gap": np.array([[1.0, np.nan, 1.0]]), "floats": np.zeros((1, 3))}
    sgd = np.array([0.2, 0.2, 0.2])
    rows = comm_period.method_rows(runs, (1,), sgd)
    s = comm_period.lsgd_stats(rows, runs, random_tau1=0.6 * sgd, scale=float(sgd.mean()))
    assert s["benefit_tau1"] == -np.inf and s["over_random_tau1_upper"] == -np.inf == s["over_random_tau1_lower"]
    assert not comm_period._significant(s) and s["converges"] == [False]
