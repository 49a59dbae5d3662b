"""The run's random streams, drawn by workers that have not all done the same number of steps.

Lockstep draws a stream as whole (p, ...) blocks of workers (:class:`lsgdsim.backend.RandomStreams`,
one generator per worker block). On the clock a worker's n-th draw from a stream must be the same
numbers whatever the others have done by then (the clock never changes a worker's gradient noise), so
:class:`RowStreams` keeps a counter of draws per worker and stream: worker i's n-th draw is row i of the
n-th (p, ...) lockstep draw, exactly. When every worker is at the same count (the synchronous rules,
and any rule at equal speeds) a draw *is* the lockstep draw, made by the same call. Otherwise each worker
block's draws are made in order from the block's own generator as the first of its workers needs them;
the draw stays in a bounded cache for the block's other workers, and a draw evicted from the cache is
made again from the generator's state saved before it (a few hundred bytes), so memory does not grow
with how far apart the workers drift, only the time spent redrawing.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from ..parallel import block_rows

CACHE_BYTES = 64 * 2**20   # draws kept for the workers of a block that have not consumed them yet


class RowStreams:
    """Per-worker counters over a run's :class:`~lsgdsim.backend.RandomStreams` (module docstring)."""

    def __init__(self, streams, workers: int, cache_bytes: int = CACHE_BYTES, owned=None):
        """``owned``: the workers this process draws for (an MPI rank's), default all; the others are
        never waited for (their draws are made only as the owned workers of their block need them)."""
        self.streams, self.p, self.cache_bytes = streams, workers, cache_bytes
        self.others = None if owned is None else np.setdiff1d(np.arange(workers), np.asarray(owned))
        self.count: dict[str, np.ndarray] = {}         # stream → draws made by each worker (p,)
        self.frontier: dict[str, np.ndarray] = {}      # stream → draws made by each block's generator
        self.blocks: dict[str, int] = {}               # stream → workers per block
        self.saved: dict[tuple, dict] = {}             # (stream, block) → {n: generator state before draw n}
        self.cache: OrderedDict = OrderedDict()        # (stream, block, n) → the draw, least recently used first
        self.cached = 0

    def view(self, rows):
        """A RandomStreams-like object drawing for the workers ``rows`` (an int array, ascending)."""
        return RowView(self, np.asarray(rows, dtype=np.int64))

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _setup(self, name: str, row_size: int) -> int:
        b = block_rows(row_size) if self.p > block_rows(row_size) else self.p
        known = self.blocks.setdefault(name, b)
        if known != b:
            raise ValueError(f"random stream {name!r} is drawn with rows of different sizes whose worker blocks "
                             f"differ ({known} and {b} workers); the clock cannot replay it per worker")
        if name not in self.count:
            self.count[name] = np.zeros(self.p, dtype=np.int64)
            if self.others is not None:
                self.count[name][self.others] = np.iinfo(np.int64).max // 2   # never the block's laggard
            self.frontier[name] = np.zeros(-(-self.p // b), dtype=np.int64)
        return b

    def aligned(self, name: str) -> bool:
        """True when every worker has made as many draws of ``name`` as every block's generator."""
        if name not in self.count:
            return True
        c = self.count[name]
        return bool(np.all(c == c[0]) and np.all(self.frontier[name] == c[0]))

    def note_full_draw(self, name: str, row_size: int) -> None:
        """Record a lockstep (p, ...) draw of ``name`` made elsewhere (e.g. inside the objective's oracle)."""
        self._setup(name, row_size)
        self.count[name] += 1
        self.frontier[name] += 1

    # -- drawing -------------------------------------------------------------------------------------
    def draw(self, name: str, rows: np.ndarray, rest: tuple, block_fn, arg):
        """Row ``rows`` of each worker's next draw of ``name``: (len(rows), *rest)."""
        b = self._setup(name, math.prod(rest))
        if len(rows) == self.p and self.aligned(name):
            z = self.streams._draw(name, (self.p, *rest), block_fn, arg)
            self.note_full_draw(name, math.prod(rest))
            return z
        counts = self.count[name][rows]
        blocks = rows // b
        self._make_ahead(name, b, rest, block_fn, arg, blocks, counts)
        out = None
        for block in np.unique(blocks):
            for n in np.unique(counts[blocks == block]):
                pick = (blocks == block) & (counts == n)
                z = self._block_draw(name, int(block), int(n), b, rest, block_fn, arg)
                if out is None:
                    out = np.empty((len(rows), *rest), dtype=z.dtype)
                out[pick] = z[rows[pick] - int(block) * b]
        self.count[name][rows] += 1
        self._forget(name, b, np.unique(blocks))
        return self.streams._to_xp(out)

    def _make_ahead(self, name, b, rest, block_fn, arg, blocks, counts) -> None:
        """Make every draw the rows need that no block has made yet: the blocks' generators are
        independent, so on the run's threads, one block per task (each block's draws in order)."""
        frontier = self.frontier[name]
        todo = [(int(k), int(counts[blocks == k].max())) for k in np.unique(blocks)]
        todo = [(k, top) for k, top in todo if frontier[k] <= top]
        if not todo:
            return

        def make(i, _):
            k, top = todo[i]
            gen = self.streams.generator(name, k)
            shape = (min(self.p, (k + 1) * b) - k * b, *rest)
            made = []
            for n in range(int(frontier[k]), top + 1):
                made.append((n, gen.bit_generator.state, block_fn(gen, shape, arg)))
            return k, made

        for k, _ in todo:                      # generators are made here, not concurrently in the threads
            self.streams.generator(name, k)
        pool = self.streams.pool if len(todo) > 1 else None
        results = pool.map(make, [(i, i + 1) for i in range(len(todo))]) if pool else [make(0, 1)]
        for k, made in results:
            for n, state, z in made:
                self.saved.setdefault((name, k), {})[n] = state
                self._keep((name, k, n), z)
            frontier[k] = made[-1][0] + 1

    def _block_draw(self, name, block, n, b, rest, block_fn, arg):
        """Draw ``n`` of block ``block`` (made by :meth:`_make_ahead`): cached, or made again from the
        generator state saved before it."""
        key = (name, block, n)
        if key not in self.cache:                      # evicted: make it again from the saved state
            gen = self.streams.generator(name, block)
            again = np.random.Generator(type(gen.bit_generator)())
            again.bit_generator.state = self.saved[(name, block)][n]
            self._keep(key, block_fn(again, (min(self.p, (block + 1) * b) - block * b, *rest), arg))
        self.cache.move_to_end(key)
        return self.cache[key]

    def _keep(self, key, z) -> None:
        self.cache[key] = z
        self.cached += z.nbytes
        while self.cached > self.cache_bytes and len(self.cache) > 1:
            _, old = self.cache.popitem(last=False)
            self.cached -= old.nbytes

    def _forget(self, name: str, b: int, blocks) -> None:
        """Drop the saved states and cached draws that every worker of ``blocks`` has consumed."""
        counts = self.count[name]
        for block in blocks:
            block = int(block)
            saved = self.saved.get((name, block))
            if not saved:
                continue
            lowest = int(counts[block * b:(block + 1) * b].min())
            n = next(iter(saved))               # the saved draws are consecutive, oldest first (insertion order)
            while n < lowest and n in saved:    # drop the ones every worker of the block has consumed
                del saved[n]
                z = self.cache.pop((name, block, n), None)
                if z is not None:
                    self.cached -= z.nbytes
                n += 1
            if not saved:
                del self.saved[(name, block)]


class RowView:
    """What an objective or a leader rule sees of :class:`RowStreams`: draws of shape (len(rows), ...)
    for the workers ``rows``, each at its own count (``rows`` also names the workers, e.g. for shards)."""

    def __init__(self, row_streams: RowStreams, rows: np.ndarray):
        self.rs, self.rows = row_streams, rows
        streams = row_streams.streams
        self.seed, self.xp, self.dtype = streams.seed, streams.xp, streams.dtype

    def _draw(self, name, shape, block_fn, arg):
        if shape[0] != len(self.rows):
            raise ValueError(f"a draw for {len(self.rows)} workers must have them on its first axis; got {shape}")
        return self.rs.draw(name, self.rows, tuple(int(s) for s in shape[1:]), block_fn, arg)

    def normal(self, name: str, shape, scale=1.0):
        return self._draw(name, shape, self.rs.streams._normal_block, scale)

    def uniform(self, name: str, shape):
        return self._draw(name, shape, self.rs.streams._uniform_block, None)

    def integers(self, name: str, high: int, shape):
        return self._draw(name, shape, self.rs.streams._integers_block, high)

    def generator(self, name: str, block: int = 0):
        return self.rs.streams.generator(name, block)
