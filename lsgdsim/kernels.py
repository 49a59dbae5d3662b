"""Compiled kernels that give NumPy's own bits, one pass where NumPy makes several (the ``fast`` extra: numba).

A kernel here fuses NumPy operations (a difference, a square, a row sum, a square root) into one pass
over memory, and performs every one of them as NumPy does, so that its result is **bit-identical** to the
NumPy expression it replaces:

- elementwise ``+ − × /`` and ``sqrt`` are correctly rounded IEEE operations in both (numba compiles
  without ``fastmath``: no reassociation, no fused multiply-add);
- a float64 row sum follows NumPy's reduction order, its pairwise sum (``loops_utils.h.src``: runs of
  at most 128 numbers summed by 8 interleaved accumulators, longer runs halved at a multiple of 8, the
  whole added to the reduction's initial 0.0), laid out once per row length by :func:`plan`;
- a float64 column sum (``add.reduce`` over the rows of a (p, d) array, d ≥ 2) adds the rows one at a
  time to the initial 0.0, every column alike.

That claim is checked, not assumed: before a kernel is used in a process, :func:`available` runs it
against its NumPy expression on rows of every length class (short, one leaf, several leaves, odd tails,
tiny, huge and infinite numbers) and uses it only if every bit agrees — kernel by kernel (Rastrigin's
needs NumPy's float64 sin and cos to be the C library's, as numba's are; the distances and the record's
mean need no such thing). Where numba is missing or fails to load, a check fails, or ``LSGDSIM_KERNELS=numpy`` is set,
callers take their NumPy path: the numbers are the same either way, only the time differs
(docs/benchmarks.md). Writable, aligned, float64 C-contiguous host arrays only. Two things differ and do
not matter to a run: the payload bits of a NaN (a run stops at the first non-finite value before it
records), and floating-point warnings (a kernel raises none, whatever ``np.errstate`` says).
"""
from __future__ import annotations

import functools
import math
import os
import threading

import numpy as np

from .parallel import block_bounds

ENV = "LSGDSIM_KERNELS"   # unset or "auto": the kernels that pass their check; "numpy": none (to time both)
TWO_PI = 2.0 * math.pi    # 2π as every NumPy path here forms it (the objectives import it from here)
LEAF = 128                # NumPy's PW_BLOCKSIZE: the longest run its pairwise sum adds with 8 accumulators
# Records take the distance kernel from this many numbers (p·d) on: below it NumPy's path is within some
# 10 µs a record, and a process that never reaches the size never pays numba's load (≈ 0.4 s; measured
# in docs/benchmarks.md). Rastrigin's and Styblinski–Tang's oracles take their kernels in every run of
# several worker blocks (p·d > 2^16): a long run wins back the load in its first steps, a short one loses it.
MIN_ELEMENTS = 2**17
# A record goes by column slabs, reading X from memory once instead of twice, when X is large (at least
# SLABS_FROM_X_BYTES: in a run the oracle's passes have pushed such an X out of the caches by the record)
# and a slab — p rows of a 128-number leaf — fits a core's 1 MiB L2 (at most SLAB_MAX_BYTES); other
# shapes are as fast or faster by two passes over rows. Both measured on this machine (docs/benchmarks.md);
# speed only: the bits are the same either way.
SLABS_FROM_X_BYTES, SLAB_MAX_BYTES = 2**22, 2**20

_state: dict = {}         # "kernels": {name: compiled function that passed its check}; "why": what is missing
_lock = threading.Lock()


def check_env() -> str:
    """``LSGDSIM_KERNELS`` as "auto" or "numpy"; a ValueError naming it for anything else."""
    raw = os.environ.get(ENV, "")
    value = raw.strip().lower() or "auto"
    if value not in ("auto", "numpy"):
        raise ValueError(f"{ENV} must be 'auto' or 'numpy' (or unset); got {raw!r}")
    return value


def _compile() -> dict:
    """The compiled kernels (numba compiles them on first call and caches the machine code on disk)."""
    from . import _numba_kernels
    k = _numba_kernels
    return {"distances": k.distances, "record": (k.record_leaves, k.combine_rows), "rastrigin": k.rastrigin,
            "styblinski_tang": k.styblinski_tang, "ackley": (k.ackley_sums, k.ackley_grad)}


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


# -- the NumPy paths the kernels replace (the callers' own, and what the kernels are checked against) --
def numpy_row_norms(X, ref, scratch=None):
    """‖x_i − ref‖ of every row of the NumPy array X: difference (into ``scratch``, a C-order buffer of X's
    shape and dtype, when given: a fresh (p, d) array per record costs its page faults), square in place,
    row sum, sqrt — ``Recorder``'s distances."""
    D = X - ref if scratch is None else np.subtract(X, ref, out=scratch)
    return np.sqrt(np.multiply(D, D, out=D).sum(axis=1))


def numpy_column_mean(X):
    """The mean of the rows of the NumPy array X as (1, d): NumPy's ``mean`` without its per-call overhead (the
    same ``add.reduce`` over the rows and the same division, so the same bits) — ``Recorder``'s center."""
    total = np.add.reduce(X, axis=0, keepdims=True)
    total /= X.shape[0]
    return total


def styblinski_tang_values(xp, X, X2=None):
    """Styblinski–Tang's values (p,) at the rows of X, in any array namespace: 0.5·Σ (X2·X2 − 16·X2 + 5·X),
    X2 = X·X (``StyblinskiTang.value``)."""
    X2 = X * X if X2 is None else X2
    return 0.5 * xp.sum(X2 * X2 - 16.0 * X2 + 5.0 * X, axis=1)


def styblinski_tang_terms(xp, X):
    """Styblinski–Tang's values (p,) and gradients (p, d) at the rows of X, in any array namespace
    (``StyblinskiTang.value_and_grad``, and the NumPy expression its kernel is checked against): the values
    of :func:`styblinski_tang_values` and G = 2·X2·X − 16·X + 2.5."""
    X2 = X * X
    return styblinski_tang_values(xp, X, X2), 2.0 * X2 * X - 16.0 * X + 2.5


def ackley_scalars(xp, sq_mean, cos_mean, a, b):
    """Ackley's row terms from the rows' means of x² and of cos(c·x), in any namespace: (rms, a·exp(−b·rms),
    exp(cos_mean))."""
    rms = xp.sqrt(sq_mean)
    return rms, a * xp.exp(-b * rms), xp.exp(cos_mean)


def ackley_row_factors(xp, sq_mean, cos_mean, a, b, c, d):
    """Per row: f = (a + e) − a·exp(−b·rms) − exp(mean cos cx), and the gradient's factors radial (0 at rms = 0,
    the minimum-norm subgradient) and w = (c/d)·exp(mean cos cx): ∇f = radial·x + w·sin(c·x)."""
    rms, cone, wave = ackley_scalars(xp, sq_mean, cos_mean, a, b)
    zero = rms == 0
    radial = xp.where(zero, xp.zeros_like(rms), b * cone / (d * xp.where(zero, 1.0 + rms, rms)))
    return (a + math.e) - cone - wave, radial, (c / d) * wave


def ackley_value_and_grad(xp, X, a, b, c):
    """Ackley's values (p,) and gradients (p, d) at the rows of X, in any namespace (``Ackley.value_and_grad``,
    and the NumPy expression its kernel is checked against)."""
    angle = c * X
    vals, radial, w = ackley_row_factors(xp, xp.mean(X * X, axis=1), xp.mean(xp.cos(angle), axis=1), a, b, c,
                                         X.shape[1])
    return vals, radial[:, None] * X + w[:, None] * xp.sin(angle)


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


# -- the checks ------------------------------------------------------------------------------------
CHECKED_LENGTHS = (1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 136, 255, 257, 1000, 1031, 4099)


def _same(x, y) -> bool:
    return np.array_equal(np.asarray(x).view(np.int64), np.asarray(y).view(np.int64))


def _check_distances(fn) -> bool:
    rng = np.random.default_rng(20261207)
    for d in CHECKED_LENGTHS:
        X = rng.standard_normal((6, d)) * rng.choice([1e-150, 1e-3, 1.0, 1e3, 1e150], size=(6, 1))
        X[0, : min(d, 3)] = -0.0
        X[5, d // 2] = np.inf
        a, c = X[1].copy(), rng.standard_normal(d)
        got = np.empty(6), np.empty(6)
        with np.errstate(over="ignore", invalid="ignore"):
            fn(X, a, c, 0, 6, *got, *plan(d))
            want = numpy_row_norms(X, a), numpy_row_norms(X, c)
        if not (_same(got[0], want[0]) and _same(got[1], want[1])):
            return False
    return True


def _check_record(fns) -> bool:
    rng = np.random.default_rng(20261208)
    # 6 rows of very different sizes, and 37 of one size (whose column sums any other order of the rows
    # would change); d ≥ 2 (NumPy sums a single column pairwise, and runs never ask)
    for p, sizes in ((6, [1e-150, 1e-3, 1.0, 1e3, 1e150]), (37, [1.0])):
        for d in CHECKED_LENGTHS[1:]:
            X = rng.standard_normal((p, d)) * rng.choice(sizes, size=(p, 1))
            X[:, 0] = -0.0      # a column of −0.0
            X[0, : min(d, 3)] = -0.0
            X[p - 1, d // 2] = np.inf
            held = rng.standard_normal(d)
            for center in (None, held):
                with np.errstate(over="ignore", invalid="ignore"):
                    got = _record(fns, X, 2, center, None)
                    c = numpy_column_mean(X) if center is None else center
                    want = numpy_row_norms(X, X[2]), numpy_row_norms(X, c), c.reshape(d)
                if not all(_same(g, w) for g, w in zip(got, want, strict=True)):   # the mean too: not every
                    return False                                                 # bit of it shows in a distance
    return True


def _check_rastrigin(fn) -> bool:
    rng = np.random.default_rng(20261208)
    for d in CHECKED_LENGTHS:
        X = rng.uniform(-6.0, 6.0, (6, d)) * np.array([[1.0], [1.0], [1e-6], [1e3], [1e8], [1.0]])
        X[0, : min(d, 3)] = -0.0
        vals, G, vals_want, G_want = np.empty(6), np.empty((6, d)), np.empty(6), np.empty((6, d))
        numpy_rastrigin(X, 10.0, vals_want, G_want)
        _rastrigin(fn, X, 10.0, vals, G)
        if not (_same(vals, vals_want) and _same(G, G_want)):
            return False
    return True


def _check_styblinski_tang(fn) -> bool:
    rng = np.random.default_rng(20261209)
    for d in CHECKED_LENGTHS:
        X = rng.uniform(-5.0, 5.0, (7, d)) * np.array([[1.0], [1.0], [1e-6], [1e3], [1e80], [1e-310], [1.0]])
        X[0, : min(d, 3)] = -0.0
        vals, G = np.empty(7), np.empty((7, d))
        with np.errstate(over="ignore", invalid="ignore"):
            want = styblinski_tang_terms(np, X)
            fn(X, G, vals, *plan(d))
        if not (_same(vals, want[0]) and _same(G, want[1])):
            return False
    return True


def _check_ackley(fns) -> bool:
    rng = np.random.default_rng(20261210)
    for d in CHECKED_LENGTHS:
        X = rng.uniform(-5.0, 5.0, (7, d)) * np.array([[1.0], [1.0], [1e-6], [1e3], [1e8], [0.0], [1.0]])
        X[0, : min(d, 3)] = -0.0
        for a, b, c in ((20.0, 0.2, TWO_PI), (3.0, 0.7, 1.3)):
            vals, G = np.empty(7), np.empty((7, d))
            _ackley(fns, X, a, b, c, vals, G)
            want = ackley_value_and_grad(np, X, a, b, c)
            if not (_same(vals, want[0]) and _same(G, want[1])):
                return False
    return True


CHECKS = {"distances": _check_distances, "record": _check_record, "rastrigin": _check_rastrigin,
          "styblinski_tang": _check_styblinski_tang, "ackley": _check_ackley}


def _load() -> dict:
    """The kernels that pass their checks in this process (the reason for any missing in ``_state``)."""
    try:
        compiled = _compile()
    except KeyboardInterrupt:
        _state.update(kernels={}, why="interrupted while loading numba")   # not retried in this process
        raise
    except Exception as exc:   # no numba, or numba unable to load (e.g. nowhere to write its cache)
        _state["why"] = f"numba not loaded: {type(exc).__name__}: {exc}"
        return {}
    usable, failed = {}, []
    for name, fn in compiled.items():
        try:
            ok = CHECKS[name](fn)
        except KeyboardInterrupt:
            _state.update(kernels={}, why="interrupted while checking the kernels")
            raise
        except Exception:
            ok = False
        if ok:
            usable[name] = fn
        else:
            failed.append(name)
    if failed:
        _state["why"] = f"not NumPy's bits on this machine: {', '.join(failed)}"
    return usable


def available() -> dict:
    """The compiled kernels that may be used in this process, by name ({} when none: numba missing or
    not loading, ``LSGDSIM_KERNELS=numpy``, or none passing its check). Decided once per process
    (compiling takes seconds the first time on a machine; numba caches the machine code on disk)."""
    if check_env() == "numpy":
        return {}
    if "kernels" not in _state:
        with _lock:
            if "kernels" not in _state:
                _state["kernels"] = _load()
    return _state["kernels"]


def kernel(name: str):
    """The compiled kernel ``name`` if it may be used here, else None."""
    return available().get(name)


def status() -> str:
    """Which kernels this process uses (``"numba: ackley, distances, rastrigin, record, styblinski_tang"``), or
    ``"numpy"`` with the reason."""
    usable = available()
    if check_env() == "numpy":
        return f"numpy ({ENV}=numpy)"
    why = f" ({_state['why']})" if _state.get("why") else ""
    return f"numba: {', '.join(sorted(usable))}{why}" if usable else f"numpy{why}"


def _host_float64(*arrays) -> bool:
    return all(type(v) is np.ndarray and v.dtype == np.float64 and v.flags.c_contiguous and v.flags.writeable
               and v.flags.aligned for v in arrays)


def _spread(fn, bounds, map_blocks):
    """fn(lo, hi) over ``bounds``: all at once on the caller's thread, or part by part on ``map_blocks``'
    threads (the parts are independent, so the result does not depend on how they are split)."""
    if map_blocks is None:
        fn(bounds[0][0], bounds[-1][1])
    else:
        map_blocks(fn, bounds)


def row_distances(X, a, c, map_blocks=None):
    """(‖x_i − a‖, ‖x_i − c‖) over the rows of X (p, d), a and c (d,) or (1, d): one compiled pass over X, the bits
    of :func:`numpy_row_norms`; None below :data:`MIN_ELEMENTS` numbers, when the kernel is not available,
    or when the arrays do not suit it (the caller then computes it with NumPy). ``map_blocks``
    (``WorkerPool.map``-like: fn, [(lo, hi)]) spreads the rows over threads."""
    if X.size < MIN_ELEMENTS or not _host_float64(X, a, c):   # (another backend never loads numba)
        return None
    fn = kernel("distances")
    if fn is None:
        return None
    p, d = X.shape
    a, c = a.reshape(d), c.reshape(d)   # (views: both are C-contiguous)
    out_a, out_c = np.empty(p), np.empty(p)
    leaves = plan(d)
    _spread(lambda lo, hi: fn(X, a, c, lo, hi, out_a, out_c, *leaves), block_bounds(p, d), map_blocks)
    return out_a, out_c


def record_distances(X, best, center=None, map_blocks=None):
    """A record's two distance rows (‖x_i − x_best‖, ‖x_i − c‖) over the rows of X (p, d), c = ``center`` ((d,)
    or (1, d)) or, when None, the rows' mean (:func:`numpy_column_mean`): the bits of ``Recorder``'s NumPy
    path; None, for the caller to take that path, under :data:`MIN_ELEMENTS` numbers, for arrays that do not
    suit the kernels, or when the kernel for the shape is not available. Large X of at most 1024 rows go by
    column slabs (``_by_slabs``): a slab's mean and both its leaf sums while the slab is in cache, X read
    from memory once instead of twice, the slabs spread over ``map_blocks``' threads; other shapes by the
    mean then :func:`row_distances`, the rows spread over the threads."""
    if X.size < MIN_ELEMENTS or not _host_float64(X) or (center is not None and not _host_float64(center)):
        return None
    p, d = X.shape
    if not _by_slabs(p, d):
        if kernel("distances") is None:   # (known before the mean is computed for nothing)
            return None
        return row_distances(X, X[int(best)], numpy_column_mean(X) if center is None else center, map_blocks)
    fns = kernel("record")
    return None if fns is None else _record(fns, X, int(best), center, map_blocks)[:2]


def _by_slabs(p: int, d: int) -> bool:
    return d > LEAF and p * d * 8 >= SLABS_FROM_X_BYTES and p * LEAF * 8 <= SLAB_MAX_BYTES


def _record(fns, X, best, center, map_blocks):
    """(to the leader, to the center, the center (d,)) by column slabs."""
    record_leaves, combine_rows = fns
    p, d = X.shape
    leaf_lo, leaf_n, program = plan(d)
    k = leaf_lo.size
    c = np.empty(d) if center is None else center.reshape(d)
    SA, SC = np.empty((p, k)), np.empty((p, k))   # each row's leaf sums
    _spread(lambda lo, hi: record_leaves(X, best, c, center is None, lo, hi, leaf_lo, leaf_n, SA, SC),
            [(leaf, leaf + 1) for leaf in range(k)], map_blocks)
    out_a, out_c = np.empty(p), np.empty(p)
    combine_rows(SA, SC, program, out_a, out_c)
    return out_a, out_c, c


def _rastrigin(fn, X, a, vals, G):
    two_pi_a, offset = TWO_PI * a, a * X.shape[1]   # the constants as NumPy's path forms them (Python floats)
    fn(X, G, vals, TWO_PI, a, two_pi_a, offset, *plan(X.shape[1]))


def ackley_into(X, a, b, c, vals, G) -> bool:
    """:func:`ackley_value_and_grad` of the NumPy rows X written into vals and G: sin and cos of each c·x once
    and both row sums in one compiled pass, the per-row exponentials by NumPy (its SIMD exp has other bits
    than the C library's), then the gradient in a second pass over the block in cache — the same bits;
    False, with nothing written, when the kernel is not available or the arrays do not suit it."""
    fns = kernel("ackley") if _host_float64(X, vals, G) else None
    if fns is None:
        return False
    _ackley(fns, X, float(a), float(b), float(c), vals, G)
    return True


def _ackley(fns, X, a, b, c, vals, G):
    sums, grad = fns
    p, d = X.shape
    sq, cs = np.empty(p), np.empty(p)
    sums(X, G, c, sq, cs, *plan(d))       # G ← sin(c·X); NumPy's row sums of x·x and of cos(c·x)
    vals[...], radial, w = ackley_row_factors(np, sq / d, cs / d, a, b, c, d)   # (np.mean: the sum / d)
    grad(X, G, radial, w)


def styblinski_tang_into(X, vals, G) -> bool:
    """:func:`styblinski_tang_terms` of the NumPy rows X written into vals and G by one compiled pass (the same
    bits; the oracle calls it per worker block); False, with nothing written, when the kernel is not
    available or the arrays do not suit it."""
    fn = kernel("styblinski_tang") if _host_float64(X, vals, G) else None
    if fn is None:
        return False
    fn(X, G, vals, *plan(X.shape[1]))
    return True


def rastrigin_into(X, a, vals, G) -> bool:
    """:func:`numpy_rastrigin` in one compiled pass (sin and cos of each 2πx once, the same bits; the oracle
    calls it per worker block, so only in runs of several blocks); False, with nothing written, when the
    kernel is not available or the arrays do not suit it."""
    fn = kernel("rastrigin") if _host_float64(X, vals, G) else None
    if fn is None:
        return False
    _rastrigin(fn, X, float(a), vals, G)
    return True
