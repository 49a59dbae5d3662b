"""The rate check (claim 2) and the slope-fit helpers it shares with the stochastic-leader check."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim import objectives
from lsgdsim.algorithms import LSGD
from theory_checks import rate
from theory_checks._convex import derive_seed, replica_lsgd, slope_fit


@pytest.fixture(scope="module")
def rate_result():
    return rate.run(quick=True, seed=0)


def test_rate_verdict_and_numbers(rate_result):
    r = rate_result
    assert r.verdict == "holds under conditions"
    m = r.measured
    for obj in ("quadratic_a_m_2", "logistic_a_m_2"):
        for meth in ("lsgd", "sgd", "easgd"):
            for k in ("mean_worker", "best_worker"):
                assert -1.25 < m[obj][meth][k]["slope"] < -0.9, (obj, meth, k)
    assert all(m["main_slope_ok"].values())
    small = m["quadratic_a_m_0.25"]["lsgd"]["mean_worker"]
    assert small["ci"][0] > -0.9                                  # slower than 1/t below a·m = 1/2
    assert abs(m["quadratic_a_m_0.25"]["sgd"]["mean_worker"]["slope"] - m["sgd_exact_slope_a_m_0.25"]) < 0.05
    assert abs(m["sgd_simulated_over_exact_tail"] - 1) < 4 * m["sgd_simulated_over_exact_se"] + 0.02
    assert 0.3 < m["lsgd_over_sgd_C_mean_worker"]["quadratic"] < 1.2


# -- helpers ---------------------------------------------------------------------------------------
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


def test_flipped_pulls_make_the_check_fail(monkeypatch):
    module = rate
    assert module.run(quick=True, seed=0).verdict != "fails"
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))
    with np.errstate(all="ignore"):
        assert module.run(quick=True, seed=0).verdict == "fails"

