"""Local SGD (periodic model averaging): x_i ← x_i − η g_i, then at comm(τ) every x_i ← mean_j x_j.

Momentum buffers stay per worker. Communication model: an all-reduce of the parameters at the
coordinator, each worker sending and receiving its d-vector, 2·p·d floats per communication.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import NO_EVENTS, Periodic, StepInput, comm
from .sgd import replicate


@dataclass(frozen=True, kw_only=True)
class LocalSGD(Periodic):
    """Local SGD with model averaging every ``period`` steps."""


    name = "localsgd"

    def step(self, X, state, inp: StepInput):
        X, state = self.local_step(X, state, inp)
        if not comm(inp.t, self.period):
            return X, state, NO_EVENTS
        return replicate(inp.comm.allreduce_mean(X), X.shape[0]), state, {}
