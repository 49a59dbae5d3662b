"""`lsgdsim check`: the whole quick report on both cores, its records, redrawing, and the runner's guarantees."""
from __future__ import annotations

import json

import numpy as np
import pytest

import theory_checks
from lsgdsim.algorithms.base import Algorithm
from lsgdsim.cli import main
from theory_checks import pipeline, runner
from theory_checks.record import VERDICTS, CheckRecord


@pytest.fixture(scope="module")
def quick_report(quick_dir):
    """The whole quick report on two processes, written where the per-check tests will read their records."""
    rc = main(["check", "--quick", "--jobs", "2", "--report", str(quick_dir), "--json", str(quick_dir / "all.json"),
               "--no-progress"])
    return rc, quick_dir


def test_quick_check_runs_every_claim(quick_report):
    rc, out = quick_report
    assert rc == 0
    records = json.loads((out / "all.json").read_text())
    assert records == json.loads((out / "report.json").read_text())
    assert [r["name"] for r in records] == list(theory_checks.CHECKS)
    for r in records:
        assert set(r) >= {"name", "claim", "reading", "verdict", "measured", "expected", "summary", "controls"}
        assert r["verdict"] in VERDICTS and r["measured"] and r["expected"]
        assert r["meta"]["mode"] == "quick"
        png = out / r["figure"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert all(f"## {name}" in report for name in theory_checks.CHECKS)
    # a budget per check (1.5 KB on average, the header included): the report grows with the checks, not within one
    assert len(report.encode()) < 1_500 * len(theory_checks.CHECKS), \
        "report.md must stay readable; numbers belong in the records"


def test_saved_records_rejudge_and_redraw_without_simulating(quick_report, monkeypatch, tmp_path):
    _, out = quick_report
    def no_simulation(*args, **kwargs):
        raise AssertionError("redrawing a figure must not simulate")
    monkeypatch.setattr(Algorithm, "init", no_simulation)
    saved = {r["name"]: r for r in json.loads((out / "report.json").read_text())}
    for path in sorted((out / "records").glob("*.json")):
        rec = CheckRecord.load(path)
        again = pipeline.judge(rec)
        assert again.verdict == saved[rec.name]["verdict"] and again.summary == saved[rec.name]["summary"]
        if pipeline.is_split(theory_checks.load(rec.name)):
            written = pipeline.draw(again, tmp_path)
            assert written and written[0].stat().st_size > 10_000


def _untimed(record) -> dict:
    """The record's JSON parts without the seconds it took (top level and meta)."""
    d = record.to_dict()
    d.pop("elapsed_s", None)
    d["meta"] = {k: v for k, v in d["meta"].items() if k != "elapsed_s"}
    return d


def test_jobs_do_not_change_the_records(tmp_path):
    names = ["stationary-points", "newton-alignment"]
    one = runner.run_checks(names, quick=True, report_dir=tmp_path / "one", jobs=1, progress=False)
    two = runner.run_checks(names, quick=True, report_dir=tmp_path / "two", jobs=2, progress=False)
    for a, b in zip(one, two, strict=True):
        assert _untimed(a) == _untimed(b)          # (not to_json: the digest covers the times too)
        assert a.arrays.keys() == b.arrays.keys()
        assert all(np.array_equal(a.arrays[k], b.arrays[k], equal_nan=a.arrays[k].dtype.kind in "fc")  # NaN marks
                   for k in a.arrays)                                                          # empty cells


def test_a_check_measures_with_one_blas_thread_in_this_process_too(monkeypatch):
    """jobs = 1 runs the checks here, where BLAS may have several threads; at full sizes a threaded BLAS sums
    in another order (newton-alignment's worst-x search moved in the 3rd digit), so run_check limits it."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    mod = theory_checks.load("stationary-points")
    seen = []

    def measure(**kwargs):
        seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        raise RuntimeError("stop here")
    monkeypatch.setattr(mod, "measure", measure)
    with threadpoolctl.threadpool_limits(2):
        with pytest.raises(RuntimeError, match="stop here"):
            pipeline.run_check("stationary-points", quick=True)
    assert seen and set(seen) == {1}


def test_quick_report_never_overwrites_a_full_one(tmp_path, capsys):
    rec = CheckRecord(name="stationary-points", claim="c", reading="r", setting={}, measured={}, expected={},
                      verdict="holds", meta={"mode": "full"})
    (tmp_path / "report.json").write_text(json.dumps([rec.to_dict()]))
    assert main(["check", "--quick", "--only", "stationary-points", "--report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "holds a full report" in err and err.count("\n") == 1
    assert runner.default_report_dir(True) != runner.default_report_dir(False)


def test_interrupted_run_writes_a_partial_report(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    real = pipeline.run_check
    monkeypatch.setattr(runner, "run_check",
                        lambda name, *a, **k: interrupt() if name == "newton-alignment" else real(name, *a, **k))
    rc = main(["check", "--quick", "--jobs", "1", "--only", "stationary-points", "--only", "newton-alignment",
               "--report", str(tmp_path), "--no-progress"])
    assert rc == 130
    report = (tmp_path / "report-partial.md").read_text()
    assert "PARTIAL REPORT" in report and "interrupted after 1 of 2 checks" in report
    assert "## stationary-points" in report and "## newton-alignment" not in report
    assert not (tmp_path / "report.md").exists()                  # a partial report never takes the complete name


def test_a_complete_report_survives_an_interrupted_rerun(tmp_path, monkeypatch):
    runner.run_checks(["stationary-points"], quick=True, report_dir=tmp_path, jobs=1, progress=False)
    complete = (tmp_path / "report.md").read_text()
    assert not (tmp_path / "report-partial.md").exists()
    monkeypatch.setattr(runner, "run_check", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        runner.run_checks(["stationary-points"], quick=True, report_dir=tmp_path, jobs=1, progress=False)
    assert (tmp_path / "report.md").read_text() == complete
    assert "PARTIAL REPORT" in (tmp_path / "report-partial.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--only", "nope"], "--only must be one of"),
    (["--jobs", "0"], "--jobs must be"),
    (["--seed", "-1"], "--seed must be"),
    (["--report", "/proc/lsgdsim-nope"], "--report"),
    (["--json", "/proc/nope/x.json"], "--json"),
])
def test_bad_input_is_a_one_line_error(argv, message, capsys, tmp_path):
    assert main(["check", "--quick", "--report", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lsgdsim: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "report.md").exists()


def test_resume_reuses_saved_records_of_the_same_code_and_configuration(tmp_path, monkeypatch):
    from theory_checks import stationary
    first = runner.run_checks(["stationary-points"], quick=True, report_dir=tmp_path, jobs=1, progress=False)
    (tmp_path / first[0].figure).unlink()
    monkeypatch.setattr(stationary, "measure", lambda **kw: (_ for _ in ()).throw(AssertionError("measured again")))
    again = runner.run_checks(["stationary-points"], quick=True, report_dir=tmp_path, jobs=1, progress=False,
                              reuse=True)
    assert again[0].verdict == first[0].verdict and again[0].meta["reused"]
    assert (tmp_path / first[0].figure).is_file()                # a missing figure is redrawn from the record
    with pytest.raises(runner.CheckErrors, match="measured again"):  # another seed is another run
        runner.run_checks(["stationary-points"], quick=True, seed=1, report_dir=tmp_path, jobs=1, progress=False,
                          reuse=True)
