"""Baselines without a leader: independent SGD workers, and synchronous all-reduce mini-batch SGD."""
from __future__ import annotations

from dataclasses import dataclass

from ..backend import namespace
from .base import NO_EVENTS, Algorithm, StepInput


def replicate(row, workers: int):
    """A (p, d) array whose every row is ``row`` (d,) (materialised, not a read-only view)."""
    xp = namespace(row)
    return xp.asarray(xp.broadcast_to(row[None, :], (workers, row.shape[0])), copy=True)


@dataclass(frozen=True)
class SGD(Algorithm):
    """Independent workers: x_i ← x_i − η g_i. Nothing is communicated."""

    name = "sgd"

    def step(self, X, state, inp: StepInput):
        X, state = self.local_step(X, state, inp)
        return X, state, NO_EVENTS


@dataclass(frozen=True)
class AllReduceSGD(Algorithm):
    """Synchronous data-parallel SGD: x_i ← x_i − η · mean_j g_j every step.

    All workers start at the mean of x0 and so stay identical (with a scalar lr). Communication model:
    every worker sends and receives its d-vector each step, 2·p·d floats.
    """

    name = "allreduce"

    def init(self, X, ctx):
        xp = ctx.xp
        X = replicate(xp.mean(X, axis=0), ctx.workers)
        return super().init(X, ctx)

    def step(self, X, state, inp: StepInput):
        xp = namespace(X)
        mean_grad = xp.mean(inp.grads, axis=0, keepdims=True)
        averaged = StepInput(inp.t, mean_grad + xp.zeros_like(X), inp.losses, inp.exact_values, inp.streams)
        X, state = self.local_step(X, state, averaged)
        return X, state, {"floats": 2 * X.shape[0] * X.shape[1]}
