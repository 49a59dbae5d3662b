"""The multi-leader check: one step per group, constants at matched communication, symmetric landscapes."""
from __future__ import annotations

from copy import deepcopy
from dataclasses import replace

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim import algorithms, leaders, objectives, simulate
from theory_checks import _multi_leader as ml
from theory_checks import multi_leader, symmetry
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("multi-leader")


def test_verdict_and_one_step_numbers(record):
    assert record.verdict == "holds"
    one = record.measured["one_step"]
    assert set(one) == {"2", "4"}
    for size, stats in one.items():
        assert len(stats["groups"]) == ml.WORKERS // int(size) and all(stats["holds_per_group"])
        for g in stats["groups"]:
            assert g["leader_not_worse"] == 1.0 and g["min_rel_slack"] > 0 and g["mean_P"] > 0
            assert g["over_sgd_over_P"] > 1          # at η_B the pull also beats the SGD step itself
        assert stats["both_pulls"]["holds"] and stats["both_pulls"]["mean_global_added"] > 0


def test_budget_numbers(record):
    rows = record.measured["budget"]["quadratic"]
    p, d = ml.WORKERS, record.setting["problems_detail"]["quadratic"]["dim"]
    for tau in ml.SINGLE_PERIODS:       # the simulator's count: p scores + (p − 1)·d per communication
        assert rows[f"single_{tau}"]["floats_per_step"] == pytest.approx((p + (p - 1) * d) / tau)
    for size in multi_leader.SIZES:
        n = p // size
        local = p + n * (size - 1) * d   # every τ = 2 steps; the global broadcast adds (p − 1)·d every τ_G = 4
        assert rows[f"multi_{size}"]["floats_per_step"] == pytest.approx((2 * local + (p - 1) * d) / 4)
        r = rows[f"multi_{size}"]
        assert r["inside_single_range"] and 0.85 < r["ratio_to_single"] < 1.1
        assert r["ratio_to_no_global_ci"][1] < 1                 # the global pull lowers the constant
        assert r["ci"][1] <= multi_leader.SLOPE_TOL
    assert rows["single_1"]["C"] < rows["single_2"]["C"] < rows["single_4"]["C"] < rows["sgd"]["C"]


def test_controls_are_in_the_record(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    for size, stats in c["worst"]["one_step"].items():
        # only the local leader itself (P = 0) is "not worse": everyone else is pulled toward a worse worker
        assert [g["leader_not_worse"] for g in stats["groups"]] == [1 / int(size)] * (ml.WORKERS // int(size))
        assert not stats["both_pulls"]["holds"]
    assert not multi_leader.one_step_ok(c["random"]["one_step"])


def test_worst_leader_makes_the_check_fail():
    rec = run_check("multi-leader", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert not multi_leader.one_step_ok(rec.measured["one_step"])


def test_flipped_pull_breaks_the_one_step_bound(monkeypatch):
    pr = ml.problems(0, ("quadratic",))["quadratic"]
    good, _ = ml.one_step_groups(pr, (4,), leaders.Exact(), 8, 200, 0)
    assert multi_leader.one_step_ok(good)
    monkeypatch.setattr(algorithms.LSGD, "step", flip_every_pull(algorithms.LSGD.step))
    bad, _ = ml.one_step_groups(pr, (4,), leaders.Exact(), 8, 200, 0)
    assert not multi_leader.one_step_ok(bad)
    assert min(g["min_rel_slack"] for g in bad[4]["groups"]) < 0      # the bound itself is violated


def test_replica_runs_are_separate_runs():
    """The single-leader replicas (groups of one run, no global pull) equal separate runs exactly."""
    obj = objectives.RingSinc()
    starts = [symmetry.ring_start(s) for s in (3, 4)]
    alg = ml._landscape_algs(0.5, 0.05, leaders.Exact(), replicas=2)["single"]
    both = simulate(obj, alg, workers=8, steps=50, x0=np.concatenate(starts), record_every=50)
    for k, x0 in enumerate(starts):
        one = simulate(obj, replace(alg, groups=1), workers=4, steps=50, x0=x0, record_every=50)
        np.testing.assert_allclose(both.x[4 * k:4 * k + 4], one.x, rtol=0, atol=1e-13)


def test_matched_constant_interpolates_in_log_floats():
    floats, C = np.array([78.0, 39.0, 19.5]), np.array([[0.6], [0.8], [1.0]])
    assert ml._interp_single(39.0, floats, C)[0] == pytest.approx(0.8)
    assert ml._interp_single(np.sqrt(78 * 39), floats, C)[0] == pytest.approx(0.7)   # midway in log floats
    assert ml._interp_single(200.0, floats, C)[0] == pytest.approx(0.6)               # clamped


def test_verdict_rule_on_edited_records(record):
    rec = deepcopy(record)
    rec.measured["budget"]["quadratic"]["multi_4"]["ratio_to_single_ci"] = [1.2, 1.4]
    assert multi_leader.verdict(rec) == "holds under conditions"
    rec = deepcopy(record)
    lands = rec.measured["landscapes"]["ring"]
    lands["single"]["ci95"], lands["multi"]["ci95"] = [0.8, 0.95], [0.2, 0.5]
    assert multi_leader.verdict(rec) == "holds under conditions"
    rec.measured["one_step"]["2"]["holds_per_group"][1] = False
    assert multi_leader.verdict(rec) == "fails"


def test_the_ring_sample_size_is_computed_from_the_rates_it_must_separate(monkeypatch):
    """n = ⌈(z(√(p1q1) + √(p2q2)) / |p1 − p2|)²⌉: at 0.84 vs 0.76 about 400 starts (the 40 of old could not
    separate them); ring_rates keeps adding starts while the rates so far need more, up to its cap."""
    from theory_checks import _multi_leader as mlr
    n = mlr.starts_to_separate(0.84, 0.76)
    assert 350 < n < 450 and mlr.starts_to_separate(0.5, 0.5) == 100_000
    z = 1.96
    half = lambda p: z * np.sqrt(p * (1 - p) / n)                       # noqa: E731
    assert 0.84 - half(0.84) >= 0.76 + half(0.76) - 1e-9               # at n the intervals just stop overlapping
    rng = np.random.default_rng(0)
    monkeypatch.setattr(mlr, "ring_flags", lambda seeds, rule: (rng.random(len(seeds)) < 0.84,
                                                               rng.random(len(seeds)) < 0.76))
    out = mlr.ring_rates(0, 40, 1000, None)["sample_size"]
    assert out["starts_used"] >= min(out["starts_needed"][-1], 1000) and out["starts_needed"][0] == \
        mlr.starts_to_separate(*out["pilot_rates"])
    capped = mlr.ring_rates(0, 16, 16, None)["sample_size"]
    assert capped["starts_used"] == 16 and capped["too_thin"] == (capped["starts_needed"][-1] > 16)
