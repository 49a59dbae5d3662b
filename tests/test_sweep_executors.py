"""Sweeps (issue 11): the executor changes the wall time, never a number.

One small grid (a random quadratic large enough for BLAS to matter, d = 130, and a logistic regression with
mini-batches) runs in this process, on 1 and 2 spawned local processes and on a Dask LocalCluster of 2
workers (``lsgdsim sweep --dask-local 2``): every Result is bit-identical and so is the table, wall times
aside. Dask's LocalCluster costs a few seconds to start, so it is started once here.
"""
from __future__ import annotations

import pytest

from lsgdsim import Result, RunSpec
from lsgdsim.cli import main
from lsgdsim.sweep import load, load_grid, map_runs, process_pool, result_path, run_sweep

pd = pytest.importorskip("pandas")

GRID_TOML = """\
[base]
objective = "quadratic"
dim = 130
cond = 30
workers = 4
steps = 40
lr = 0.01
grad_noise = 0.1
record_every = 5

[grid]
pull = [0.05, 0.3]
period = [1, 4]
seeds = 2
"""


def numbers(df):
    """The table without wall-clock times (everything else must be identical)."""
    return df.drop(columns=["wall_time"]).reset_index(drop=True)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The grid run in this process: the reference for every executor."""
    out, grid_file = tmp_path_factory.mktemp("serial"), tmp_path_factory.mktemp("grid") / "g.toml"
    grid_file.write_text(GRID_TOML)
    grid = load_grid(grid_file)
    assert run_sweep(grid, out, jobs=1, progress=False, log=quiet).ran == 8
    return grid, out, grid_file


def assert_same_sweep(a, b, grid):
    for spec in grid.specs:
        assert Result.load(result_path(a, spec)) == Result.load(result_path(b, spec)), spec.hash
    pd.testing.assert_frame_equal(numbers(load(a)), numbers(load(b)))


@pytest.mark.parametrize("jobs", [1, 2])
def test_local_processes_give_the_serial_table(serial, tmp_path, jobs):
    grid, ref, _ = serial
    with process_pool(jobs) as pool:        # jobs=1 through a pool too: a spawned process, not this one
        assert run_sweep(grid, tmp_path, executor=pool, progress=False, log=quiet).ran == 8
    assert_same_sweep(ref, tmp_path, grid)


def test_dask_local_cluster_gives_the_serial_table(serial, tmp_path, capsys):
    pytest.importorskip("distributed")
    grid, ref, grid_file = serial
    out = tmp_path / "dask"
    assert main(["sweep", str(grid_file), "--out", str(out), "--dask-local", "2", "--no-progress"]) == 0
    assert "Dask at tcp://" in capsys.readouterr().err
    assert_same_sweep(ref, out, grid)
    assert main(["sweep", "--table", str(tmp_path / "t.csv"), str(out)]) == 0
    csv = pd.read_csv(tmp_path / "t.csv")
    assert len(csv) == 8 * 9 and csv["run"].nunique() == 8 and set(csv["seed"]) == {0, 1}


def test_map_runs_is_the_serial_loop_on_any_executor(serial):
    specs = [RunSpec.from_dict({"objective": "logistic", "n_samples": 60, "dim": 5, "workers": 4, "steps": 30,
                                "batch_size": 6, "seed": s}) for s in range(3)]
    specs += serial[0].specs[:3]
    ref = [s.run() for s in specs]
    assert map_runs(specs, jobs=2) == ref
    with process_pool(2) as pool:
        assert map_runs(specs, executor=pool) == ref
    with pytest.raises(ValueError, match=r"specs\[0\] must be a RunSpec"):
        map_runs([GRID_TOML])


@pytest.mark.parametrize("address", ["not an address", "tcp://host:port", "http://localhost:8786", ""])
def test_a_malformed_scheduler_address_is_one_line_before_any_work(serial, tmp_path, capsys, address):
    pytest.importorskip("distributed")
    out = tmp_path / "never"
    assert main(["sweep", str(serial[2]), "--out", str(out), "--scheduler", address, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler must be an address like tcp://host:8786" in err[0]
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(serial, tmp_path, capsys, monkeypatch):
    """Nothing listens on the port: the connection times out (shortened here) and nothing is written."""
    pytest.importorskip("distributed")
    import functools
    import socket

    from lsgdsim.sweep import execute
    with socket.socket() as s:                  # a free port, closed again: nobody answers there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(execute, "dask_executor", functools.partial(execute.dask_executor, connect_timeout=2))
    monkeypatch.setattr("lsgdsim.sweep.dask_executor", execute.dask_executor)
    out = tmp_path / "out"
    assert main(["sweep", str(serial[2]), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 2 s" in err[0], err
    assert not out.exists() or not any(out.rglob("*.npz"))
