"""What every distributed update rule shares: hyperparameters, the seam between a rule and its executor.

An algorithm is a frozen dataclass of hyperparameters with pure methods (optax-style):

- ``__post_init__``: everything that does not depend on the worker count is checked when the object
  is made (``LSGD(lr=-0.1)`` raises at once); NumPy scalars are accepted and stored as Python numbers;
- ``validate(workers, dim)``: the worker-dependent checks (per-worker arrays of shape (p,), groups
  dividing p, EASGD's β = Σα ≤ 1), called by ``simulate`` before any work;
- ``init(X, ctx) -> (X, state)``: the starting state, a frozen dataclass of :mod:`.state` (may move
  X, e.g. DOWNPOUR starts every worker at the server).

The seam (issue 18): a rule is three separate parts, so that one rule definition runs on every
executor (lockstep :func:`lsgdsim.simulate`, the virtual clock, an MPI job):

- ``local_update(X, state, inp) -> (X, state)``: the row-wise local step. It works on any subset of
  the workers (the executor hands it those rows of X and ``state.take_rows(rows)``) with each row's own
  step counter (``inp.t`` an int, or an int array (n,) when the rows have done different numbers of
  steps); it never reads another row.
- ``communicate(X, X_new, state, due, inp) -> (X, state, events)``: a communication round, only calls
  on ``inp.comm`` (a :class:`lsgdsim.collectives.Collective`) and row-wise arithmetic. ``X`` holds the
  parameters before the round's local step, ``X_new`` after it: the pull is defined on one of them
  (before: the theory form; after: Algorithm 1). ``due`` names the communications of this round.
  ``events`` may hold ``leader`` (a 0-d array) and ``local_leaders`` (n,).
- the trigger, outside the rule: ``communications()`` names each communication and its period τ, and
  ``due(t, state)`` says which fire at a worker's own step t (comm(τ) ≡ t mod τ = 0, skipped while
  its strength is 0). ``trigger`` says how an executor counts: ``"own"`` (every τ of a worker's own
  steps, a barrier on the clock), ``"total"`` (Algorithm 1: when the total over all workers reaches a
  multiple of p·τ) or ``"asynchronous"`` (each worker exchanges with the server on its own, through
  ``exchange``; only on the clock).

``step(X, state, inp) -> (X, state, events)`` is the lockstep composition of the three (one synchronous
step t, all right-hand sides at step t − 1, docs/design.md §3): it is what ``simulate`` runs without a clock.
``round_ops(due, workers, nbytes)`` lists what a round sends (:class:`lsgdsim.clock.network.Op`), which
the clock prices; a test holds it equal to what ``communicate`` records on the collective.
The rules never loop over workers, and never modify their inputs (X, the state, the gradients):
in-place work only on buffers they made.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..clock.network import Op
from ..collectives import Collective, Vectorized
from ..schedules import Hyper, check_hyper, describe_hyper
from ..validate import check_bool, check_float, check_int, is_real, set_fields
from .state import State

NO_EVENTS: dict = {}


@dataclass
class StepInput:
    """What the run loop hands a rule at step t (all at the workers' step t − 1 parameters).

    ``t`` is one int in lockstep; on the clock, where the rows handed over may have done different
    numbers of steps, an int array (n,) holding each row's own step index."""

    t: Any
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

    # -- the seam: local update, communication, trigger -------------------------------------------------
    trigger = "own"    # how an executor decides when to communicate (module docstring)
    order = "before"   # the parameters a pull is defined on: before or after the round's local step

    def communications(self) -> dict[str, int]:
        """Each communication's name and its period τ, in the order ``communicate`` applies them."""
        return {}

    def due(self, t: int, state) -> tuple[str, ...]:
        """The communications that fire at a worker's own step t (every τ steps while its strength is
        not 0 at t)."""
        return tuple(name for name, period in self.communications().items()
                     if comm(t, period) and not self._silent(name, t, state))

    def _silent(self, name: str, t, state) -> bool:
        """True when communication ``name`` has strength 0 at step t (nothing to send)."""
        return False

    def active_communications(self, state) -> dict[str, int]:
        """The communications whose strength is not 0 at every step, with their periods."""
        return self.communications()

    def local_update(self, X, state, inp: StepInput):
        """The row-wise local step of the rows X (their state, their own ``inp.t``): x ← x − η d."""
        return self.local_step(X, state, inp)

    def communicate(self, X, X_new, state, due: tuple[str, ...], inp: StepInput):
        """A communication round on all rows (module docstring); the base rule has none."""
        return X_new, state, NO_EVENTS

    def reduce_gradients(self, inp: StepInput) -> StepInput:
        """The gradients the local step uses, when the rule exchanges them first (all-reduce SGD)."""
        return inp

    def round_ops(self, due: tuple[str, ...], workers: int, nbytes: int) -> list[Op]:
        """What a round of ``due`` sends, for the clock's network prices; ``nbytes`` is one row's size."""
        return []

    def step(self, X, state, inp: StepInput):
        """One lockstep step t: the local update of every row, then the communications due at t."""
        inp = self.reduce_gradients(inp)
        X_new, state = self.local_update(X, state, inp)
        due = self.due(inp.t, state)
        if not due:
            return X_new, state, NO_EVENTS
        return self.communicate(X, X_new, state, due, inp)

    def take_rows(self, state, rows):
        """The state of the workers ``rows`` for :meth:`local_update` (``State.take_rows``)."""
        return state.take_rows(rows)

    def put_rows(self, state, rows, part):
        """``state`` (an executor's own) with the rows ``rows`` of ``part`` written back in place."""
        return state.put_rows(rows, part)

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
        """Every field, except the execution options at their defaults (``_implicit``): a run described
        before they existed keeps its description, and so its spec hash."""
        out = {"algorithm": self.name}
        implicit = self._implicit()
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in implicit and implicit[f.name] == v:
                continue
            out[f.name] = v.describe() if hasattr(v, "describe") and not isinstance(v, type) else describe_hyper(v)
        return out

    def _implicit(self) -> dict:
        """Execution options (trigger, order, asynchronous) and the value they take when not described."""
        return {}


@dataclass(frozen=True, kw_only=True)
class Periodic(Algorithm):
    """A rule that communicates every ``period`` steps (comm(τ) ≡ t mod τ = 0)."""

    period: int = 1

    def validate_config(self) -> None:
        super().validate_config()
        set_fields(self, period=check_period(self.period, "period"))


@dataclass(frozen=True, kw_only=True)
class ServerRule(Periodic):
    """A rule with a parameter server (EASGD, DOWNPOUR): synchronous rounds every τ steps, or, with
    ``asynchronous=True``, each worker's own exchange with the server every τ of its own steps (only on
    the virtual clock, where the server serves one request at a time, in arrival order).

    ``exchange(x, x_new, part, server_state, t, workers, comm) -> (x_new, part, server_state)`` is one
    worker's exchange at its own step t: ``x`` (1, d) its parameters before the local step of the
    exchange, ``x_new`` after it, ``part`` its own state (``take_rows``); ``server_state`` the rule's
    state as the server holds it; ``workers`` is p."""

    asynchronous: bool = False

    def validate_config(self) -> None:
        super().validate_config()
        set_fields(self, asynchronous=check_bool(self.asynchronous, "asynchronous"))

    @property
    def trigger(self) -> str:  # type: ignore[override]
        return "asynchronous" if self.asynchronous else "own"

    def _implicit(self):
        return {"asynchronous": False}

    def exchange(self, x, x_new, part, server_state, t, workers: int, comm: Collective):
        raise NotImplementedError
