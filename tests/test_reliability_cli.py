"""Issue 10, the command line: nothing lost, nothing silently ignored (one test per point of the issue).

Runs ``lsgdsim.cli.main`` in-process (fast), plus one real SIGTERM sent to a real process.
"""
from __future__ import annotations

import errno
import importlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line_error
from oracle_traps import trap_oracle

from lsgdsim import Result
from lsgdsim import cli as cli_module
from lsgdsim.cli import main

QUICK = ["run", "--objective", "quadratic", "--workers", "4", "--steps", "300", "--no-progress"]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command starts simulating."""
    monkeypatch.setattr(importlib.import_module("lsgdsim.simulate"), "simulate",
                        lambda *a, **k: pytest.fail("work before the check"))


def trap_objective(monkeypatch, at_call: int, action):
    """The CLI's objective, whose ``at_call``-th oracle call first runs ``action``."""
    real = cli_module.build_objective
    monkeypatch.setattr(cli_module, "build_objective", lambda args: trap_oracle(real(args), at_call, action))


# -- point 1: output paths are checked before the work; a write that fails is rescued -------------------
@pytest.mark.parametrize(("option", "where"), [
    ("--out", lambda t: t), ("--json", lambda t: t / "file.txt" / "s.json"),
    ("--csv", lambda t: "/proc/lsgdsim-test/t.csv"), ("--out", lambda t: t / ("x" * 300)),
    ("--json", lambda t: t / "r.npz"),  # the same file as --out
])
def test_bad_output_locations_fail_before_the_work(tmp_path, capsys, no_work, option, where):
    (tmp_path / "file.txt").write_text("x")
    argv = [*QUICK, "--out", str(tmp_path / "r.npz")] if option != "--out" else list(QUICK)
    assert main([*argv, option, str(where(tmp_path))]) == 2
    assert option in one_line_error(capsys)


def test_disk_full_keeps_the_result_and_names_the_fallback(tmp_path, capsys, monkeypatch):
    full, rescue = tmp_path / "full", tmp_path / "rescue"
    full.mkdir()
    real = os.fsync

    def fsync(fd):  # a full disk under full/
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(full) + os.sep):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setenv("LSGDSIM_RESCUE_DIR", str(rescue))
    assert main([*QUICK, "--out", str(full / "run.npz"), "--json", str(tmp_path / "s.json")]) == 1
    err = capsys.readouterr().err
    rescued = sorted(rescue.glob("run-rescued-*.npz"))
    assert len(rescued) == 1 and err.count("\n") == 1 and "No space left on device" in err and str(rescued[0]) in err
    assert Result.load(rescued[0]).steps[-1] == 300 and (tmp_path / "s.json").exists()
    assert list(full.iterdir()) == []


# -- point 2: a diverged run keeps what it had ------------------------------------------------------------
def test_diverged_run_writes_its_records_beside_never_over(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--objective", "quadratic", "--cond", "100", "--lr", "10", "--steps", "200", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    written = sorted(Path("results").glob("*.npz"))
    assert len(written) == 1 and written[0].name.endswith("-diverged.npz")
    m = re.search(r"worker (\d+) .* after step (\d+)", err)
    res = Result.load(written[0])
    d = res.meta["diverged"]
    assert err.count("\n") == 1 and m and str(written[0]) in err
    assert (int(m.group(1)), int(m.group(2))) == (d["worker"], d["step"]) and res.steps[-1] == d["step"] - 1
    out = tmp_path / "run.npz"
    out.write_bytes(b"a complete result")
    assert main([*argv, "--out", str(out)]) == 1
    assert out.read_bytes() == b"a complete result" and Result.load(tmp_path / "run-diverged.npz").meta["diverged"]


# -- point 3: an interrupted run is consistent and never replaces a complete one --------------------------
def test_interrupted_rerun_never_replaces_the_complete_result(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [*QUICK, "--steps", "1000", "--record-every", "100", "--json", "s.json"]
    assert main(argv) == 0
    complete = next(Path("results").glob("*.npz"))
    before = complete.read_bytes()
    capsys.readouterr()

    def ctrl_c():
        raise KeyboardInterrupt

    trap_objective(monkeypatch, 432, ctrl_c)
    assert main(argv) == 130
    err = capsys.readouterr().err
    partial = complete.with_name(complete.stem + "-partial.npz")
    assert complete.read_bytes() == before and partial.exists() and Path("s-partial.json").exists()
    assert err.count("\n") == 1 and "interrupted" in err and str(partial) in err and "at step 430" in err
    res = Result.load(partial)
    from lsgdsim.objectives import make_objective
    np.testing.assert_array_equal(make_objective("quadratic").value(res.x), res.f[-1])
    assert res.steps[-1] == 430 and res.meta["gradient_evaluations"] == 4 * 430 and res.leader_steps[-1] == 430


# -- point 4: SIGTERM is handled like Ctrl-C ---------------------------------------------------------------
def test_sigterm_writes_what_finished_and_exits_143(tmp_path, capsys, monkeypatch):
    before = signal.getsignal(signal.SIGTERM)
    trap_objective(monkeypatch, 101, lambda: os.kill(os.getpid(), signal.SIGTERM))
    assert main([*QUICK, "--out", str(tmp_path / "r.npz")]) == 143
    res = Result.load(tmp_path / "r-partial.npz")
    assert res.meta["interrupted_by"] == "SIGTERM" and res.steps[-1] == 99 and not (tmp_path / "r.npz").exists()
    assert "SIGTERM" in capsys.readouterr().err and signal.getsignal(signal.SIGTERM) is before


def test_a_real_sigterm_to_a_running_command(tmp_path):
    out = tmp_path / "run.npz"
    proc = subprocess.Popen([sys.executable, "-m", "lsgdsim", "run", "--steps", "50000000", "--workers", "4",
                             "--progress", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = b""
    killer = threading.Timer(120, proc.kill)  # never hang the suite
    killer.start()
    try:
        while not re.search(rb" [1-9]\d*/50000000", seen):  # the loop has made progress
            chunk = proc.stderr.read1(4096)
            assert chunk, seen.decode(errors="replace")
            seen += chunk
        proc.send_signal(signal.SIGTERM)
        seen += proc.stderr.read()
        assert proc.wait(timeout=60) == 143
    finally:
        killer.cancel()
        proc.kill()
    res = Result.load(tmp_path / "run-partial.npz")
    assert res.meta["interrupted_by"] == "SIGTERM" and 0 < res.steps[-1] < 50_000_000 and not out.exists()
    assert b"-partial.npz" in seen                                      # and nothing else: no temporaries
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-partial.npz"]


# -- point 5: files are readable by others -------------------------------------------------------------------
def test_cli_output_files_get_the_umask_mode(tmp_path, capsys):
    old = os.umask(0o027)
    try:
        files = [tmp_path / "r.npz", tmp_path / "s.json", tmp_path / "t.csv"]
        assert main([*QUICK, "--out", str(files[0]), "--json", str(files[1]), "--csv", str(files[2])]) == 0
    finally:
        os.umask(old)
    assert {os.stat(p).st_mode & 0o777 for p in files} == {0o640}


# -- point 6: no option is silently ignored ---------------------------------------------------------------------
@pytest.mark.parametrize(("extra", "option"), [
    (["--leader", "window", "--window", "0"], "--window"),
    (["--window", "5"], "--window"),                                    # the exact leader has no window
    (["--objective", "ring", "--cond", "5"], "--cond"),
    (["--objective", "logistic", "--cond", "5"], "--cond"),
    (["--rank", "2"], "--rank"), (["--samples", "50"], "--samples"), (["--negative", "1"], "--negative"),
    (["--objective", "matrix", "--dim", "4"], "--dim"),
    (["--objective", "rastrigin", "--dim", "2", "--problem-seed", "3"], "--problem-seed"),
    (["--no-save", "--out", "x.npz"], "--no-save"),
    (["--leader", "noisy"], "--leader-noise"),
    (["--lr-decay-steps", "50"], "--lr-decay-steps"),
    (["--lr-schedule", "inverse-time", "--lr-decay-factor", "0.5"], "--lr-decay-factor"),
    (["--global-period", "8"], "--global-period"),
    (["--algorithm", "eamsgd", "--momentum", "0"], "--momentum"),
])
def test_options_that_do_not_apply_are_one_line_errors(capsys, no_work, extra, option):
    assert main([*QUICK, *extra]) == 2
    assert option in one_line_error(capsys)


def test_train_data_folder_with_digits_is_an_error(tmp_path, capsys):
    assert main(["train", "--data", "digits", "--data-folder", str(tmp_path), "--steps", "1"]) == 2
    assert "--data-folder" in one_line_error(capsys)


# -- point 7: every error is one line -----------------------------------------------------------------------------
def test_corrupt_gz_mnist_one_line(tmp_path, capsys):
    import gzip
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        good = gzip.compress(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x04" + bytes(4))
        (tmp_path / f"{name}.gz").write_bytes(good[:10] + b"\xff" * 12 + good[22:])
    assert main(["train", "--data", "mnist", "--data-folder", str(tmp_path), "--steps", "1"]) == 2
    assert ".gz" in one_line_error(capsys)


def test_memory_error_is_one_line(capsys, monkeypatch):
    def oom(*a, **k):
        raise MemoryError
    monkeypatch.setattr(importlib.import_module("lsgdsim.simulate"), "simulate", oom)
    assert main([*QUICK, "--no-save"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: out of memory") and err.count("\n") == 1


def test_a_run_too_big_for_memory_is_refused_with_the_estimate(capsys):
    assert main([*QUICK, "--steps", "10000000000000", "--record-every", "1", "--no-save"]) == 2
    assert re.search(r"needs about [\d.e+]+ GiB", one_line_error(capsys))


# -- point 8: fail fast (the CLI builds everything before any work) --------------------------------------------
def test_bad_values_fail_before_the_work(capsys, no_work):
    for extra in (["--lr", "-0.1"], ["--period", "0"], ["--momentum", "1.5"], ["--groups", "0"]):
        assert main([*QUICK, *extra]) == 2
        one_line_error(capsys)
