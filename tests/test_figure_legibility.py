"""Every figure a reader sees can be read: no text on text, no text off the canvas, no legend on the data.

The checker (tests/figure_lint.py) is tested first on figures built to fail each rule and on one built to
pass; then it runs on every figure of ``lsgdsim reproduce --quick`` (the experiments, drawn from their quick
data, and the theory checks, drawn from the session's quick records) and on the notebooks' figures (the
library functions the notebooks call, on small runs). ``python tests/figure_lint.py figures`` runs it on the
full run's saved data: the newton-alignment figure of commit 61cddcb had 12 overlaps there (titles of
neighbouring heat maps, row labels, the bottom row's titles and axis labels).
"""
from __future__ import annotations

import numpy as np
import pytest
from figure_lint import problems

import theory_checks
from figures import EXPERIMENTS
from lsgdsim import plotting


def _plain(ncols=1, **kw):
    fig, axes = plotting.subplots(1, ncols, width=3.0, height=2.5, **kw)
    for ax in axes.flat:
        ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50) ** 2)
    return fig, axes


def test_a_clean_figure_passes():
    fig, axes = _plain(2)
    axes[0, 0].set(title="left", xlabel="x", ylabel="y")
    axes[0, 1].set(title="right", xlabel="x")
    axes[0, 0].legend(["a line"], loc="upper left")
    assert problems(fig) == []


def test_neighbouring_titles_that_run_into_each_other_fail():
    fig, axes = _plain(2)
    for ax in axes.flat:
        ax.set_title("a title far too long for its own narrow panel here")
    found = problems(fig)
    assert any("axes 0 title and axes 1 title" in p for p in found), found


def test_crammed_tick_labels_fail_and_slanted_ones_side_by_side_pass():
    from figure_lint import _box, render
    labels = [f"a longer label {k}" for k in range(8)]
    fig, axes = _plain()
    axes[0, 0].set_xticks(np.linspace(0, 1, 8), labels)
    assert any(p.startswith("overlap: axes 0 x tick") for p in problems(fig))
    fig, axes = _plain()
    axes[0, 0].set_xticks(np.linspace(0, 1, 8), labels, rotation=40, ha="right", rotation_mode="anchor")
    renderer = render(fig)
    boxes = [_box(t, renderer) for t in axes[0, 0].get_xticklabels()]
    assert boxes[0].x1 > boxes[1].x0 + 5, "the slanted labels' upright boxes overlap: only their own do not"
    assert problems(fig) == []


def test_a_legend_hung_below_the_canvas_fails_and_a_figure_legend_on_the_data_too():
    fig, _ = _plain()
    fig.legend(["a line"], loc="upper center", bbox_to_anchor=(0.5, -0.05))
    assert any(p.startswith("off canvas: figure legend") for p in problems(fig))
    fig, axes = plotting.subplots(1, 1, width=3.0, height=2.5)
    axes[0, 0].plot(np.linspace(0, 1, 100), np.full(100, 0.5))
    axes[0, 0].set_ylim(0, 1)
    fig.legend(["a line"], loc="center", bbox_to_anchor=(0.55, 0.55))          # over the middle of the line
    assert any("a figure legend covers" in p for p in problems(fig))


def test_markers_alone_and_gaps_count_only_what_is_drawn():
    fig, axes = plotting.subplots(1, 1, width=3.0, height=2.5)
    axes[0, 0].plot([0, 1], [0.5, 0.5], "o", label="two dots")                  # nothing drawn between them
    axes[0, 0].plot([0, 0.45, np.nan, 0.55, 1], [0.2, 0.2, np.nan, 0.2, 0.2], label="a gap")
    axes[0, 0].set(xlim=(-0.1, 1.1), ylim=(0, 1))
    axes[0, 0].legend(loc="center")
    assert problems(fig) == []


def test_a_legend_over_the_data_or_over_a_marker_fails():
    fig, axes = plotting.subplots(1, 1, width=3.0, height=2.5)
    x = np.linspace(0, 1, 200)
    axes[0, 0].plot(x, np.full_like(x, 0.95), label="along the top")
    axes[0, 0].plot([0, 1], [0, 0.1], label="low")
    axes[0, 0].set_ylim(0, 1)
    axes[0, 0].legend(loc="upper center")
    assert any("legend over data" in p for p in problems(fig))
    fig, axes = plotting.subplots(1, 1, width=3.0, height=2.5)
    axes[0, 0].plot([0, 1], [0, 1], label="path")
    axes[0, 0].plot([0.05], [0.05], "o", label="start")          # where a lower-left legend sits
    axes[0, 0].legend(loc="lower left")
    assert any("hides a marker" in p for p in problems(fig))


@pytest.fixture(scope="module")
def experiment_data(quick_figures):
    from figures.data import FigureData
    return lambda name: FigureData.load(quick_figures / f"{name}.json")


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_figure_is_legible(name, experiment_data):
    from figures import load
    assert problems(load(name).draw(experiment_data(name))) == []


@pytest.mark.parametrize("name", list(theory_checks.CHECKS))
def test_every_check_figure_is_legible(name, quick_record):
    fig = theory_checks.load(name).figure(quick_record(name))
    assert fig is not None
    assert problems(fig) == []


@pytest.mark.parametrize("landscape", ["ring", "double-well", "rosenbrock"])
def test_the_landscapes_notebook_figures_are_legible(landscape):
    from lsgdsim.explore import landscape as lab
    run = lab.run(landscape, "lsgd", 4, 0.1, 4, 0.0, 60, seed=0)
    assert problems(lab.paths_figure(run)) == []
    fig, _ = lab.trigger_figure(run, steps=60)
    assert problems(fig) == []


def test_the_training_notebook_figures_are_legible():
    from lsgdsim import algorithms
    from lsgdsim.explore import training
    from lsgdsim.nn.train import train
    runs = {m: train("mlp", "digits", alg, workers=4, steps=24, evaluations=3, seed=0)
            for m, alg in (("lsgd", algorithms.LSGD(lr=0.05, pull=0.1, period=4)),
                           ("easgd", algorithms.EASGD(lr=0.02, period=4)))}
    assert problems(training.error_figure(runs)) == []
    assert problems(training.leader_figure(runs["lsgd"], "LSGD, MLP")) == []
