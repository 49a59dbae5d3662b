"""``lsgdsim plot RESULT.npz [MORE.npz …]`` and ``Result.plot()``: runs drawn without writing matplotlib code
(issue 24, item 6): every panel legible (tests/figure_lint.py), several runs overlaid by method."""
from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from cli_helpers import one_line_error
from figure_lint import problems

from lsgdsim import algorithms, clock, objectives, plotting, simulate
from lsgdsim.cli import main
from lsgdsim.plot_run import figure

QUAD = objectives.Quadratic.random(dim=5, cond=10.0, seed=0)


def _run(kind: str, seed: int = 0):
    alg = algorithms.LSGD(lr=0.05, pull=0.1) if kind.startswith("lsgd") else algorithms.EASGD(lr=0.05, alpha=0.05)
    return simulate(QUAD, alg, workers=4, steps=40, seed=seed, clock=clock.Clock() if kind.endswith("clock") else None)


@pytest.mark.parametrize("kind", ["lsgd-lockstep", "easgd-clock"])
def test_a_saved_run_is_drawn(tmp_path, capsys, kind):
    res = _run(kind)
    path = res.save(tmp_path / "r.npz")
    assert main(["plot", str(path)]) == 0
    assert f"wrote {tmp_path / 'r.png'}" in capsys.readouterr().out
    assert mpimg.imread(tmp_path / "r.png").shape[0] > 300
    fig = figure(res)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]      # panels (legend rows have none)
    assert titles[:2] == ["objective", "spread"]
    assert any(t.startswith("leader") for t in titles) == kind.startswith("lsgd")      # only with a leader
    assert ("time per worker" in titles) == kind.endswith("clock")                       # only on the clock
    assert problems(fig) == []


def test_two_runs_are_overlaid_by_method_with_their_own_colours(tmp_path, capsys):
    lsgd, easgd = _run("lsgd-clock"), _run("easgd-clock")
    paths = [lsgd.save(tmp_path / "a.npz"), easgd.save(tmp_path / "b.npz")]
    assert main(["plot", *map(str, paths), "--out", str(tmp_path / "both.png")]) == 0
    assert mpimg.imread(tmp_path / "both.png").shape[1] > 1000
    fig = lsgd.plot(easgd)
    assert problems(fig) == []
    objective = fig.axes[0]
    best = {line.get_label(): line for line in objective.get_lines()}
    assert best["LSGD"].get_color() == plotting.color("lsgd") and best["EASGD"].get_color() == plotting.color("easgd")
    assert np.array_equal(best["EASGD"].get_ydata(), easgd.f.min(axis=1) - easgd.meta["objective"]["fmin"])
    assert np.array_equal(best["LSGD"].get_xdata(), lsgd.sim_time)              # both on the clock: simulated time
    assert objective.get_xlabel() == "simulated time (s)"
    two_seeds = _run("lsgd-lockstep").plot(_run("lsgd-lockstep", seed=1))
    labels = [line.get_label() for line in two_seeds.axes[0].get_lines()]
    assert labels == ["LSGD (seed 0)", "LSGD (seed 1)"] and two_seeds.axes[0].get_xlabel() == "step"


def test_result_plot_saves_where_asked(tmp_path):
    _run("lsgd-lockstep").plot(out=tmp_path / "one.pdf")
    assert (tmp_path / "one.pdf").read_bytes()[:5] == b"%PDF-"


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "none.npz")]) == 2
    assert "no result file" in one_line_error(capsys)
    (tmp_path / "text.npz").write_text("not a result")
    assert main(["plot", str(tmp_path / "text.npz")]) == 2
    assert "text.npz" in one_line_error(capsys)
    assert main(["plot", str(tmp_path / "text.npz"), "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out must end in" in one_line_error(capsys)


def test_runs_without_a_known_minimum_are_all_drawn_as_f_and_same_seed_runs_get_their_order():
    a, b = _run("lsgd-lockstep"), _run("lsgd-lockstep")
    b.meta["objective"] = {**b.meta["objective"], "fmin": None}
    objective = figure([a, b]).axes[0]
    assert objective.get_ylabel() == "f"
    lines = {line.get_label(): line for line in objective.get_lines()}
    assert list(lines) == ["LSGD (run 1)", "LSGD (run 2)"]
    assert np.array_equal(lines["LSGD (run 1)"].get_ydata(), a.f.min(axis=1))          # not shifted by its f*
