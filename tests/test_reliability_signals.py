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
