"""Nothing reused unless verified, and no process left behind (issue 22).

Every file lsgdsim writes and later trusts carries a content digest (lsgdsim/digest.py); a damaged or
edited one is measured again with one line saying which file and why, never a traceback, never reused
silently. Pool processes die with their parent, SIGKILL included (lsgdsim/lifeline.py).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lsgdsim import Result, algorithms, digest, objectives, simulate
from lsgdsim.sweep import load_grid, run_sweep, status
from theory_checks.pipeline import RECORDS, saved_record
from theory_checks.record import CheckRecord

ROOT = Path(__file__).resolve().parents[1]


def _result(steps=5) -> Result:
    q = objectives.Quadratic.random(dim=3, cond=2.0, seed=0)
    return simulate(q, algorithms.LSGD(lr=0.1, pull=0.1), workers=4, steps=steps, seed=1)


def _flip_a_byte_inside(path: Path, member: str) -> None:
    """Rewrite the .npz with one byte of ``member``'s data changed (a valid archive, wrong content)."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    raw = bytearray(members[member])
    raw[-1] ^= 0x01
    members[member] = bytes(raw)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# -- results --------------------------------------------------------------------------------------------
def test_a_result_with_one_flipped_byte_is_refused_in_one_line(tmp_path):
    path = _result().save(tmp_path / "r.npz")
    assert Result.load(path, require_digest=True) == _result()
    _flip_a_byte_inside(path, "x.npy")
    with pytest.raises(digest.DamagedFile) as info:
        Result.load(path)
    assert str(path) in str(info.value) and "digest" in str(info.value) and "\n" not in str(info.value)


def test_a_result_without_a_digest_loads_unless_a_cache_requires_one(tmp_path):
    path = _result().save(tmp_path / "r.npz")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != digest.KEY + ".npy"}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert Result.load(path) == _result()                             # a file of an older lsgdsim
    with pytest.raises(digest.DamagedFile, match="no content digest"):
        Result.load(path, require_digest=True)


def _saved_with(tmp_path, **changes) -> Path:
    r = _result()
    for k, v in changes.items():
        setattr(r, k, v)
    return r.save(tmp_path / "r.npz")


@pytest.mark.parametrize("changes, words", [
    ({"center": np.zeros((7, 7))}, "center has shape"),
    ({"f": np.full((6, 4), "a")}, "not numbers"),
    ({"leaders": np.array([-1, 0, 1, 2, 3])}, "worker indices"),
])
def test_arrays_that_do_not_fit_together_are_refused(tmp_path, changes, words):
    r = _result()
    for k, v in changes.items():
        if k == "leaders":
            v = np.resize(v, r.leaders.shape)
        setattr(r, k, v)
    path = r.save(tmp_path / "r.npz")
    with pytest.raises(ValueError, match=words):
        Result.load(path)


def test_a_spec_contradicting_the_arrays_is_refused(tmp_path):
    r = _result()
    r.meta = {**r.meta, "workers": 7}
    with pytest.raises(ValueError, match="workers = 7"):
        Result.load(r.save(tmp_path / "r.npz"))


def test_an_archive_that_would_inflate_beyond_the_limit_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, f=np.zeros((2**13, 2**12)))              # 256 MiB of zeros, a few hundred KiB
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="GiB once read"):
        Result.load(path, max_bytes=2**26)
    assert time.perf_counter() - t0 < 1.0


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "r.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        Result.load(fifo)


# -- check records ----------------------------------------------------------------------------------------
def _record(tmp_path) -> Path:
    rec = CheckRecord(name="demo", claim="c", reading="r", setting={"n": 3}, measured={"value": 0.125},
                      expected={}, arrays={"a": np.arange(4.0)}, verdict="holds", meta={"mode": "quick"})
    rec.save(tmp_path / RECORDS)
    return tmp_path / RECORDS / "demo.json"


def test_an_edited_check_record_is_not_reused_and_says_so(tmp_path, capsys):
    path = _record(tmp_path)
    assert CheckRecord.load(path).measured == {"value": 0.125}
    path.write_text(path.read_text().replace("0.125", "0.126"))           # one changed digit
    with pytest.raises(digest.DamagedFile, match="does not match its digest"):
        CheckRecord.load(path)
    assert saved_record("demo", tmp_path, {"mode": "quick"}) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "demo.json" in err[0] and "measuring demo again" in err[0]


@pytest.mark.parametrize("damage", [_truncate, lambda p: _flip_a_byte_inside(p, "a.npy")])
def test_a_damaged_record_array_file_is_not_reused(tmp_path, capsys, damage):
    path = _record(tmp_path)
    damage(path.with_suffix(".npz"))
    assert saved_record("demo", tmp_path, {"mode": "quick"}) is None
    assert "measuring demo again" in capsys.readouterr().err


def test_check_resume_measures_a_damaged_record_again(tmp_path):
    report = tmp_path / "rep"
    cmd = [sys.executable, "-m", "lsgdsim", "check", "--quick", "--only", "saddle-escape", "--report", str(report),
           "--no-progress"]
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=300).returncode == 0
    saved = report / RECORDS / "saddle-escape.npz"
    _truncate(saved)
    proc = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "saddle-escape.npz" in proc.stderr and "measuring saddle-escape again" in proc.stderr
    assert "Traceback" not in proc.stderr
    CheckRecord.load(report / RECORDS / "saddle-escape.json")             # whole again


# -- figure data and task parts -----------------------------------------------------------------------------
def test_damaged_figure_data_and_parts_are_measured_again(tmp_path, capsys):
    from figures.data import FigureData, Parts
    from figures.pipeline import saved_data
    data = FigureData("demo", "t", "c", {"k": 1}, {"a": np.arange(3.0)}, {}, {"config_hash": "h", "code": "c"})
    data.save(tmp_path)
    json_path = tmp_path / "demo.json"
    doc = json.loads(json_path.read_text())
    doc["info"] = {"edited": True}
    json_path.write_text(json.dumps(doc))
    assert saved_data("demo", tmp_path, {"k": 1}, True, 0) is None
    assert "demo.json" in capsys.readouterr().err
    parts = Parts(tmp_path, "ring", {"k": 1})
    parts.put("task-1", {"v": np.arange(5.0)})
    assert np.array_equal(parts.get("task-1")["v"], np.arange(5.0))
    _truncate(parts._path("task-1"))
    assert parts.get("task-1") is None                                   # run again, not a failure every rerun
    assert "running task task-1 again" in capsys.readouterr().err
    assert not parts._path("task-1").exists()


# -- sweeps ------------------------------------------------------------------------------------------------
def _sweep(tmp_path):
    (tmp_path / "g.toml").write_text('[base]\nsteps = 20\nworkers = 2\ndim = 3\n[grid]\nseed = [0, 1, 2, 3]\n')
    grid = load_grid(tmp_path / "g.toml")
    out = tmp_path / "out"
    run_sweep(grid, out, jobs=1, progress=False, log=lambda s: None)
    return grid, out


def test_a_sweep_resume_reruns_damaged_foreign_and_linked_results(tmp_path):
    grid, out = _sweep(tmp_path)
    paths = [out / "runs" / f"{s.hash}.npz" for s in grid.specs]
    before = [Result.load(p) for p in paths]
    _truncate(paths[0])
    _flip_a_byte_inside(paths[1], "f.npy")
    paths[2].write_bytes(paths[3].read_bytes())                          # another run's result under its name
    paths[3].unlink()
    paths[3].symlink_to(paths[2])
    st = status(out)
    assert st["done"] == 0 and len(st["damaged"]) == 4
    lines = []
    report = run_sweep(grid, out, jobs=1, progress=False, log=lines.append)
    assert report.ran == 4 and report.skipped == 0
    assert sum("running it again" in line for line in lines) == 4
    assert any("another run" in line for line in lines) and any("symbolic link" in line for line in lines)
    assert [Result.load(p, require_digest=True) for p in paths] == before   # the same numbers again
    assert status(out)["done"] == 4


# -- processes ---------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


POOLED = {"sweep": ["sweep", "g.toml", "--out", "out", "--jobs", "2", "--no-progress"],
          "check": ["check", "--only", "rate", "--only", "stochastic-leader", "--report", "rep", "--jobs", "2",
                    "--no-progress"],
          "reproduce": ["reproduce", "--only", "rates", "--only", "leaders", "--out", "figs", "--jobs", "2",
                        "--no-progress"]}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("command", list(POOLED))
def test_a_sigkilled_command_leaves_no_pool_process_behind(tmp_path, command):
    (tmp_path / "g.toml").write_text('[base]\nsteps = 200000\nworkers = 4\ndim = 50\n[grid]\nseed = [0, 1, 2, 3]\n')
    proc = subprocess.Popen([sys.executable, "-m", "lsgdsim", *POOLED[command]], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _children(proc.pid)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(1.0)                                                 # the workers are running their runs
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)], "pool processes outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)


@pytest.mark.parametrize("doc", ["[]", '{"runs": 5}', '{"runs": [1, 2]}', '{"runs": [{"x": 1}]}'])
def test_a_malformed_sweep_manifest_is_one_line_naming_it(tmp_path, doc):
    _, out = _sweep(tmp_path)
    (out / "sweep.json").write_text(doc)
    with pytest.raises(ValueError, match=r"sweep\.json is damaged: not a sweep manifest"):
        status(out)
