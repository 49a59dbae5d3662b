"""Elastic averaging SGD (Zhang, Choromanska, LeCun 2015), synchronous with period τ (docs/design.md §3).

    x_i ← x_i − η g_i − α·comm(τ)·(x_i − c)
    c   ← c + comm(τ)·Σ_i α_i (x_i − c)        = c + β·comm(τ)·(mean_i x_i − c) with β = p·α
with step t − 1 values on the right; c starts at the mean of x0. An explicit ``beta`` replaces the
default β = p·α (the authors' code uses α = β/p). With ``alpha=None``, α = 0.9/p (β = 0.9).
Communication model: each worker receives c from the server and sends back α_i (x_i − c) (x_i with an
explicit β), 2·p·d floats per communication.

Stability (τ = 1, a quadratic of curvature h, scalar α). The workers' differences evolve by 1 − ηh − α;
their mean x̄ and the center by the 2×2 map M = [[1 − ηh − α, α], [β, 1 − β]]. By the Jury conditions M
is stable (spectral radius < 1) iff ηhβ > 0, (2 − ηh)(2 − β) > 2α and |(1 − ηh)(1 − β) − α| < 1: the
center update need not be a convex combination, and β up to 2 can be stable (tests/test_easgd_stability.py
maps the region). So 0 ≤ β < 2 is accepted (β = 2 is never stable); whether a given (η, α, β) is stable
on the objective is that condition at its curvatures, not checked here.

``asynchronous=True`` (on the virtual clock only): every τ of its own steps a worker exchanges with the
server on its own (Zhang et al. 2015, Algorithm 1), reading the center c as the server holds it then
(stale by the other workers' exchanges since its last one):
    e = α_i (x_i − c);   x_i ← x_i − η g_i − e;   c ← c + e      (c ← c + (β/p)(x_i − c) with explicit β)
with x_i the worker's parameters before that step. The server serves one exchange at a time, in arrival
order; with equal speeds and a free network the p exchanges of a round are served in rank order, each
reading the center the previous one left: the round-robin scheme of Zhang et al. §4.
EAMSGD is EASGD whose workers use Nesterov momentum (default μ = 0.9).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..clock.network import Op
from ..schedules import Schedule, check_hyper
from ..validate import check_float, set_fields
from .base import ServerRule, StepInput
from .state import CenterState


@dataclass(frozen=True, kw_only=True)
class EASGD(ServerRule):
    """Elastic averaging SGD; see the module docstring for the exact rule."""

    alpha: Any = None
    beta: float | None = None

    name = "easgd"
    state_type = CenterState

    def _hypers(self, workers):
        alpha = self.alpha
        if alpha is None and workers is not None:
            alpha = 0.9 / workers
        return {**super()._hypers(workers), "alpha": (alpha, 0.0, 1.0, False)}

    def validate_config(self):
        super().validate_config()
        if self.beta is not None:
            set_fields(self, beta=check_float(self.beta, "beta", 0.0, 2.0, hi_open=True))

    def validate(self, workers, dim):
        super().validate(workers, dim)
        if self.beta is not None:
            return
        alpha = check_hyper(self._hypers(workers)["alpha"][0], "alpha", 0.0, 1.0, workers=workers)
        if isinstance(alpha, Schedule):
            beta_max = workers * alpha.bounds()[1]
        else:
            beta_max = float(np.sum(np.broadcast_to(alpha, (workers,))))
        if beta_max >= 2:
            raise ValueError(f"beta = sum of the workers' alpha = {beta_max:g} must be < 2 (the center update is "
                             f"unstable from β = 2 on: module docstring); lower alpha or pass beta explicitly")

    def init(self, X, ctx):
        X, state = super().init(X, ctx)
        return X, state.update(center=ctx.comm.reduce_to_server(X, "mean"))

    def communications(self):
        return {"elastic": self.period}

    def communicate(self, X, X_new, state, due, inp: StepInput):
        alpha = state.hyper["alpha"].at(inp.t)
        c = state.center
        pulled = alpha * (X - inp.comm.server_broadcast(c, X.shape[0]))   # α_i (x_i − c), c as received
        X_new = X_new - pulled
        if self.beta is None:
            c_new = c + inp.comm.reduce_to_server(pulled, "sum")   # Σ_i α_i (x_i − c) = p·α·(mean − c) for scalar α
        else:
            c_new = c + self.beta * (inp.comm.reduce_to_server(X, "mean") - c)
        return X_new, state.update(center=c_new), {}

    def round_ops(self, due, workers, nbytes):
        return [Op("server_scatter", nbytes), Op("server_gather", nbytes)]

    def exchange(self, x, x_new, part, server_state, t, workers, comm):
        c = server_state.center
        received = comm.server_broadcast(c, 1)                               # the center as the server holds it
        strength = part.hyper["alpha"].at(t) if self.beta is None else self.beta / workers
        elastic = strength * (x - received)                                  # e = α_i (x_i − c)
        return x_new - elastic, part, server_state.update(center=c + comm.reduce_to_server(elastic, "sum"))


@dataclass(frozen=True, kw_only=True)
class EAMSGD(EASGD):
    """EASGD with Nesterov momentum on the workers (μ = 0.9 by default)."""

    momentum: float = 0.9
    nesterov: bool = True

    name = "eamsgd"
