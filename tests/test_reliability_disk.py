"""A sweep whose folder fills up or turns read-only mid-way (issue 22): the file is named, every finished
result is kept, the run that could not be written goes to a fallback folder, exit 2, and it resumes."""
from __future__ import annotations

import errno
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from lsgdsim import Result
from lsgdsim.sweep import SweepWriteError, load_grid, run_sweep, status

GRID = '[base]\nsteps = 40\nworkers = 8\ndim = 2000\nobjective = "rastrigin"\n[grid]\nseed = [0, 1, 2, 3, 4, 5, 6, 7]\n'


def test_a_full_disk_mid_sweep_keeps_what_finished_and_names_the_file(tmp_path, monkeypatch):
    (tmp_path / "g.toml").write_text(GRID)
    grid, out = load_grid(tmp_path / "g.toml"), tmp_path / "out"
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setenv("LSGDSIM_RESCUE_DIR", str(rescue))
    real_save, saved = Result.save, []

    def save(self, path):                        # the sweep folder is full after three results
        if Path(path).parent == out / "runs" and len(saved) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        saved.append(path)
        return real_save(self, path)

    monkeypatch.setattr(Result, "save", save)
    with pytest.raises(SweepWriteError) as info:
        run_sweep(grid, out, jobs=1, progress=False, log=lambda s: None)
    exc = info.value
    assert exc.path.parent == out / "runs" and "No space left" in str(exc) and exc.path.name in str(exc)
    assert exc.rescued is not None and exc.rescued.parent == rescue and Result.load(exc.rescued, require_digest=True)
    assert status(out)["done"] == 3
    monkeypatch.setattr(Result, "save", real_save)                    # space again: the same sweep resumes
    report = run_sweep(grid, out, jobs=1, progress=False, log=lambda s: None)
    assert report.skipped == 3 and report.ran == 5 and status(out)["done"] == 8


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", f"lsgdsim-{uuid.uuid4().hex[:6]}",
                           str(where)], capture_output=True).returncode == 0


def test_a_full_tmpfs_mid_sweep_exits_2_keeps_every_finished_result_and_resumes(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "600k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        (tmp_path / "g.toml").write_text(GRID)
        cmd = [sys.executable, "-m", "lsgdsim", "sweep", str(tmp_path / "g.toml"), "--out", str(disk / "s"),
               "--jobs", "1", "--no-progress"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                              env={**__import__("os").environ, "LSGDSIM_RESCUE_DIR": str(tmp_path)})
        assert proc.returncode == 2, proc.stderr
        line = [x for x in proc.stderr.splitlines() if x.startswith("lsgdsim: error")]
        assert len(line) == 1 and "No space left on device" in line[0] and ".npz" in line[0]
        assert "Traceback" not in proc.stderr and "resumes" in line[0]
        done = status(disk / "s")["done"]
        assert 0 < done < 8
        assert len(list(tmp_path.glob("*-rescued-*.npz"))) == 1          # the run that could not be written
        subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert f"{done} found done" in proc.stdout and status(disk / "s")["done"] == 8
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
