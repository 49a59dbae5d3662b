"""Each figure function draws its figure from a small saved dataset alone, in the house style (lsgdsim.plotting)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import figures
from figures import EXPERIMENTS, pipeline
from figures.data import FigureData
from lsgdsim import plotting
from lsgdsim.algorithms.base import Algorithm

ROOT = Path(__file__).resolve().parents[1]


def drawn_lines(fig) -> list[np.ndarray]:
    return [np.asarray(line.get_ydata(), float) for ax in fig.axes for line in ax.get_lines()]


def shows(fig, y) -> bool:
    """Whether one of the figure's lines draws exactly the values ``y``."""
    y = np.asarray(y, float)
    return any(line.shape == y.shape and np.array_equal(line, y) for line in drawn_lines(fig))


def shows_bars(fig, y) -> bool:
    """Whether one axes draws bars whose lengths (widths of horizontal bars, heights of vertical ones) run
    through the values ``y``, in order (to rounding: a stacked bar keeps its two ends, so its width comes
    back as (left + w) − left)."""
    y = np.asarray(y, float)
    for ax in fig.axes:
        for size in ("get_width", "get_height"):
            bars = np.array([getattr(p, size)() for p in ax.patches if type(p).__name__ == "Rectangle"])
            if any(np.allclose(bars[i:i + len(y)], y, rtol=0, atol=1e-12) for i in range(len(bars) - len(y) + 1)):
                return True
    return False


# What each figure must show of its data (a figure that ignored its data would fail these).
PROBES = {
    "ring": lambda d: [d.arrays["lgd.f"][:, i] for i in range(4)] + [d.arrays["eagd.center_f"]],
    "matrix": lambda d: [np.median(np.maximum(d.arrays[f"rank{r}.lgd_leader"], figures.matrix.FLOOR), axis=0)
                         for r in d.config["ranks"]],
    "rates": lambda d: [d.arrays[f"{p}.{m}.mean"] for p in figures.rates.PROBLEMS for m in figures.rates.METHODS],
    "leaders": lambda d: [d.arrays[f"{r}.leaders"] for r in figures.leaders.RUNS],
    "training": lambda d: [d.arrays[f"{m}.center_error"].mean(axis=0) for m in figures.training.METHODS],
    "cluster-time": lambda d: [d.arrays[f"p{p}.{m}.center_error"].mean(axis=0) for p in figures.cluster_time.WORKERS
                               for m in d.config["methods"]],
    "straggler-training": lambda d: [d.arrays[f"{t}.{k}"].mean(axis=0) if k.endswith("error") else
                                     d.arrays[f"{t}.{k}"]
                                     for t in ("total", "own") for k in ("center_error", "leader_error", "step_share")],
}
BAR_PROBES = {   # bar charts: the bars' lengths
    "time-breakdown": lambda d: [[d.arrays[f"{c}.p{p}.{m}"][j] for m in d.config["methods"]]
                                 for c in d.config["clusters"] for p in figures.time_breakdown.WORKERS
                                 for j in range(3)],
    "straggler-training": lambda d: [d.arrays[f"{t}.lead_share"] for t in ("total", "own")],
}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_figure_is_drawn_from_its_saved_data_alone(name, quick_figures, monkeypatch, tmp_path):
    data = FigureData.load(quick_figures / f"{name}.json")
    monkeypatch.setattr(Algorithm, "init", lambda *a, **k: (_ for _ in ()).throw(AssertionError("simulated")))
    with plotting.style():
        fig = figures.load(name).draw(data)
    assert all(shows(fig, y) for y in PROBES.get(name, lambda d: [])(data))
    assert all(shows_bars(fig, y) for y in BAR_PROBES.get(name, lambda d: [])(data))
    assert name in PROBES or name in BAR_PROBES, "every figure has a probe of what it shows"
    panels = [ax for ax in fig.axes if ax.get_label() not in ("<colorbar>", "<legend>")]
    assert panels and all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in panels), \
        "every panel has a title and labelled axes"
    assert fig.get_size_inches()[0] <= plotting.MAX_WIDTH + 1e-9
    png = plotting.save(fig, tmp_path / f"{name}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_experiment_module_follows_the_protocol(name, quick_figures):
    mod = figures.load(name)
    assert mod.NAME == name and mod.TITLE and mod.CLAIM and isinstance(mod.VOLATILE, tuple)
    quick, full = mod.config(quick=True, seed=0), mod.config(quick=False, seed=0)
    for cfg in (quick, full):
        keys = [t["key"] for t in mod.tasks(cfg)]
        assert keys and len(set(keys)) == len(keys)
    data = FigureData.load(quick_figures / f"{name}.json")
    assert data.config == quick and set(mod.VOLATILE) <= set(data.arrays)
    assert pipeline.saved_data(name, quick_figures, quick, True, 0) is not None
    if full != quick:                       # saved data stand for a run of the same configuration only
        assert pipeline.saved_data(name, quick_figures, full, False, 0) is None


def test_figure_data_round_trip_refuses_objects_and_names_missing_files(tmp_path):
    data = FigureData("x", "t", "c", {"a": 1}, {"v": np.arange(3.0), "s": np.array(["a", "b"])}, {"k": 1.5})
    data.save(tmp_path)
    again = FigureData.load(tmp_path / "x.json")
    assert again.config == {"a": 1} and again.info == {"k": 1.5}
    assert np.array_equal(again.arrays["v"], data.arrays["v"]) and list(again.arrays["s"]) == ["a", "b"]
    with pytest.raises(ValueError, match="dtype object"):
        FigureData("y", "t", "c", {}, {"o": np.array([None, 1], dtype=object)}).save(tmp_path)
    (tmp_path / "x.npz").unlink()
    with pytest.raises(ValueError, match="missing"):
        FigureData.load(tmp_path / "x.json")


def test_one_colour_per_method_in_any_spelling():
    methods = ["lsgd", "easgd", "downpour", "localsgd", "sgd", "allreduce", "random leader", "worst leader", "bound"]
    colours = [plotting.color(m) for m in methods]
    assert len(set(colours)) == len(colours)
    assert plotting.color("LSGD") == plotting.color("lgd") == plotting.COLORS["lsgd"]
    assert plotting.color("local SGD") == plotting.color("LocalSGD") == plotting.COLORS["localsgd"]
    assert plotting.color("all-reduce SGD") == plotting.COLORS["allreduce"]
    from lsgdsim.algorithms import ALGORITHMS
    assert set(ALGORITHMS) <= set(plotting.COLORS) and set(ALGORITHMS) <= set(plotting.LABELS)


def test_wide_figures_are_scaled_and_small_text_is_raised(tmp_path):
    fig, axes = plotting.subplots(2, 3, width=4.2, height=3.0)
    assert axes.shape == (2, 3)
    assert np.allclose(fig.get_size_inches(), [plotting.MAX_WIDTH, 6.0 * plotting.MAX_WIDTH / 12.6])
    text = axes[0, 0].text(0.5, 0.5, "tiny", fontsize=4)
    plotting.save(fig, tmp_path / "f.png")
    assert text.get_fontsize() == plotting.MIN_FONT
    assert (tmp_path / "f.png").stat().st_mode & 0o044 == 0o044, "figures are readable by everyone"


def test_plotting_selects_no_backend_and_saves_headless(tmp_path):
    code = ("import matplotlib; from lsgdsim import plotting; "
            "assert matplotlib.rcParams._get('backend') is matplotlib.rcsetup._auto_backend_sentinel; "
            "fig, ax = plotting.subplots(); ax[0, 0].plot([1, 2]); "
            f"plotting.save(fig, {str(tmp_path / 'h.png')!r}); plotting.save(fig, {str(tmp_path / 'h.pdf')!r}); "
            "assert matplotlib.rcParams._get('backend') is matplotlib.rcsetup._auto_backend_sentinel")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "h.png").stat().st_size > 1000 and (tmp_path / "h.pdf").read_bytes()[:5] == b"%PDF-"


def test_the_library_never_imports_the_packages_above_it():
    above = re.compile(r"^\s*(from|import)\s+(figures|theory_checks|tests)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "lsgdsim").rglob("*.py") if above.search(p.read_text())]
    assert offenders == []
