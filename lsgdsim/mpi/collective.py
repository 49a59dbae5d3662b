"""The rules' collectives over MPI: each rank holds the rows [lo, hi) of the p workers.

The same rule objects run on every rank (their ``communicate`` only calls these), and every operation
gives each rank exactly the numbers the one-process :class:`lsgdsim.collectives.Vectorized` gives the
same rows, so that an MPI run equals the simulation bit for bit:

- min-loc: the scores are all-gathered in rank order and the same ``argmin`` picks the winner (ties go
  to the lowest worker index, hence the lowest rank), not MPI_MINLOC's implementation-defined order;
- sums and means: the rows are all-gathered in rank order and added by the same NumPy reduction, not
  MPI_Allreduce, whose order of additions is not fixed;
- broadcast: the rank that owns the row sends it; the server's state (EASGD's center, DOWNPOUR's server)
  is replicated, every rank applying the same update to its copy.

Each call adds its seconds to ``seconds`` (the measured communication time of the rank).
"""
from __future__ import annotations

import time

import numpy as np

from ..collectives import Collective, Vectorized


class RankCollective(Collective):
    """Collectives of one MPI rank holding workers [lo, hi) of ``workers`` (module docstring)."""

    def __init__(self, comm, workers: int, lo: int, hi: int, record: bool = False):
        super().__init__(record)
        self.mpi, self.lo, self.hi, self.p = comm, lo, hi, workers
        self.per_rank = hi - lo
        self.seconds = 0.0
        self._local = Vectorized()

    def _count(self, rows: int) -> int:
        return self.p if rows == self.per_rank else rows

    def _owner(self, worker: int) -> int:
        return int(worker) // self.per_rank

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def _gather_rows(self, rows):
        """Every rank's rows, stacked in rank order (p, ...)."""
        rows = np.ascontiguousarray(rows)
        out = np.empty((self.mpi.Get_size() * rows.shape[0], *rows.shape[1:]), dtype=rows.dtype)
        self.mpi.Allgather(rows, out)
        return out

    # -- the hooks of lsgdsim.collectives.Collective ---------------------------------------------------------
    def _min_loc(self, scores, groups):
        return self._timed(lambda: self._local._min_loc(self._gather_rows(np.asarray(scores)), groups))

    def _broadcast(self, X, root):
        return self._timed(self._row_from_owner, X, int(root))

    def _row_from_owner(self, X, root):
        owner = self._owner(root)
        row = np.array(X[root - self.lo], copy=True) if owner == self.mpi.Get_rank() else np.empty(X.shape[1], X.dtype)
        self.mpi.Bcast(row, root=owner)
        return row[None, :]

    def _broadcast_groups(self, X, roots):
        def received():
            roots_ = [int(r) for r in np.asarray(roots).tolist()]
            leaders = {r: self._row_from_owner(X, r)[0] for r in sorted(set(roots_))}
            size = self.p // len(roots_)
            return np.stack([leaders[roots_[i // size]] for i in range(self.lo, self.hi)])
        return self._timed(received)

    def _server_broadcast(self, row, workers):
        return row[None, :]             # the server's state is replicated: every rank holds the same copy

    def _reduce(self, rows, mean):
        return self._timed(lambda: self._local._reduce(self._gather_rows(rows), mean))
