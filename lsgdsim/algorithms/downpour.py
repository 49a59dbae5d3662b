"""DOWNPOUR (Dean et al. 2012), synchronous simulation of the parameter server (DESIGN.md §3).

The server s starts at the mean of x0 and every worker starts at s. Each step a worker takes a local
step and accumulates it: v_i ← v_i + η d_i (d_i = g_i without momentum). At comm(τ):
s ← s − Σ_i v_i, v_i ← 0, x_i ← s. Communication model: each worker pushes v_i and pulls s,
2·p·d floats per communication. (Asynchronous, stale variants belong to the clock model.)
"""
from __future__ import annotations

from dataclasses import dataclass

from ..backend import namespace
from .base import NO_EVENTS, Periodic, StepInput, comm
from .sgd import replicate


@dataclass(frozen=True, kw_only=True)
class Downpour(Periodic):
    """Synchronous DOWNPOUR with push/pull period ``period``."""


    name = "downpour"

    def init(self, X, ctx):
        server = ctx.xp.mean(X, axis=0)
        X, state = super().init(replicate(server, ctx.workers), ctx)
        state["server"] = server
        state["accumulated"] = ctx.xp.zeros_like(X)
        return X, state

    def step(self, X, state, inp: StepInput):
        D, state = self.local_direction(state, inp)
        displacement = state["hyper"]["lr"].at(inp.t) * D          # η g_i without momentum
        X_new = X - displacement
        acc = state["accumulated"] + displacement
        if not comm(inp.t, self.period):
            return X_new, {**state, "accumulated": acc}, NO_EVENTS
        xp = namespace(X)
        p, d = X.shape
        server = state["server"] - xp.sum(acc, axis=0)
        return (replicate(server, p), {**state, "server": server, "accumulated": xp.zeros_like(acc)},
                {"floats": 2 * p * d})
