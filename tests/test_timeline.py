"""plotting.timeline draws a clock run's trace: one bar collection per kind, one row per chosen worker."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from lsgdsim import algorithms, objectives, plotting, simulate
from lsgdsim.clock import Clock, Lognormal, Network

KINDS = ("compute", "communicate", "wait")


@pytest.fixture(scope="module")
def run():
    obj = objectives.Quadratic.random(dim=4, cond=10.0, seed=0)
    clock = Clock(compute=Lognormal(median=0.05, sigma=0.3), network=Network(latency=1e-3, bandwidth=1e8),
                  model_bytes=100_000)
    return simulate(obj, algorithms.LSGD(lr=0.05, pull=0.1, period=2, trigger="total"), workers=4, steps=12,
                    grad_noise=0.1, seed=1, clock=clock)


def bars(ax) -> dict[str, PolyCollection]:
    found = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label() in KINDS]
    assert len(found) == len({c.get_label() for c in found})
    return {c.get_label(): c for c in found}


def spans(collection) -> np.ndarray:
    """(n, 3): start, end, row of every bar, sorted."""
    verts = np.array([p.vertices[:4] for p in collection.get_paths()]).reshape(-1, 4, 2)
    out = np.stack([verts[:, :, 0].min(1), verts[:, :, 0].max(1), verts[:, :, 1].mean(1)], axis=1)
    return out[np.lexsort(out.T[::-1])]


def expected(trace, kind, workers, until=np.inf) -> np.ndarray:
    rows = {w: i for i, w in enumerate(workers)}
    sel = (trace["kind"] == kind) & np.isin(trace["worker"], workers) & (trace["start"] < until)
    out = np.stack([trace["start"][sel], np.minimum(trace["end"][sel], until),
                    np.array([rows[w] for w in trace["worker"][sel]], dtype=float)], axis=1)
    return out[np.lexsort(out.T[::-1])]


def test_one_bar_collection_per_kind_with_every_interval(run):
    ax = plotting.timeline(run)
    drawn = bars(ax)
    assert sorted(drawn) == sorted(KINDS)
    trace = run.trace
    assert sum(len(c.get_paths()) for c in drawn.values()) == len(trace["kind"])
    for k, name in enumerate(KINDS):
        assert len(drawn[name].get_paths()) == np.count_nonzero(trace["kind"] == k) > 0
        np.testing.assert_allclose(spans(drawn[name]), expected(trace, k, [0, 1, 2, 3]))
    assert ax.get_xlim() == (0.0, float(run.sim_time[-1]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    assert ax.get_xlabel() == "simulated time [s]"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {*KINDS, "leader chosen"}


def test_leader_choices_are_marked_on_the_leaders_rows(run):
    ax = plotting.timeline(run)
    (marks,) = [line for line in ax.get_lines() if line.get_gid() == "timeline-leaders"]
    assert len(run.leaders) > 0
    np.testing.assert_array_equal(marks.get_xdata(), run.leader_times)
    np.testing.assert_array_equal(np.round(marks.get_ydata() + 0.38).astype(int), run.leaders)


def test_a_lockstep_result_is_refused(run):
    obj = objectives.Quadratic.random(dim=4, cond=10.0, seed=0)
    lock = simulate(obj, algorithms.LSGD(lr=0.05, period=2), workers=4, steps=5)
    assert lock.trace is None
    with pytest.raises(ValueError, match="trace"):
        plotting.timeline(lock)


def test_workers_selects_the_rows(run):
    ax = plotting.timeline(run, workers=[0, 2])
    drawn = bars(ax)
    for k, name in enumerate(KINDS):
        np.testing.assert_allclose(spans(drawn[name]), expected(run.trace, k, [0, 2]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "2"]
    assert ax.get_ylim() == (1.5, -0.5)
    marks = [line for line in ax.get_lines() if line.get_gid() == "timeline-leaders"]
    shown = np.isin(run.leaders, [0, 2])
    assert len(marks[0].get_xdata()) == np.count_nonzero(shown)


def test_until_clips_the_time(run):
    until = float(run.sim_time[-1]) / 3
    ax = plotting.timeline(run, until=until)
    drawn = bars(ax)
    for k, name in enumerate(KINDS):
        np.testing.assert_allclose(spans(drawn[name]), expected(run.trace, k, [0, 1, 2, 3], until))
    assert ax.get_xlim() == (0.0, until)
    assert max(spans(c)[:, 1].max() for c in drawn.values() if len(c.get_paths())) <= until


@pytest.mark.parametrize("kw, match", [({"workers": [0, 4]}, "workers"), ({"workers": [1, 1]}, "distinct"),
                                       ({"workers": []}, "non-empty"), ({"until": 0}, "until"),
                                       ({"until": "soon"}, "until")])
def test_bad_arguments_are_refused(run, kw, match):
    with pytest.raises(ValueError, match=match):
        plotting.timeline(run, **kw)


def test_draws_on_given_axes_and_saves(run, tmp_path):
    fig, axes = plotting.subplots(1, 1, width=6, height=2)
    assert plotting.timeline(run, axes[0, 0], workers=[3]) is axes[0, 0]
    path = plotting.save(fig, tmp_path / "timeline.png")
    assert path.stat().st_size > 0
    ax = plotting.timeline(run)
    path = plotting.save(ax.figure, tmp_path / "own.png")
    assert path.stat().st_size > 0
