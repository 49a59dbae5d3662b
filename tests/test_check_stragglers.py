"""The stragglers check: Algorithm 1's total trigger against the per-worker trigger, who leads, controls."""
from __future__ import annotations

import numpy as np
import pytest

from theory_checks import stragglers
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("stragglers")


def test_verdict_and_numbers_are_recomputed_from_the_per_seed_runs(record):
    m, a = record.measured, record.arrays
    assert record.verdict in ("holds", "holds under conditions")
    assert m["faster_at"][-1] and not any(m["slower_at"])
    for k in range(len(stragglers.EPSILONS)):
        expect = np.mean(np.log(a["own.time_to"][:, k]) - np.log(a["total.time_to"][:, k]))
        assert m["faster"][k]["mean"] == pytest.approx(expect, rel=1e-12)
    # fast workers do more steps under the total trigger; the per-worker trigger holds everyone to τ a round
    steps = a["total.steps"].sum(axis=0)
    assert steps[0] > 1.5 * steps[-1] and m["mean_steps"]["total"] > m["mean_steps"]["own"]
    assert np.ptp(a["own.steps"], axis=1).max() <= stragglers.PERIOD
    leads = a["total.leads"].sum(axis=0)
    assert m["fast_half_lead_share"] == pytest.approx(leads[:8].sum() / leads.sum())
    assert m["fast_half_lead_share"] > m["fast_half_step_share"] > 0.5      # the leader drifts to the fast half


def test_controls_are_in_the_record(record):
    c, lead = record.controls, record.measured["leader_part"]
    assert set(c) == {"random", "worst"}
    assert lead["lower"] > 0 and lead["seeds_to_separate"] <= len(record.setting["seeds"])
    assert c["random"]["leader_part"]["mean"] == 0.0                          # the random control is the reference
    assert c["worst"]["leader_part"]["upper"] < 0 and c["worst"]["fast_half_lead_share"] < 0.5


@pytest.mark.parametrize("leader", ["worst", "random", "mid"])
def test_a_leader_no_better_than_a_random_worker_makes_the_check_fail(leader):
    rec = run_check("stragglers", quick=True, leader=leader, controls=False)
    assert rec.verdict == "fails" and rec.measured["leader_part"]["lower"] <= 0
    assert "no better than a random one" in rec.summary


def _measured(faster_at, leader_lower=0.1):
    return {"faster_at": faster_at, "leader_part": {"lower": leader_lower}}


@pytest.mark.parametrize("measured, expected", [
    (_measured([True, True]), "holds"),
    (_measured([False, True]), "holds under conditions"),
    (_measured([False, False]), "fails"),
    (_measured([True, True], leader_lower=0.0), "fails"),                   # not better than a random leader
])
def test_verdict_rule(measured, expected):
    rec = stragglers.CheckRecord(name=stragglers.NAME, claim="", reading="", setting={}, expected={},
                                 measured=measured)
    assert stragglers.verdict(rec) == expected


def test_time_to_epsilon_is_the_first_record_at_or_below_it():
    run = stragglers.one_run("total", 0, None)
    assert np.all(np.diff(run["time_to"]) > 0) and np.all(run["time_to"] <= stragglers.BUDGET)
    assert run["leads"].sum() > 0 and run["steps"].shape == (stragglers.WORKERS,)
