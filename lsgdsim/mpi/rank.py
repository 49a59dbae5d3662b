"""What every MPI rank builds from the RunSpec, and its oracle: shared by the synchronous executor
(:mod:`.runner`) and the server-rank one (:mod:`.asynchronous`).

Every rank builds the objective (row-wise: each worker on its own row, as ``simulate(...,
oracle="rowwise")``), the rule, the run's random streams, the full starting point and the rule's
starting state (``init`` on all p rows, the same on every rank), and keeps its own rows of them.
"""
from __future__ import annotations

import os

import numpy as np

from ..algorithms.base import RunContext
from ..backend import RandomStreams, from_numpy, resolve, xp_dtype
from ..collectives import Vectorized
from ..execution.rowstreams import RowStreams
from ..objectives.rowwise import RowWise

# "RANK:STEP": that rank's oracle raises at that step. The failure path of a real job (a bad input on one
# node, a full disk) cannot be made on purpose from the outside; the tests make it with this.
FAULT = "LSGDSIM_MPI_FAULT"


class RankSetup:
    """The run as rank ``rank`` holding the workers ``rows`` sees it (module docstring)."""

    def __init__(self, spec, rank: int, rows):
        self.spec, self.rank = spec, rank
        self.rows = np.asarray(rows, dtype=np.int64)
        self.lo, self.hi = (int(self.rows[0]), int(self.rows[-1]) + 1) if self.rows.size else (0, 0)
        self.objective = RowWise(spec.build_objective())
        self.algorithm = spec.build_algorithm()
        self.streams = RandomStreams(spec.seed, resolve("numpy"), spec.dtype)
        self.view = RowStreams(self.streams, spec.workers, owned=self.rows).view(self.rows)
        xp = resolve("numpy")
        dtype = xp_dtype(xp, spec.dtype)
        x0 = self.objective.initial_point(spec.workers, self.streams.numpy_generator("init"))
        ctx = RunContext(xp=xp, dtype=dtype, workers=spec.workers, dim=self.objective.dim, streams=self.streams,
                         comm=Vectorized())
        self.X0, self.state0 = self.algorithm.init(from_numpy(np.asarray(x0, dtype=float), xp, dtype), ctx)

    def own(self):
        """This rank's rows of the starting point and of the rule's starting state."""
        return np.array(self.X0[self.lo:self.hi]), self.algorithm.take_rows(self.state0, self.rows)

    def oracle(self, X, step: int):
        """Values and noisy gradients of this rank's rows at its step ``step`` (its oracle sees x at
        step − 1): (losses, G, problem), problem None, {"error": ...} or {"diverged": ...} (the first
        non-finite value). On a problem the losses are inf and G zero, so a round can still go on."""
        try:
            if os.environ.get(FAULT) == f"{self.rank}:{step}":
                raise RuntimeError(f"fault injected by {FAULT} at step {step}")
            losses, G = self._values_and_gradients(X)
        except Exception as exc:  # every rank hears of it at the next exchange, none is left waiting
            losses, G = np.full(X.shape[0], np.inf), np.zeros_like(X)
            return losses, G, {"error": f"rank {self.rank}: {type(exc).__name__}: {' '.join(str(exc).split())}"}
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            i = int(bad[0])
            return losses, G, {"diverged": {"step": step - 1, "worker": self.lo + i, "value": float(losses[i])}}
        return losses, G, None

    def _values_and_gradients(self, X):
        spec = self.spec
        if spec.batch_size is None:
            return self.objective.noisy_value_and_grad(X, self.view, spec.grad_noise)
        idx = self.objective.sample_batch(self.view, X.shape[0], spec.batch_size)
        losses, G = self.objective.batch_value_and_grad(X, idx)
        if spec.grad_noise > 0:
            G += self.view.normal("grad_noise", G.shape, scale=spec.grad_noise)
        return losses, G

    def values(self, X, step: int):
        """f of this rank's rows (the end of a run): (values, problem)."""
        try:
            values = np.asarray(self.objective.value(X))
        except Exception as exc:
            return None, {"error": f"rank {self.rank}: {type(exc).__name__}: {' '.join(str(exc).split())}"}
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            return values, {"diverged": {"step": step, "worker": self.lo + i, "value": float(values[i])}}
        return values, None
