"""The newton-alignment check (claim 5): the whole-space map, its controls, and the geometry it rests on."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lsgdsim import objectives
from theory_checks import _newton as geo
from theory_checks import newton
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def newton_record(quick_record):
    return quick_record("newton-alignment")


def test_newton_alignment(newton_record):
    rec = newton_record
    ws, ip = rec.measured["whole_space"], rec.measured["in_plane"]
    assert rec.verdict == "fails"                                  # the large-angle condition fails off the plane
    assert ws == newton.judge_map(rec, "space") and ip == newton.judge_map(rec, "plane")   # pure, reloadable
    assert ws["small_lambda_condition_holds"] and not ws["large_angle_condition_holds"]
    assert ws["min_fraction_at_large_angles"] < 0.45                # clearly below ½ (n = 2000: CI ± 0.02)
    assert ws["cells_half_holds"] < ip["cells_half_holds"]
    # the in-plane reading (the earlier check) still says "holds under conditions", with its numbers
    assert ip["rule_verdict"] == "holds under conditions" and ip["min_fraction_at_large_angles"] > 0.9
    assert ip["min_limit"] == pytest.approx(0.535, abs=1e-3)       # the smallest grid angle, 1°, in plane
    A = rec.arrays
    frac = A["sublevel_plane"]
    _, hi = geo.clopper_pearson(np.round(np.nan_to_num(frac) * 2000), 2000)
    for _, i, j in zip(*np.nonzero(~np.isnan(frac) & (hi < 0.5)), strict=True):
        assert A["angles"][i] < 20 and A["lams"][j] > 1e-3            # in plane, failures: small θ, larger λ
    for ind in rec.measured["indefinite"]:
        assert ind["share_smallest_R"] == pytest.approx(ind["small_R_limit"], abs=0.06)   # R → 0: all directions
        assert ind["share_largest_R"] > 0.5 and ind["R_half"] is not None and ind["R_half"] >= 0.3


def test_small_lambda_limit_is_above_half_and_tends_to_half(newton_record):
    A, sl = newton_record.arrays, newton_record.measured["small_lambda"]
    assert sl["above_analytic_lower_bound"] and 0 < sl["max_distance_from_half_at_tiny_angle"] < 1e-3
    ok = ~np.isnan(A["space_limit_min"])
    assert np.all(A["space_limit_min"][ok] > 0.5)
    assert np.all(A["space_limit_min"][ok] <= A["sublevel_plane_limit"][ok] + 1e-12)   # the search starts in plane
    assert 0.5 < sl["min_limit_whole_space"] < 0.51 and sl["at_theta_deg"] <= 5
    a = newton.spectrum(100.0, 2)                                  # θ → 0: the limit tends to ½ at every x
    rng = np.random.default_rng(0)
    tiny = np.array([geo.small_lambda_limit(a, geo.random_at_angle(a, th, 4, rng)) for th in (0.1, 0.01, 0.001)])
    assert np.all(tiny > 0.5) and np.all(np.diff(tiny, axis=0) < 0) and np.all(tiny[-1] < 0.5 + 1e-3)


def test_whole_space_is_no_better_than_the_plane(newton_record):
    A = newton_record.arrays
    ok = ~np.isnan(A["space_fraction"])
    se = np.sqrt(0.25 / 2000)
    assert np.all(A["space_fraction"][ok] <= A["sublevel_plane"][ok] + 4 * se + 0.01)
    assert np.all(A["space_fraction"][ok] <= A["sublevel_random_median"][ok] + 4 * se + 0.01)
    c = newton_record.measured["issue_cell"]
    assert c["in_plane"] > 0.9 and c["random_x_min"] < 0.5 and c["worst_x_found"] < 0.5


def test_controls_are_in_the_record_and_fail(newton_record):
    c = newton_record.controls
    assert set(c) == {"random", "worst"}
    assert c["worst"]["rule_verdict"] == c["random"]["rule_verdict"] == "fails"
    assert c["worst"]["cells_half_holds"] == 0 and c["worst"]["min_limit"] < 0.5   # mirrored leaders: below ½
    assert c["random"]["min_limit"] == 0.5 and not c["random"]["small_lambda_condition_holds"]


def test_worst_leader_makes_the_check_fail():
    rec = run_check("newton-alignment", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls and rec.setting["candidates"] == "mirror"
    assert rec.measured["whole_space"]["cells_half_holds"] == 0


def test_check_fails_if_the_simulated_step_is_not_the_analysed_direction(newton_record, monkeypatch):
    """The map is about LSGD's step: a simulator whose pull points away from the leader fails the check,
    even where the maps alone would pass (here the in-plane maps, which pass under conditions)."""
    from lsgdsim.algorithms import LSGD
    A = newton_record.arrays
    plane_only = replace(newton_record, arrays={**A, "space_fraction": A["sublevel_plane"],
                                                "space_limit_min": A["sublevel_plane_limit"],
                                                "space_limit_at_worst": A["sublevel_plane_limit"]})
    assert newton.verdict(plane_only) == "holds under conditions"
    assert newton.simulator_direction_error(np.random.default_rng(0), trials=5) < 1e-10
    orig = LSGD.step

    def flipped(self, X, state, inp):
        X_sgd, _ = self.local_step(X, state, replace(inp, grads=inp.grads.copy()))
        X_new, st, ev = orig(self, X, state, inp)
        return X_sgd - (X_new - X_sgd), st, ev

    monkeypatch.setattr(LSGD, "step", flipped)
    err = newton.simulator_direction_error(np.random.default_rng(0), trials=5)
    assert err > 1e-3
    broken = replace(plane_only, measured={**plane_only.measured, "simulator_direction_rel_error": err})
    assert newton.verdict(broken) == "fails"


def test_figure_redraws_from_the_record(newton_record):
    import matplotlib.pyplot as plt
    fig = newton.figure(newton_record)
    assert len([ax for ax in fig.axes if ax.get_visible() and ax.has_data()]) >= 12   # 8 maps + 4 panels
    plt.close(fig)


# -- the geometry ----------------------------------------------------------------------------------
def test_sublevel_samples_are_uniform():
    rng = np.random.default_rng(0)
    q = objectives.Quadratic.random(dim=3, cond=20.0, seed=3)
    e = rng.standard_normal(3)
    W = geo.sample_sublevel(q.A, e, 40000, rng)
    level = np.einsum("ij,jk,ik->i", W + e, q.A, W + e) / (e @ q.A @ e)   # (z−x*)ᵀA(z−x*) / c²
    assert level.max() <= 1 + 1e-12                                          # inside {f(z) ≤ f(x)}
    assert np.mean(level <= 0.25) == pytest.approx(0.5 ** 3, abs=0.01)       # volume of the half-size ellipsoid


@pytest.mark.parametrize("kind", geo.CANDIDATES)
def test_fractions_match_explicit_angles(kind):
    """The interval formula in the eigenbasis equals counting explicit angles, on the same samples; and on a
    rotated quadratic with explicit candidate leaders z (independent samples) within sampling error."""
    rng = np.random.default_rng(1)
    q = objectives.Quadratic.random(dim=6, cond=30.0, seed=2)
    a, V = np.linalg.eigh(q.A)
    lams = np.geomspace(1e-3, 1e3, 7)
    E = geo.random_at_angle(a, 35.0, 3, rng)
    U = geo.uniform_ball(rng, 20000, 6)
    fast = geo.fractions(a, E, lams, U, kind)

    def explicit(A, e, W):
        g, d_n = A @ e, -e
        cos0 = d_n @ -g / np.linalg.norm(g)
        v = -g[None, None, :] + lams[:, None, None] * W[None]
        return np.mean(v @ d_n >= cos0 * np.linalg.norm(v, axis=2), axis=1)

    for k, e in enumerate(E):
        c = np.sqrt(e @ (a * e))
        W = {"sublevel": c * U / np.sqrt(a) - e, "mirror": e - c * U / np.sqrt(a), "ball": U}[kind]
        assert np.max(np.abs(explicit(np.diag(a), e, W) - fast[k])) <= 2 / len(U)
        x_e = V @ e                                                   # the same x in the original coordinates
        Wz = geo.sample_sublevel(q.A, x_e, 20000, rng)
        Wz = {"sublevel": Wz, "mirror": -Wz, "ball": geo.uniform_ball(rng, 20000, 6)}[kind]
        assert np.max(np.abs(explicit(q.A, x_e, Wz) - fast[k])) <= 4 * np.sqrt(0.25 / 20000) * np.sqrt(2)


def test_mirrored_leaders_are_worse_than_x():
    rng = np.random.default_rng(2)
    q = objectives.Quadratic.random(dim=4, cond=10.0, seed=1)
    x = q.minimizer + rng.standard_normal(4)
    W = geo.sample_sublevel(q.A, x - q.minimizer, 2000, rng)
    fx = q.value(x[None, :])[0]
    assert np.all(q.value(x + W) <= fx + 1e-12) and np.all(q.value(x - W) > fx)


@pytest.mark.parametrize("kind", geo.CANDIDATES)
def test_small_lambda_limit_matches_the_sample(kind):
    rng = np.random.default_rng(3)
    a = newton.spectrum(10.0, 5)
    E = geo.random_at_angle(a, 20.0, 4, rng)
    frac = geo.fractions(a, E, [1e-7], geo.uniform_ball(rng, 100000, 5), kind)[:, 0]
    np.testing.assert_allclose(frac, geo.small_lambda_limit(a, E, kind), atol=4 * np.sqrt(0.25 / 100000))
    if kind == "sublevel":
        assert np.all(geo.small_lambda_limit(a, E) >= geo.limit_lower_bound(a, 20.0))


def test_retraction_is_local_and_exact():
    rng = np.random.default_rng(4)
    a = newton.spectrum(100.0, 20)
    E = geo.random_at_angle(a, 50.0, 6, rng)
    assert np.allclose(geo.angle_deg(a, E), 50.0, atol=1e-9)
    moved = geo.retract(a, E + 0.01 * rng.standard_normal(E.shape) / np.sqrt(20), 50.0)
    assert np.allclose(geo.angle_deg(a, moved), 50.0, atol=1e-9)
    assert np.max(np.linalg.norm(moved - E, axis=1)) < 0.03
    assert geo.angle_deg(a, geo.widest_direction(a)[None])[0] == pytest.approx(geo.theta_max_deg(a), abs=1e-9)


def test_search_never_returns_worse_than_its_starts():
    rng = np.random.default_rng(5)
    a = newton.spectrum(10.0, 20)
    lams = np.array([1.0, 100.0])
    U = geo.uniform_ball(rng, 2000, 20)
    starts = geo.random_at_angle(a, 45.0, 6, rng)
    score = lambda E: geo.fractions(a, E, lams, U)                      # noqa: E731
    best, found = geo.worst_at_angle(score, a, 45.0, starts, rng, steps=4, per_step=3)
    assert np.all(found <= score(starts).min(axis=0)) and found[1] < 0.5
    np.testing.assert_allclose(np.diagonal(score(best)), found)
    assert np.allclose(geo.angle_deg(a, best), 45.0, atol=1e-9)
