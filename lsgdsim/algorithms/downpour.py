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
from .state import ServerState


@dataclass(frozen=True, kw_only=True)
class Downpour(Periodic):
    """Synchronous DOWNPOUR with push/pull period ``period``."""


    name = "downpour"
    state_type = ServerState

    def init(self, X, ctx):
        server = ctx.comm.reduce_to_server(X, "mean")
        X, state = super().init(replicate(ctx.comm.server_broadcast(server, ctx.workers), ctx.workers), ctx)
        return X, state.update(server=server, accumulated=ctx.xp.zeros_like(X))

    def step(self, X, state, inp: StepInput):
        D, state = self.local_direction(state, inp)
        displacement = state.hyper["lr"].at(inp.t) * D          # η g_i without momentum
        X_new = X - displacement
        acc = state.accumulated + displacement
        if not comm(inp.t, self.period):
            return X_new, state.update(accumulated=acc), NO_EVENTS
        p = X.shape[0]
        server = state.server - inp.comm.reduce_to_server(acc, "sum")      # push
        X_new = replicate(inp.comm.server_broadcast(server, p), p)        # pull
        return X_new, state.update(server=server, accumulated=namespace(X).zeros_like(acc)), {}
