"""Runs say how long they will take before they start (issue 23, item 4): lsgdsim.estimate and its use."""
from __future__ import annotations

import io

import pytest

from lsgdsim import estimate


def test_makespan_packs_the_longest_first_onto_the_process_that_frees_first():
    assert estimate.makespan([5, 4, 3, 3, 3], 1) == 18
    assert estimate.makespan([5, 4, 3, 3, 3], 2) == 10         # 5 | 4, then 3 on 4 (7), 3 on 5 (8), 3 on 7
    assert estimate.makespan([10, 1, 1], 3) == 10 and estimate.makespan([], 2) == 0


def test_a_forecast_scales_the_costs_and_says_what_it_assumed():
    f = estimate.Forecast({"a": 100.0, "b": 60.0, "c": 40.0}, jobs=2, scale=1.5)
    assert f.costs == {"a": 150.0, "b": 90.0, "c": 60.0} and f.seconds == 150.0
    line = f.line("3 checks (full)")
    assert line.startswith("estimated 2 min 30 s for 3 checks (full) on 2 processes")
    assert estimate.REFERENCE["machine"] in line and "×1.50" in line
    assert estimate.duration(59.6) == "1 min 0 s" and estimate.duration(12.2) == "12 s"


def test_the_calibration_is_short_and_positive():
    assert 0 < estimate.calibrate(repeats=1) < 5


@pytest.mark.parametrize("announce", [0.0, 1e9])
def test_a_check_run_announces_its_estimate_only_when_long(tmp_path, monkeypatch, announce):
    from theory_checks import runner
    monkeypatch.setattr(estimate, "ANNOUNCE_S", announce)
    out = io.StringIO()
    runner.run_checks(["stragglers"], quick=True, report_dir=tmp_path, progress=False, stream=out)
    said = [line for line in out.getvalue().splitlines() if line.startswith("estimated ")]
    assert len(said) == (1 if announce == 0.0 else 0)
    if said:
        assert "for 1 check (quick) on 1 process " in said[0]


def test_reproduce_forecasts_each_task_as_its_share_of_the_experiments_measured_time(tmp_path):
    import figures
    from figures.runner import DRAW_S, EXPERIMENT_COST, _Work
    from figures.summary import Manifest
    work = _Work(tmp_path, tmp_path / "r", True, 0, 1, False, False, Manifest(tmp_path, True, 0, tmp_path / "r"),
                 {}, False)
    items = work._plan([], ["training"])
    tasks = [it for it in items if it[0] == "task"]
    assert len(tasks) == len(figures.load("training").tasks(tasks[0][2]))
    draw = ("draw", "training", str(tmp_path))
    costs = work._costs([*tasks, draw])
    assert sum(costs[id(it)] for it in tasks) == pytest.approx(EXPERIMENT_COST["training"][0])
    assert costs[id(draw)] == DRAW_S


def test_a_redraw_alone_announces_nothing_and_calibrates_nothing(tmp_path, monkeypatch, quick_figures, capsys):
    """Redrawing measures nothing (the --from-data guarantee): no calibration run, no estimate line."""
    import shutil

    from figures import runner
    monkeypatch.setattr(estimate, "ANNOUNCE_S", 0.0)
    monkeypatch.setattr(estimate, "calibrate", lambda repeats=5: pytest.fail("a redraw calibrated"))
    out = tmp_path / "f"
    shutil.copytree(quick_figures, out)
    runner.reproduce(only=["ring", "matrix"], quick=True, out=out, from_data=True, jobs=1, progress=False)
    assert "estimated" not in capsys.readouterr().out
