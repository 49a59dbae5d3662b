"""The rate check (claim 2), its controls, and the slope/constant helpers it shares with the stochastic-leader check."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim import objectives
from lsgdsim.algorithms import LSGD
from theory_checks import _rate_runs, rate
from theory_checks._convex import derive_seed, replica_lsgd, slope_fit
from theory_checks.pipeline import run_check

TINY = {"S": 16, "T": 1000, "S_easgd": 2, "T_log": 600, "S_log": 8, "S_log_easgd": 2, "S_small": 8, "T_small": 2000}


@pytest.fixture(scope="module")
def rate_result(quick_record):
    return quick_record("rate")


def test_rate_verdict_and_numbers(rate_result):
    r = rate_result
    assert r.verdict == "holds under conditions"
    m = r.measured
    for obj in ("quadratic_a_m_2", "logistic_a_m_2"):
        for meth in ("lsgd", "sgd"):
            for k in ("mean_worker", "best_worker"):
                assert -1.25 < m[obj][meth][k]["slope"] < -0.9, (obj, meth, k)
        # EASGD is a reference the verdict does not judge; quick mode runs it on a few seeds only, and its
        # logistic tail reads about -0.89 there (full run: -1.01). Asserted only as "a decaying O(1/t)-like tail".
        for k in ("mean_worker", "best_worker"):
            assert -1.25 < m[obj]["easgd"][k]["slope"] < -0.8, (obj, "easgd", k)
    for fit in rate.main_slopes(r).values():
        assert fit["ci"][1] <= rate.SLOPE_TOL - 0.03              # a margin against the cutoff, not −0.92
    assert abs(m["sgd_exact_slope_a_m_2"] + 1) < 0.03            # SGD theory −min(1, 2am) = −1
    assert abs(m["sgd_simulated_over_exact_tail"] - 1) < 4 * m["sgd_simulated_over_exact_se"] + 0.02
    assert len(r.summary) <= 220 and len(r.claim) <= 170 and len(r.reading) <= 320


def test_small_a_is_compared_with_sgd_theory(rate_result):
    m = rate_result.measured
    small = m["gapped_quadratic_a_m_0.25"]
    assert small["lsgd"]["mean_worker"]["ci"][0] > rate.SLOPE_TOL          # slower than 1/t below a·m = 1/2
    assert m["horizon_long_enough"] and abs(m["sgd_exact_slope_a_m_0.25"] + 0.5) <= rate.HORIZON_TOL
    sgd = small["sgd"]["mean_worker"]
    assert abs(sgd["slope"] - m["sgd_exact_slope_a_m_0.25"]) < 0.05       # the simulator follows the recursion
    assert abs(sgd["slope"] + 0.5) < 0.1                                    # ... and SGD theory
    geo = m["geometric_quadratic_a_m_0.25_exact_slope"]                     # why the old −0.68 was not −½
    assert all(v < -0.6 for v in geo.values())


def test_the_leader_lowers_the_constant(rate_result):
    m = rate_result.measured
    assert rate.constant_ok(m)
    for obj in ("quadratic", "logistic"):
        assert 0.5 < m["c_ratio_lsgd_over_sgd"][obj]["ci"][1] < 1
        assert 0.85 < m["c_ratio_lsgd_over_random"][obj]["ratio"] < m["c_ratio_lsgd_over_random"][obj]["ci"][1] < 1


def test_controls_are_in_the_record(rate_result):
    c = rate_result.controls
    assert set(c) == {"random", "worst"}
    for obj in ("quadratic", "logistic"):
        assert c["random"]["c_ratio_lsgd_over_random"][obj] == {"ratio": 1.0, "ci": [1.0, 1.0], "paired": True}
        assert c["worst"]["c_ratio_lsgd_over_random"][obj]["ci"][0] > 1      # the worst leader raises C
        # ... but still beats SGD: pulling toward any worker averages (so C < C(SGD) alone tests nothing)
        assert c["worst"]["c_ratio_lsgd_over_sgd"][obj]["ci"][1] < 1
        for mode in c:                                                        # the order is leader-independent
            assert c[mode]["lsgd_slopes"][obj]["mean_worker"]["ci"][1] <= rate.SLOPE_TOL
    assert not rate.constant_ok(c["worst"]) and not rate.constant_ok(c["random"])
    assert "quadratic__lsgd_worst__mean" in rate_result.arrays


def test_worst_leader_makes_the_check_fail():
    rec = run_check("rate", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert not rate.constant_ok(rec.measured)
    assert all(v["ci"][1] <= rate.SLOPE_TOL for v in rate.main_slopes(rec).values())   # it fails on C, not on 1/t


def test_flipped_pulls_make_the_check_fail(monkeypatch):
    monkeypatch.setitem(rate.SIZES, True, TINY)
    assert run_check("rate", quick=True, controls=False).verdict != "fails"
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))
    with np.errstate(all="ignore"):
        assert run_check("rate", quick=True, controls=False).verdict == "fails"


def test_key_numbers_and_figure_from_the_record(rate_result):
    import matplotlib.pyplot as plt
    rows = rate.key_numbers(rate_result)
    assert len(rows) <= 5
    assert all(len(str(v)) <= 40 for row in rows for v in row.values())
    plt.close(rate.figure(rate_result))


# -- helpers ---------------------------------------------------------------------------------------
def test_exact_sgd_expectation_matches_the_plain_recursion():
    """The chunked log-space formula equals the step-by-step variance recursion (and chunking changes nothing)."""
    w = np.array([0.5, 1.0, 4.0])
    mu0 = np.array([1.0, -2.0, 0.5])
    a, b, s, T = 1.3, 5.0, 0.4, 300
    mean, var, ref = mu0.copy(), np.zeros(3), [0.5 * np.sum(w * mu0 * mu0)]
    for t in range(1, T + 1):
        eta = a / (b + t)
        mean, var = (1 - eta * w) * mean, (1 - eta * w) ** 2 * var + eta * eta * s * s
        ref.append(0.5 * np.sum(w * (mean * mean + var)))
    np.testing.assert_allclose(_rate_runs.sgd_expected_gap(w, mu0, a, b, s, T), ref, rtol=1e-10)
    np.testing.assert_allclose(_rate_runs.sgd_expected_gap(w, mu0, a, b, s, T, chunk=7), ref, rtol=1e-10)


def test_sgd_exponent_is_minus_min_1_2am():
    """One direction: the exact local slope tends to −min(1, 2am) (−½ at a·m = ¼, −1 at a·m = 2)."""
    for am, expect in ((0.25, -0.5), (2.0, -1.0)):
        gap = _rate_runs.sgd_expected_gap(np.array([1.0]), np.array([3.0]), am, 10 * am, 0.5, 100_000)
        assert abs(_rate_runs.local_slope(gap, 100_000, 10 * am) - expect) < 0.01


def test_c_ratio_paired_bootstrap():
    rng = np.random.default_rng(0)
    steps = np.arange(0, 1001, 10)
    gaps = np.exp(0.2 * rng.standard_normal((12, len(steps)))) / (1 + steps)
    curves = {"a": (steps, gaps, gaps), "b": (steps, gaps, 0.5 * gaps)}
    same = _rate_runs.c_ratio(curves, "a", "a", rng, paired=True)
    assert same == {"ratio": 1.0, "ci": [1.0, 1.0], "paired": True}
    half = _rate_runs.c_ratio(curves, "b", "a", rng, paired=True)
    assert half["ratio"] == pytest.approx(0.5) and half["ci"] == pytest.approx([0.5, 0.5])
    unpaired = _rate_runs.c_ratio(curves, "b", "a", rng, paired=False)
    assert unpaired["ci"][0] < 0.5 < unpaired["ci"][1]


def test_slope_fit_recovers_power_law():
    rng = np.random.default_rng(0)
    steps = np.arange(0, 2001, 4)
    t = np.maximum(steps, 1)
    gaps = 3.0 / (10 + t)[None, :] * np.exp(0.05 * rng.standard_normal((20, len(steps))))
    fit = slope_fit(steps, gaps, rng, shift=10)
    assert fit["ci"][0] <= fit["slope"] <= fit["ci"][1]
    assert abs(fit["slope"] + 1) < 0.01 and fit["ci"][0] > -1.02 and fit["ci"][1] < -0.98
    assert fit["slope_raw"] > fit["slope"]


def test_replica_lsgd_groups_are_independent_runs():
    """Group j of the replica run equals a single-leader run with the same per-worker draws."""
    from lsgdsim import simulate
    obj = objectives.Quadratic.random(dim=3, cond=5.0, seed=1)
    x0 = np.random.default_rng(0).standard_normal((6, 3))
    rep = simulate(obj, replica_lsgd(0.05, 0.1, 2), workers=6, steps=30, x0=x0, seed=3)
    one = simulate(obj, LSGD(lr=0.05, pull=0.1, period=1), workers=3, steps=30, x0=x0[:3], seed=3)
    assert np.array_equal(rep.f[:, :3], one.f)
    assert derive_seed(0, 1) != derive_seed(0, 2)
