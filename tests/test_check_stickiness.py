"""The leader-stickiness check (reviewer 1)."""
from __future__ import annotations

import numpy as np
import pytest

from theory_checks import stickiness


@pytest.fixture(scope="module")
def sticky(quick_record):
    return quick_record("leader-stickiness")


def test_leader_stats_by_hand():
    st = stickiness.leader_stats([0, 0, 1, 1, 1, 2], workers=4)
    assert st["counts"] == [2, 3, 1, 0] and st["longest_run"] == 3 and st["switches"] == 2
    assert st["max_share"] == pytest.approx(0.5) and st["workers_who_led"] == 3
    assert st["longest_run_fraction"] == pytest.approx(0.5) and st["mean_run"] == pytest.approx(2.0)
    even = stickiness.leader_stats(np.arange(8) % 4, workers=4)
    assert even["normalized_entropy"] == pytest.approx(1.0) and even["chi2"] == pytest.approx(0.0)
    # the paper's figure: counts 34/38/48/62 of 182
    paper = stickiness.paper_reference()
    assert paper["max_share"] == pytest.approx(62 / 182) and paper["chi2"] == pytest.approx(467 / 45.5)


def test_stickiness_verdict_and_numbers(sticky):
    assert sticky.verdict == "holds under conditions" == stickiness.verdict(sticky)
    rows = {r["config"]: r for r in sticky.measured["configs"]}
    base = rows["logistic/base"]
    # the paper-like setting switches like the paper's figure (max share 0.34, longest run ≈ 5%)
    assert not base["sticks"] and 0.25 <= base["max_share"] <= 0.45 and base["longest_run_fraction"] <= 0.1
    assert base["workers_who_led"] == 4 and base["communications"] == 100
    # on Rastrigin with a weak pull one worker keeps the lead and the others stay in other basins ...
    assert rows["rastrigin/base"]["sticks"] and rows["rastrigin/base"]["max_share"] > 0.8
    assert rows["rastrigin/base"]["other_basin_fraction"] == 1.0
    # ... while a strong pull brings every worker into the leader's basin and the lead rotates
    strong = rows["rastrigin/pull=0.5"]
    assert not strong["sticks"] and strong["other_basin_fraction"] == 0.0 and strong["nonleader_dist_ratio"] < 0.1
    assert sticky.measured["base_sticks"] == {"logistic": False, "rastrigin": True}


def test_controls_are_in_the_record(sticky):
    c = sticky.controls
    assert set(c) == {"random", "worst"} and all(set(c[m]) == set(stickiness.BASES) for m in c)
    for key in stickiness.BASES:
        rand = c["random"][key]
        # a random leader is what "no sticking" looks like: near 1/p each, runs of a few selections
        assert not rand["sticks"] and rand["max_share"] < 0.4 and rand["longest_run"] <= 8
        assert rand["workers_who_led"] == 4
    # on Rastrigin the right leader sticks where a random one does not: the sticking is the rule's doing
    assert sticky.measured["base_sticks"]["rastrigin"] and not c["random"]["rastrigin/base"]["sticks"]
    assert c["worst"]["rastrigin/base"]["max_share"] < 0.8               # the worst worker does not keep the lead


def test_verdict_rule():
    rows = lambda **kw: {"configs": [{"config": k, "sticks": v} for k, v in kw.items()]}  # noqa: E731
    rec = lambda m: stickiness.CheckRecord(name=stickiness.NAME, claim="", reading="", setting={},  # noqa: E731
                                           measured=m, expected={})
    cfg = {"logistic/base": False, "rastrigin/base": False, "rastrigin/pull=0.01": False}
    assert stickiness.verdict(rec(rows(**cfg))) == "holds"
    cfg["rastrigin/pull=0.01"] = True
    assert stickiness.verdict(rec(rows(**cfg))) == "holds under conditions"
    cfg["logistic/base"] = cfg["rastrigin/base"] = True
    assert stickiness.verdict(rec(rows(**cfg))) == "fails"


def test_figure_redraws_from_the_record(sticky):
    import matplotlib.pyplot as plt
    fig = stickiness.figure(sticky)
    ax_share = fig.axes[4]
    labels = [t.get_text() for t in ax_share.get_yticklabels()]
    assert len(labels) <= 16 and "base, random leader" in labels and "base, worst leader" in labels
    assert all(lab == "" for lab in (t.get_text() for t in fig.axes[5].get_yticklabels()))   # shared rows
    plt.close(fig)


def test_stickiness_sees_a_pull_away_from_the_leader(pull_away):
    cfg = stickiness.Config("rastrigin", pull=0.5)
    row, _ = stickiness.measure_config(cfg, seeds=[0], comms=40, quick=True)
    # correct pull: non-leaders end ~1-2% of their initial distance from the best worker (see the pinned run)
    assert row["nonleader_dist_ratio"] > 10 and row["other_basin_fraction"] == 1.0
