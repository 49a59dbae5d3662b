"""The curse-of-symmetry check (claim 6): LGD vs EAGD on the rings and on matrix completion, with leader controls."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from mutations import mutated

from lsgdsim import algorithms, leaders, objectives
from theory_checks import symmetry
from theory_checks.pipeline import run_check

RING_BEST = objectives.RingSinc().ring_values[0]


@pytest.fixture(scope="module")
def symmetry_result(quick_record):
    return quick_record("curse-of-symmetry")


def test_curse_of_symmetry(symmetry_result):
    r = symmetry_result
    m = r.measured
    assert r.verdict == "holds under conditions"
    assert m["significant_gap_main_setting"] == {"ring": True, "matrix": True}
    main = [c for c in m["per_configuration"] if c["pull"] == symmetry.RING["pull"]]
    assert all(c["curse_observed"] for c in main)
    assert [(c["problem"], c["pull"]) for c in m["per_configuration"] if c["curse_absent"]] == [("matrix rank 3", 0.1)]
    assert m["ring_poster_start"]["lgd_final_f"] == pytest.approx([RING_BEST] * 4, abs=1e-6)
    assert min(m["ring_poster_start"]["eagd_final_f"]) > RING_BEST + symmetry.RING_TOL
    assert m["ring"]["lgd_leader"]["rate"] >= 0.6 and m["ring"]["eagd_either"]["rate"] <= 0.4
    for mat in m["matrix"]:
        assert mat["lgd_leader"]["rate"] == 1.0 and mat["lgd_final_f_max"] < 1e-12
        assert mat["lgd_linear_fit_r2_min"] > 0.97 and mat["lgd_linear_rate_median"] < 0.95
        assert mat["eagd_plateau_center_f_median"] > 1e-3                 # EAGD's center stalls far from 0
    # the figure's data: the poster paths end where the measured values say
    obj = objectives.RingSinc()
    np.testing.assert_allclose(obj.value(r.arrays["ring.lgd.x"][-1]), m["ring_poster_start"]["lgd_final_f"])
    assert r.arrays["ring.eagd.center"].shape == (symmetry.RING["steps"] + 1, 2)


def test_controls_are_in_the_record(symmetry_result):
    r = symmetry_result
    c, m = r.controls, r.measured
    assert set(c) == {"random", "worst"}
    for mode in c:
        assert c[mode]["significant_gap_main_setting"] == {"ring": False, "matrix": False}   # the advantage is gone
        assert c[mode]["ring"]["lgd_leader"]["n"] == m["ring"]["lgd_leader"]["n"]
        assert c[mode]["ring"]["lgd_leader"]["rate"] < m["ring"]["lgd_leader"]["rate"]
        assert c[mode]["matrix_pooled"]["lgd_leader"]["rate"] < m["matrix_pooled"]["lgd_leader"]["rate"]
    assert min(c["worst"]["ring_poster_start"]["lgd_final_f"]) > RING_BEST + 0.05     # following the worst worker
    assert "ring.lgd-worst.x" in r.arrays and "matrix.r1.lgd-worst" in r.arrays


def test_worst_leader_makes_the_check_fail():
    rec = run_check("curse-of-symmetry", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert rec.measured["significant_gap_main_setting"] == {"ring": False, "matrix": False}


def test_verdict_follows_the_rates(symmetry_result):
    rec = copy.deepcopy(symmetry_result)
    assert symmetry.verdict(rec) == "holds under conditions"
    rec.measured["matrix_sweep"] = []                                    # no configuration without a curse
    assert symmetry.verdict(rec) == "holds"
    rec.measured["ring"]["lgd_leader"] = rec.measured["ring"]["eagd_either"]
    assert symmetry.verdict(rec) == "holds under conditions"            # the curse on one problem only
    rec.measured["matrix_pooled"]["lgd_leader"] = rec.measured["matrix_pooled"]["eagd_either"]
    assert symmetry.verdict(rec) == "fails"


def test_the_curse_counts_only_above_a_random_leader(symmetry_result):
    rec = copy.deepcopy(symmetry_result)
    rec.measured["matrix_sweep"] = []
    over = rec.measured["over_random"]
    assert over["ring"]["significant"] and over["matrix"]["significant"]
    assert all(over[k]["precision"]["enough"] for k in over)
    assert symmetry.verdict(rec) == "holds"
    over["ring"]["significant"] = False               # as good as EAGD's loss, but no better than a random leader
    assert symmetry.verdict(rec) == "holds under conditions"
    over["matrix"]["significant"] = False
    assert symmetry.verdict(rec) == "fails"
    # the comparison itself: equal rates never separate, and say how far from separating they are
    same = symmetry.over_random(symmetry._lgd_main(rec.measured), symmetry._lgd_main(rec.measured))
    assert not same["ring"]["significant"] and not same["ring"]["precision"]["enough"]


@pytest.mark.parametrize("rule", [leaders.Exact(), leaders.Worst(leaders.Exact())])
def test_batched_ring_runs_equal_single_runs(rule):
    obj, seeds = objectives.RingSinc(), (3, 4, 5)
    batched = symmetry.ring_lgd_finals(seeds, steps=200, rule=rule)
    single = [symmetry.lgd(obj, symmetry.ring_start(s), symmetry.RING["lr"], symmetry.RING["pull"], 200, 200,
                           rule).final_f for s in seeds]
    np.testing.assert_array_equal(batched, np.array(single))


def test_flipped_pull_breaks_the_ring_result(monkeypatch):
    good = symmetry.ring_outcomes(symmetry.POSTER_STARTS)
    assert np.abs(np.array(good["lgd_f"]) - RING_BEST).max() < 1e-6
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("flip"))
    bad = symmetry.ring_outcomes(symmetry.POSTER_STARTS)
    assert np.abs(np.array(bad["lgd_f"]) - RING_BEST).max() > 0.05
