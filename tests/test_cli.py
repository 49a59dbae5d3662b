"""The `lsgdsim` command: run writes results; bad input is one line on stderr and exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lsgdsim import Result
from lsgdsim.cli import main


def test_run_acceptance_command(tmp_path, capsys):
    out, js = tmp_path / "run.npz", tmp_path / "summary.json"
    rc = main(["run", "--objective", "quadratic", "--algorithm", "lsgd", "--workers", "8", "--steps", "1000",
               "--out", str(out), "--json", str(js), "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "final_best_f" in printed and "leader_share" in printed
    summary = json.loads(js.read_text())
    res = Result.load(out)
    assert summary["steps"] == 1000 and res.f.shape[1] == 8 and len(res.leaders) == 1000
    assert summary["final_best_gap"] < summary["initial_best_f"] - res.meta["objective"]["fmin"]


@pytest.mark.parametrize("argv", [
    ["run", "--lr", "-1"],
    ["run", "--pull", "2"],
    ["run", "--workers", "0"],
    ["run", "--period", "0"],
    ["run", "--workers", "6", "--groups", "4"],
    ["run", "--algorithm", "sgd", "--pull", "0.1"],
    ["run", "--algorithm", "nope"],
    ["run", "--objective", "nope"],
    ["run", "--objective", "ring", "--dim", "3"],
    ["run", "--backend", "torch"],
    ["run", "--batch-size", "4"],
    ["run", "--steps", "ten"],
    ["run", "--leader-noise", "0.1"],
    ["run", "--cond", "0.5"],
    ["bogus"],
])
def test_bad_input_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1


def test_divergence_exit_1(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a diverged run writes its records (results/...-diverged.npz)
    assert main(["run", "--algorithm", "sgd", "--lr", "1.0", "--cond", "50", "--steps", "500"]) == 1
    assert "diverged" in capsys.readouterr().err


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "lsgdsim", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("lsgdsim ")


def test_run_options_reach_the_algorithm(tmp_path):
    js = tmp_path / "s.json"
    rc = main(["run", "--objective", "logistic", "--algorithm", "lsgd", "--leader", "window", "--window", "5",
               "--batch-size", "16", "--workers", "4", "--groups", "2", "--global-pull", "0.05",
               "--global-period", "8", "--lr-schedule", "inverse-time", "--lr", "0.5", "--steps", "80",
               "--out", str(tmp_path / "r.npz"), "--json", str(js), "--no-progress"])
    assert rc == 0
    meta = Result.load(tmp_path / "r.npz").meta
    assert meta["algorithm"]["leader"] == {"rule": "window", "size": 5, "sigma": 0.0, "zero_init": False}
    assert meta["algorithm"]["lr"]["schedule"] == "InverseTime" and meta["batch_size"] == 16


def test_run_without_out_writes_a_named_result(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--objective", "quadratic", "--algorithm", "lsgd", "--workers", "8", "--steps", "1000",
            "--no-progress"]
    assert main(argv) == 0
    written = sorted((tmp_path / "results").glob("run-quadratic-lsgd-*.npz"))
    assert len(written) == 1 and f"wrote {written[0].relative_to(tmp_path)}" in capsys.readouterr().out
    assert Result.load(written[0]).f.shape[1] == 8
    assert main([*argv, "--seed", "1"]) == 0                      # another configuration, another file
    assert len(list((tmp_path / "results").glob("*.npz"))) == 2
    assert main([*argv, "--seed", "2", "--no-save"]) == 0
    assert len(list((tmp_path / "results").glob("*.npz"))) == 2
