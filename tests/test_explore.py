"""lsgdsim.explore: the helpers behind the notebooks (landscape runs, animation, training comparison, check cards)."""
from __future__ import annotations

import ast
import gc
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from lsgdsim.explore import landscape, theory, training

ROOT = Path(__file__).resolve().parents[1]


# -- landscape ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def noisy_run():
    # Rastrigin with gradient noise: many leader switches in a few steps.
    return landscape.run("rastrigin", "lsgd", workers=4, pull=0.2, period=2, noise=3.0, steps=40, seed=5)


def test_run_records_every_position_and_ends_at_the_result(noisy_run):
    r = noisy_run
    assert r.paths.shape == (41, 4, 2) and list(r.steps) == list(range(41))
    np.testing.assert_array_equal(r.paths[-1], r.result.x)
    f = np.asarray(r.objective.value(r.paths.reshape(-1, 2))).reshape(41, 4)
    np.testing.assert_allclose(f, r.result.f, rtol=1e-12, atol=1e-12)        # the recorded path is where f was measured


def test_switches_are_the_communications_where_the_leader_changed(noisy_run):
    lead, at = noisy_run.result.leaders, noisy_run.result.leader_steps
    steps, who = noisy_run.switches
    expected = [(int(t), int(b)) for t, a, b in zip(at[1:], lead[:-1], lead[1:], strict=True) if a != b]
    assert [(int(t), int(w)) for t, w in zip(steps, who, strict=True)] == expected
    assert len(expected) >= 5
    sgd = landscape.run("ring", "sgd", workers=3, steps=10)
    assert len(sgd.switches[0]) == 0


def test_paths_figure_marks_one_star_per_leader_switch(noisy_run):
    fig = landscape.paths_figure(noisy_run)
    stars = [ln for ln in fig.axes[0].lines if ln.get_marker() == "*"]
    assert len(stars) == len(noisy_run.switches[0])
    steps, who = noisy_run.switches
    np.testing.assert_array_equal(stars[0].get_xydata()[0], noisy_run.paths[steps[0], who[0]])
    assert len(fig.axes[1].lines) == 4 + len(steps)            # f per worker + a line per switch


def test_animation_html_is_a_jshtml_player_with_the_frames(noisy_run):
    html = landscape.animation_html(noisy_run, frames=5)
    assert 'class="animation"' in html and "new Animation(" in html
    assert html.count("data:image/png;base64") == 5


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_animation_rings_the_current_leader(noisy_run):
    anim = landscape.animation(noisy_run, frames=41)
    ring = anim._func(20)[1]                                  # frame 20 is step 20
    k = np.searchsorted(noisy_run.result.leader_steps, 20, side="right") - 1
    leader = noisy_run.result.leaders[k]
    np.testing.assert_array_equal(np.ravel(ring.get_data()), noisy_run.paths[20, leader])
    del anim
    gc.collect()                                              # its never-rendered warning, here (filtered)


def test_every_landscape_runs_and_bad_input_is_named():
    for name in landscape.LANDSCAPES:
        r = landscape.run(name, "easgd", workers=2, steps=5)
        assert np.all(np.isfinite(r.paths))
        box = landscape.view_box(r)
        assert box[0] < box[1] and box[2] < box[3]
    with pytest.raises(ValueError, match="landscape"):
        landscape.run("nope")
    with pytest.raises(ValueError, match="method"):
        landscape.make_algorithm("nope", 0.1)
    with pytest.raises(ValueError, match="lr"):
        landscape.run("ring", lr=0.0)


def test_controls_run_show_with_the_widgets_values(monkeypatch):
    pytest.importorskip("ipywidgets")
    calls = []
    monkeypatch.setattr(landscape, "show", lambda **kw: calls.append(kw))
    panel = landscape.controls(steps=40, frames=3).widget
    by_name = {getattr(c, "description", ""): c for c in panel.children}
    by_name["landscape"].value, by_name["period"].value = "ackley", 7
    assert calls == []                                        # nothing runs before the button
    panel.manual_button.click()
    assert calls == [{"landscape": "ackley", "method": "lsgd", "workers": 4, "pull": 0.1, "period": 7, "noise": 0.0,
                      "steps": 40, "frames": 3, "seed": 0}]


def test_controls_without_ipywidgets_is_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    assert landscape.controls() is None


# -- training -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_training():
    from lsgdsim import algorithms
    from lsgdsim.leaders import Window

    def make(method, steps):
        if method == "sgd":
            return algorithms.SGD(lr=0.05)
        return algorithms.LSGD(lr=0.05, pull=0.1, period=2, leader=Window(3))
    return training.compare(["lsgd", "sgd"], make, model="mlp", epochs=0.5, evaluations=2)


def test_compare_gives_every_method_the_same_samples(tiny_training):
    lsgd, sgd = tiny_training["lsgd"], tiny_training["sgd"]
    assert lsgd.workers == 4 and sgd.workers == 1
    assert training.samples(lsgd)[-1] == training.samples(sgd)[-1] > 0


def test_training_figures_and_table(tiny_training):
    fig = training.error_figure(tiny_training)
    assert len(fig.axes[0].lines) == 3 and len(fig.axes[1].lines) == 2       # LSGD, its leader, SGD
    lfig = training.leader_figure(tiny_training["lsgd"])
    np.testing.assert_array_equal(lfig.axes[0].lines[0].get_ydata(), tiny_training["lsgd"].leaders)
    np.testing.assert_array_equal(lfig.axes[0].lines[0].get_xdata(), tiny_training["lsgd"].leader_steps)
    table = training.final_table(tiny_training).splitlines()
    assert len(table) == 4 and table[2].startswith("| LSGD |") and table[3].split("|")[3].strip() == "–"


# -- theory cards ---------------------------------------------------------------------------------------
def test_card_renders_the_record_and_what_to_try_next():
    rec = SimpleNamespace(name="one-step", claim="C.", reading="R.", verdict="fails", summary="S.", elapsed_s=1.25,
                          meta={"mode": "quick"})
    text = theory.card(rec, ["| a |", "|---|"], "Cap.")
    for part in ("### one-step", "**Claim.** C.", "**Reading tested.** R.", "**Verdict: fails** (quick run, 1.2 s). S.",
                 "| a |", "*Figure.* Cap.", theory.NEXT["one-step"]):
        assert part in text
    assert "--only other-check" in theory.next_step("other-check")


def test_next_steps_name_registered_checks():
    from theory_checks import CHECKS
    assert set(theory.NEXT) <= set(CHECKS)


def test_explore_and_the_runner_import_nothing_above_the_library():
    files = [*sorted((ROOT / "lsgdsim" / "explore").glob("*.py")), ROOT / "lsgdsim" / "notebooks_run.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            assert not any(n.split(".")[0] in ("theory_checks", "figures", "tests") for n in names), path


def test_without_passes_whole_lines_but_the_left_out_ones_and_flushes_a_last_partial_line():
    import io

    from lsgdsim.explore.theory import Without
    out = io.StringIO()
    stream = Without("wrote ", out)
    stream.write("row 1\nwrote /tmp/x/report.md")
    stream.write("\nrow 2\n")
    stream.write("last")
    assert out.getvalue() == "row 1\nrow 2\n"
    stream.flush()
    assert out.getvalue() == "row 1\nrow 2\nlast"
