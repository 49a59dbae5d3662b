"""``lsgdsim plot RESULT.npz``: one run drawn without writing matplotlib code (issue 24, item 6)."""
from __future__ import annotations

import matplotlib.image as mpimg
import pytest
from cli_helpers import one_line_error

from lsgdsim import algorithms, clock, objectives, simulate
from lsgdsim.cli import main
from lsgdsim.plot_run import figure


@pytest.mark.parametrize("kind", ["lsgd-lockstep", "easgd-clock"])
def test_a_saved_run_is_drawn(tmp_path, capsys, kind):
    alg = algorithms.LSGD(lr=0.05, pull=0.1) if kind.startswith("lsgd") else algorithms.EASGD(lr=0.05, alpha=0.05)
    res = simulate(objectives.Quadratic.random(dim=5, cond=10.0, seed=0), alg, workers=4, steps=40,
                   clock=clock.Clock() if kind.endswith("clock") else None)
    path = res.save(tmp_path / "r.npz")
    assert main(["plot", str(path)]) == 0
    assert f"wrote {tmp_path / 'r.png'}" in capsys.readouterr().out
    assert mpimg.imread(tmp_path / "r.png").shape[0] > 300
    titles = [ax.get_title() for ax in figure(res).axes if ax.get_visible()]
    assert titles[:2] == ["objective", "spread"]
    assert any(t.startswith("leader") for t in titles) == kind.startswith("lsgd")      # only with a leader
    assert ("time per worker" in titles) == kind.endswith("clock")                       # only on the clock


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "none.npz")]) == 2
    assert "no result file" in one_line_error(capsys)
    (tmp_path / "text.npz").write_text("not a result")
    assert main(["plot", str(tmp_path / "text.npz")]) == 2
    assert "text.npz" in one_line_error(capsys)
    assert main(["plot", str(tmp_path / "text.npz"), "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out must end in" in one_line_error(capsys)
