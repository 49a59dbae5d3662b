"""Worker blocks and a small thread pool that runs them (host NumPy arrays only).

The worker axis (p rows) is cut into fixed *blocks* of ``block_rows(row_size)`` consecutive workers,
chosen from the size of one worker's row alone (d for a (p, d) array), so that one block holds at
least ``BLOCK_ELEMENTS`` = 2^16 numbers (512 KiB in float64: it stays in L2 while an oracle makes its
passes over it). The same blocks serve the random streams (one generator per block, see
``backend.RandomStreams``) and the oracle, so the noise of a block is drawn and added while the block's
gradient is still in cache. Blocks depend on the data only, never on the thread count: every block
is computed by the same code whatever thread runs it, so results are bit-identical for any
``threads``.

NumPy releases the GIL inside ufuncs, reductions, matmul and the random generators, so two threads
working on different blocks use two cores. While a run goes (``simulate`` enters ``blas_guard()``) BLAS
is held to one thread (threadpoolctl) whatever ``threads`` is: the d = 1000 quadratic's GEMM does not
oversubscribe the cores, and, since OpenBLAS's GEMM rounds differently with its own thread count (a
product of more than 2^18 multiply-adds uses several), the results depend neither on the machine's
cores nor on OPENBLAS_NUM_THREADS: a run in a process pool or an MPI rank (one BLAS thread each) equals
the same run in this process (the threads split rows instead of BLAS; docs/benchmarks.md measures both).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

BLOCK_ELEMENTS = 2**16        # numbers per worker block (at least; a row is never split)
MIN_THREADED_ELEMENTS = 2**18  # p·d below this: one thread by default (the pool's overhead would dominate)
DEFAULT_MAX_THREADS = 2


def block_rows(row_size: int) -> int:
    """Workers per block for rows of ``row_size`` numbers: ⌈2^16 / row_size⌉, at least 1."""
    return max(1, -(-BLOCK_ELEMENTS // max(1, int(row_size))))


def block_bounds(p: int, row_size: int) -> list[tuple[int, int]]:
    """The blocks [lo, hi) of range(p) for rows of ``row_size`` numbers (the last may be shorter)."""
    b = block_rows(row_size)
    return list(pairwise([*range(0, p, b), p]))


def cpu_count() -> int:
    """Cores this process may run on (CPU affinity where the OS reports it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_threads(p: int, d: int, on_host: bool = True) -> int:
    """The default of ``simulate(threads=None)``: min(cores, 2) when p·d ≥ 2^18 on NumPy, else 1."""
    if not on_host or p * d < MIN_THREADED_ELEMENTS:
        return 1
    return max(1, min(cpu_count(), DEFAULT_MAX_THREADS))


def check_threads(threads) -> int | None:
    """``threads``: None (default) or an integer >= 1; ``ValueError`` naming it otherwise."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be None or an integer >= 1; got {threads!r}")
    return int(threads)


_BLAS_CONTROLLERS: list | None = None
_BLAS_LOCK = threading.Lock()
_BLAS_HOLDS = 0            # entered BlasOneThread contexts in this process, all threads together
_BLAS_SAVED: list = []     # the thread counts the first of them found, restored by the last to leave


def _blas_controllers() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process (found once: 1 ms)."""
    global _BLAS_CONTROLLERS
    if _BLAS_CONTROLLERS is None:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS_CONTROLLERS = ThreadpoolController().select(user_api="blas").lib_controllers
        except ImportError:  # threadpoolctl is a core dependency; be lenient in odd environments
            _BLAS_CONTROLLERS = []
    return _BLAS_CONTROLLERS


def blas_threads() -> int:
    """The BLAS thread limit as this process set it (threadpoolctl's view: OPENBLAS_NUM_THREADS,
    ``threadpool_limits``), the value from before the hold while a :class:`BlasOneThread` holds it."""
    with _BLAS_LOCK:
        pairs = _BLAS_SAVED if _BLAS_HOLDS else [(c, c.get_num_threads()) for c in _blas_controllers()]
    return max(1, min((n for _, n in pairs), default=1))


def _set_blas(pairs) -> None:
    """Set each library's thread count; every one is tried before the first error is raised."""
    error = None
    for c, n in pairs:
        try:
            c.set_num_threads(n)
        except BaseException as exc:  # an interrupt included: finish the others first
            error = error or exc
    if error is not None:
        raise error


class BlasOneThread:
    """Holds every BLAS library at one thread while it is entered (threadpoolctl). The hold is counted for
    the whole process: nested contexts, and runs in several Python threads, keep BLAS at one thread until
    the last of them leaves, which restores the thread counts the first one found (OpenBLAS 0.3.31 ignores a
    request for more threads made from a thread other than the main one: a hold that ends last in another
    thread leaves BLAS at one thread). An interrupt while the hold is taken or given back leaves the
    thread counts as they were or restored."""

    def __enter__(self):
        global _BLAS_HOLDS, _BLAS_SAVED
        with _BLAS_LOCK:
            if _BLAS_HOLDS == 0:
                saved = [(c, c.get_num_threads()) for c in _blas_controllers()]
                try:
                    _set_blas([(c, 1) for c, n in saved if n != 1])
                except BaseException:
                    _set_blas([(c, n) for c, n in saved if n != 1])
                    raise
                _BLAS_SAVED = saved
            _BLAS_HOLDS += 1
        return self

    def __exit__(self, *exc):
        global _BLAS_HOLDS
        with _BLAS_LOCK:
            _BLAS_HOLDS -= 1
            if _BLAS_HOLDS == 0:
                _set_blas([(c, n) for c, n in _BLAS_SAVED if n != 1])
        return False


class WorkerPool:
    """Runs ``fn(lo, hi)`` for each worker block on ``threads`` threads (the caller's thread included).

    ``threads == 1`` runs the blocks in order on the caller's thread with no pool at all. The pool's
    threads are created on first use and live as long as the object.
    """

    def __init__(self, threads: int = 1):
        self.threads = check_threads(threads) or 1
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._blas = BlasOneThread()

    def map(self, fn, bounds) -> list:
        """``[fn(lo, hi) for (lo, hi) in bounds]`` in that order, the blocks shared among the threads (after
        :meth:`close`, on the caller's thread alone: a closed pool starts no thread)."""
        if len(bounds) < 2:
            return [fn(lo, hi) for lo, hi in bounds]
        if self.threads == 1 or self._closed:
            with self._blas:
                return [fn(lo, hi) for lo, hi in bounds]
        n = min(self.threads, len(bounds))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="lsgdsim")
        # Contiguous groups of blocks per thread: fewer hand-overs, and each thread walks memory in order.
        groups = list(pairwise(len(bounds) * i // n for i in range(n + 1)))

        def run(g):
            return [fn(lo, hi) for lo, hi in bounds[g[0]:g[1]]]

        with self._blas:
            futures = [self._pool.submit(run, g) for g in groups[1:]]
            out = run(groups[0])
            for f in futures:
                out.extend(f.result())
        return out

    def blas_guard(self):
        """A context that holds BLAS at one thread (for callers that run their own blocks)."""
        return self._blas

    def close(self):
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)


SERIAL = WorkerPool(1)
