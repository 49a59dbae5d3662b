"""Options that do not apply are refused, never ignored; every error names its flag (one line, exit 2, before any work).

One test per failure of the audit: ``reproduce --from-data`` with --seed/--force, ``check --redraw`` with the
options of a measuring run or a folder that does not exist, empty output paths, errors that named a library
parameter instead of the flag (``run --cond nan``, ``run --problem-seed -1``, ``train --lr nan``), and
``train --backend array_api_strict``.
"""
from __future__ import annotations

import importlib
import io
import json

import pytest
from cli_helpers import one_line_error

from lsgdsim.algorithms.base import Algorithm
from lsgdsim.cli import main


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts measuring: a simulation, a theory check or a figure run. (Patched where
    no ``from ... import`` can keep the fake: a module first imported by a test would hold it for the session.)"""
    fail = lambda *a, **k: pytest.fail("work before the check")  # noqa: E731
    monkeypatch.setattr(Algorithm, "init", fail)
    monkeypatch.setattr(importlib.import_module("theory_checks.runner"), "run_check", fail)
    monkeypatch.setattr(importlib.import_module("figures.runner"), "reproduce", fail)


# -- 1: reproduce --from-data measures nothing: --seed and --force do not apply ---------------------------------
@pytest.mark.parametrize("extra", [["--seed", "3"], ["--seed", "0"], ["--force"]])
def test_from_data_refuses_seed_and_force(extra, tmp_path, capsys, no_work):
    assert main(["reproduce", "--quick", "--from-data", "--out", str(tmp_path / "f"), "--report",
                 str(tmp_path / "r"), *extra]) == 2
    err = one_line_error(capsys)
    assert extra[0] in err and "--from-data" in err
    assert not (tmp_path / "f").exists()


def test_from_data_records_the_seed_of_the_saved_data(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text(json.dumps({"mode": "quick", "seed": 3, "figures": {}}))
    seen = {}
    monkeypatch.setattr(importlib.import_module("figures.runner"), "reproduce",
                        lambda only, **kw: seen.update(kw))
    assert main(["reproduce", "--quick", "--from-data", "--out", str(tmp_path), "--no-progress"]) == 0
    assert seen["seed"] == 3 and seen["from_data"]


# -- 2: check --redraw DIR redraws saved records: every option of a measuring run is refused -----------------------
@pytest.mark.parametrize("extra", [
    ["--json", "x.json"], ["--seed", "1"], ["--leader", "worst"], ["--jobs", "2"], ["--quick"], ["--resume"],
    ["--no-controls"], ["--report", "elsewhere"], ["--no-progress"],
])
def test_redraw_refuses_the_options_of_a_run(extra, tmp_path, capsys, no_work):
    (tmp_path / "records").mkdir()
    assert main(["check", "--redraw", str(tmp_path), *extra]) == 2
    err = one_line_error(capsys)
    assert extra[0] in err and "--redraw" in err
    assert not (tmp_path / "figures").exists()


def test_redraw_of_a_folder_that_does_not_exist_is_an_error(tmp_path, capsys, no_work):
    assert main(["check", "--redraw", str(tmp_path / "nope")]) == 2
    assert str(tmp_path / "nope") in one_line_error(capsys)
    assert main(["check", "--redraw", str(tmp_path)]) == 2             # a folder, but no records/ in it
    assert "no saved records" in one_line_error(capsys)


@pytest.fixture(scope="module")
def saved_report(tmp_path_factory):
    from theory_checks import runner
    folder = tmp_path_factory.mktemp("report")
    runner.run_checks(["stationary-points"], quick=True, report_dir=folder, jobs=1, progress=False,
                      stream=io.StringIO())
    return folder


def test_redraw_with_only_still_redraws(saved_report, capsys, monkeypatch):
    (saved_report / "figures" / "stationary-points.png").unlink()
    monkeypatch.setattr(importlib.import_module("theory_checks.runner"), "run_check",
                        lambda *a, **k: pytest.fail("--redraw measured"))
    assert main(["check", "--redraw", str(saved_report), "--only", "stationary-points"]) == 0
    assert "redrew 1 figures" in capsys.readouterr().out
    assert (saved_report / "figures" / "stationary-points.png").stat().st_size > 10_000


# -- 3: an empty path is never the current folder ----------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["reproduce", "--quick", "--only", "ring", "--out", ""], ["reproduce", "--quick", "--only", "ring", "--report", ""],
    ["check", "--quick", "--only", "stationary-points", "--report", ""],
    ["check", "--quick", "--only", "stationary-points", "--json", ""], ["check", "--redraw", ""],
])
def test_empty_paths_are_refused_naming_the_flag(argv, capsys, no_work):
    assert main(argv) == 2
    assert argv[-2] in one_line_error(capsys)


# -- 4: the error names the flag, not the library's parameter (or nothing) ----------------------------------------
@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--cond", "nan"], "--cond must be a finite number >= 1; got nan"),
    (["run", "--cond", "inf"], "--cond must be a finite number >= 1; got inf"),
    (["run", "--problem-seed", "-1"], "--problem-seed must be an integer >= 0; got -1"),
    (["run", "--lr-schedule", "step", "--lr", "nan"], "--lr must be a finite number > 0; got nan"),
    (["run", "--momentum", "nan"], "--momentum must be"),
    (["train", "--steps", "2", "--lr", "nan"], "--lr must be a finite number > 0; got nan"),
    (["train", "--steps", "2", "--seed", "-1"], "--seed must be an integer >= 0; got -1"),
    (["train", "--steps", "2", "--weight-decay", "nan"], "--weight-decay must be"),
    (["check", "--quick", "--only", "stationary-points", "--jobs", "0"], "--jobs must be a positive integer; got 0"),
    (["reproduce", "--quick", "--only", "ring", "--jobs", "0"], "--jobs must be a positive integer; got 0"),
])
def test_errors_name_the_flag(argv, message, capsys, no_work):
    assert main([*argv, *(["--no-save"] if argv[0] == "run" else [])]) == 2
    assert one_line_error(capsys).startswith(f"lsgdsim: error: {message}")


# -- 5: train --backend takes what the trainer runs on -----------------------------------------------------------------
def test_train_backend_array_api_strict_is_a_one_line_error(capsys, no_work):
    assert main(["train", "--steps", "2", "--backend", "array_api_strict"]) == 2
    err = one_line_error(capsys)
    assert "--backend" in err and "numpy, cupy" in err and "array_api_strict" in err


# -- issue 24: an error lists only the flags the command line has; the other keys are a spec file's ----------
def test_an_objective_option_error_names_only_flags_the_cli_has(capsys, no_work):
    assert main(["run", "--objective", "ring", "--cond", "5", "--steps", "1"]) == 2
    err = one_line_error(capsys)
    assert "--cond does not apply to --objective ring" in err
    assert "(its options: --dim; scale, n_rings in a --spec file)" in err
