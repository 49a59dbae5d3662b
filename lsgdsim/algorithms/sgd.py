"""Baselines without a leader: independent SGD workers, and synchronous all-reduce mini-batch SGD."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..backend import namespace
from ..clock.network import Op
from .base import Algorithm, StepInput


def replicate(rows, workers: int):
    """A (p, d) array whose every row is ``rows`` ((d,), (1, d) or already (p, d)), materialised, not a
    read-only view."""
    xp = namespace(rows)
    return xp.asarray(xp.broadcast_to(rows, (workers, rows.shape[-1])), copy=True)


@dataclass(frozen=True)
class SGD(Algorithm):
    """Independent workers: x_i ← x_i − η g_i. Nothing is communicated."""

    name = "sgd"


@dataclass(frozen=True)
class AllReduceSGD(Algorithm):
    """Synchronous data-parallel SGD: x_i ← x_i − η · mean_j g_j every step.

    All workers start at the mean of x0 and so stay identical (with a scalar lr). Communication model:
    every worker sends its gradient to the coordinator and receives the mean, 2·p·d floats per step
    (priced on the clock as a ring all-reduce, a barrier every step).
    """

    name = "allreduce"

    def init(self, X, ctx):
        X = replicate(ctx.comm.allreduce_mean(X), ctx.workers)
        return super().init(X, ctx)

    def communications(self):
        return {"allreduce": 1}

    def reduce_gradients(self, inp: StepInput) -> StepInput:
        mean_grad = inp.comm.allreduce_mean(inp.grads)                  # (1, d), or (p, d) per rank
        return replace(inp, grads=mean_grad + namespace(inp.grads).zeros_like(inp.grads))

    def communicate(self, X, X_new, state, due, inp: StepInput):
        return X_new, state, {}                                          # the gradients were the exchange

    def round_ops(self, due, workers, nbytes):
        return [Op("allreduce", nbytes)]
