"""The newton-alignment check (claim 5)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lsgdsim import objectives
from theory_checks import newton


@pytest.fixture(scope="module")
def newton_result():
    return newton.run(quick=True)


def test_newton_alignment(newton_result):
    r = newton_result
    m = r.measured
    assert r.verdict == "holds under conditions"
    assert m["small_lambda_condition_holds"] and m["large_angle_condition_holds"]
    assert m["cells_half_fails"] > 0 and m["cells_half_holds"] > m["cells_half_fails"]
    assert m["min_exact_small_lambda_limit"] > 0.5
    assert m["max_abs_error_vs_small_lambda_limit"] < 0.04
    for worst in m["worst_failures (kappa, d, angle_deg, lambda/lambda_min, fraction)"]:
        assert worst[2] < 20 and worst[3] > 1e-3                    # failures: small angle, not-small λ
    for ind in m["indefinite"]:
        assert ind["share"][0] == pytest.approx(ind["small_R_limit"], abs=0.06)   # R → 0: share of directions
        assert ind["share"][-1] > 0.5                                            # R → ∞: almost all
        assert ind["R_half"] is not None and ind["R_half"] >= 0.3


def test_newton_sublevel_samples_are_uniform():
    rng = np.random.default_rng(0)
    q = objectives.Quadratic.random(dim=3, cond=20.0, seed=3)
    e = rng.standard_normal(3)
    W = newton.sample_sublevel(q.A, e, 40000, rng)
    level = np.einsum("ij,jk,ik->i", W + e, q.A, W + e) / (e @ q.A @ e)   # (z−x*)ᵀA(z−x*) / c²
    assert level.max() <= 1 + 1e-12                                          # inside {f(z) ≤ f(x)}
    assert np.mean(level <= 0.25) == pytest.approx(0.5 ** 3, abs=0.01)       # volume of the half-size ellipsoid


def test_newton_check_fails_if_the_simulated_step_is_not_the_analysed_direction(monkeypatch):
    """The map is about LSGD's step: a simulator whose pull points away from the leader fails the check."""
    from lsgdsim.algorithms import LSGD
    assert newton.simulator_direction_error(np.random.default_rng(0), trials=5) < 1e-10
    orig = LSGD.step

    def flipped(self, X, state, inp):
        X_sgd, _ = self.local_step(X, state, replace(inp, grads=inp.grads.copy()))
        X_new, st, ev = orig(self, X, state, inp)
        return X_sgd - (X_new - X_sgd), st, ev

    monkeypatch.setattr(LSGD, "step", flipped)
    assert newton.simulator_direction_error(np.random.default_rng(0), trials=5) > 1e-3
    assert newton.run(quick=True, seed=0).verdict == "fails"

