"""Sweeps (issue 11, items 2–3): grids, resumable folders, killed sweeps, diverging and failing runs, the table.

The executors (local processes against Dask) are compared in tests/test_sweep_executors.py; here runs go
through this process (``jobs=1``) except in the SIGKILL test, which kills a real multi-process sweep.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from figure_lint import problems

from lsgdsim import Result, RunSpec
from lsgdsim.cli import main
from lsgdsim.sweep import (
    axis_values,
    expand_grid,
    load,
    load_grid,
    record_columns,
    result_path,
    run_sweep,
    status,
)

pd = pytest.importorskip("pandas")  # the table; CI installs it with the test extra

# The README's grid is the issue's, which "must work as written".
ISSUE_GRID = re.search(r"```toml\n(.*?)```", (Path(__file__).resolve().parents[1] / "README.md").read_text(
    encoding="utf-8"), flags=re.S).group(1)
BASE = {"objective": "quadratic", "dim": 6, "cond": 20, "workers": 4, "steps": 60, "lr": 0.01, "grad_noise": 0.1}


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1, err
    return err


def numbers(df: pd.DataFrame) -> pd.DataFrame:
    """The table without wall-clock times (everything else must be identical)."""
    return df.drop(columns=["wall_time"]).reset_index(drop=True)


# -- the grid -------------------------------------------------------------------------------------------------
def test_issue_grid_expands_to_its_twelve_runs(tmp_path):
    assert "[grid]\npull = [0.05, 0.2]\nperiod = [1, 4]\nseed = [0, 1, 2]\n" in ISSUE_GRID
    (tmp_path / "grid.toml").write_text(ISSUE_GRID)
    grid = load_grid(tmp_path / "grid.toml")
    assert len(grid) == 12 and grid.axes == ("pull", "period", "seed")
    assert grid.points[0] == {"pull": 0.05, "period": 1, "seed": 0} and grid.points[-1] == {"pull": 0.2, "period": 4,
                                                                                             "seed": 2}
    assert grid.specs[5] == RunSpec.from_dict({**BASE, "dim": 10, "steps": 300, "pull": 0.05, "period": 4, "seed": 2})


def test_ranges_zipped_axes_and_seeds():
    assert axis_values({"start": 1, "stop": 9, "step": 4}, "period") == [1, 5]
    assert axis_values({"start": 0.1, "stop": 0.35, "step": 0.1}, "pull") == [0.1, 0.2, 0.3]
    assert axis_values({"start": 0.001, "stop": 0.1, "num": 3, "log": True}, "lr") == [0.001, 0.01, 0.1]
    assert axis_values({"start": 1, "stop": 9, "num": 3}, "period") == [1, 5, 9]
    grid = expand_grid({"base": BASE, "grid": {"pull": [0.1, 0.2], "seeds": 2},
                        "zip": [{"momentum": [0.0, 0.9], "nesterov": [False, True]}]})
    assert len(grid) == 8 and grid.axes == ("pull", "momentum", "nesterov", "seed")
    assert [(p["momentum"], p["nesterov"]) for p in grid.points[:4]] == [(0.0, False)] * 2 + [(0.9, True)] * 2
    assert len(expand_grid({"base": BASE, "grid": {"seed": [0, 0, 1]}})) == 2    # one spec, one run


@pytest.mark.parametrize(("grid", "message"), [
    ({"base": BASE, "grid": {"dim": [3, 4]}}, "dim is both in"),
    ({"base": BASE, "grid": {"seed": [0], "seeds": 2}}, "seeds axis once"),
    ({"base": BASE, "grid": {"pull": [0.1]}, "zip": [{"pull": [0.2]}]}, "pull is on more than one axis"),
    ({"base": BASE, "zip": [{"lr": [0.1, 0.2], "pull": [0.1]}]}, "equal lengths"),
    ({"base": BASE, "grid": {"pull": 0.1}}, "single value goes in"),
    ({"base": BASE, "axes": {}}, "unknown table axes"),
    ({}, "the grid is empty"),
    ({"base": BASE, "grid": {"pull": [0.1, 2.0]}}, r"grid point 2 of 2 \(pull=2\): pull must be in"),
    ({"base": BASE, "grid": {"groups": [1, 3]}}, "grid point 2 of 2 .*groups must divide workers"),
    ({"base": {**BASE, "algorithm": "sgd"}, "grid": {"pull": [0.1]}}, "pull does not apply to algorithm sgd"),
])
def test_a_bad_grid_is_one_line_naming_the_point_and_key(grid, message):
    with pytest.raises(ValueError, match=message) as info:
        expand_grid(grid)
    assert "\n" not in str(info.value)


# -- the command, resume, status, table ----------------------------------------------------------------------
def test_issue_grid_runs_resumes_and_gives_its_table(tmp_path, capsys):
    (tmp_path / "grid.toml").write_text(ISSUE_GRID)
    out, table = tmp_path / "DIR", tmp_path / "DIR" / "table.parquet"
    assert main(["sweep", str(tmp_path / "grid.toml"), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert "12 runs (0 found done, 12 run now: 0 diverged, 0 failed)" in capsys.readouterr().out
    assert len(list((out / "runs").glob("*.npz"))) == 12
    assert main(["sweep", "--table", str(table), str(out)]) == 0
    df = pd.read_parquet(table)
    assert df["run"].nunique() == 12 and len(df) == 12 * 301
    assert {"pull", "period", "seed", "dim", "cond", "lr", "step", "best_f", "gap", "spread",
            "leader_worker"} <= set(df)
    assert sorted(df.groupby(["pull", "period", "seed"]).size().unique()) == [301]
    pd.testing.assert_frame_equal(df, load(out))                          # Parquet keeps every value and type
    assert main(["sweep", "--table", str(tmp_path / "t.csv"), str(out)]) == 0
    csv = pd.read_csv(tmp_path / "t.csv")
    assert list(csv.columns) == list(df.columns) and len(csv) == len(df)
    assert np.array_equal(csv["best_f"], df["best_f"]) and np.array_equal(csv["seed"], df["seed"])   # CSV: exact too
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.npz")}
    assert main(["sweep", str(tmp_path / "grid.toml"), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps             # resumed: nothing ran again
    capsys.readouterr()
    assert main(["sweep", "--status", str(out)]) == 0
    assert re.search(r"12 runs in its grid\n  done +12\n  failed +0\n  pending +0", capsys.readouterr().out)
    report = run_sweep(load_grid(tmp_path / "grid.toml"), out, jobs=1, force=True, progress=False, log=lambda s: None)
    assert report.ran == 12 and report.skipped == 0


def test_a_diverging_configuration_does_not_stop_the_sweep(tmp_path):
    base = {k: v for k, v in BASE.items() if k != "lr"}
    grid = expand_grid({"base": {**base, "cond": 100, "steps": 200}, "grid": {"lr": [0.01, 10.0], "seeds": 2}})
    report = run_sweep(grid, tmp_path, jobs=1, progress=False, log=lambda s: None)
    assert (report.ran, report.diverged, report.failed) == (4, 2, 0)
    df = load(tmp_path)
    last = df.groupby("run").tail(1).set_index("run")
    diverged = last[last["status"] == "diverged"]
    assert len(diverged) == 2 and (last.loc[last["status"] == "ok", "step"] == 200).all()
    for run, row in diverged.iterrows():
        d = Result.load(tmp_path / "runs" / f"{run}.npz").meta["diverged"]
        assert (row["diverged_step"], row["diverged_worker"]) == (d["step"], d["worker"])
        assert row["step"] == d["step"] - 1
    assert status(tmp_path)["diverged"] == 2


def test_a_run_that_raises_is_recorded_and_retried_on_resume(tmp_path, capsys, monkeypatch):
    (tmp_path / "g.toml").write_text('[base]\nsteps = 30\nworkers = 2\ndim = 3\n[grid]\nseed = [0, 1, 2]\n')
    real = RunSpec.run

    def flaky(self, **kw):
        if self.seed == 1:
            raise RuntimeError("the node ran out of disk")
        return real(self, **kw)

    monkeypatch.setattr(RunSpec, "run", flaky)
    out = tmp_path / "out"
    assert main(["sweep", str(tmp_path / "g.toml"), "--out", str(out), "--jobs", "1", "--no-progress"]) == 1
    last = capsys.readouterr().err.splitlines()[-1]                  # after the start line: one line on the failures
    assert last.startswith("lsgdsim: 1 of 3 runs failed") and "the node ran out of disk" in last
    errors = list((out / "runs").glob("*.error.json"))
    assert len(errors) == 1 and len(list((out / "runs").glob("*.npz"))) == 2
    st = status(out)
    assert (st["done"], st["failed"], st["pending"]) == (2, 1, 0)
    assert "RuntimeError" in next(iter(st["errors"].values()))
    monkeypatch.setattr(RunSpec, "run", real)
    report = run_sweep(load_grid(tmp_path / "g.toml"), out, jobs=1, progress=False, log=lambda s: None)
    assert (report.skipped, report.ran, report.failed) == (2, 1, 0) and not errors[0].exists()


def test_a_sweep_killed_with_sigkill_resumes_with_every_run_once_and_the_same_numbers(tmp_path):
    grid_file = tmp_path / "g.toml"
    grid_file.write_text('[base]\ndim = 20\ncond = 20\nworkers = 8\nsteps = 1500\ngrad_noise = 0.1\n'
                         '[grid]\npull = [0.1, 0.3]\nseeds = 4\n')
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen([sys.executable, "-m", "lsgdsim", "sweep", str(grid_file), "--out", str(killed), "--jobs",
                             "2", "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while len(list((killed / "runs").glob("*.npz"))) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep ended before it could be killed"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)                       # the sweep and its worker processes, mid-way
        proc.wait()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (killed / "runs").glob("*.npz")}
    assert 2 <= len(before) < 8
    grid = load_grid(grid_file)
    report = run_sweep(grid, killed, jobs=1, progress=False, log=lambda s: None)
    assert (report.skipped, report.ran, report.failed) == (len(before), 8 - len(before), 0)   # nothing run twice
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (killed / "runs").glob("*.npz")}
    assert {k: after[k] for k in before} == before                # what was saved was kept as it was
    assert sorted(p.name for p in (killed / "runs").iterdir()) == sorted(f"{s.hash}.npz" for s in grid.specs)
    run_sweep(grid, clean, jobs=1, progress=False, log=lambda s: None)
    for spec in grid.specs:
        assert Result.load(result_path(killed, spec)) == Result.load(result_path(clean, spec))
    pd.testing.assert_frame_equal(numbers(load(killed)), numbers(load(clean)))


def test_output_locations_and_options_are_checked_before_any_work(tmp_path, capsys, monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module("lsgdsim.simulate"), "simulate", lambda *a, **k: pytest.fail("ran"))
    (tmp_path / "g.toml").write_text(ISSUE_GRID)
    (tmp_path / "file").write_text("x")
    (tmp_path / "bad.toml").write_text("[base\nsteps = 3\n")
    (tmp_path / "unknown.toml").write_text(ISSUE_GRID.replace("steps = 300", "stepz = 300"))
    g = str(tmp_path / "g.toml")
    for argv, named in [([g, "--out", str(tmp_path / "file")], "--out"), ([g, "--table", str(tmp_path)], "--table"),
                        ([g, "--jobs", "0"], "--jobs"), ([g, "--jobs", "2", "--dask-local", "2"], "--dask-local"),
                        (["--status", str(tmp_path)], "not a sweep folder"), ([str(tmp_path)], "--table OUT"),
                        ([str(tmp_path / "nope.toml")], "no grid file"), ([g, "--table", "t.txt"], ".parquet or .csv"),
                        ([str(tmp_path / "bad.toml")], "is not valid TOML"),
                        ([str(tmp_path / "unknown.toml")], "[base]: unknown option stepz"),   # before expansion
                        ([g, "--out", str(tmp_path / "file" / "sub")], "file is not a folder"),
                        (["--status", str(tmp_path), "--force"], "--force")]:
        assert main(["sweep", *argv]) == 2, argv
        assert named in one_line_error(capsys)


def test_a_missing_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    (tmp_path / "g.toml").write_text(ISSUE_GRID)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["sweep", str(tmp_path / "g.toml"), "--dask-local", "2"]) == 2
    assert "pip install 'lsgdsim[dask]'" in one_line_error(capsys)
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert main(["sweep", "--table", str(tmp_path / "t.parquet"), str(tmp_path)]) == 2
    assert "pip install 'lsgdsim[sweep]'" in one_line_error(capsys)


# -- the table's columns ----------------------------------------------------------------------------------------
def test_record_columns_are_the_workers_statistics():
    spec = RunSpec.from_dict({"objective": "logistic", "n_samples": 50, "dim": 4, "workers": 4, "steps": 40,
                              "batch_size": 5, "period": 3, "record_every": 4})
    res = spec.run()
    cols = record_columns(res)
    assert np.array_equal(cols["samples"], res.steps * 4 * 5)
    assert np.array_equal(cols["best_f"], res.f.min(axis=1)) and np.array_equal(cols["best_worker"], res.f.argmin(1))
    assert np.allclose(cols["gap"], res.f.min(axis=1) - res.meta["objective"]["fmin"])
    assert np.array_equal(cols["spread"], res.dist_to_center.mean(axis=1))
    # the leader of the latest communication at or before each record: communications at t = 3, 6, 9, ...
    at_12 = res.leaders[list(res.leader_steps).index(12)]
    assert np.isnan(cols["leader_worker"][0]) and cols["leader_worker"][list(res.steps).index(12)] == at_12
    sgd = RunSpec.from_dict({"algorithm": "sgd", "steps": 5, "workers": 2, "dim": 3}).run()
    assert np.isnan(record_columns(sgd)["leader_worker"]).all()


def test_plot_sweep_draws_the_mean_over_seeds_per_value(tmp_path):
    from lsgdsim.sweep_plots import plot_sweep
    grid = expand_grid({"base": BASE, "grid": {"pull": [0.05, 0.3], "period": [1, 4], "seeds": 3}})
    run_sweep(grid, tmp_path, jobs=1, progress=False, log=lambda s: None)
    df = load(tmp_path)
    fig, axes = plot_sweep(df, y="gap", x="samples", hue="pull", col="period")
    assert axes.shape == (1, 2) and [len(ax.get_lines()) for ax in axes[0]] == [2, 2]
    assert problems(fig, as_saved=False) == [], "legible on a plain fig.savefig (issue 24)"
    line = axes[0][1].get_lines()[1]                               # period 4, pull 0.3
    part = df[(df["period"] == 4) & (df["pull"] == 0.3)]
    assert np.array_equal(line.get_ydata(), part.groupby("step")["gap"].mean().to_numpy())
    assert np.array_equal(line.get_xdata(), part.groupby("step")["samples"].mean().to_numpy())
    band = axes[0][1].collections[1].get_paths()[0].vertices[:, 1]   # the 25–75 % band over the seeds
    q = part.groupby("step")["gap"]
    assert np.allclose(band.min(), q.quantile(0.25).min()) and np.allclose(band.max(), q.quantile(0.75).max())
    with pytest.raises(ValueError, match="period varies within a line"):
        plot_sweep(df, y="gap", hue="pull")


def test_the_progress_bar_shows_runs_done_failed_and_time_left(tmp_path, capsys, monkeypatch):
    real = RunSpec.run
    monkeypatch.setattr(RunSpec, "run", lambda self, **kw: 1 / 0 if self.seed == 2 else real(self, **kw))
    grid = expand_grid({"base": {**BASE, "steps": 20}, "grid": {"seeds": 4}})
    run_sweep(grid.specs[:1], tmp_path, jobs=1, progress=False, log=lambda s: None)
    capsys.readouterr()
    run_sweep(grid, tmp_path, jobs=1, progress=True, log=lambda s: None)
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]
    assert re.search(r"sweep: 100%.* 4/4 \[[0-9:]+<00:00, .*run.*failed=1", bar), bar   # 1 found done, 1 failed
