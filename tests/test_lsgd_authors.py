"""LSGD as the authors ran it (``lsgd-authors``) against the plain loop written from the digest's §5.

``reference.reference_authors_run`` reads only the algorithm's hyperparameters. With equal constant
compute times and a free network the clock's Algorithm 1 trigger (a round each time the total of local
steps reaches a multiple of p·τ) fires at the same steps as lockstep's every-τ, so both executors must
match the loop bit for bit.
"""
from __future__ import annotations

import numpy as np
import pytest
import test_clock_reference as shared

import lsgdsim
from lsgdsim.algorithms import LSGD, LSGDAuthors, lsgd_authors
from lsgdsim.clock import Clock, Constant, Network
from reference import reference_authors_run

SIGMA, SEED, STEPS = 0.1, 3, 40
P, DIM = shared.P, shared.DIM
objective, x0 = shared.objective, shared.x0          # the clock reference tests' small problem and starts
CASES = {
    "one-group": dict(period=3),
    "two-groups": dict(period=2, global_period=4, groups=2),
    "strong-pulls": dict(period=1, groups=2, global_period=2, pull=0.4, global_pull=0.3, proximal=0.5,
                         global_proximal=0.7),
}


def run(objective, alg, x0, clock=None, steps=STEPS):
    return lsgdsim.simulate(objective, alg, workers=P, steps=steps, grad_noise=SIGMA, seed=SEED, x0=x0,
                            clock=clock)


def reference(objective, alg, x0, steps=STEPS, **mutation):
    return reference_authors_run(objective, alg, P, steps, x0, grad_noise=SIGMA, seed=SEED, **mutation)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("clock", [None, Clock(compute=Constant(1.0), network=Network())],
                         ids=["lockstep", "clock"])
def test_equals_the_reference_bit_for_bit(objective, x0, case, clock):
    alg = lsgd_authors(lr=0.05, **CASES[case])
    res, ref = run(objective, alg, x0, clock), reference(objective, alg, x0)
    assert np.array_equal(res.x, ref["x"]), np.abs(res.x - ref["x"]).max()


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 9])
def test_short_runs_equal_the_reference(objective, x0, steps):
    """Every step count around the first rounds: the copies start as 'none' and the window is zeroed."""
    alg = lsgd_authors(lr=0.05, **CASES["two-groups"])
    assert np.array_equal(run(objective, alg, x0, steps=steps).x, reference(objective, alg, x0, steps)["x"])


def test_the_comparison_can_fail(objective, x0):
    """Swapping the two proximal pulls in the loop, or running the theory form, breaks the equality."""
    alg = lsgd_authors(lr=0.05, **CASES["strong-pulls"])
    res = run(objective, alg, x0)
    assert not np.array_equal(res.x, reference(objective, alg, x0, proximal_first="local")["x"])
    theory = LSGD(lr=0.05, momentum=0.9, nesterov=True, period=1, groups=2, global_period=2, pull=0.4,
                  global_pull=0.3, leader=alg.leader)
    assert not np.allclose(run(objective, theory, x0).x, res.x)


def test_defaults_are_the_authors():
    alg = lsgd_authors()
    assert (alg.lr, alg.pull, alg.global_pull, alg.proximal, alg.global_proximal) == (0.01, 0.1, 0.1, 0.1, 0.1)
    assert (alg.leader.size, alg.leader.zero_init, alg.momentum, alg.nesterov) == (10, True, 0.9, True)
    assert alg.trigger == "total"


def test_order_before_is_refused(objective):
    with pytest.raises(ValueError, match="order"):
        lsgdsim.simulate(objective, LSGDAuthors(lr=0.01, order="before"), workers=P, steps=2)


@pytest.mark.parametrize("name", ["proximal", "global_proximal"])
def test_bad_proximal_names_the_parameter(objective, name):
    with pytest.raises(ValueError, match=name):
        lsgdsim.simulate(objective, LSGDAuthors(lr=0.01, **{name: 1.5}), workers=P, steps=2)


def test_a_spec_naming_no_leader_gets_the_authors_window():
    from lsgdsim.spec import RunSpec
    spec = RunSpec.from_dict({"algorithm": "lsgd-authors", "workers": 4, "steps": 5, "window": 4})
    assert spec.algorithm["leader"] == {"rule": "window", "size": 4, "sigma": 0.0, "zero_init": True}
    assert RunSpec.from_dict(spec.to_flat()) == spec
    exact = RunSpec.from_dict({"algorithm": "lsgd-authors", "leader": "exact", "workers": 4, "steps": 5})
    assert exact.algorithm["leader"] == {"rule": "exact"}


def test_the_cli_takes_the_proximal_pulls(capsys):
    from lsgdsim.cli import main
    base = ["run", "--algorithm", "lsgd-authors", "--workers", "4", "--steps", "30", "--no-save"]
    assert main(base) == 0
    default = capsys.readouterr().out
    assert main([*base, "--proximal", "0.3", "--global-proximal", "0.4"]) == 0
    given = capsys.readouterr().out
    def mean_f(out):
        return next(line for line in out.splitlines() if line.startswith("final_mean_f"))
    assert mean_f(given) != mean_f(default)
    assert main(["run", "--algorithm", "lsgd", "--proximal", "0.3", "--no-save"]) == 2
    assert "--proximal does not apply to --algorithm lsgd" in capsys.readouterr().err
