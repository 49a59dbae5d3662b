"""Baselines without a leader: independent SGD workers, and synchronous all-reduce mini-batch SGD."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..backend import namespace
from .base import NO_EVENTS, Algorithm, StepInput


def replicate(rows, workers: int):
    """A (p, d) array whose every row is ``rows`` ((d,), (1, d) or already (p, d)), materialised, not a
    read-only view."""
    xp = namespace(rows)
    return xp.asarray(xp.broadcast_to(rows, (workers, rows.shape[-1])), copy=True)


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
    every worker sends its gradient to the coordinator and receives the mean, 2·p·d floats per step.
    """

    name = "allreduce"

    def init(self, X, ctx):
        X = replicate(ctx.comm.allreduce_mean(X), ctx.workers)
        return super().init(X, ctx)

    def step(self, X, state, inp: StepInput):
        mean_grad = inp.comm.allreduce_mean(inp.grads)                  # (1, d), or (p, d) per rank
        averaged = replace(inp, grads=mean_grad + namespace(X).zeros_like(X))
        X, state = self.local_step(X, state, averaged)
        return X, state, {}
