"""The stochastic-leader check (claim 3)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.algorithms import LSGD
from lsgdsim.backend import RandomStreams
from lsgdsim.schedules import InverseTime
from theory_checks import _stochastic_leader as sl
from theory_checks import stochastic_leader
from theory_checks.pipeline import run_check


@pytest.fixture(scope="module")
def stochastic_result(quick_record):
    return quick_record("stochastic-leader")


def test_stochastic_leader_verdict_and_numbers(stochastic_result):
    r = stochastic_result
    assert r.verdict == "holds"
    m = r.measured
    ld = m["leader"]
    assert ld["ok"] and ld["choice_helps"] == ld["noisy_beats_nopull"] == m["configs"] == 7
    assert ld["min_choice_gain_z"] > 5 and ld["min_gain_over_nopull_z"] > 5      # not marginal
    kept = ld["kept_share_of_choice_gain"]                                         # σ_f = 0.01, 0.1, 1 come first
    assert kept[0] > 0.5 > kept[1] > kept[2] > -0.1       # a small σ_f keeps most of the choice, σ_f = 1 none of it
    assert m["bound_term_violations"] == 0 and m["total_bound_violations"] == 0
    assert 0 < m["max_excess_over_bound"] < 0.01                   # measurable, far below the bound
    b = m["binding_max_excess_over_bound"]
    assert b["skewed"] > b["noisy"] > 3 * m["max_excess_over_bound"]   # the binding try gets closer, still far
    assert not m["bound_falsifiable"] and m["max_excess_upper_over_bound"] < stochastic_leader.FALSIFIABLE
    assert 0 < m["constant_needed"] < 2 and m["constants_respected"] == {"4/m": True, "2/m": True}
    assert m["window_gain_over_nopull_min"] > 0 and 0 < m["window_max_excess_over_bound"] < 0.05
    rec = m["recovery"]
    assert rec["ok"] and rec["ci"][1] <= -0.9 and -1.2 < rec["slope"]
    assert rec["exact"]["ci"][1] <= -0.9 and 0.8 < rec["C_noisy_over_exact"] < 1.25
    e = m["exponents"]
    assert e["lam"]["mean"]["exponent"] is not None and e["lam"]["mean"]["exponent"] < 1.5
    assert e["sigma_f"]["mean"]["exponent"] is not None and e["sigma_f"]["mean"]["exponent"] < 1.0
    assert "not falsifiable in this range" in r.summary and len(r.summary) <= 220
    assert any("not falsifiable" in row["measured"] for row in stochastic_leader.key_numbers(r))


def test_controls_are_in_the_record(stochastic_result):
    c = stochastic_result.controls
    assert set(c) == {"random", "worst"}
    assert c["worst"]["leader"]["choice_helps"] == 0 and c["worst"]["leader"]["min_choice_gain_z"] < -5
    # A random leader IS the random pull (same run): the choice adds exactly nothing.
    assert c["random"]["leader"]["choice_helps"] == 0 and c["random"]["leader"]["min_choice_gain_z"] == 0
    rows = stochastic_result.details["control_rows"]["worst"]
    assert all(r["limit_exact"] > r["limit_random"] for r in rows)


def test_verdict_reads_the_record(stochastic_result):
    r = copy.deepcopy(stochastic_result)
    assert stochastic_leader.verdict(r) == "holds"
    r.measured["recovery"]["ok"] = False
    assert stochastic_leader.verdict(r) == "holds under conditions"
    r.measured["leader"]["ok"] = False
    assert stochastic_leader.verdict(r) == "fails"


def test_worst_leader_makes_the_check_fail():
    rec = run_check("stochastic-leader", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert rec.measured["leader"]["choice_helps"] == 0


def _base_rows():
    s = stochastic_leader
    size = s.SIZES[True]
    obj = objectives.Quadratic.random(dim=10, cond=10.0, mu=1.0, seed=3)
    limits = sl.Limits(obj, s.ETA, s.NOISE, size["S"], size["T"], size["burn"], lambda p, lam: 7)
    floor = 0.5 * s.ETA * obj.L / obj.mu * obj.dim
    return s.sweep_rows(limits, [s.BASE], None, obj.mu, floor, False, s.Progress())


def test_flipped_pulls_make_the_leader_part_fail(monkeypatch):
    assert stochastic_leader.leader_stats(_base_rows())["ok"]
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))
    with np.errstate(all="ignore"):
        stats = stochastic_leader.leader_stats(_base_rows())
    assert not stats["ok"] and stats["noisy_beats_nopull"] == 0      # pulled away: worse than no pull


def test_skewed_estimates_are_unbiased_with_variance_sigma_squared():
    rule = sl.Skewed(sigma=0.3, pi=0.8, group=4)
    f = np.array([0.0, 0.05, 0.1, 0.15, 1.0, 1.05, 1.2, 1.6])      # two groups of 4; δ = 0.15
    streams = RandomStreams(3, np, "float64")
    eps = np.array([rule.scores(None, lambda: f, streams) - f for _ in range(40000)])
    c = np.array([1, 1 / 3, -1 / 3, -1, 1, 1 / 3, -1 / 3, -1])
    np.testing.assert_allclose(eps.mean(axis=0), 0.0, atol=0.01)
    np.testing.assert_allclose(eps.var(axis=0), (c * 0.3) ** 2, rtol=0.05, atol=1e-4)
    wins = np.argmin((f + eps).reshape(-1, 2, 4), axis=2)
    assert np.mean(wins[:, 0] == 3) == pytest.approx(0.8, abs=0.01)   # spread < 2δ: the worst leads w.p. π
    assert np.mean(wins[:, 1] == 3) == 0                             # a larger gap is not overturned


def test_theory_pull_is_eta_times_a_decaying_lambda():
    a, b, lam = 2.0, 20.0, 2.0
    pull = sl.TheoryPull(a, b, lam)
    for t in (1, 10, 1000):
        assert pull(t) == pytest.approx(InverseTime(a, b)(t) * lam * b / (b + t))
    assert pull.bounds() == (0.0, pull(1))
    assert pull(2000) / pull(1000) == pytest.approx(((b + 1000) / (b + 2000)) ** 2)   # ∝ 1/t²
    obj = objectives.Quadratic(A=np.diag([1.0, 2.0]))
    simulate(obj, algorithms.LSGD(lr=InverseTime(a, b), pull=pull, period=1), workers=2, steps=3)  # valid hyper


@pytest.mark.parametrize("make, name", [(lambda: sl.Skewed(sigma=-1.0), "Skewed sigma"),
                                        (lambda: sl.Skewed(pi=1.0), "Skewed pi"),
                                        (lambda: sl.Skewed(group=1), "Skewed group"),
                                        (lambda: sl.TheoryPull(0.0, 20.0, 2.0), "TheoryPull a"),
                                        (lambda: sl.TheoryPull(2.0, 20.0, -1.0), "TheoryPull lam")])
def test_bad_parameters_are_named(make, name):
    with pytest.raises(ValueError, match=name):
        make()
