"""An objective's oracle one worker's row at a time: what a process that owns one worker computes.

A stacked matrix product is not row-invariant in the last bits (row i of X @ A and X[i:i+1] @ A differ
by up to ~1e-13 at d = 1000), so a simulation that is to equal an MPI run bit for bit evaluates each
worker on its own row, as the rank does. ``simulate(..., oracle="rowwise")`` and every MPI rank use
:class:`RowWise`; it loops over workers (a mode for exact comparisons, not a hot path).
"""
from __future__ import annotations

import numpy as np

ORACLES = ("stacked", "rowwise")


class RowWise:
    """``objective`` with value, gradient and mini-batch oracle calls made row by row (module docstring);
    every other attribute is the objective's own."""

    def __init__(self, objective):
        if getattr(objective, "uses_streams", False):
            raise ValueError(f"oracle 'rowwise' does not apply to {objective.name}: its oracle draws random numbers "
                             "for all workers at once (dropout)")
        self.objective = objective

    def __getattr__(self, name):
        return getattr(self.objective, name)

    def value_and_grad(self, X):
        pairs = [self.objective.value_and_grad(_row(X, i)) for i in range(X.shape[0])]
        return np.concatenate([v for v, _ in pairs]), np.concatenate([g for _, g in pairs])

    def value(self, X):
        return np.concatenate([self.objective.value(_row(X, i)) for i in range(X.shape[0])])

    def grad(self, X):
        return self.value_and_grad(X)[1]

    def noisy_value_and_grad(self, X, streams=None, sigma: float = 0.0):
        values, G = self.value_and_grad(X)
        if sigma > 0:
            G += streams.normal("grad_noise", X.shape, scale=sigma)
        return values, G

    def batch_value_and_grad(self, X, idx, **kw):
        pairs = [self.objective.batch_value_and_grad(_row(X, i), idx[i:i + 1], **kw) for i in range(X.shape[0])]
        return np.concatenate([v for v, _ in pairs]), np.concatenate([g for _, g in pairs])


def _row(X, i):
    """Row i as its own C-ordered (1, d) array: a BLAS product of a strided row (a row of an F-ordered X, as
    the averaging rules leave it) rounds differently from the same numbers laid out contiguously."""
    return np.ascontiguousarray(X[i:i + 1])
