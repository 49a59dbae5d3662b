"""Local SGD (periodic model averaging): x_i ← x_i − η g_i, then at comm(τ) every x_i ← mean_j x_j.

Momentum buffers stay per worker. Communication model: an all-reduce of the parameters at the
coordinator, each worker sending and receiving its d-vector, 2·p·d floats per communication (priced on
the clock as a ring all-reduce).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..clock.network import Op
from .base import Periodic, StepInput
from .sgd import replicate


@dataclass(frozen=True, kw_only=True)
class LocalSGD(Periodic):
    """Local SGD with model averaging every ``period`` steps."""

    name = "localsgd"

    def communications(self):
        return {"average": self.period}

    def communicate(self, X, X_new, state, due, inp: StepInput):
        return replicate(inp.comm.allreduce_mean(X_new), X.shape[0]), state, {}

    def round_ops(self, due, workers, nbytes):
        return [Op("allreduce", nbytes)]
