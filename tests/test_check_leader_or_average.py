"""The leader-or-average check (reviewer 2: why is the average evaluated rather than the leader?)."""
from __future__ import annotations

import pytest

from theory_checks import leader_or_average as la
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("leader-or-average")


def _rows(record, problem):
    return [r for r in record.measured["settings"] if r["problem"].startswith(problem)]


def test_the_average_wins_on_convex_problems_and_the_digits(record):
    assert record.verdict == "holds under conditions"
    for problem in ("digits", "quadratic", "logistic"):
        for r in _rows(record, problem):
            e = r["errors"]
            assert not r["leader_better_output"] and e["leader"] > e["average"], problem
    for problem in ("quadratic", "logistic"):                      # noise averaging: several times better
        for r in _rows(record, problem):
            assert r["errors"]["leader"] > 2 * r["errors"]["average"], problem
    dig = _rows(record, "digits")[0]
    assert dig["sticky"] >= 0.5 and dig["errors"]["leader"] >= dig["errors"]["mean_worker"]   # disjoint shards
    assert {"easgd_center", "best_alone", "best_worker", "mean_worker"} <= set(dig["errors"])


def test_the_leader_wins_where_the_average_falls_between_valleys(record):
    for problem in ("rastrigin", "ring"):
        for r in _rows(record, problem):
            assert r["leader_better_output"], problem
            assert r["errors"]["average"] > 10 * max(r["errors"]["leader"], 1e-3), problem


def test_controls_are_in_the_record(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    worst = c["worst"]["settings"]
    assert len(worst) == len(record.measured["settings"])
    assert not any(r["leader_better_output"] for r in worst)
    for r in worst:
        if r["problem"].split()[0] in ("rastrigin", "ring"):         # led into a worse valley than the best alone
            assert not r["choice_adds"] and r["errors"]["leader"] > r["errors"]["best_alone"] + 0.1
        assert r["errors"]["leader"] >= r["errors"]["best_worker"]  # the evaluated leader is the rule's choice


def test_worst_leader_makes_the_check_fail():
    rec = run_check("leader-or-average", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls


def test_compare_uses_paired_medians_and_the_tolerance():
    rows = [{"leader": 0.10, "average": 0.10 + 0.5 / 360, "best_worker": 0.09, "mean_worker": 0.12,
             "best_alone": 0.11, "sticky": 1.0}, {"leader": 0.2, "average": 0.1, "best_worker": 0.1,
             "mean_worker": 0.3, "best_alone": 0.25, "sticky": 0.5}, {"leader": 0.1, "average": 0.1,
             "best_worker": 0.1, "mean_worker": 0.1, "best_alone": 0.1, "sticky": 0.0}]
    out = la.compare(rows, la._digits_tol)
    assert out["leader_minus_average"] == pytest.approx(0.0) and out["no_worse_than_average"]
    assert out["leader_minus_best_alone"] == pytest.approx(-0.01) and out["leader_better_output"]
    rows[2]["leader"] = rows[0]["leader"] = 0.11                    # now worse than the average in 2 of 3 seeds
    assert not la.compare(rows, la._digits_tol)["no_worse_than_average"]
    assert la._synthetic_tol(0.0) == la.ABS_TOL
