"""`lsgdsim check`: the whole quick report runs, every record is complete, bad --only is one line."""
from __future__ import annotations

import json

import pytest

import theory_checks
from lsgdsim.cli import main
from theory_checks.record import VERDICTS


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("check")
    rc = main(["check", "--quick", "--report", str(out / "report"), "--json", str(out / "report.json")])
    return rc, out


def test_quick_check_runs_every_claim(quick_report, capsys):
    rc, out = quick_report
    assert rc == 0
    records = json.loads((out / "report.json").read_text())
    assert [r["name"] for r in records] == list(theory_checks.CHECKS)
    for r in records:
        assert set(r) >= {"name", "claim", "reading", "verdict", "measured", "expected", "summary"}
        assert r["verdict"] in VERDICTS and r["measured"] and r["expected"]
        assert r["figure"] and (out / "report" / r["figure"]).is_file()
    report = (out / "report" / "report.md").read_text()
    assert all(f"## {name}" in report for name in theory_checks.CHECKS)


def test_unknown_check_is_a_one_line_error(capsys, tmp_path):
    assert main(["check", "--quick", "--only", "nope", "--report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: only must be one of") and err.count("\n") == 1
    assert not (tmp_path / "report.md").exists()
