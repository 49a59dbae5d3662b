"""Compiled kernels that give NumPy's own bits, one pass where NumPy makes several (the ``fast`` extra: numba).

A kernel here fuses NumPy operations (a difference, a square, a row sum, a square root) into one pass
over memory, and performs every one of them as NumPy does, so that its result is **bit-identical** to the
NumPy expression it replaces:

- elementwise ``+ − × /`` and ``sqrt`` are correctly rounded IEEE operations in both (numba compiles
  without ``fastmath``: no reassociation, no fused multiply-add);
- a float64 row sum follows NumPy's reduction order, its pairwise sum (``loops_utils.h.src``: runs of
  at most 128 numbers summed by 8 interleaved accumulators, longer runs halved at a multiple of 8, the
  whole added to the reduction's initial 0.0), laid out once per row length by :func:`plan`.

That claim is checked, not assumed: before a kernel is used in a process, :func:`available` runs each
kernel against its NumPy expression on rows of every length class (short, one leaf, several leaves,
odd tails, signed zeros) and uses the kernels only if every bit agrees. Where numba is missing, the
check fails, or ``LSGDSIM_KERNELS=numpy`` is set, callers take their NumPy path: the numbers are the
same either way, only the time differs (docs/benchmarks.md). float64 C-contiguous host arrays only.
"""
from __future__ import annotations

import functools
import math
import os
import threading

import numpy as np

ENV = "LSGDSIM_KERNELS"   # "numpy": never use the compiled kernels (e.g. to time both paths side by side)
TWO_PI = 2.0 * math.pi
LEAF = 128                # NumPy's PW_BLOCKSIZE: the longest run its pairwise sum adds with 8 accumulators
# Below this many numbers (p·d) the callers keep NumPy's path: it is then within some 10 µs of the kernel
# per call, and a process that never reaches the size never pays numba's load (≈ 0.35 s; measured in
# docs/benchmarks.md). From it on, a kernel's rows are also spread over the run's threads.
MIN_ELEMENTS = 2**17

_state: dict = {}
_lock = threading.Lock()


def _compile():
    """The compiled kernels (numba compiles them on first call and caches the machine code on disk);
    raises ImportError without numba."""
    from . import _numba_kernels
    return {"distances": _numba_kernels.distances, "rastrigin": _numba_kernels.rastrigin}


@functools.lru_cache(maxsize=64)
def plan(n: int):
    """NumPy's pairwise sum of n numbers as leaves and a program: ``(leaf_lo, leaf_n, program)``. A run of
    at most 128 numbers is one leaf; a longer one is halved at a multiple of 8 (``n2 = n // 2 − (n // 2) % 8``)
    and its halves' sums added, left + right; the program pushes leaf k (k ≥ 0) or adds the top two (−1)."""
    leaves, program = [], []

    def walk(lo, m):
        if m <= LEAF:
            program.append(len(leaves))
            leaves.append((lo, m))
            return
        half = m // 2 - (m // 2) % 8
        walk(lo, half)
        walk(lo + half, m - half)
        program.append(-1)

    walk(0, int(n))
    bounds = np.array(leaves, dtype=np.int64).reshape(-1, 2)
    return np.ascontiguousarray(bounds[:, 0]), np.ascontiguousarray(bounds[:, 1]), np.array(program, dtype=np.int64)


# -- the NumPy expressions the kernels replace (and are checked against) --------------------------
def numpy_distances(X, a, c):
    """``Recorder``'s distance rows: difference, square, row sum, sqrt, for a and for c."""
    out = []
    for ref in (a, c):
        D = X - ref
        out.append(np.sqrt(np.multiply(D, D, out=D).sum(axis=1)))
    return out


def numpy_rastrigin(X, a, vals, G):
    """Rastrigin's value and gradient of the rows of X written into vals and G (``Rastrigin``'s NumPy path):
    vals = (Σ x² − a·Σ cos 2πx) + a·d, G = sin(2πX)·(2πa) + X·2.0, with two temporaries."""
    angle = TWO_PI * X
    terms = np.cos(angle)
    cosines = np.sum(terms, axis=1)
    np.sum(np.multiply(X, X, out=terms), axis=1, out=vals)
    vals -= a * cosines
    vals += a * X.shape[1]
    np.sin(angle, out=G)
    G *= TWO_PI * a
    G += np.multiply(X, 2.0, out=terms)


def _same(x, y) -> bool:
    return np.array_equal(np.asarray(x).view(np.int64), np.asarray(y).view(np.int64))


def _self_check(kernels) -> bool:
    """Every bit of each kernel against its NumPy expression, on rows of every length class (short, one
    leaf, several leaves, odd tails, signed zeros, tiny and huge numbers)."""
    rng = np.random.default_rng(20261207)
    for d in (1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 136, 255, 257, 1000, 1031, 4099):
        X = rng.standard_normal((5, d)) * rng.choice([1e-150, 1e-3, 1.0, 1e3, 1e150], size=(5, 1))
        X[0, : min(d, 3)] = -0.0
        a, c = X[1].copy(), rng.standard_normal(d)
        got = np.empty(5), np.empty(5)
        kernels["distances"](X, a, c, 0, 5, *got, *plan(d))
        want = numpy_distances(X, a, c)
        if not (_same(got[0], want[0]) and _same(got[1], want[1])):
            return False
        X = rng.uniform(-6.0, 6.0, (5, d))          # Rastrigin: sin and cos of 2πx, as NumPy computes them
        X[0, : min(d, 3)] = -0.0
        vals, G, vals_want, G_want = np.empty(5), np.empty((5, d)), np.empty(5), np.empty((5, d))
        numpy_rastrigin(X, 10.0, vals_want, G_want)
        _rastrigin(kernels["rastrigin"], X, 10.0, vals, G)
        if not (_same(vals, vals_want) and _same(G, G_want)):
            return False
    return True


def available() -> dict | None:
    """The compiled kernels if they may be used in this process (numba installed, self-check passed,
    ``LSGDSIM_KERNELS`` not ``numpy``), else None. Decided once per process (compiling takes seconds the
    first time on a machine; numba caches the machine code on disk, loading it takes a fraction of one)."""
    if os.environ.get(ENV, "").strip().lower() == "numpy":
        return None
    if "kernels" not in _state:
        with _lock:
            if "kernels" not in _state:
                try:
                    kernels = _compile()
                except ImportError:
                    kernels = None
                _state["kernels"] = kernels if kernels is not None and _self_check(kernels) else None
    return _state["kernels"]


def status() -> str:
    """``"numba"`` when the compiled kernels are in use in this process, else ``"numpy"``."""
    return "numba" if available() is not None else "numpy"


def _host_float64(*arrays) -> bool:
    return all(type(v) is np.ndarray and v.dtype == np.float64 and v.flags.c_contiguous for v in arrays)


def _over_rows(fn, p, d, map_blocks):
    """fn(lo, hi) over the rows: on the caller's thread, or by worker blocks on ``map_blocks``' threads
    (rows are independent, so the result does not depend on how they are split)."""
    if map_blocks is None:
        fn(0, p)
    else:
        from .parallel import block_bounds
        map_blocks(fn, block_bounds(p, d))


def row_distances(X, a, c, map_blocks=None):
    """(‖x_i − a‖, ‖x_i − c‖) over the rows of X (p, d), a and c (d,): one compiled pass over X, the bits
    of :func:`numpy_distances`; None when the kernels are not available or the arrays are not float64
    C-contiguous NumPy arrays (the caller then computes it with NumPy). ``map_blocks``
    (``WorkerPool.map``-like: fn, [(lo, hi)]) spreads the rows over threads. None as well below
    :data:`MIN_ELEMENTS` numbers."""
    if X.size < MIN_ELEMENTS:
        return None
    kernels = available()
    if kernels is None or not _host_float64(X, a, c):
        return None
    p, d = X.shape
    out_a, out_c = np.empty(p), np.empty(p)
    fn, leaves = kernels["distances"], plan(d)
    _over_rows(lambda lo, hi: fn(X, a, c, lo, hi, out_a, out_c, *leaves), p, d, map_blocks)
    return out_a, out_c


def _rastrigin(fn, X, a, vals, G):
    two_pi_a, offset = TWO_PI * a, a * X.shape[1]   # the constants as NumPy's path forms them (Python floats)
    fn(X, G, vals, TWO_PI, a, two_pi_a, offset, *plan(X.shape[1]))


def rastrigin_into(X, a, vals, G) -> bool:
    """:func:`numpy_rastrigin` in one compiled pass (sin and cos of each 2πx once, the same bits; no size
    threshold: the oracle calls it per worker block, and only runs of several blocks do); False, with
    nothing written, when the kernels are not available or the arrays do not suit them."""
    kernels = available()
    if kernels is None or not _host_float64(X, vals, G):
        return False
    _rastrigin(kernels["rastrigin"], X, float(a), vals, G)
    return True
