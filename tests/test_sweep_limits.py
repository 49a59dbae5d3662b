"""Limits checked before any work: grids sized and checked without being expanded (``--max-runs``), a run's
memory estimated from its spec before its objective is built, ``sweep --out ""``, and the table of a sweep
folder that does not exist.

A grid that were expanded after all would take minutes and tens of GiB, so those tests run the library in
a child process with 4 GiB of address space and a timeout: a regression fails them, it cannot fill the machine.
"""
from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import textwrap
import time

import pytest

from lsgdsim.cli import main
from lsgdsim.sweep import expand_grid

BASE = {"objective": "quadratic", "dim": 6, "cond": 20, "workers": 4, "steps": 40, "lr": 0.01, "grad_noise": 0.1}
LR_FREE = {k: v for k, v in BASE.items() if k != "lr"}                     # lr is an axis of the huge grid
BILLION = {"lr": {"start": 0.001, "stop": 0.1, "num": 1000, "log": True},   # 1000 x 1000 x 1000 points
           "pull": {"start": 0.0, "stop": 1.0, "num": 1000}, "seeds": 1000}
CAP = 4 << 30


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def _child(argv: list[str], timeout: float = 30) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python argv`` capped (4 GiB, ``timeout`` s); the result and its wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_capped)
    return done, time.perf_counter() - start


def _expand_in_child(grid: dict) -> tuple[str, float]:
    """expand_grid(grid) in a capped child: its one-line ValueError and the seconds the call took there."""
    code = textwrap.dedent(f"""
        import json, sys, time
        from lsgdsim.sweep import expand_grid
        start = time.perf_counter()
        try:
            expand_grid(json.loads({json.dumps(json.dumps(grid))}))
        except ValueError as exc:
            print(json.dumps([str(exc), time.perf_counter() - start]))
        """)
    done, _ = _child(["-c", code])
    assert done.returncode == 0 and done.stdout, done.stderr[-2000:]
    message, seconds = json.loads(done.stdout)
    return message, seconds


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1, err
    return err


# -- (a) grids: sized from their axes, every key and value checked before expansion --------------------------------
def test_a_billion_point_grid_is_refused_at_once_naming_its_size_and_max_runs():
    message, seconds = _expand_in_child({"base": LR_FREE, "grid": BILLION})
    assert "1,000,000,000 runs" in message and "--max-runs" in message and "\n" not in message, message
    assert seconds < 5, f"{seconds:.1f} s: the grid was expanded"   # measured: well under a millisecond


def test_max_runs_refuses_a_grid_above_it_and_lets_a_moderate_one_through(tmp_path, capsys):
    grid = {"base": BASE, "grid": {"pull": [0.05, 0.2], "period": [1, 4], "seeds": 3}}   # 12 runs
    with pytest.raises(ValueError, match=r"12 runs .*--max-runs"):
        expand_grid(grid, max_runs=11)
    assert len(expand_grid(grid, max_runs=12)) == 12
    (tmp_path / "g.toml").write_text("[base]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in BASE.items())
                                     + "[grid]\npull = [0.05, 0.2]\nperiod = [1, 4]\nseeds = 3\n")
    argv = ["sweep", str(tmp_path / "g.toml"), "--out", str(tmp_path / "out"), "--jobs", "1", "--no-progress"]
    assert main([*argv, "--max-runs", "11"]) == 2
    assert "12 runs" in one_line_error(capsys)
    assert not (tmp_path / "out").exists()
    assert main([*argv, "--max-runs", "0"]) == 2
    assert "--max-runs must be a positive integer" in one_line_error(capsys)
    assert main([*argv, "--max-runs", "12"]) == 0
    assert "12 runs (0 found done, 12 run now" in capsys.readouterr().out


@pytest.mark.parametrize(("last", "message"), [
    ({"stepz": [1, 2]}, r"\[\[zip\]\] 3: unknown option stepz"),
    ({"leader_noise": {"start": 0.0, "stop": float("inf"), "step": 0.1}}, "axis leader_noise: start, stop and step "
                                                                          "must be finite"),
    ({"window": [[[[[[[[[[1]]]]]]]]]]}, r"\[\[zip\]\] 3 window: a value nests lists or tables more than 8 deep"),
])
def test_a_bad_key_or_value_deep_inside_a_huge_grid_is_reported_before_expansion(last, message):
    zips = [{"momentum": [0.0, 0.9], "nesterov": [False, True]}, {"period": [1, 2, 4]}, last]
    error, seconds = _expand_in_child({"base": LR_FREE, "grid": BILLION, "zip": zips})
    assert re.search(message, error) and "\n" not in error, error
    assert seconds < 5, f"{seconds:.1f} s: the grid was expanded"


# -- (b) a run's memory, from its spec, before its objective is built ---------------------------------------------
@pytest.mark.parametrize(("options", "named"), [(["--dim", "100000"], "--dim 100000"),
                                                 (["--workers", "100000000", "--dim", "3000"], "--workers")])
def test_a_run_too_big_for_memory_is_refused_at_once_before_its_objective_is_built(options, named):
    done, seconds = _child(["-m", "lsgdsim", "run", *options, "--no-save"])
    err = done.stderr
    assert done.returncode == 2, err[-2000:]
    assert err.startswith("lsgdsim: error: this run needs about ") and err.count("\n") == 1, err
    assert named in err and "GiB" in err
    assert seconds < 5, f"{seconds:.1f} s: the objective was built"    # measured: about 0.7 s, the start-up


def test_lsgdsim_run_builds_its_objective_once_with_one_blas_thread(monkeypatch, capsys):
    from lsgdsim import components
    real, threads = components.build_objective, []

    def counted(spec):
        from threadpoolctl import threadpool_info
        threads.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return real(spec)

    monkeypatch.setattr(components, "build_objective", counted)
    assert main(["run", "--dim", "7", "--problem-seed", "918273", "--steps", "5", "--no-save"]) == 0
    assert threads in ([{1}], [set()]), threads      # once; set(): no BLAS library found to limit


# -- (c) sweep --out "" --------------------------------------------------------------------------------------------
def test_sweep_out_empty_is_refused_naming_out(tmp_path, capsys, monkeypatch):
    import importlib
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.import_module("lsgdsim.simulate"), "simulate", lambda *a, **k: pytest.fail("ran"))
    (tmp_path / "g.toml").write_text("[base]\nsteps = 5\n[grid]\nseeds = 2\n")
    assert main(["sweep", "g.toml", "--out", "", "--jobs", "1", "--no-progress"]) == 2
    assert "--out must be a path" in one_line_error(capsys)
    assert not (tmp_path / "sweeps").exists()


# -- (d) the table of a folder that does not exist -------------------------------------------------------------------
def test_loading_the_table_of_a_missing_sweep_folder_is_an_error_naming_it(tmp_path):
    pytest.importorskip("pandas")
    from lsgdsim.sweep import load
    for folder, words in [(tmp_path / "nope", "no sweep folder at"), (tmp_path / "file", "is not a folder")]:
        (tmp_path / "file").write_text("x")
        with pytest.raises(ValueError, match=words) as info:
            load(folder)
        assert str(folder) in str(info.value) and "\n" not in str(info.value)
