"""The clock from the command line, from a RunSpec (its [clock] table and flat keys) and from a sweep grid."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import Result, RunSpec
from lsgdsim.cli import main

RUN = ["run", "--dim", "6", "--cond", "10", "--workers", "4", "--steps", "60", "--grad-noise", "0.1",
       "--period", "4", "--pull", "0.2"]
CLOCK_FLAGS = ["--compute", "lognormal", "--compute-time", "0.01", "--compute-sigma", "0.5", "--latency", "1e-4",
               "--bandwidth", "1e8"]
CLOCK_TOML = """[clock]
model_bytes = 4000
[clock.compute]
model = "lognormal"
median = 0.01
sigma = 0.5
[clock.network]
network = "flat"
latency = 1e-4
bandwidth = 1e8
"""


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1, err
    return err


def test_run_on_the_clock_prints_the_breakdown_and_saves_it(tmp_path, capsys):
    out = tmp_path / "run.npz"
    assert main([*RUN, *CLOCK_FLAGS, "--trigger", "total", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "time breakdown, simulated seconds" in text and "simulated_time_s" in text
    assert text.count("\n") < 60
    res = Result.load(out)
    b = res.breakdown
    np.testing.assert_allclose(b["compute"] + b["communicate"] + b["wait"], res.sim_time[-1])
    assert res.meta["spec"]["algorithm"]["trigger"] == "total" and res.meta["executor"] == "clock"
    # --spec reruns it exactly, clock included
    again = tmp_path / "again.npz"
    assert main(["run", "--spec", str(out), "--out", str(again)]) == 0
    assert Result.load(again) == res


def test_a_clock_file_and_the_flags_describe_the_same_clock(tmp_path, capsys):
    (tmp_path / "clock.toml").write_text(CLOCK_TOML)
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main([*RUN, "--clock", str(tmp_path / "clock.toml"), "--out", str(a)]) == 0
    assert main([*RUN, *CLOCK_FLAGS, "--model-bytes", "4000", "--out", str(b)]) == 0
    ra, rb = Result.load(a), Result.load(b)
    assert ra == rb and ra.meta["spec_hash"] == rb.meta["spec_hash"]


@pytest.mark.parametrize("argv, message", [
    (["--time-budget", "3"], "--time-budget needs a clock"),
    (["--asynchronous"], "--asynchronous does not apply to --algorithm lsgd"),
    (["--algorithm", "easgd", "--pull", None, "--asynchronous"], "--asynchronous needs a clock"),
    (["--compute", "pareto"], "--compute pareto needs --compute-shape"),
    (["--compute-sigma", "0.3"], "--compute-sigma does not apply to --compute constant"),
    (["--intra-latency", "1e-6"], "--intra-latency applies only with --nodes"),
    (["--nodes", "3"], "--nodes must be a positive integer dividing --workers = 4"),
    (["--bandwidth", "0"], "bandwidth"),
    (["--latency", "-1"], "latency"),
    (["--compute-time", "0"], "> 0"),
    (["--latency", "1e-3", "--backend", "array_api_strict"], "a clock run needs --backend numpy"),
    (["--trigger", "sometimes"], "--trigger"),
])
def test_bad_clock_options_are_one_line_before_any_work(argv, message, capsys, tmp_path):
    base = list(RUN)
    if None in argv:                       # an option removed from the base command
        drop = argv[argv.index(None) - 1]
        i = base.index(drop)
        del base[i:i + 2]
        argv = [a for a in argv if a is not None and a != drop]
    assert main([*base, *argv, "--out", str(tmp_path / "x.npz")]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "x.npz").exists()


def test_a_clock_file_does_not_go_with_the_clock_flags(tmp_path, capsys):
    (tmp_path / "clock.toml").write_text(CLOCK_TOML)
    assert main([*RUN, "--clock", str(tmp_path / "clock.toml"), "--latency", "1e-3", "--no-save"]) == 2
    assert "--latency does not go with a clock table" in one_line_error(capsys)
    (tmp_path / "bad.toml").write_text("[clock]\ncompute = {model = 'lognormal', median = 1.0}\n")
    assert main([*RUN, "--clock", str(tmp_path / "bad.toml"), "--no-save"]) == 2
    assert "missing ['sigma']" in one_line_error(capsys)


def test_the_clock_table_round_trips_through_every_form_and_keeps_lockstep_hashes():
    flat = {"dim": 6, "workers": 8, "steps": 30, "compute": "pareto", "compute_time": [0.1] * 8, "compute_shape": 1.5,
            "nodes": 2, "latency": 5e-5, "bandwidth": 1.25e9, "intra_latency": 1e-6, "intra_bandwidth": "inf",
            "model_bytes": 10**6, "time_budget": 2.5, "algorithm": "easgd", "asynchronous": True}
    spec = RunSpec.from_dict(flat)
    assert spec.clock["network"]["per_node"] == 4 and spec.time_budget == 2.5
    assert RunSpec.from_dict(spec.to_flat()) == spec == RunSpec.from_dict(spec.to_dict())
    assert RunSpec.from_dict(spec.to_flat()).hash == spec.hash
    res = spec.run()
    assert res.sim_time[-1] <= 2.5 and RunSpec.from_meta(res.meta) == spec
    lockstep = RunSpec.from_dict({"dim": 6, "workers": 8, "steps": 30})
    assert "clock" not in lockstep.to_dict() and "time_budget" not in lockstep.to_dict()
    assert "trigger" not in lockstep.to_dict()["algorithm"]


def test_a_sweep_over_bandwidth_gives_one_makespan_per_network(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    from lsgdsim.sweep import load
    (tmp_path / "grid.toml").write_text(
        '[base]\nobjective = "quadratic"\ndim = 6\nworkers = 4\nsteps = 40\nlr = 0.02\nalgorithm = "localsgd"\n'
        'period = 2\ncompute_time = 0.001\nlatency = 1e-3\nmodel_bytes = 1000000\n[grid]\nbandwidth = [1e7, 1e9]\n')
    out = tmp_path / "sweep"
    assert main(["sweep", str(tmp_path / "grid.toml"), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    runs = sorted((out / "runs").glob("*.npz"))
    assert len(runs) == 2
    makespans = sorted(float(Result.load(r).sim_time[-1]) for r in runs)
    assert makespans[1] > 5 * makespans[0]       # 100× less bandwidth, 2 MB per all-reduce
    assert isinstance(load(out), pd.DataFrame)
