"""`lsgdsim reproduce`: the quick run's figures and data, redrawing from data only, determinism, reuse and resume.

The quick run reuses the session's quick theory report (tests/test_check_cli.py writes it to ``quick_dir``),
so the checks are not measured twice; its experiments run on two processes and must give exactly the
data of the one-process reference run (``quick_figures``).
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import theory_checks
from figures import EXPERIMENTS, pipeline, runner
from figures.data import PARTS, FigureData
from lsgdsim.algorithms.base import Algorithm
from lsgdsim.cli import main
from theory_checks.record import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header; AssertionError if the file is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def assert_readable_png(path: Path) -> None:
    width, height = png_size(path)
    assert 700 <= width <= 2000 and 250 <= height <= 2000, (path.name, width, height)
    assert 10_000 < path.stat().st_size < 1_500_000, (path.name, path.stat().st_size)


def stable(folder: Path, name: str) -> tuple[dict, dict, dict]:
    data = FigureData.load(folder / f"{name}.json")
    return data.config, data.info, data.stable_arrays()


def assert_same_data(a: Path, b: Path, name: str) -> None:
    (cfg_a, info_a, arr_a), (cfg_b, info_b, arr_b) = stable(a, name), stable(b, name)
    assert cfg_a == cfg_b and info_a == info_b
    assert arr_a.keys() == arr_b.keys()
    for key in arr_a:
        assert np.array_equal(arr_a[key], arr_b[key]), f"{name}: array {key} differs"


@pytest.fixture(scope="module")
def quick_run(quick_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures-quick")
    rc = main(["reproduce", "--quick", "--jobs", "2", "--out", str(out), "--report", str(quick_dir),
               "--no-progress"])
    return rc, out, quick_dir


def test_quick_reproduce_writes_every_figure_with_its_data(quick_run):
    rc, out, report = quick_run
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "quick" and list(manifest["figures"]) == [*theory_checks.CHECKS, *EXPERIMENTS]
    saved = {r["name"]: r for r in json.loads((report / "report.json").read_text())}
    for name in theory_checks.CHECKS:
        entry = manifest["figures"][name]
        assert entry["verdict"] in VERDICTS and entry["verdict"] == saved[name]["verdict"]
        assert (out / f"{name}.json").is_file()                 # the record: the figure's data
        if saved[name]["figure"]:
            assert_readable_png(out / f"{name}.png")
            assert entry["legacy"] or (out / f"{name}.pdf").stat().st_size > 5_000
    for name in EXPERIMENTS:
        assert_readable_png(out / f"{name}.png")
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert (out / f"{name}.json").is_file() and (out / f"{name}.npz").is_file()
        assert set(manifest["figures"][name]["files"]) == {f"{name}.{s}" for s in ("png", "pdf", "json", "npz")}
    assert not (out / PARTS).exists(), "finished experiments leave no task results behind"
    index = (out / "README.md").read_text(encoding="utf-8")   # the folder's index: a row per figure
    assert all(f"| [{name}]({name}.png) |" in index for name in [*theory_checks.CHECKS, *EXPERIMENTS])


def test_two_processes_give_the_one_process_data(quick_run, quick_figures):
    _, out, _ = quick_run
    for name in EXPERIMENTS:
        assert_same_data(quick_figures, out, name)


def test_from_data_redraws_every_figure_without_simulating(quick_run, monkeypatch, capsys):
    _, out, _ = quick_run
    def no_simulation(*args, **kwargs):
        raise AssertionError("--from-data must not simulate")
    monkeypatch.setattr(Algorithm, "init", no_simulation)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".json", ".npz")}
    drawn = [p for p in out.iterdir() if p.suffix == ".pdf"]
    for p in drawn:
        p.unlink()
    rc = main(["reproduce", "--quick", "--from-data", "--jobs", "1", "--out", str(out), "--report",
               str(out / "no-report-needed"), "--no-progress"])
    assert rc == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"wrote {len(theory_checks.CHECKS) + len(EXPERIMENTS)} figures in")
    assert "theory report" not in last, "a report this run did not write is not named"
    assert main(["reproduce", "--quick", "--from-data", "--only", "ring", "--out", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("wrote 1 figure in")
    assert all(p.is_file() and p.stat().st_size > 5_000 for p in drawn)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".json", ".npz")}
    assert after.keys() == before.keys()
    assert all(after[k] == before[k] for k in before if k != "manifest.json"), "figure data must not change"
    verdicts = {n: e.get("verdict") for n, e in json.loads(after["manifest.json"]).get("figures", {}).items()}
    assert verdicts == {n: e.get("verdict") for n, e in json.loads(before["manifest.json"])["figures"].items()}
    assert not (out / "no-report-needed").exists()


def test_saved_data_are_reused_and_a_killed_run_resumes(tmp_path, monkeypatch, quick_figures):
    import figures.matrix as matrix
    real, calls, killed = matrix.run_task, [], []

    def counting(cfg, task):
        calls.append(task["key"])
        if len(calls) == 3 and not killed:
            killed.append(task["key"])
            raise KeyboardInterrupt
        return real(cfg, task)
    monkeypatch.setattr(matrix, "run_task", counting)
    args = {"only": ["matrix"], "quick": True, "out": tmp_path, "report": tmp_path / "report", "jobs": 1,
            "progress": False}
    with pytest.raises(KeyboardInterrupt):
        runner.reproduce(**args)
    assert len(list((tmp_path / PARTS).rglob("*.npz"))) == 2       # the two finished tasks are saved
    n_tasks = len(matrix.tasks(matrix.config(quick=True)))
    calls.clear()
    runner.reproduce(**args)
    assert len(calls) == n_tasks - 2 and calls[0] == killed[0]        # the rest, from the one that was killed
    assert_same_data(quick_figures, tmp_path, "matrix")
    assert FigureData.load(tmp_path / "matrix.json").meta["resumed_tasks"] == 2
    calls.clear()
    manifest = runner.reproduce(**args)
    assert calls == [] and manifest.entries["matrix"]["reused"]      # same code and configuration: not rerun
    runner.reproduce(**args, force=True)
    assert len(calls) == n_tasks


@pytest.mark.parametrize("argv, message", [
    (["--only", "nope"], "--only must be one of"),
    (["--jobs", "0"], "--jobs must be a positive integer"),
    (["--seed", "-2"], "--seed must be an integer >= 0"),
    (["--from-data"], "from-data needs the saved data of every figure"),
])
def test_bad_input_is_a_one_line_error(argv, message, tmp_path, capsys):
    assert main(["reproduce", "--quick", "--out", str(tmp_path / "f"), "--report", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lsgdsim: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "f").exists() and not (tmp_path / "r").exists()


def test_output_folders_are_checked_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["reproduce", "--quick", "--only", "ring", "--out", str(tmp_path / "file")]) == 2
    assert "--out" in (err := capsys.readouterr().err) and "is not a folder" in err
    (tmp_path / "locked").mkdir(mode=0o500)
    if not os.access(tmp_path / "locked", os.W_OK):                # (root can write anywhere)
        assert main(["reproduce", "--quick", "--only", "ring", "--out", str(tmp_path / "locked" / "f")]) == 2
        assert "cannot write in" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "manifest.json").write_text(json.dumps({"mode": "full", "figures": {}}))
    assert main(["reproduce", "--quick", "--only", "ring", "--out", str(full)]) == 2
    assert "holds a full run" in capsys.readouterr().err
    assert sorted(p.name for p in full.iterdir()) == ["manifest.json"]
    assert runner.default_out(True) != runner.default_out(False)


def test_regenerate_script_runs_headless_without_mplbackend(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}
    env["PYTHONPATH"] = ""
    proc = subprocess.run([sys.executable, str(ROOT / "figures" / "regenerate.py"), "--quick", "--only", "ring",
                           "--out", str(tmp_path), "--no-progress"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_readable_png(tmp_path / "ring.png")
    assert "ring" in proc.stdout
    assert pipeline.saved_data("ring", tmp_path, FigureData.load(tmp_path / "ring.json").config, True, 0)
