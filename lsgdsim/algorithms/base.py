"""What every distributed update rule shares: hyperparameters, the local worker step, the step input.

An algorithm is a frozen dataclass of hyperparameters with three pure methods (optax-style):

- ``__post_init__``: everything that does not depend on the worker count is checked when the object
  is made (``LSGD(lr=-0.1)`` raises at once); NumPy scalars are accepted and stored as Python numbers;
- ``validate(workers, dim)``: the worker-dependent checks (per-worker arrays of shape (p,), groups
  dividing p, EASGD's β = Σα ≤ 1), called by ``simulate`` before any work;
- ``init(X, ctx) -> (X, state)``: the starting state, a frozen dataclass of :mod:`.state` (may move
  X, e.g. DOWNPOUR starts every worker at the server);
- ``step(X, state, inp) -> (X, state, events)``: one synchronous step t, all right-hand sides at step
  t − 1 (DESIGN.md §3). ``events`` is a dict, empty except on communications, where it may hold
  ``leader`` (a 0-d array) and ``local_leaders`` (n,).

A rule is a row-wise local update plus a communication step: every cross-worker operation (min-loc
of scores, broadcast of a row, mean or sum at the coordinator) is a call on ``inp.comm`` (or
``ctx.comm`` in ``init``), a :class:`lsgdsim.collectives.Collective` that also records the messages
(the floats counted in ``Result.meta["floats_communicated"]``). The rules never loop over workers, and
never modify their inputs (X, the state, the gradients): in-place work only on buffers they made.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..collectives import Collective, Vectorized
from ..schedules import Hyper, check_hyper, describe_hyper
from ..validate import check_bool, check_float, check_int, is_real, set_fields
from .state import State

NO_EVENTS: dict = {}


@dataclass
class StepInput:
    """What the run loop hands a rule at step t (all at the workers' step t − 1 parameters)."""

    t: int
    grads: Any                        # (p, d) stochastic gradients (read only: a rule never modifies them)
    losses: Any                       # (p,) observed losses (exact f, or mini-batch losses)
    exact_values: Callable[[], Any]   # f(x_i) for every worker, computed on first call
    streams: Any                      # backend.RandomStreams of the run
    comm: Collective = field(default_factory=Vectorized)  # the run's collective (messages recorded there)


@dataclass
class RunContext:
    """The backend a rule's state lives on."""

    xp: Any
    dtype: Any
    workers: int
    dim: int
    streams: Any = None
    comm: Collective = field(default_factory=Vectorized)


def subtract_into(X, S):
    """X − S, written into S when S is a NumPy buffer of X's shape and dtype that the caller owns (one
    full-size temporary less than ``X - S``: the step stays at its floor); else a new array."""
    if isinstance(S, np.ndarray) and S.shape == X.shape and S.dtype == X.dtype:
        return np.subtract(X, S, out=S)
    return X - S


def comm(t: int, period: int) -> bool:
    """comm(τ) ≡ (t mod τ = 0)."""
    return t % period == 0


def check_period(value, name: str) -> int:
    """A communication period: an integer >= 1 (NumPy integers too); returned as ``int``."""
    return check_int(value, name, 1)


def scalar_hyper(value):
    """A NumPy scalar hyperparameter as a Python float (arrays and schedules unchanged)."""
    return float(value) if is_real(value) and not isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class Algorithm:
    """Base of all rules: per-worker (S)GD with optional heavy-ball or Nesterov momentum.

    The local step is  v ← μ v + g;  d = g + μ v (Nesterov) or v (heavy ball), or d = g when μ = 0;
    x ← x − η d. Pulls and averaging act on the parameters directly, never through the momentum.
    """

    lr: Any
    momentum: float = 0.0
    nesterov: bool = False

    name = "algorithm"
    state_type = State      # the rule's state dataclass (:mod:`.state`)

    # -- validation --------------------------------------------------------------------------------
    def _hypers(self, workers: int | None) -> dict[str, tuple]:
        """name -> (value, lo, hi, lo_open) for every hyperparameter that may vary per worker/step.

        ``workers=None`` (at construction): a value that defaults from the worker count is None."""
        return {"lr": (self.lr, 0.0, math.inf, True)}

    def __post_init__(self):
        self.validate_config()

    def validate_config(self) -> None:
        """Checks that do not depend on the worker count (run when the object is made)."""
        for name, (value, lo, hi, lo_open) in self._hypers(None).items():
            if value is not None:
                check_hyper(value, name, lo, hi, lo_open=lo_open)
                set_fields(self, **{name: scalar_hyper(value)})
        set_fields(self, momentum=check_float(self.momentum, "momentum", 0.0, 1.0, hi_open=True),
                   nesterov=check_bool(self.nesterov, "nesterov"))
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")

    def validate(self, workers: int, dim: int) -> None:
        """The worker-dependent checks (``simulate`` calls this before any work)."""
        for name, (value, lo, hi, lo_open) in self._hypers(workers).items():
            check_hyper(value, name, lo, hi, lo_open=lo_open, workers=workers)

    def bind(self, ctx: RunContext) -> dict[str, Hyper]:
        """Hyperparameters as :class:`Hyper` objects on the run's backend."""
        return {name: Hyper(check_hyper(v, name, lo, hi, lo_open=lo_open, workers=ctx.workers),
                            ctx.xp, ctx.dtype)
                for name, (v, lo, hi, lo_open) in self._hypers(ctx.workers).items()}

    # -- the rule ----------------------------------------------------------------------------------
    def init(self, X, ctx: RunContext):
        velocity = ctx.xp.zeros_like(X) if self.momentum > 0 else None
        return X, self.state_type(hyper=self.bind(ctx), velocity=velocity)

    def step(self, X, state, inp: StepInput):
        raise NotImplementedError

    def local_direction(self, state, inp: StepInput):
        """The local search direction d (see class docstring) and the updated state."""
        G = inp.grads
        if self.momentum == 0:
            return G, state
        V = self.momentum * state.velocity + G
        D = G + self.momentum * V if self.nesterov else V
        return D, state.update(velocity=V)

    def local_step(self, X, state, inp: StepInput):
        """x ← x − η d; returns a new X and the updated state (X, the gradients and the state are not modified)."""
        D, state = self.local_direction(state, inp)
        return subtract_into(X, state.hyper["lr"].at(inp.t) * D), state

    # -- metadata ----------------------------------------------------------------------------------
    def describe(self) -> dict:
        out = {"algorithm": self.name}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.describe() if hasattr(v, "describe") and not isinstance(v, type) else describe_hyper(v)
        return out


@dataclass(frozen=True, kw_only=True)
class Periodic(Algorithm):
    """A rule that communicates every ``period`` steps (comm(τ) ≡ t mod τ = 0)."""

    period: int = 1

    def validate_config(self) -> None:
        super().validate_config()
        set_fields(self, period=check_period(self.period, "period"))
