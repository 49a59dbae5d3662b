"""The communication-efficiency check (claim iv): equal simulated time, fast to slow networks, leader controls."""
from __future__ import annotations

import numpy as np
import pytest

from theory_checks import communication_efficiency as ce
from theory_checks._timed import paired_log_ratio
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("communication-efficiency")


def test_verdict_and_numbers_are_recomputed_from_the_per_seed_gaps(record):
    per, a = record.measured["per_bandwidth"], record.arrays
    names = record.setting["bandwidths"]
    assert record.verdict == "holds under conditions" and list(per) == names
    lead = record.measured["leader_part"]            # pooled over bandwidths, per seed, then the interval
    pooled = np.mean(np.log(a["random.gap"]) - np.log(a["lsgd.gap"]), axis=0)
    assert lead["mean"] == pytest.approx(pooled.mean(), rel=1e-12) and lead["lower"] > 0
    assert lead["seeds_to_separate"] <= len(record.setting["seeds"])
    assert per["100 Mb/s"]["wins"] and not per["10 Gb/s"]["wins"]       # it pays only where the network is slow
    for b, name in enumerate(names):
        for k in ("easgd", "allreduce", "random"):
            expect = np.mean(np.log(a[f"{k}.gap"][b]) - np.log(a["lsgd.gap"][b]))
            assert per[name][f"over_{k}"]["mean"] == pytest.approx(expect, rel=1e-12)
    steps = record.measured["methods"]
    # the price: LSGD's minloc + broadcast lets each worker do more steps than EASGD's server or an all-reduce
    # every step, and the slower the network, the fewer steps for everyone
    assert all(lsgd > e and lsgd > r for lsgd, e, r in zip(steps["lsgd"]["steps"], steps["easgd"]["steps"],
                                                          steps["allreduce"]["steps"], strict=True))
    assert steps["lsgd"]["steps"] == sorted(steps["lsgd"]["steps"], reverse=True)
    assert steps["random"]["steps"] == steps["lsgd"]["steps"]             # a random leader pays the same price


def test_controls_are_in_the_record_and_the_worst_leader_loses_to_a_random_one(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    assert all(r["over_random"]["mean"] == 0.0 for r in c["random"]["per_bandwidth"].values())
    assert c["random"]["leader_part"]["mean"] == 0.0 and c["worst"]["leader_part"]["upper"] < 0


@pytest.mark.parametrize("leader", ["worst", "random", "mid"])
def test_a_leader_no_better_than_a_random_worker_makes_the_check_fail(leader):
    rec = run_check("communication-efficiency", quick=True, leader=leader, controls=False)
    assert rec.verdict == "fails" and not rec.controls and rec.measured["leader_part"]["lower"] <= 0
    assert "not better than a random worker's pull" in rec.summary


@pytest.mark.parametrize("wins, lower, expected", [
    ([True, True], 0.1, "holds"),
    ([False, True], 0.1, "holds under conditions"),
    ([False, False], 0.1, "fails"),                      # wins nowhere
    ([True, True], 0.0, "fails"),                        # the leader not significantly better than a random one
])
def test_verdict_rule(wins, lower, expected):
    rec = ce.CheckRecord(name=ce.NAME, claim="", reading="", setting={}, expected={},
                         measured={"per_bandwidth": {k: {"wins": w} for k, w in enumerate(wins)},
                                   "leader_part": {"lower": lower}})
    assert ce.verdict(rec) == expected


def test_paired_log_ratio_interval_and_runs_that_never_arrive():
    r = paired_log_ratio([2.0, 4.0, 8.0], [1.0, 2.0, 4.0])
    assert r["mean"] == pytest.approx(np.log(2)) and r["lower"] == pytest.approx(r["upper"])
    assert paired_log_ratio([np.inf, 1.0], [1.0, 1.0])["lower"] == np.inf       # never arrived: no interval


def test_a_pull_away_from_the_leader_is_seen(pull_away):
    right = ce.one_run("lsgd", ce.BANDWIDTHS["100 Mb/s"], 0)
    assert right["gap"] > 2 * ce.one_run("easgd", ce.BANDWIDTHS["100 Mb/s"], 0)["gap"] or not np.isfinite(right["gap"])
