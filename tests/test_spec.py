"""RunSpec (issue 11, item 1): plain data, one-line errors, a stable hash, exact reruns, every describe() fact kept."""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from lsgdsim import Result, RunSpec, leaders, schedules, simulate
from lsgdsim.algorithms import ALGORITHMS
from lsgdsim.cli import main
from lsgdsim.objectives import OBJECTIVES, Quadratic, objective_options

ISSUE_BASE = {"objective": "quadratic", "dim": 10, "cond": 20, "algorithm": "lsgd", "workers": 4, "steps": 300,
              "lr": 0.01, "grad_noise": 0.1, "pull": 0.2, "period": 4, "seed": 1}


def small(**kw) -> RunSpec:
    return RunSpec.from_dict({**ISSUE_BASE, "steps": 40, **kw})


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1, err
    return err


# -- the two forms and the hash -----------------------------------------------------------------------------
def test_forms_round_trip_through_json_toml_and_pickle():
    spec = RunSpec.from_dict(ISSUE_BASE)
    assert RunSpec.from_dict(spec.to_dict()) == spec == RunSpec.from_dict(spec.to_flat())
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert RunSpec.from_dict(tomllib.loads(spec.to_toml())) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec and {spec: 1}[RunSpec.from_dict(spec.to_flat())] == 1
    with pytest.raises(TypeError):
        spec.objective["dim"] = 3            # frozen, inside too
    assert spec.to_dict()["objective"]["cond"] == 20.0 and spec.to_dict()["algorithm"]["leader"] == {"rule": "exact"}


def test_hash_ignores_key_order_int_float_spelling_and_written_defaults():
    spec = RunSpec.from_dict(ISSUE_BASE)
    same = [dict(reversed(list(ISSUE_BASE.items()))), {**ISSUE_BASE, "cond": 20.0, "grad_noise": 0.1},
            {**ISSUE_BASE, "mu": 1, "momentum": 0, "leader": "exact", "backend": "numpy", "problem_seed": 0},
            spec.to_dict()]
    assert {RunSpec.from_dict(d).hash for d in same} == {spec.hash}
    assert RunSpec.from_dict({**ISSUE_BASE, "lr": 1}).hash == RunSpec.from_dict({**ISSUE_BASE, "lr": 1.0}).hash
    others = [{**ISSUE_BASE, "seed": 2}, {**ISSUE_BASE, "pull": 0.05}, {**ISSUE_BASE, "problem_seed": 1},
              {**ISSUE_BASE, "record_every": 7}]
    assert len({spec.hash, *(RunSpec.from_dict(d).hash for d in others)}) == 5
    # Stable across versions: result files of a sweep are named by it (changing it reruns every sweep).
    assert spec.hash == "666e709c92f47830"


# -- one-line errors, before any work ----------------------------------------------------------------------
@pytest.mark.parametrize(("change", "named"), [
    ({"workers": 0}, "workers"), ({"steps": "ten"}, "steps"), ({"lr": -1}, "lr"), ({"pull": 2}, "pull"),
    ({"cond": 0.5}, "cond"), ({"seed": -1}, "seed"), ({"backend": "torch"}, "backend"), ({"dtype": "float16"}, "dtype"),
    ({"objective": "ring", "dim": 3, "cond": None}, "dim"), ({"objective": "nope"}, "objective"),
    ({"algorithm": "nope", "pull": None, "period": None}, "algorithm"), ({"record_every": 0}, "record_every"),
    ({"lr_schedule": "inverse-time", "lr_decay_steps": 0}, "lr_decay_steps"),
    ({"window": 0, "leader": "window"}, "window"),
])
def test_bad_values_are_one_line_errors_naming_the_key(change, named):
    flat = {k: v for k, v in {**ISSUE_BASE, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=named) as info:
        RunSpec.from_dict(flat)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("change", "named"), [
    ({"algorithm": "sgd", "period": None}, "pull"), ({"objective": "ring", "dim": 2}, "cond"),
    ({"window": 5}, "window"), ({"leader_noise": 0.1}, "leader_noise"), ({"leader": "noisy"}, "leader_noise"),
    ({"algorithm": "easgd", "pull": None, "leader": "exact"}, "leader"), ({"lr_decay_steps": 50}, "lr_decay_steps"),
    ({"lr_schedule": "inverse-time", "lr_decay_factor": 0.5}, "lr_decay_factor"), ({"rank": 2}, "rank"),
    ({"global_period": 8}, "global_period"), ({"algorithm": "eamsgd", "pull": None, "momentum": 0, "nesterov": False},
                                              "momentum"), ({"bogus": 1}, "bogus"),
])
def test_options_that_do_not_apply_are_errors_naming_them(change, named):
    flat = {k: v for k, v in {**ISSUE_BASE, **change}.items() if v is not None}
    with pytest.raises(ValueError, match=named):
        RunSpec.from_dict(flat)
    with pytest.raises(ValueError, match="--" + named.replace("_", "-")):  # the CLI's names, for its messages
        RunSpec.from_dict(flat, names=lambda k: "--" + k.replace("_", "-"))


def test_check_runs_simulates_own_checks_without_running(monkeypatch):
    import importlib
    monkeypatch.setattr(importlib.import_module("lsgdsim.simulate"), "simulate", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match="groups must divide workers"):
        small(workers=6, groups=4).check()
    with pytest.raises(ValueError, match="batch_size applies to finite-sum"):
        small(batch_size=4).check()
    small().check()


# -- every describe() fact round-trips --------------------------------------------------------------------
# A non-default value for EVERY factory option of EVERY registered objective (the test fails when an objective
# gains an option that is missing here): a fact that describe() loses comes back as its default and the
# rebuilt spec differs. The ring's dim can only be 2.
OBJECTIVE_VALUES = {
    "quadratic": {"dim": 5, "cond": 7.0, "mu": 2.5, "spectrum": "uniform", "seed": 3, "shift_scale": 0.5},
    "indefinite": {"dim": 5, "negative": 2, "cond": 4.0, "seed": 2},
    "logistic": {"n_samples": 40, "dim": 3, "reg": 0.05, "seed": 1, "noise": 0.2},
    "ring": {"dim": 2, "scale": 2.0, "n_rings": 3},
    "double-well": {"dim": 2}, "rastrigin": {"dim": 3, "A": 5.0}, "ackley": {"dim": 3, "a": 10.0, "b": 0.3, "c": 3.0},
    "rosenbrock": {"dim": 3}, "styblinski-tang": {"dim": 3}, "matrix": {"n": 6, "rank": 3, "observed": 0.8, "seed": 4},
}
LEADER_RULES = [{"rule": "exact"}, {"rule": "noisy", "sigma": 0.05},
                {"rule": "window", "size": 3, "sigma": 0.01, "zero_init": True},
                {"rule": "worst", "of": {"rule": "window", "size": 4}}, {"rule": "random"},
                {"rule": "midranked", "of": {"rule": "noisy", "sigma": 0.1}, "groups": 2}]
SCHEDULE_VALUES = {"InverseTime": {"a": 2.0, "b": 50.0}, "StepDecay": {"value": 0.02, "factor": 0.5, "every": 3},
                   "Constant": {"value": 0.05}}
ALGORITHM_VALUES = {
    "sgd": {"lr": 0.02, "momentum": 0.5, "nesterov": True},
    "lsgd": {"lr": {"schedule": "InverseTime", **SCHEDULE_VALUES["InverseTime"]}, "momentum": 0.3, "nesterov": True,
             "period": 3, "pull": [0.1, 0.2, 0.3, 0.4], "groups": 2,
             "global_pull": {"schedule": "Constant", **SCHEDULE_VALUES["Constant"]}, "global_period": 4,
             "trigger": "total", "order": "before"},
    "lsgd-authors": {"lr": 0.02, "momentum": 0.5, "nesterov": False, "period": 2, "pull": 0.2, "groups": 2,
                     "global_pull": 0.3, "global_period": 4, "trigger": "own", "order": "after", "proximal": 0.2,
                     "global_proximal": 0.3},
    "easgd": {"lr": {"schedule": "StepDecay", **SCHEDULE_VALUES["StepDecay"]}, "momentum": 0.2, "nesterov": True,
              "period": 2, "alpha": 0.1, "beta": 0.3, "asynchronous": True},
    "eamsgd": {"lr": 0.02, "momentum": 0.5, "nesterov": False, "period": 2, "alpha": [0.05, 0.1, 0.05, 0.1],
               "beta": 0.2, "asynchronous": True},
    "localsgd": {"lr": 0.02, "momentum": 0.1, "nesterov": True, "period": 3},
    "downpour": {"lr": 0.02, "momentum": 0.1, "nesterov": True, "period": 3, "asynchronous": True},
    "allreduce": {"lr": 0.02, "momentum": 0.2, "nesterov": True},
}


def _rebuilt_from_describe(spec: RunSpec) -> tuple[RunSpec, Result]:
    res = spec.run()
    meta = Result(**{**res.__dict__, "meta": {k: v for k, v in res.meta.items() if k != "spec"}}).meta
    return RunSpec.from_meta(json.loads(json.dumps(meta))), res


def test_the_tables_cover_every_option_with_a_non_default_value():
    import inspect
    assert set(OBJECTIVE_VALUES) == set(OBJECTIVES)
    for name, values in OBJECTIVE_VALUES.items():
        params = inspect.signature(OBJECTIVES[name]).parameters
        assert set(values) == set(objective_options(name)), name
        assert all(v != params[k].default for k, v in values.items() if (name, k) != ("ring", "dim")), name
    assert set(ALGORITHM_VALUES) == set(ALGORITHMS)
    for name, values in ALGORITHM_VALUES.items():
        fields = {f.name: f for f in dataclasses.fields(ALGORITHMS[name])}
        assert set(values) | {"leader"} >= set(fields) and all(values[k] != fields[k].default for k in values), name
    rules = {r["rule"] for r in LEADER_RULES}
    assert rules == set(leaders.RULES) | set(leaders.CONTROLS)
    own = {c.__name__ for c in vars(schedules).values() if isinstance(c, type) and issubclass(c, schedules.Schedule)}
    assert set(SCHEDULE_VALUES) == own - {"Schedule"}


def test_a_schedule_defined_outside_the_library_is_not_a_spec_schedule():
    class Elsewhere(schedules.Schedule):   # as a theory check's own schedule: not buildable from a spec
        def __call__(self, t):
            return 0.1
    assert Elsewhere in schedules.Schedule.__subclasses__()
    with pytest.raises(ValueError, match="schedule must be one of Constant, InverseTime, StepDecay; got 'Elsewhere'"):
        RunSpec.from_dict({"lr": {"schedule": "Elsewhere", "value": 0.1}})


@pytest.mark.parametrize("name", sorted(OBJECTIVE_VALUES))
def test_every_objective_fact_round_trips(name):
    values = {("problem_seed" if k == "seed" else k): v for k, v in OBJECTIVE_VALUES[name].items()}
    spec = RunSpec.from_dict({"objective": name, **values, "workers": 4, "steps": 6, "lr": 1e-4})
    rebuilt, res = _rebuilt_from_describe(spec)
    assert rebuilt == spec and rebuilt.run() == res


@pytest.mark.parametrize("name", sorted(ALGORITHM_VALUES))
def test_every_algorithm_and_schedule_fact_round_trips(name):
    asynchronous = name in ("easgd", "eamsgd", "downpour")
    clock = {"compute": {"model": "lognormal", "median": 0.1, "sigma": 0.5}} if asynchronous else None
    spec = RunSpec(objective={"name": "quadratic", "dim": 4}, algorithm={"name": name, **ALGORITHM_VALUES[name]},
                   workers=4, steps=9, clock=clock)
    rebuilt, res = _rebuilt_from_describe(spec)
    assert rebuilt == spec and rebuilt.run() == res and RunSpec.from_dict(spec.to_flat()) == spec


@pytest.mark.parametrize("rule", LEADER_RULES, ids=lambda r: r["rule"])
def test_every_leader_fact_round_trips(rule):
    spec = RunSpec(objective={"name": "quadratic", "dim": 4}, algorithm={"name": "lsgd", "lr": 0.02, "leader": rule},
                   workers=4, steps=9)
    rebuilt, res = _rebuilt_from_describe(spec)
    assert rebuilt == spec and rebuilt.run() == res and RunSpec.from_dict(spec.to_flat()) == spec


def test_a_result_that_no_spec_describes_says_so():
    from lsgdsim.algorithms import SGD
    res = simulate(Quadratic(np.diag([1.0, 2.0])), SGD(lr=0.1), workers=2, steps=3)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        RunSpec.from_meta(res.meta)
    res = simulate(Quadratic.random(dim=3), SGD(lr=0.1), workers=2, steps=3, x0=np.zeros(3))
    with pytest.raises(ValueError, match="given x0"):
        RunSpec.from_meta(res.meta)


# -- exact reruns -------------------------------------------------------------------------------------------------
def test_a_result_reruns_bit_identically_from_its_saved_spec(tmp_path):
    spec = small()
    res = spec.run()
    res.save(tmp_path / "r.npz")
    again = RunSpec.load(tmp_path / "r.npz")
    assert again == spec and again.run() == res and Result.load(tmp_path / "r.npz").meta["spec_hash"] == spec.hash


def test_cli_run_spec_reruns_a_result_or_a_spec_file_exactly(tmp_path, capsys):
    first = tmp_path / "first.npz"
    argv = ["run", "--dim", "10", "--cond", "20", "--workers", "4", "--steps", "200", "--grad-noise", "0.1", "--pull",
            "0.2", "--period", "4", "--seed", "3", "--no-progress"]
    assert main([*argv, "--out", str(first)]) == 0
    spec = RunSpec.load(first)
    (tmp_path / "s.toml").write_text(spec.to_toml())
    (tmp_path / "s.json").write_text(json.dumps(spec.to_dict()))
    for source in (first, tmp_path / "s.toml", tmp_path / "s.json"):
        out = tmp_path / f"again-{source.suffix[1:]}.npz"
        assert main(["run", "--spec", str(source), "--out", str(out), "--no-progress"]) == 0
        assert Result.load(out) == Result.load(first) and RunSpec.load(out) == spec
    capsys.readouterr()
    assert main(["run", "--spec", str(first), "--pull", "0.3"]) == 2
    assert "--pull" in one_line_error(capsys)
    (tmp_path / "g.toml").write_text("[base]\nsteps = 3\n[grid]\nseed = [0, 1]\n")
    assert main(["run", "--spec", str(tmp_path / "g.toml")]) == 2
    assert "lsgdsim sweep" in one_line_error(capsys)


def test_blas_threads_do_not_change_a_spec_s_numbers():
    """d = 150: multi-threaded BLAS (QR of the random problem, the products) changes the last bits; a spec pins one."""
    from threadpoolctl import threadpool_limits
    spec = small(dim=150, workers=16, steps=30)
    with threadpool_limits(1):
        one = spec.run()
    with threadpool_limits(2):
        assert spec.run() == one and spec.run().meta["blas_threads"] == 1
        if len(os.sched_getaffinity(0)) > 1:  # the control: the same run with BLAS left on two threads differs
            assert spec.run(blas_threads=None) != one


def test_import_lsgdsim_needs_no_optional_extra():
    code = ("import sys\nfor m in ('pandas', 'pyarrow', 'dask', 'distributed'): sys.modules[m] = None\n"
            "import lsgdsim, lsgdsim.sweep, lsgdsim.cli, lsgdsim.spec\n"
            "try:\n    lsgdsim.sweep.load('.')\nexcept lsgdsim.sweep.MissingExtra as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "the sweep table needs pandas, which is not installed: pip install 'lsgdsim[sweep]'"
