"""The stationary-points check (claim 4) and the update-rule facts it relies on (hypothesis)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import mutated

from lsgdsim import algorithms, objectives, simulate
from theory_checks import stationary
from theory_checks.pipeline import run_check

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def stationary_result(quick_record):
    return quick_record("stationary-points")


def test_stationary_points(stationary_result):
    r = stationary_result
    m = r.measured
    assert r.verdict == "holds under conditions"
    a = m["reading_A"]
    assert stationary.reading_a_holds(a) and a["fixed_points_in_omega"] == a["runs"] >= 8
    assert a["max_leader_grad"] < 1e-9
    assert a["nonleader_grad_median"] > 1e-2                      # the theorem is about the leader only
    assert m["easgd_moves_stationary_points"]
    cx = m["counterexample_reading_B"]
    assert cx["refutes"] and cx["unique_leader"] and cx["f"] == pytest.approx([0.0, 0.1], abs=1e-12)
    assert cx["leader_grad"] == pytest.approx(1.0, abs=1e-12)
    assert np.max(np.abs(cx["partials_analytic"])) < 1e-12
    assert cx["simulator_step_over_lr"] == pytest.approx([-1.0, 0.0], abs=1e-9)   # not an update-map fixed point
    assert m["counterexample_local_min_of_L"]["refutes_at_strict_local_min"]
    for e in m["easgd_symmetric"]:
        s = math.sqrt(1 - e["rho"])
        assert e["workers_final"] == pytest.approx([-s, s], abs=1e-10)
        assert np.abs(e["worker_grads"]) == pytest.approx(e["rho"] * s, abs=1e-10)
        assert (e["center_final"], e["center_curvature"]) == pytest.approx((0.0, -1.0), abs=1e-10)
    asym = m["easgd_asymmetric"]
    assert abs(asym["center_grad"]) > 0.1 and min(np.abs(asym["worker_grads"])) > 0.01
    assert asym["residual_worker_eq"] < 1e-10 and asym["residual_center_eq"] < 1e-10


def test_controls_are_in_the_record_and_fail_reading_a(stationary_result):
    c = stationary_result.controls
    assert set(c) == {"random", "worst"}
    assert not stationary.reading_a_holds(c["worst"]["reading_A"])
    assert c["worst"]["reading_A"]["max_leader_grad"] > 1e-2      # the best worker is pulled toward a worse one
    assert not stationary.reading_a_holds(c["random"]["reading_A"])


def test_worst_leader_makes_the_check_fail():
    rec = run_check("stationary-points", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert not stationary.reading_a_holds(rec.measured["reading_A"])


def test_reading_a_needs_most_runs_at_a_fixed_point():
    ok = {"reached_share": 1.0, "max_leader_grad": 0.0, "informative_share": 1.0}
    assert stationary.reading_a_holds(ok)
    assert not stationary.reading_a_holds({**ok, "reached_share": 0.85})   # one run reaching it is not enough
    assert not stationary.reading_a_holds({**ok, "informative_share": 0.4})
    assert not stationary.reading_a_holds({**ok, "max_leader_grad": 1e-3})


def test_spread_counterexample_is_documented(stationary_result):
    sc = stationary_result.details["spread_counterexample"]
    assert sc["leader_before"] != sc["leader_after"]
    assert sc["spread_after"] == pytest.approx(2.44) and sc["spread_before"] == pytest.approx(2.05)
    assert sc["spread_after_same_index"] <= sc["spread_before"]          # the corrected statements hold here
    assert sc["diameter_after"] <= sc["diameter_before"]


def test_mean_pull_breaks_reading_a(monkeypatch):
    small = stationary.LANDSCAPES[:2]   # double well, Rastrigin
    good = stationary.lgd_fixed_points(landscapes=small, seeds=(1, 2), max_steps=3000)
    assert max(r["leader_grad"] for r in good if r["converged"]) < 1e-9
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("mean"))
    bad = stationary.lgd_fixed_points(landscapes=small, seeds=(1, 2), max_steps=3000)
    assert any(r["converged"] for r in bad)
    assert max(r["leader_grad"] for r in bad if r["converged"]) > 1e-2


# -- properties of the update rules the checks rely on ---------------------------------------------
@SETTINGS
@given(p=st.integers(1, 6), d=st.integers(1, 5), pull=st.floats(0.01, 1.0), lr=st.floats(1e-3, 0.05),
       noise=st.sampled_from([0.0, 0.3]), kind=st.sampled_from(["quadratic", "rastrigin"]),
       seed=st.integers(0, 2 ** 16))
def test_leader_step_is_an_sgd_step(p, d, pull, lr, noise, kind, seed):
    obj = objectives.Quadratic.random(dim=d, cond=10.0, seed=seed) if kind == "quadratic" else \
        objectives.Rastrigin(dim=d)
    x0 = np.random.default_rng(seed).standard_normal((p, d))
    run = lambda alg: simulate(obj, alg, workers=p, steps=1, x0=x0, grad_noise=noise, seed=seed,  # noqa: E731
                               record_every=1)
    lsgd = run(algorithms.LSGD(lr=lr, pull=pull, period=1))
    sgd = run(algorithms.SGD(lr=lr))
    leader = int(np.argmin(obj.value(x0)))
    assert lsgd.leaders.tolist() == [leader]
    np.testing.assert_allclose(lsgd.x[leader], sgd.x[leader], rtol=0, atol=1e-14)


@SETTINGS
@given(p=st.integers(2, 6), d=st.integers(1, 3), ratio=st.floats(0.02, 0.2), seed=st.integers(0, 2 ** 16),
       kind=st.sampled_from(["quadratic", "double-well"]))
def test_fixed_point_has_a_zero_gradient_leader(p, d, ratio, seed, kind):
    if kind == "quadratic":
        obj = objectives.Quadratic.random(dim=d, cond=5.0, seed=seed)
        lr = 0.9 / obj.L
    else:
        obj = objectives.DoubleWell(dim=d)
        lr = 0.1
    alg = algorithms.LSGD(lr=lr, pull=ratio * lr, period=1)   # λ/η < 1/4: non-leaders may rest in the other well
    x0 = obj.initial_point(p, np.random.default_rng(seed))
    X, resid, _ = stationary.run_to_fixed_point(obj, alg, x0, max_steps=4000)
    assert resid.max() <= stationary.FIXED_TOL
    vals, grads = obj.value_and_grad(X)
    assert np.linalg.norm(grads[int(np.argmin(vals))]) <= stationary.FIXED_TOL + 1e-12


@SETTINGS
@given(rho=st.floats(0.01, 0.99), lr=st.floats(0.01, 0.5), steps=st.integers(1, 20))
def test_easgd_double_well_stationary_point(rho, lr, steps):
    s = math.sqrt(1 - rho)
    x0 = np.array([[-s], [s]])
    res = simulate(objectives.DoubleWell(dim=1), algorithms.EASGD(lr=lr, alpha=lr * rho, period=1), workers=2,
                   steps=steps, x0=x0, record_every=steps)
    np.testing.assert_allclose(res.x, x0, rtol=0, atol=1e-12)        # a fixed point of the simulator's map
    assert abs(res.center[0]) < 1e-12
    grads = res.x[:, 0] ** 3 - res.x[:, 0]
    np.testing.assert_allclose(np.abs(grads), rho * s, rtol=1e-9)    # yet every worker's gradient is non-zero


def _spreads(obj, alg, p, steps, x0):
    res = simulate(obj, alg, workers=p, steps=steps, x0=x0, record_every=1,
                   monitor=lambda t, X, state, *_: {"x": X})
    X = res.monitor["x"]                                             # (T+1, p, d)
    lead = np.argmin(res.f, axis=1)
    dist = lambda k, j: np.linalg.norm(X[k] - X[k][j], axis=1).max()  # noqa: E731
    diam = np.array([np.linalg.norm(Xk[:, None] - Xk[None], axis=2).max() for Xk in X])
    spread = np.array([dist(k, lead[k]) for k in range(len(X))])
    same_index = np.array([dist(k + 1, lead[k]) for k in range(len(X) - 1)])
    return diam, spread, same_index


@SETTINGS
@given(p=st.integers(2, 6), d=st.integers(1, 4), pull=st.floats(0.0, 1.0), frac=st.floats(0.05, 1.0),
       cond=st.floats(1.0, 30.0), period=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_pulls_never_increase_the_diameter(p, d, pull, frac, cond, period, seed):
    """Deterministic quadratic, λ ≤ 1, η ≤ (2 − λ)/L: x_i − x_j ← ((1 − λ)I − ηA)(x_i − x_j) on pull steps and
    (I − ηA)(x_i − x_j) otherwise, both contractions; so the diameter and the spread to the *same* leader index
    never grow, and the spread to the current leader at most doubles (it can grow: see the documented
    counterexample in the stationary-points check)."""
    obj = objectives.Quadratic.random(dim=d, cond=cond, seed=seed)
    lr = frac * (2 - pull) / obj.L
    x0 = np.random.default_rng(seed).standard_normal((p, d))
    diam, spread, same = _spreads(obj, algorithms.LSGD(lr=lr, pull=pull, period=period), p, 12, x0)
    tol = 1e-12 * (1 + diam[0])
    assert np.all(np.diff(diam) <= tol)
    assert np.all(same <= spread[:-1] + tol)
    assert np.all(spread[1:] <= 2 * spread[:-1] + tol)


def test_spread_statement_as_given_fails_and_step_condition_is_needed():
    sc = stationary.spread_counterexample()
    assert sc["spread_after"] > 1.15 * sc["spread_before"]
    # η just above (2 − λ)/L: the diameter grows (the condition is tight).
    obj = objectives.Quadratic(A=np.array([[1.0]]))
    diam, _, _ = _spreads(obj, algorithms.LSGD(lr=2.05 - 0.5, pull=0.5, period=1), 3, 3,
                          np.array([[0.1], [1.0], [-2.0]]))
    assert diam[-1] > diam[0]

