"""The period-rate check (reviewer 2: how τ affects LSGD's rate and its constant)."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import mutated

from lsgdsim import algorithms, leaders
from lsgdsim.schedules import InverseTime
from theory_checks import period_rate
from theory_checks._convex import constant_boot, log_tail
from theory_checks._rate_runs import eigen_start, sgd_expected_gap
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("period-rate")


def test_verdict_and_numbers(record):
    m = record.measured
    assert record.verdict == "holds under conditions"          # the constant keeps the benefit only with λ·τ fixed
    first = m["rate"]["fixed"]["1"]
    assert first["ratio_ci"][1] < 0.6                           # a strong leader benefit at τ = 1
    assert m["over_random"]["ci"][0] > 0                        # ... and the leader beats a random one
    taus = list(m["kept"]["scaled"])
    assert taus == ["1", "4", "16"]
    assert all(m["kept"]["scaled"][t] >= 0.8 for t in taus)     # λ·τ fixed keeps it ...
    assert m["kept"]["fixed"]["16"] < period_rate.KEEP          # ... λ fixed per communication loses most of it
    fixed = [m["rate"]["fixed"][t]["C"] for t in taus]
    assert fixed == sorted(fixed)                               # weaker pull per step → larger constant
    assert all(r["ci"][1] <= period_rate.SLOPE_TOL for by in m["rate"].values() for r in by.values())
    assert m["benefit_exponent"]["fixed"] < -0.3 < m["benefit_exponent"]["scaled"]
    ex = m["excess"]           # C(16)/C(1) − 1 over the first half of the run and over the whole run
    assert ex["fixed"]["T"] > 0.8 * ex["fixed"]["T/2"] > 0.5         # λ fixed: the leading constant changes
    assert ex["localsgd"]["T"] < 0.7 * ex["localsgd"]["T/2"]         # local SGD: a transient (Stich's τ²/T)
    assert ex["scaled"]["T"] < 0.7 * ex["scaled"]["T/2"]             # λ·τ fixed: a transient too


def test_sgd_constant_matches_the_exact_expectation(record):
    """The simulated SGD constant agrees with the exact E gap of SGD (variance recursion) within 5%."""
    s = record.setting
    pr = period_rate.problem(s["seed"])
    exact = sgd_expected_gap(*eigen_start(pr["obj"], pr["x0"]), s["a"], s["b"], period_rate.NOISE, s["steps"])
    steps = np.asarray(record.arrays["steps"])
    idx = log_tail(steps)
    c_exact = float(np.median(steps[idx] * exact[steps[idx]]))
    assert record.measured["sgd"]["C"] == pytest.approx(c_exact, rel=0.05)


def test_local_sgd_at_period_one_has_the_linear_speedup(record):
    """LocalSGD with τ = 1 is mini-batch SGD over p workers: its constant is about C_SGD/p (plus the spread of
    the workers within a step)."""
    ratio = record.measured["localsgd"]["1"]["ratio_to_sgd"]
    assert 1 / period_rate.WORKERS * 0.8 < ratio < 1 / period_rate.WORKERS * 1.6


def test_controls_are_in_the_record(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    right = record.measured["rate"]["fixed"]["1"]["ratio_to_sgd"]
    assert c["worst"]["rate"]["fixed"]["1"]["ratio_ci"][1] >= 1      # the worst leader does not beat SGD
    assert right < c["random"]["rate"]["fixed"]["1"]["ratio_to_sgd"] < 1   # a random one keeps part of it
    # the verdict's random-leader reference is the random control's τ = 1 run (not run twice)
    ref, rand = record.measured["over_random"], c["random"]["rate"]["fixed"]["1"]
    assert ref["random_ratio_to_sgd"] == rand["ratio_to_sgd"]
    assert ref["estimate"] == pytest.approx(rand["C"] / record.measured["rate"]["fixed"]["1"]["C"] - 1)


def test_random_reference_is_measured_in_every_mode(monkeypatch):
    """The random leader at τ = 1 runs with the controls off or a control installed; with the controls on it is the
    random control's run (τ = 1 and the largest τ), not a second one."""
    calls = []
    monkeypatch.setattr(period_rate, "rate_grid", lambda pr, ps, rule, *a, **k: calls.append((ps, rule)) or ({}, {}))

    def runs(modes):
        calls.clear()
        out = period_rate.control_runs({}, (1, 4, 16), modes, 8, 100, 0, None, None)
        return list(out), [ps for ps, _ in calls], [type(rule) for _, rule in calls]
    assert runs(()) == (["random"], [(1,)], [leaders.Random])
    assert runs(("random", "worst")) == (["random", "worst"], [(1, 16), (1, 16)], [leaders.Random, leaders.Worst])


def test_worst_leader_makes_the_check_fail():
    rec = run_check("period-rate", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert rec.measured["rate"]["fixed"]["1"]["ratio_ci"][1] >= 1
    assert rec.measured["over_random"]["ci"][1] < 0                 # a random leader does better


@pytest.mark.parametrize("leader", ["random", "mid"])
def test_a_leader_no_better_than_random_makes_the_check_fail(record, leader):
    """With a random or mid-ranked leader installed the pull still beats SGD, but not a random leader: fails."""
    rec = run_check("period-rate", quick=True, leader=leader, controls=False)
    assert rec.verdict == "fails" and not rec.controls
    m = rec.measured
    assert m["rate"]["fixed"]["1"]["ratio_ci"][1] < 1                 # the benefit over SGD alone is still there
    assert m["over_random"]["ci"][0] <= 0
    # the same random-leader reference as in the right leader's run
    assert m["over_random"]["random_ratio_to_sgd"] == record.measured["over_random"]["random_ratio_to_sgd"]
    if leader == "random":                                            # random against itself: the same run
        assert m["over_random"]["estimate"] == 0 and m["over_random"]["ci"] == [0, 0]
    else:
        assert m["over_random"]["ci"][1] < 0                           # mid-ranked: worse than a random leader


def test_pull_mutations(monkeypatch):
    """A flipped pull destroys the benefit (and the rate); a pull toward each run's own mean instead of the
    leader keeps part of it, less than the leader (the mean is taken within each replica run: a mean over
    all stacked rows, the old mutant, coupled the replicas and looked better than the leader)."""
    pr = period_rate.problem(0)
    rng = np.random.default_rng(0)
    st, sgd = period_rate.plain_gaps(pr, lambda: algorithms.SGD(lr=InverseTime(pr["a"], pr["b"])), 8, 600, 1, True)
    ref = (float(np.median(constant_boot(st, sgd, rng, n_boot=200))), constant_boot(st, sgd, rng, n_boot=200))
    run = lambda: period_rate.rate_grid(pr, (1,), leaders.Exact(), 8, 600, 0, rng, ref)[0]["fixed"][1]  # noqa: E731
    good = run()
    assert good["ratio_ci"][1] < 1
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("mean"))
    mean = run()
    assert good["ratio_to_sgd"] < mean["ratio_to_sgd"] < 1 and mean["ratio_ci"][1] < 1
    monkeypatch.undo()                                   # mutate the real rule, not the mean-pull mutant
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("flip"))
    bad = run()
    assert bad["ratio_ci"][0] > 1 and bad["slope"] > period_rate.SLOPE_TOL


def test_contraction_pull_is_tau_pulls_and_valid():
    sched = period_rate.ContractionPull(a=0.5, b=1.0, tau=3)
    c = 0.5 / (1.0 + 4)
    assert sched(4) == pytest.approx(1 - (1 - c) ** 3)
    lo, hi = sched.bounds()
    assert lo == 0 and hi == pytest.approx(1 - 0.75 ** 3) and hi <= 1
    algorithms.LSGD(lr=0.1, pull=sched, period=3).validate(4, 2)      # an accepted schedule


def test_verdict_rule_on_edited_records(record):
    """The rule reads the record: no benefit at τ = 1, a leader not significantly better than a random one, or λ·τ
    fixed losing the benefit, fails; both pulls keeping it holds."""
    from copy import deepcopy
    rec = deepcopy(record)
    rec.measured["kept"]["fixed"] = {t: 0.9 for t in rec.measured["kept"]["fixed"]}
    assert period_rate.verdict(rec) == "holds"
    rec.measured["kept"]["scaled"]["16"] = 0.3
    assert period_rate.verdict(rec) == "fails"
    rec = deepcopy(record)
    rec.measured["rate"]["fixed"]["1"]["ratio_ci"] = [0.9, 1.05]
    assert period_rate.verdict(rec) == "fails"
    rec = deepcopy(record)
    rec.measured["over_random"].update(estimate=0.1, ci=[-0.02, 0.2])    # better on average, not significantly
    assert period_rate.verdict(rec) == "fails"
    rec.measured["over_random"]["ci"] = [0.01, 0.2]
    assert period_rate.verdict(rec) == "holds under conditions"


def test_tau_fits_recover_a_power_law():
    fits = period_rate.tau_fits({1: 2.0, 4: 2.0 * 4 ** 0.5, 16: 2.0 * 16 ** 0.5})
    assert fits["power"]["gamma"] == pytest.approx(0.5) and fits["power"]["C1"] == pytest.approx(2.0)
    assert fits["power"]["max_rel_resid"] < 1e-12 and fits["linear"]["max_rel_resid"] > 0.01
