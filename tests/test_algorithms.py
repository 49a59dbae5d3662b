"""Vectorized update rules == the plain per-worker reference loops (tests/reference.py)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim import objectives, schedules, simulate
from reference import reference_run

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(d, seed, kind):
    if kind == "quadratic":
        return objectives.Quadratic.random(dim=d, cond=10.0, seed=seed)
    return objectives.Rastrigin(dim=d)


def _compare(obj, alg, p, steps, seed, grad_noise):
    x0 = np.random.default_rng(seed + 100).standard_normal((p, obj.dim))
    res = simulate(obj, alg, workers=p, steps=steps, x0=x0, grad_noise=grad_noise, seed=seed, record_every=steps)
    ref = reference_run(obj, alg, p, steps, x0, grad_noise=grad_noise, seed=seed)
    np.testing.assert_allclose(res.x, ref["x"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.final_f, ref["f"], rtol=1e-10, atol=1e-12)
    if isinstance(alg, A.LSGD):
        assert res.leaders.tolist() == ref["leaders"]
    if "center" in ref:
        np.testing.assert_allclose(res.center, ref["center"], rtol=1e-10, atol=1e-12)
    return res


common = dict(
    p=st.integers(1, 6), d=st.integers(1, 5), steps=st.integers(1, 25), seed=st.integers(0, 2**16),
    noise=st.sampled_from([0.0, 0.3]), kind=st.sampled_from(["quadratic", "rastrigin"]),
    lr=st.floats(0.001, 0.02), momentum=st.sampled_from([0.0, 0.5]), nesterov=st.booleans(),
)


@SETTINGS
@given(**common, pull=st.floats(0.0, 0.9), period=st.integers(1, 4), groups=st.integers(1, 3),
       gpull=st.floats(0.0, 0.5), gperiod=st.integers(1, 5),
       rule=st.sampled_from(["exact", "noisy", "window"]))
def test_lsgd_matches_reference(p, d, steps, seed, noise, kind, lr, momentum, nesterov, pull, period, groups,
                                gpull, gperiod, rule):
    p = p * groups  # groups must divide workers
    leader = {"exact": L.Exact(), "noisy": L.Noisy(0.5), "window": L.Window(3, 0.2)}[rule]
    alg = A.LSGD(lr=lr, pull=pull, period=period, groups=groups, global_pull=gpull, global_period=gperiod,
                 leader=leader, momentum=momentum, nesterov=nesterov and momentum > 0)
    _compare(_problem(d, seed, kind), alg, p, steps, seed, noise)


@SETTINGS
@given(**common, alpha=st.floats(0.0, 0.15), period=st.integers(1, 4), beta=st.sampled_from([None, 0.5]))
def test_easgd_matches_reference(p, d, steps, seed, noise, kind, lr, momentum, nesterov, alpha, period, beta):
    alg = A.EASGD(lr=lr, alpha=alpha, period=period, beta=beta, momentum=momentum,
                  nesterov=nesterov and momentum > 0)
    _compare(_problem(d, seed, kind), alg, p, steps, seed, noise)


@SETTINGS
@given(**common, period=st.integers(1, 4), which=st.sampled_from(["localsgd", "downpour", "sgd", "allreduce"]))
def test_baselines_match_reference(p, d, steps, seed, noise, kind, lr, momentum, nesterov, period, which):
    kw = dict(lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0)
    if which in ("localsgd", "downpour"):
        kw["period"] = period
    alg = A.ALGORITHMS[which](**kw)
    _compare(_problem(d, seed, kind), alg, p, steps, seed, noise)


def test_per_worker_arrays_and_schedules_match_reference():
    obj = objectives.Quadratic.random(dim=4, cond=5.0, seed=3)
    p = 4
    algs = [
        A.LSGD(lr=np.array([0.01, 0.02, 0.03, 0.04]), pull=np.array([0.0, 0.1, 0.2, 0.3]), period=2),
        A.LSGD(lr=schedules.InverseTime(1.0, 20.0), pull=schedules.StepDecay(0.5, 0.5, 5), period=1),
        A.EASGD(lr=schedules.InverseTime(0.5, 10.0), alpha=np.array([0.05, 0.1, 0.15, 0.2]), period=2),
        A.Downpour(lr=np.array([0.01, 0.02, 0.01, 0.02]), period=3),
    ]
    for alg in algs:
        _compare(obj, alg, p, 30, seed=5, grad_noise=0.1)


def test_leader_takes_a_plain_sgd_step():
    """The leader's pull term vanishes: with pull = 1 and τ = 1 the leader moves exactly like SGD."""
    obj = objectives.Quadratic.random(dim=6, cond=20.0, seed=0)
    x0 = np.random.default_rng(0).standard_normal((5, 6))
    lsgd = simulate(obj, A.LSGD(lr=0.02, pull=1.0, period=1), workers=5, steps=1, x0=x0, record_every=1)
    sgd = simulate(obj, A.SGD(lr=0.02), workers=5, steps=1, x0=x0, record_every=1)
    lead = int(np.argmin(obj.value(x0)))
    assert lsgd.leaders.tolist() == [lead]
    np.testing.assert_array_equal(lsgd.x[lead], sgd.x[lead])
    others = [i for i in range(5) if i != lead]
    # With λ = 1 every non-leader lands on x_ℓ − η g_i: the pull replaced its own position.
    np.testing.assert_allclose(lsgd.x[others], x0[lead] - 0.02 * obj.grad(x0)[others], rtol=1e-12)


def test_theory_form_equals_algorithmic_form():
    """λ = η·λ_theory with τ = 1 is x⁺ = x − η(g + λ_theory (x − z)) (docs/design.md §3)."""
    obj = objectives.Quadratic.random(dim=3, cond=4.0, seed=2)
    x0 = np.random.default_rng(1).standard_normal((4, 3))
    eta, lam = 0.05, 2.0
    res = simulate(obj, A.lsgd_theory(eta, lam), workers=4, steps=1, x0=x0, record_every=1)
    z = x0[np.argmin(obj.value(x0))]
    np.testing.assert_allclose(res.x, x0 - eta * (obj.grad(x0) + lam * (x0 - z)), rtol=1e-13)


def test_ties_go_to_the_lowest_index():
    obj = objectives.Quadratic(np.eye(2))
    x0 = np.array([[1.0, 0.0], [0.0, 0.5], [0.0, -0.5], [0.5, 0.0]])  # workers 1, 2, 3 tie
    res = simulate(obj, A.LSGD(lr=0.1, pull=0.5), workers=4, steps=1, x0=x0)
    assert res.leaders.tolist() == [1]


def test_multi_leader_pulls_toward_group_and_global_leaders():
    obj = objectives.Quadratic(np.eye(1))
    x0 = np.array([[3.0], [1.0], [-2.0], [0.5]])   # groups {0,1} → leader 1; {2,3} → leader 3; best 3
    alg = A.LSGD(lr=0.1, pull=0.5, period=1, groups=2, global_pull=0.25, global_period=1)
    res = simulate(obj, alg, workers=4, steps=1, x0=x0)
    sgd = x0 - 0.1 * x0
    local = np.array([[1.0], [1.0], [0.5], [0.5]])
    expected = sgd - 0.5 * (x0 - local) - 0.25 * (x0 - 0.5)
    np.testing.assert_allclose(res.x, expected, rtol=1e-14)
    assert res.local_leaders.tolist() == [[1, 3]] and res.leaders.tolist() == [3]


@pytest.mark.parametrize("name", sorted(A.ALGORITHMS))
def test_communication_accounting(name):
    obj = objectives.Quadratic.random(dim=5, cond=3.0, seed=0)
    kw = {"lr": 0.01}
    if name not in ("sgd", "allreduce"):
        kw["period"] = 4
    res = simulate(obj, A.ALGORITHMS[name](**kw), workers=4, steps=16, seed=0)
    p, d = 4, 5
    expected = {"sgd": (0, 0), "allreduce": (16, 16 * 2 * p * d), "lsgd": (4, 4 * (p + (p - 1) * d))}
    expected["lsgd-authors"] = expected["lsgd"]      # one group: one broadcast per round, as LSGD
    comms, floats = expected.get(name, (4, 4 * 2 * p * d))
    assert res.meta["communications"] == comms
    assert res.meta["floats_communicated"] == floats
    assert res.meta["gradient_evaluations"] == p * 16


def test_reference_with_per_worker_oracle_agrees():
    """The benchmark's baseline (each worker calls the oracle alone) computes the same run."""
    obj = objectives.Quadratic.random(dim=4, cond=5.0, seed=0)
    x0 = np.random.default_rng(0).standard_normal((3, 4))
    alg = A.LSGD(lr=0.02, pull=0.1, period=2)
    a = reference_run(obj, alg, 3, 20, x0, grad_noise=0.1, seed=1)
    b = reference_run(obj, alg, 3, 20, x0, grad_noise=0.1, seed=1, per_worker_oracle=True)
    np.testing.assert_allclose(a["x"], b["x"], rtol=1e-12)
    assert a["leaders"] == b["leaders"]
