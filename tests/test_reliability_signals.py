"""Every signal handled (issue 22): one line and 130/143 at any moment, and an impatient second signal
does not throw away what the first one saved."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from lsgdsim import Result

LONG_RUN = ["run", "--steps", "1000000", "--workers", "16", "--dim", "200", "--record-every", "1"]


def _start(tmp_path, args):
    return subprocess.Popen([sys.executable, "-m", "lsgdsim", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_second_sigterm_while_stopping_keeps_the_partial_result(tmp_path):
    proc = _start(tmp_path, [*LONG_RUN, "--out", "r.npz"])
    time.sleep(4.0)                                       # well into the run
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)                                      # the result is being assembled and written
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "still writing what finished" in err and "partial result in r-partial.npz" in err
    res = Result.load(tmp_path / "r-partial.npz", require_digest=True)
    assert res.meta["interrupted"] and res.steps[-1] > 0


@pytest.mark.parametrize("sig, status, name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")])
def test_a_signal_while_the_command_starts_gives_one_line_and_its_status(tmp_path, sig, status, name):
    proc = _start(tmp_path, [*LONG_RUN, "--out", "r.npz"])
    time.sleep(0.25)                                      # still importing the package
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == status, err
    assert len(lines) == 1 and f"interrupted ({name})" in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("delay", [1.0, 2.5])
def test_a_stopped_process_pool_prints_one_line_and_no_thread_traceback(tmp_path, delay):
    (tmp_path / "g.toml").write_text('[base]\nsteps = 200000\nworkers = 4\ndim = 50\n[grid]\nseed = [0, 1, 2, 3]\n')
    proc = _start(tmp_path, ["sweep", "g.toml", "--out", "out", "--jobs", "2", "--no-progress"])
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "InvalidStateError" not in err
    assert [x for x in err.splitlines() if x.startswith("lsgdsim:")][-1].startswith("lsgdsim: interrupted (Ctrl-C)")


def test_reproduce_exits_143_on_sigterm(tmp_path):
    proc = _start(tmp_path, ["reproduce", "--quick", "--only", "ring", "--out", "f", "--jobs", "1", "--no-progress"])
    time.sleep(2.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (143, 0), err            # 0: it finished first (a fast machine)
    if proc.returncode == 143:
        assert "interrupted (SIGTERM)" in err and "Traceback" not in err


def test_an_interrupted_check_over_a_complete_report_says_what_it_saved(tmp_path):
    cmd = ["check", "--quick", "--only", "saddle-escape", "--only", "stationary-points", "--jobs", "1",
           "--report", "rep", "--no-progress"]
    first = _start(tmp_path, cmd)
    assert first.wait(timeout=300) == 0
    complete = (tmp_path / "rep" / "report.md").read_bytes()
    proc = _start(tmp_path, cmd)
    time.sleep(4.0)                                        # saddle-escape done, stationary-points running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the checks finished before the signal (a fast machine)")
    assert proc.returncode == 143, err
    assert "interrupted (SIGTERM)" in err and "nothing was written" not in err and "--resume" in err
    assert (tmp_path / "rep" / "report.md").read_bytes() == complete   # the complete report is not replaced
    assert (tmp_path / "rep" / "report-partial.md").exists()


def test_a_pool_process_ends_on_sigterm_even_with_the_commands_handler_installed():
    """A spawned pool process imports the parent's main module first (``python -m lsgdsim``); a SIGTERM
    handler that raised a KeyboardInterrupt there would be caught by the pool's worker loop, the process
    would live on, and the stopped pool would wait for it forever at exit (a hang seen in CI)."""
    code = ("import os, signal\n"
            "from lsgdsim.signals import _raise_terminated\n"
            "from lsgdsim.sweep.execute import _init_process\n"
            "signal.signal(signal.SIGTERM, _raise_terminated)\n"
            "_init_process(os.getppid())\n"
            "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


def test_a_spawned_process_importing_the_command_is_not_the_command(monkeypatch):
    """While spawn imports the parent's ``lsgdsim.__main__`` its argv is the parent's and its parent is
    not set yet: only multiprocessing's "inheriting" mark tells it is a pool process (no early handlers)."""
    import multiprocessing as mp

    from lsgdsim import signals

    monkeypatch.setattr(sys, "argv", ["-m"])
    monkeypatch.delitem(sys.modules, "__mp_main__", raising=False)
    assert signals.launched_as_command()
    monkeypatch.setattr(mp.current_process(), "_inheriting", True, raising=False)
    assert not signals.launched_as_command()
