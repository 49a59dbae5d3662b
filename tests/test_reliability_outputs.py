"""Issue 10, safe output (lsgdsim.outputs): checks before the work, file modes, temporaries, disk full.

Imports of lsgdsim.outputs are inside the tests, so that run against the code before the fix each test
fails on its own point.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lsgdsim import Result, simulate
from lsgdsim import algorithms as A
from lsgdsim import objectives as O

QUAD = O.Quadratic.random(dim=4, cond=10.0, seed=0)


def small_result() -> Result:
    return simulate(QUAD, A.LSGD(lr=0.01), workers=3, steps=20, seed=0)


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def disk_full(monkeypatch, folder: Path):
    """Make every fsync of a file under ``folder`` fail with ENOSPC, as a full disk does."""
    real = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder) + os.sep):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


# -- point 1: output locations are checked before the work; a failed write is rescued --------------------
@pytest.mark.parametrize(("where", "words"), [
    (lambda t: t, "is a folder"),
    (lambda t: t / "file.txt" / "run.npz", "is not a folder"),
    (lambda t: Path("/proc/lsgdsim-test/run.npz"), "cannot write in /proc"),
    (lambda t: t / ("x" * 300 + ".npz"), "longer than 255 bytes"),
    (lambda t: "", "empty"),
])
def test_check_output_path_names_the_option_in_one_line(tmp_path, where, words):
    from lsgdsim.outputs import check_output_path
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError) as info:
        check_output_path(where(tmp_path), "--out")
    msg = str(info.value)
    assert msg.startswith("--out") and words in msg and "\n" not in msg
    assert check_output_path(tmp_path / "new" / "deeper" / "run.npz", "--out").name == "run.npz"
    assert not (tmp_path / "new").exists()                       # checking creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # and leaves no probe behind


def test_failed_write_goes_to_a_fallback_and_says_where(tmp_path, monkeypatch):
    from lsgdsim.outputs import OutputError, write_with_fallback
    full, rescue = tmp_path / "full", tmp_path / "rescue"
    full.mkdir()
    disk_full(monkeypatch, full)
    res = small_result()
    with pytest.raises(OSError, match="No space left"):
        res.save(full / "run.npz")
    assert list(full.iterdir()) == []                              # no temporary left behind
    w = write_with_fallback(res.save, full / "run.npz", fallback_dirs=[rescue])
    assert w.rescued and w.path.parent == rescue and w.path.name.startswith("run-rescued-")
    assert "No space left on device" in w.describe() and str(w.path) in w.describe()
    assert Result.load(w.path) == res
    with pytest.raises(OutputError, match=r"could not write .*full/run\.npz .*; nor .*"):
        write_with_fallback(res.save, full / "run.npz", fallback_dirs=[full / "sub"])


# -- point 4: recognisable temporaries, stale ones removed ------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_dead_processes_are_removed_on_the_next_write(tmp_path):
    from lsgdsim.outputs import atomic_write_text
    stale = tmp_path / f".run.npz.lsgdsim-tmp-{_dead_pid()}-abcd1234"
    alive = tmp_path / ".run.npz.lsgdsim-tmp-1-abcd1234"             # pid 1 exists: may be writing
    other = tmp_path / ".hidden-user-file"
    for p in (stale, alive, other):
        p.write_bytes(b"x" * 100)
    atomic_write_text(tmp_path / "summary.json", "{}\n")
    assert not stale.exists() and alive.exists() and other.exists()


def test_a_write_killed_by_sigkill_leaves_a_named_temporary_that_is_cleaned(tmp_path):
    target = tmp_path / "big.npz"
    code = ("import sys, time\nfrom lsgdsim.outputs import atomic_write\n"
            "def slow(fh):\n    fh.write(b'x' * 100000); fh.flush(); print('writing', flush=True); time.sleep(60)\n"
            "atomic_write(sys.argv[1], slow, binary=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.kill()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    left = list(tmp_path.iterdir())
    assert len(left) == 1 and left[0].name.startswith(f".big.npz.lsgdsim-tmp-{proc.pid}-")
    small_result().save(tmp_path / "other.npz")                        # the next write to the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.npz"]


# -- point 5: files get the mode an ordinary open(..., "w") would ------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_respect_the_umask(tmp_path, mask):
    from lsgdsim import plotting
    from lsgdsim.result import atomic_write_text
    res = small_result()
    with umask(mask):
        files = [res.save(tmp_path / "r.npz"), res.to_csv(tmp_path / "t.csv"),
                 atomic_write_text(tmp_path / "s.json", "{}")]
        fig, _ = plotting.subplots()
        files.append(plotting.save(fig, tmp_path / "f.png"))
        with open(tmp_path / "plain.txt", "w"):
            pass
    assert {mode(p) for p in files} == {mode(tmp_path / "plain.txt")} == {0o666 & ~mask}


def test_rewriting_a_file_keeps_its_mode(tmp_path):
    path = small_result().save(tmp_path / "r.npz")
    os.chmod(path, 0o640)
    small_result().save(path)
    assert mode(path) == 0o640
    assert np.array_equal(Result.load(path).x, small_result().x)
