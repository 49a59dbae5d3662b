"""DOWNPOUR (Dean et al. 2012), synchronous simulation of the parameter server (docs/design.md §3).

The server s starts at the mean of x0 and every worker starts at s. Each step a worker takes a local
step and accumulates it: v_i ← v_i + η d_i (d_i = g_i without momentum). At comm(τ):
s ← s − Σ_i v_i, v_i ← 0, x_i ← s. Communication model: each worker pushes v_i and pulls s,
2·p·d floats per communication.

``asynchronous=True`` (on the virtual clock only): every τ of its own steps a worker pushes its own
accumulated update and pulls the server, s ← s − v_i, x_i ← s, v_i ← 0, when the server serves it (one
request at a time, in arrival order); what it pulls holds every push served before, so it is stale by
however many pushes the other workers made since its last pull.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..backend import namespace
from ..clock.network import Op
from .base import ServerRule, StepInput
from .sgd import replicate
from .state import ServerState


@dataclass(frozen=True, kw_only=True)
class Downpour(ServerRule):
    """DOWNPOUR with push/pull period ``period`` (synchronous, or ``asynchronous=True`` on the clock)."""

    name = "downpour"
    state_type = ServerState

    def init(self, X, ctx):
        server = ctx.comm.reduce_to_server(X, "mean")
        X, state = super().init(replicate(ctx.comm.server_broadcast(server, ctx.workers), ctx.workers), ctx)
        return X, state.update(server=server, accumulated=ctx.xp.zeros_like(X))

    def communications(self):
        return {"push_pull": self.period}

    def local_update(self, X, state, inp: StepInput):
        D, state = self.local_direction(state, inp)
        displacement = state.hyper["lr"].at(inp.t) * D          # η g_i without momentum
        return X - displacement, state.update(accumulated=state.accumulated + displacement)

    def communicate(self, X, X_new, state, due, inp: StepInput):
        p = X.shape[0]
        server = state.server - inp.comm.reduce_to_server(state.accumulated, "sum")      # push
        X_new = replicate(inp.comm.server_broadcast(server, p), p)                       # pull
        return X_new, state.update(server=server, accumulated=namespace(X).zeros_like(state.accumulated)), {}

    def round_ops(self, due, workers, nbytes):
        return [Op("server_gather", nbytes), Op("server_scatter", nbytes)]

    def exchange(self, x, x_new, part, server_state, t, workers, comm):
        server = server_state.server - comm.reduce_to_server(part.accumulated, "sum")   # push v_i
        pulled = comm.server_broadcast(server, 1)                                       # pull s
        part = part.update(accumulated=namespace(x).zeros_like(part.accumulated))
        return replicate(pulled, 1), part, server_state.update(server=server)
