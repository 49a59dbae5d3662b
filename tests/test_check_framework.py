"""The check framework: registry, records (save/load/normalize), controls, the mutation fixtures."""
from __future__ import annotations

import numpy as np
import pytest

import theory_checks
from lsgdsim import algorithms
from theory_checks import load
from theory_checks.controls import leader_rule
from theory_checks.record import CheckRecord


@pytest.mark.parametrize("name", list(theory_checks.CHECKS))
def test_registered(name):
    mod = load(name)
    assert mod.NAME == name and mod.CLAIM and mod.__doc__ and "Verdict" in mod.__doc__


def test_lsgd_pull_patch_is_what_the_mutation_tests_assume(pull_away):
    """The fixture really flips the pull: one LSGD communication step moves a worker away from the leader."""
    from lsgdsim import objectives, simulate
    q = objectives.Quadratic(np.eye(2))
    x0 = np.array([[1.0, 0.0], [0.0, 0.0]])                              # worker 1 is the leader (f = 0)
    res = simulate(q, algorithms.LSGD(lr=1e-9, pull=0.5, period=1), workers=2, steps=1, x0=x0)
    assert res.x[0, 0] == pytest.approx(1.5, abs=1e-6)                   # correct rule gives 0.5


def _record(**kw):
    base = dict(name="one-step", claim="c", reading="r", setting={"a": (1, 2)}, measured={"x": np.float64(0.5),
                "inf": float("inf"), "nan": float("nan"), "arr": np.arange(3)}, expected={})
    return CheckRecord(**{**base, **kw})


def test_record_round_trip_is_exact(tmp_path):
    rec = _record(arrays={"curve": np.linspace(0, 1, 7), "ids": np.arange(4, dtype=np.int64)},
                  controls={"worst": {"x": 2.0}}, verdict="holds")
    paths = rec.save(tmp_path)
    assert [p.name for p in paths] == ["one-step.json", "one-step.npz"]
    back = CheckRecord.load(tmp_path / "one-step.json")
    norm = rec.normalized()
    assert back.measured["inf"] == float("inf") and np.isnan(back.measured["nan"])
    assert back.setting == norm.setting == {"a": [1, 2]}                 # what a verdict sees is what a reload sees
    assert back.measured["arr"] == [0, 1, 2] and back.controls == {"worst": {"x": 2.0}}
    for k in rec.arrays:
        assert np.array_equal(back.arrays[k], rec.arrays[k]) and back.arrays[k].dtype == rec.arrays[k].dtype


def test_record_rejects_bad_verdicts_and_files(tmp_path):
    with pytest.raises(ValueError, match="verdict must be one of"):
        _record(verdict="mostly")
    (tmp_path / "x.json").write_text("not json")
    with pytest.raises(ValueError, match="not a check record"):
        CheckRecord.load(tmp_path / "x.json")
    with pytest.raises(ValueError, match="no check record"):
        CheckRecord.load(tmp_path / "missing.json")


def test_control_rules():
    from lsgdsim import leaders
    assert leader_rule() == leaders.Exact()
    assert leader_rule(leaders.Window(5), "worst") == leaders.Worst(leaders.Window(5))
    assert isinstance(leader_rule(mode="random"), leaders.Random)
    with pytest.raises(ValueError, match="leader must be one of"):
        leader_rule(mode="best")
