"""Typed, pure rule state: frozen dataclasses with held_center()/consensus(); a rule never modifies its inputs."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim.algorithms.base import RunContext, StepInput
from lsgdsim.algorithms.state import CenterState, LeaderState, ServerState, State
from lsgdsim.backend import RandomStreams, resolve

P, D = 4, 3
RULES = {
    "sgd": A.SGD(lr=0.1), "sgd-momentum": A.SGD(lr=0.1, momentum=0.5),
    "allreduce": A.AllReduceSGD(lr=0.1), "easgd": A.EASGD(lr=0.1, alpha=0.2), "eamsgd": A.EAMSGD(lr=0.1, alpha=0.2),
    "localsgd": A.LocalSGD(lr=0.1), "downpour": A.Downpour(lr=0.1),
    "lsgd": A.LSGD(lr=0.1, pull=0.3), "lsgd-groups": A.LSGD(lr=0.1, pull=0.3, groups=2, global_pull=0.1),
    "lsgd-window": A.LSGD(lr=0.1, pull=0.3, leader=L.Window(3), momentum=0.5, nesterov=True),
}
STATE_TYPES = {"easgd": CenterState, "eamsgd": CenterState, "downpour": ServerState, "lsgd": LeaderState,
               "lsgd-groups": LeaderState, "lsgd-window": LeaderState}


def _setup(alg):
    xp = resolve("numpy")
    rng = np.random.default_rng(0)
    ctx = RunContext(xp=xp, dtype=np.float64, workers=P, dim=D, streams=RandomStreams(0, xp))
    X, state = alg.init(rng.standard_normal((P, D)), ctx)
    G, losses = rng.standard_normal((P, D)), rng.standard_normal(P)
    return X, state, G, losses


def _step(alg, X, state, G, losses, t=1):
    inp = StepInput(t, G, losses, lambda: losses, RandomStreams(5, resolve("numpy")))
    return alg.step(X, state, inp)


def _arrays(state):
    """Every array in a state (recursively through dicts), for before/after comparisons."""
    out = {}
    for f in dataclasses.fields(state):
        v = getattr(state, f.name)
        if isinstance(v, np.ndarray):
            out[f.name] = v.copy()
        elif isinstance(v, dict):
            out.update({f"{f.name}.{k}": a.copy() for k, a in v.items() if isinstance(a, np.ndarray)})
    return out


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_is_pure(name):
    """Called twice on the same inputs: identical outputs, and X, the gradients and the state unchanged."""
    alg = RULES[name]
    X, state, G, losses = _setup(alg)
    X0, G0, S0 = X.copy(), G.copy(), _arrays(state)
    X1, st1, ev1 = _step(alg, X, state, G, losses)
    X2, st2, ev2 = _step(alg, X, state, G, losses)
    assert np.array_equal(X1, X2) and X1 is not X2
    assert np.array_equal(X, X0) and np.array_equal(G, G0)
    after = _arrays(state)
    assert after.keys() == S0.keys() and all(np.array_equal(after[k], S0[k]) for k in S0)
    assert _arrays(st1).keys() == _arrays(st2).keys()
    assert all(np.array_equal(a, b) for a, b in zip(_arrays(st1).values(), _arrays(st2).values(), strict=True))
    assert ev1.keys() == ev2.keys()
    assert not np.shares_memory(X1, G) and not np.shares_memory(X1, X)


@pytest.mark.parametrize("name", sorted(RULES))
def test_state_is_a_frozen_dataclass(name):
    _, state, _, _ = _setup(RULES[name])
    assert isinstance(state, STATE_TYPES.get(name, State))
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.hyper = {}


def test_consensus_per_rule():
    for name, alg in RULES.items():
        X, state, G, losses = _setup(alg)
        X1, st, _ = _step(alg, X, state, G, losses)
        c = st.consensus(X1)
        assert c.shape == (1, D)
        if name.startswith("easgd") or name == "eamsgd":
            assert np.array_equal(c[0], st.center) and st.held_center() is st.center
        elif name == "downpour":
            assert np.array_equal(c[0], st.server) and st.held_center() is st.server
        elif name.startswith("lsgd"):
            assert np.array_equal(c[0], X1[int(st.leader)]) and st.held_center() is None
        else:
            assert np.array_equal(c, X1.mean(axis=0, keepdims=True)) and st.held_center() is None


def test_lsgd_consensus_is_the_leader_not_the_average():
    """A leader check must be able to fail: the consensus follows the argmin of the scores."""
    alg = RULES["lsgd"]
    X, state, G, _ = _setup(alg)
    losses = np.array([3.0, 2.0, 0.5, 1.0])
    X1, st, ev = _step(alg, X, state, G, losses)
    assert int(st.leader) == int(ev["leader"]) == 2
    assert not np.allclose(st.consensus(X1), X1.mean(axis=0))
    worst = A.LSGD(lr=0.1, pull=0.3, leader=L.Worst(L.Exact()))
    _, st_w, _ = _step(worst, *_setup(worst)[:3], losses)
    assert int(st_w.leader) == 0
