"""The one-step check (claim 1): pinned verdict and numbers, the leader's extra decrease and its controls,
mutation tests, PEPit over the whole class (skipped without PEPit), property tests of the inequality."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from mutations import flip_every_pull

from lsgdsim import objectives
from lsgdsim.algorithms import LSGD
from lsgdsim.leaders import Exact
from theory_checks import _one_step_pep as pep
from theory_checks import _one_step_sim as sim
from theory_checks import one_step
from theory_checks._one_step_exact import adversarial_pair, eta_bound, eta_star
from theory_checks.controls import leader_rule
from theory_checks.pipeline import run_check

needs_pep = pytest.mark.skipif(not pep.available(), reason="PEPit/cvxpy not installed (the optional 'pep' extra)")


@pytest.fixture(scope="module")
def one_step_result(quick_record):
    return quick_record("one-step")


# -- pinned verdicts and sanity of the measured numbers --------------------------------------------
def test_one_step_verdict_and_numbers(one_step_result):
    r = one_step_result
    assert r.verdict == "holds under conditions"
    m = r.measured
    assert m["violations_inside_derived_bound"] == {"worst": 0, "iso": 0}
    assert m["c1_max_over_all"] < 0                              # the inequality always holds for small η
    assert m["eta_star_over_bound"]["min"] >= 1.0                # η_B ≤ η* (proved in the docstring)
    assert m["eta_emp_random_over_bound"]["min"] >= 1.0
    assert m["eta_emp_random_over_star_min"] >= 1 - 1e-9         # no random sample beats the exact worst case
    assert m["bisection_vs_eta_star_max_rel_diff"] < 1e-6
    assert m["problems_failing_at_1.05_eta_star"] == m["quadratic_problems"]
    assert m["simulator_ok"] and m["simulator_det_rel_err_max"] < 1e-9
    assert m["simulator_z_scores_max_abs"] < sim.Z_SIM
    assert m["misread_pull_rel_err_min"] > 0.05                  # pull λ ≠ η·λ: a different step
    assert m["logistic_inside_bound_not_shown_to_hold"] == 0
    assert m["examples_as_documented"] == len(one_step.EXAMPLES)
    assert len(r.summary) <= 220 and len(r.claim) <= 170 and len(r.reading) <= 320


def test_the_leaders_extra_decrease_is_there(one_step_result):
    part = one_step_result.measured["leader_part"]
    assert one_step.leader_ok(part)
    for s in part.values():
        assert s["workers"] >= 14 and s["hypothesis_violations"] == s["band_violations"] == 0
        assert s["negative_extra_decrease"] == 0 and s["share_negative"] == 0.0
        assert 0.3 < s["realized_over_predicted_min"] <= s["realized_over_predicted_median"] < 10
    assert part["quadratic"]["simulator_vs_closed_rel_err_max"] < one_step.EXTRA_TOL


def test_controls_are_in_the_record_and_lose_the_extra_decrease(one_step_result):
    c = one_step_result.controls
    assert set(c) == {"random", "worst"}
    worst, rand = c["worst"]["leader_part"], c["random"]["leader_part"]
    assert not one_step.leader_ok(worst) and not one_step.leader_ok(rand)
    for s in worst.values():                                     # the worst worker leads: worse than every x
        assert s["hypothesis_violations"] == s["workers"]
        assert s["negative_extra_decrease"] > 0 and s["band_violations"] == 0   # the band holds for any z
    assert 0 < rand["quadratic"]["hypothesis_violations"] < rand["quadratic"]["workers"]
    arr = one_step_result.arrays
    assert {f"extra__{mode}__quadratic__delta" for mode in ("right", "random", "worst")} <= set(arr)


def test_worst_leader_makes_the_check_fail():
    rec = run_check("one-step", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert not one_step.leader_ok(rec.measured["leader_part"])
    assert "not there" in rec.summary
    assert one_step.key_numbers(rec)[1]["measured"] == "— / —"   # no worker has a valid leader to compare with


def test_leader_rule_of_the_verdict():
    ok = {"workers": 7, "hypothesis_violations": 0, "band_violations": 0, "negative_extra_decrease": 0,
          "simulator_vs_closed_rel_err_max": 1e-12}
    assert one_step.leader_ok({"quadratic": ok, "logistic": ok})
    for key in ("hypothesis_violations", "band_violations", "negative_extra_decrease"):
        assert not one_step.leader_ok({"quadratic": ok, "logistic": {**ok, key: 1}})
    assert not one_step.leader_ok({"quadratic": {**ok, "simulator_vs_closed_rel_err_max": 1e-3}, "logistic": ok})


def test_record_redraws_and_reports_without_pepit(one_step_result):
    """A record whose PEPit part was skipped (no extra installed) still judges, reports and draws."""
    import matplotlib.pyplot as plt
    rec = one_step_result.normalized()
    rec.measured["pep"] = {"available": False, "reason": "not installed"}
    rec.details["pep_cases"] = []
    assert one_step.verdict(rec) == one_step_result.verdict
    assert "skipped" in one_step.summary(rec)
    rows = one_step.key_numbers(rec)
    assert len(rows) <= 5 and rows[-1]["measured"] == "skipped"
    assert all(len(str(v)) <= 40 for row in rows for k, v in row.items() if k != "quantity")
    plt.close(one_step.figure(rec))


def test_study_skips_cleanly_without_pepit(monkeypatch):
    monkeypatch.setattr(pep, "available", lambda: False)
    out = pep.study(quick=True)
    assert out == {"available": False, "reason": out["reason"]} and "pep" in out["reason"]


# -- PEPit: the exact threshold over the whole class ----------------------------------------------
@needs_pep
def test_pepit_record_agrees_with_eta_star(one_step_result):
    p = one_step_result.measured["pep"]
    assert p["available"] and p["all_agree"] and not p["any_below_bound"]
    assert p["max_rel_diff"] <= pep.AGREE_TOL and p["solver"]["solver"] in ("CLARABEL", "SCS")
    case = one_step_result.details["pep_cases"][0]
    assert case["W_at_0.999_star"] <= pep.VALUE_TOL < case["W_at_1.001_star"]


@needs_pep
@pytest.mark.parametrize("m, M, lam", [(1.0, 10.0, 5.0), (0.1, 10.0, 1.0), (0.5, 1.0, 2.0)])
def test_pepit_worst_case_changes_sign_at_eta_star(m, M, lam):
    """Over all m-strongly convex M-smooth f: no violation just below η*, a violation just above."""
    es = eta_star(m, M, lam)
    assert pep.worst_case(m, M, lam, 0.99 * es)[0] <= pep.VALUE_TOL
    assert pep.worst_case(m, M, lam, 1.01 * es)[0] > 100 * pep.VALUE_TOL
    assert pep.worst_case(m, M, lam, eta_bound(m, M, lam))[0] <= pep.VALUE_TOL


@needs_pep
def test_pepit_bisection_finds_eta_star():
    out = pep.largest_eta(1.0, 4.0, 0.5)
    assert out["agrees"] and abs(out["eta_pep"] / out["eta_star"] - 1) <= pep.AGREE_TOL
    assert out["bracket"][0] <= out["eta_star"] * (1 + pep.AGREE_TOL)


# -- mutation sensitivity -------------------------------------------------------------------------
def _flipped_step(orig):
    def step(self, X, state, inp):
        X_new, st_, ev = orig(self, X, state, inp)
        if ev and "leader" in ev and self.groups == 1:
            pull = state.hyper["pull"].at(inp.t)
            X_new = X_new + 2 * pull * (X - X[ev["leader"]][None, :])   # x ← x − ηg + λ(x − z)
        return X_new, st_, ev
    return step


def test_flipped_leader_term_fails_one_step(monkeypatch):
    agree = sim.simulator_agreement(np.random.default_rng(0), 500, 0)
    assert agree["ok"]
    monkeypatch.setattr(LSGD, "step", _flipped_step(LSGD.step))
    bad = sim.simulator_agreement(np.random.default_rng(0), 500, 0)
    assert not bad["ok"] and bad["det_rel_err_max"] > 1e-6


def test_flipped_pull_breaks_the_extra_decrease(monkeypatch):
    configs = sim.leader_configs(6, np.random.default_rng(1))
    good = sim.extra_decrease_quadratic(configs, Exact(), 0)["stats"]
    assert good["band_violations"] == good["negative_extra_decrease"] == 0
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))
    bad = sim.extra_decrease_quadratic(configs, Exact(), 0)["stats"]
    assert bad["band_violations"] > 0 and bad["negative_extra_decrease"] > 0
    assert bad["simulator_vs_closed_rel_err_max"] > 1e-3
    logi = sim.extra_decrease_logistic(Exact(), 0, 200)["stats"]    # the multi-group (replica) path too
    assert logi["band_violations"] > 0


def test_flipped_leader_term_changes_verdict(monkeypatch):
    monkeypatch.setattr(LSGD, "step", _flipped_step(LSGD.step))
    monkeypatch.setattr(one_step, "quadratic_study", _tiny_quadratic_study(one_step.quadratic_study))
    monkeypatch.setattr(pep, "available", lambda: False)
    rec = run_check("one-step", quick=True, controls=False)
    assert rec.verdict == "fails"


def _tiny_quadratic_study(orig):
    def study(n_problems, n_samples, rng, quick):
        return orig(4, 20, rng, quick)
    return study


# -- the band of the extra decrease holds for any f of the class and any z -------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), lam_over_m=st.floats(0.01, 100.0), frac=st.floats(0.01, 1.0),
       kind=st.sampled_from(["quadratic", "logistic"]), z_scale=st.floats(0.01, 3.0))
def test_extra_decrease_band_holds_for_any_leader(seed, lam_over_m, frac, kind, z_scale):
    """Noiseless, exact: Δ = f(x − η∇f) − f(x − η(∇f + λ(x − z))) lies in the derived band, for z better or worse."""
    rng = np.random.default_rng(seed)
    obj = (objectives.Quadratic.random(dim=4, cond=float(10 ** rng.uniform(0, 2)), seed=seed % 2**31)
           if kind == "quadratic" else objectives.LogisticRegression(n_samples=60, dim=3, reg=0.1, seed=seed % 1000))
    m, M = obj.mu, obj.L
    lam = lam_over_m * m
    eta = frac * eta_star(m, M, lam)
    x = obj.minimizer + rng.standard_normal(obj.dim)
    z = x + z_scale * rng.standard_normal(obj.dim)
    fx, g = (np.asarray(v)[0] for v in obj.value_and_grad(x[None]))
    fz = float(obj.value(z[None])[0])
    y = x - eta * g
    w = y - eta * lam * (x - z)
    delta = float(obj.value(y[None])[0] - obj.value(w[None])[0])
    T = eta * lam * (fx - fz)
    lo, hi = sim.extra_decrease_band(eta, lam, m, M, g[None], (x - z)[None], np.array([T]))
    tol = 1e-9 * (abs(T) + hi[0] - lo[0]) + 1e-13 * abs(fx)
    assert lo[0] - tol <= delta <= hi[0] + tol


def test_random_leader_is_drawn_per_replica():
    """With a random leader the logistic study sees different leaders across replicas (T is an average)."""
    out = sim.extra_decrease_logistic(leader_rule(Exact(), "random"), 0, 400)
    assert not out["arrays"]["leader"].any()                 # no worker leads in every replica
    assert out["stats"]["hypothesis_violations"] > 0


# -- property tests: the one-step inequality, exact expectation ------------------------------------
def _problem(eigs, seed):
    eigs = np.sort(np.asarray(eigs, dtype=float))
    d = len(eigs)
    rng = np.random.default_rng(seed)
    q, r_ = np.linalg.qr(rng.standard_normal((d, d)))
    Q = q * np.sign(np.diag(r_))
    A = (Q * eigs) @ Q.T
    A = 0.5 * (A + A.T)
    xs = rng.standard_normal(d)
    return A, xs, float(eigs[0]), float(eigs[-1]), Q[:, -1], rng


def _expected_gap_after_step(A, xs, x, z, eta, lam, cov_trace):
    """E f(x⁺) − f* for f = ½(x − x*)ᵀA(x − x*) and Gaussian noise with tr(AΣ) = cov_trace (independent code)."""
    xbar = x - eta * (A @ (x - xs) + lam * (x - z))
    e = xbar - xs
    return 0.5 * e @ A @ e + 0.5 * eta**2 * cov_trace


def _gap(A, xs, y):
    e = y - xs
    return 0.5 * e @ A @ e


def _leader(A, xs, x, rng, frac):
    """A z with f(z) ≤ f(x): z = x + ρu on a random descent direction u, ρ = frac · (sublevel length)."""
    g = A @ (x - xs)
    u = rng.standard_normal(len(x))
    if g @ u > 0:
        u = -u
    rho = frac * (-2 * (g @ u) / (u @ A @ u))
    return x + rho * u


eig_lists = st.lists(st.floats(0.01, 100.0), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(eigs=eig_lists, seed=st.integers(0, 2**31 - 1), lam_over_m=st.floats(0.0, 1e3),
       frac=st.floats(1e-3, 1.0), leader_frac=st.floats(0.0, 1.0), log_sigma2=st.floats(-4, 4),
       scale=st.floats(1e-2, 1e2), noise=st.sampled_from(["iso", "worst"]))
@example(eigs=[1.0, 1.0], seed=0, lam_over_m=1.0, frac=1.0, leader_frac=1.0, log_sigma2=0.0, scale=1.0,
         noise="worst")                                            # κ = 1, λ = m: η_B = η*, the tight case
def test_one_step_inequality_inside_derived_range(eigs, seed, lam_over_m, frac, leader_frac, log_sigma2, scale,
                                                  noise):
    A, xs, m, M, v_top, rng = _problem(eigs, seed)
    lam = lam_over_m * m
    eta = frac * eta_bound(m, M, lam)
    x = xs + scale * rng.standard_normal(len(eigs))
    z = _leader(A, xs, x, rng, leader_frac)
    fx, fz = _gap(A, xs, x), _gap(A, xs, z)
    assert fz <= fx * (1 + 1e-9)
    sigma2 = 10.0**log_sigma2
    cov_trace = sigma2 * np.trace(A) / len(eigs) if noise == "iso" else sigma2 * (v_top @ A @ v_top)
    lhs = _expected_gap_after_step(A, xs, x, z, eta, lam, cov_trace)
    rhs = (1 - m * eta) * fx - eta * lam * (fx - fz) + 0.5 * eta**2 * M * sigma2
    assert lhs <= rhs + 1e-9 * (abs(lhs) + abs(rhs) + fx)


@settings(max_examples=100, deadline=None)
@given(eigs=eig_lists, seed=st.integers(0, 2**31 - 1), lam_over_m=st.floats(0.0, 1e3),
       frac=st.floats(1e-3, 1.0), leader_frac=st.floats(0.0, 1.0), scale=st.floats(1e-2, 1e2))
def test_one_step_inequality_up_to_exact_threshold(eigs, seed, lam_over_m, frac, leader_frac, scale):
    """The sharper threshold derived in the check: η ≤ η* = 1/(λ + M²/(2M − m)), worst-case noise."""
    A, xs, m, M, _, rng = _problem(eigs, seed)
    lam = lam_over_m * m
    eta = frac * eta_star(m, M, lam)
    x = xs + scale * rng.standard_normal(len(eigs))
    z = _leader(A, xs, x, rng, leader_frac)
    fx, fz = _gap(A, xs, x), _gap(A, xs, z)
    lhs = _expected_gap_after_step(A, xs, x, z, eta, lam, M)       # σ² = 1 on the top eigenvector
    rhs = (1 - m * eta) * fx - eta * lam * (fx - fz) + 0.5 * eta**2 * M
    assert lhs <= rhs + 1e-9 * (abs(lhs) + abs(rhs) + fx)


@settings(max_examples=60, deadline=None)
@given(eigs=eig_lists, lam_over_m=st.floats(0.0, 1e3), over=st.floats(1.01, 10.0))
def test_exact_threshold_is_sharp(eigs, lam_over_m, over):
    """Just beyond η*, the adversarial pair (a valid leader) violates the inequality."""
    eigs = np.sort(np.asarray(eigs))
    assume(eigs[-1] > 0)
    A, m, M = np.diag(eigs), float(eigs[0]), float(eigs[-1])
    lam = lam_over_m * m
    e, dl = adversarial_pair(A, m, M)
    xs = np.zeros(len(eigs))
    x, z = e, e - dl
    assert _gap(A, xs, z) <= _gap(A, xs, x)
    eta = over * eta_star(m, M, lam)
    fx, fz = _gap(A, xs, x), _gap(A, xs, z)
    lhs = _expected_gap_after_step(A, xs, x, z, eta, lam, M)
    rhs = (1 - m * eta) * fx - eta * lam * (fx - fz) + 0.5 * eta**2 * M
    assert lhs > rhs


def test_counterexample_to_eta_le_one_over_M_reading_is_documented():
    """Hypothesis searches the plausible reading 'η ≤ 1/M suffices'; a counterexample exists and the kind
    found is kept in one_step.EXAMPLES (re-evaluated by the check)."""
    from hypothesis import find

    def violates(params):
        eig_hi, lam_over_M = params
        eigs = np.array([1.0, eig_hi])
        A, m, M = np.diag(eigs), 1.0, float(eig_hi)
        lam = lam_over_M * M
        e, dl = adversarial_pair(A, m, M)
        eta = 1.0 / M
        fx, fz = _gap(A, np.zeros(2), e), _gap(A, np.zeros(2), e - dl)
        lhs = _expected_gap_after_step(A, np.zeros(2), e, e - dl, eta, lam, M)
        return lhs > (1 - m * eta) * fx - eta * lam * (fx - fz) + 0.5 * eta**2 * M

    found = find(st.tuples(st.floats(1.0, 100.0), st.floats(0.0, 1.0)), violates,
                 settings=settings(max_examples=500, database=None))
    assert violates(found)
    documented = [ex for ex in one_step.EXAMPLES if ex["eta_over"][0] == "inv_M"]
    assert documented and all(one_step.evaluate_example(ex)["outcome"] == "violated" for ex in documented)


def test_documented_examples_kept_and_reproduced(one_step_result):
    names = [e["name"] for e in one_step_result.details["examples"]]
    assert names == [ex["name"] for ex in one_step.EXAMPLES]
    for ex in one_step.EXAMPLES:
        out = one_step.evaluate_example(ex)
        assert out["as_documented"], out


def test_documented_violation_reproduced_by_simulator():
    """The 'η ≤ 1/M' counterexample with the simulator's LSGD (noiseless: the worst-case noise term cancels)."""
    ex = next(ex for ex in one_step.EXAMPLES if ex["eta_over"][0] == "inv_M")
    eigs = np.asarray(ex["eigs"])
    A, m, M, lam = np.diag(eigs), eigs.min(), eigs.max(), ex["lam"]
    obj = objectives.Quadratic(A)
    e, dl = adversarial_pair(A, m, M)
    eta = 1.0 / M
    f_plus = sim.simulate_one_step(obj, e, e - dl, eta, lam, 1, 0.0, seed=0)[0]
    fx, fz = _gap(A, np.zeros(2), e), _gap(A, np.zeros(2), e - dl)
    assert f_plus > (1 - m * eta) * fx - eta * lam * (fx - fz)

