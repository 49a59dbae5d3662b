"""The saddle-escape check (reviewer 2: are LSGD's workers attracted to saddles, like Newton's iterates?)."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import flip_every_pull, mutated

from lsgdsim import algorithms, simulate
from theory_checks import saddle_escape as se
from theory_checks.pipeline import run_check
from theory_checks.progress import Progress


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("saddle-escape")


def test_the_leaders_pull_speeds_the_escape(record):
    sad = record.measured["saddles"]
    assert record.verdict == "holds" and list(sad) == [s.label for s in se.SADDLES]
    for label, s in sad.items():
        assert len(s["negative_curvatures"]) == 1, label                 # strict saddles, one escape direction
        main = s["lsgd"][f"{se.MAIN:g}"]
        assert main["ratio_all"] <= 0.85 and main["never_escaped"] == 0, label
        assert 0.9 <= main["ratio_first"] <= 1.1, label                  # the leader itself takes SGD steps
        assert s["sgd"]["t_all_median"] > 1.2 * s["sgd"]["t_first_median"], label
        assert s["easgd"]["0.05"]["ratio_first"] > 1.1, label           # the center holds the first one back
        pc = main["pull_curvature"]
        assert pc["pulls"] > 500 and pc["outward_share"] > 0.6 and pc["negative_share"] > 0.5, label


def test_leader_pulls_are_not_uniform_candidates(record):
    """Newton-alignment's candidate leaders rarely have negative-curvature displacement; actual leaders mostly do."""
    quad = record.measured["saddles"]["indefinite quadratic"]
    ref = quad["newton_candidates"]
    assert ref["relative_radius"] == quad["lsgd"][f"{se.MAIN:g}"]["pull_curvature"]["median_relative_radius"]
    assert ref["ci95"][1] < 0.2 < 0.5 < quad["lsgd"][f"{se.MAIN:g}"]["pull_curvature"]["negative_share"]


def test_controls_are_in_the_record(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    for label in record.measured["saddles"]:
        worst = c["worst"]["saddles"][label]
        assert worst["ratio_all"] >= se.SLOW and worst["pull_curvature"]["outward_share"] < 0.1, label
        assert c["random"]["saddles"][label]["pull_curvature"]["outward_share"] < 0.5, label


def test_worst_leader_makes_the_check_fail():
    rec = run_check("saddle-escape", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert min(s["lsgd"][f"{se.MAIN:g}"]["ratio_all"] for s in rec.measured["saddles"].values()) >= se.SLOW


def test_verdict_rule():
    def rec(main, other=0.8, lower=(0.1, 0.1)):
        from theory_checks.record import CheckRecord
        cells = lambda low: {"lsgd": {f"{se.MAIN:g}": {"ratio_all": main}, "0.2": {"ratio_all": other}},  # noqa: E731
                             "over_random": {"lower": low}}
        return CheckRecord(name=se.NAME, claim="", reading="", setting={}, expected={},
                           measured={"saddles": {"a": cells(lower[0]), "b": cells(lower[1])}})
    assert se.verdict(rec(0.7)) == "holds"
    assert se.verdict(rec(0.7, other=1.3)) == "holds under conditions"
    assert se.verdict(rec(0.95)) == "fails" and se.verdict(rec(1.3)) == "fails"
    # a speed-up no surer than a random leader's does not count
    assert se.verdict(rec(0.7, lower=(0.1, -0.01))) == "holds under conditions"
    assert se.verdict(rec(0.7, lower=(0.0, -0.01))) == "fails"


def test_the_random_leader_reference_is_paired_by_seed():
    out = se.over_random([10, 20, 30], [20, 40, 60], "x")         # twice as long under the random leader
    assert out["mean"] == pytest.approx(np.log(2)) and out["lower"] == pytest.approx(np.log(2))
    assert out["precision"]["enough"] and out["precision"]["quantity"].startswith("x:")
    same = se.over_random([10, 20, 30], [10, 20, 30], "x")
    assert same["lower"] == 0.0 and not same["precision"]["enough"]


def test_escape_times_and_seed_batching():
    f = np.array([[1.0, 1.0], [0.5, 1.0], [0.2, 1.0]])
    assert se.escape_times(f, 0.6).tolist() == [1, 3]                   # never: the number of records
    spec = se.SADDLES[1]
    obj, x_s, *_ = spec.make()
    x0 = se.starts(x_s, obj.dim, (0, 1))
    # One group per seed, no global pull: exactly the independent single-leader runs (no noise here).
    both = simulate(obj, se.lsgd(spec.lr, 0.05, 2, None), workers=16, steps=30, x0=x0, record_every=30)
    for k in range(2):
        one = simulate(obj, se.lsgd(spec.lr, 0.05, 1, None), workers=8, steps=30, x0=x0[8 * k:8 * k + 8],
                       record_every=30)
        np.testing.assert_allclose(both.x[8 * k:8 * k + 8], one.x, rtol=0, atol=1e-13)


def test_mean_pull_does_not_speed_the_escape(monkeypatch):
    """A pull toward the workers' mean instead of the leader holds them near the saddle, as EASGD's center does."""
    spec = se.SADDLES[1]
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("mean"))
    out, _, _ = se.saddle_runs(spec, True, (0, 1, 2, 3), None, (), np.random.default_rng(0), Progress())
    assert out["lsgd"][f"{se.MAIN:g}"]["ratio_all"] > se.SPEED


def test_a_flipped_pull_also_speeds_the_escape(monkeypatch):
    """Documented limit: repulsion from the leader spreads the workers along the unstable direction too, so the
    speed-up alone does not prove attraction; the worst-leader control (pull toward the saddle) is the power."""
    monkeypatch.setattr(algorithms.LSGD, "step", flip_every_pull(algorithms.LSGD.step))
    out, _, _ = se.saddle_runs(se.SADDLES[1], True, (0, 1, 2, 3), None, (), np.random.default_rng(0), Progress())
    assert out["lsgd"][f"{se.MAIN:g}"]["ratio_all"] < 1.0
