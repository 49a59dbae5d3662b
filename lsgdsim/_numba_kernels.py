"""The numba code of :mod:`lsgdsim.kernels` (imported only there, only when numba is installed).

Each function performs NumPy's own operations in NumPy's own order (see ``kernels``' docstring); no
``fastmath``, so no reassociation and no fused multiply-add. A row sum is NumPy's pairwise sum, cut into
its leaves (blocks of at most 128 numbers) and put back together by the row's *plan* (``kernels.plan``:
the leaves, and the post-order program that adds their sums as NumPy's recursive halving does), so no
function here recurses (numba's on-disk cache does not reload recursive functions safely).

A row ``x = X[i]`` is indexed in X, not taken as a view inside a loop over rows: a view costs its
reference counting, more than a short row's work (``record_leaves`` takes its one leader row once a call).
"""
import numba
import numpy as np

jit = numba.njit(nogil=True, cache=True)
U1, U2, U3, U4, U5, U6, U7, U8 = (numba.uint64(k) for k in range(1, 9))   # unsigned index steps


@jit
def _combine(sums, program, stack):
    """The pairwise total of the leaf sums: ``program`` pushes leaf k (k ≥ 0) or adds the top two (−1)."""
    top = 0
    for op in program:
        if op >= 0:
            stack[top] = sums[op]
            top += 1
        else:
            stack[top - 2] = stack[top - 2] + stack[top - 1]
            top -= 1
    return stack[0]


@jit
def _leaf_sq(X, i, a, lo, n):
    """NumPy's sum of one leaf (n ≤ 128 numbers) of (x_j − a_j)², j in [lo, lo + n); i, lo and n unsigned.

    One reference at a time and unsigned indices (no negative-index wrap-around to test): 8 accumulators
    stay in registers, 1.5× the speed of both references in one loop (docs/benchmarks.md). The oracles sum
    a buffer of their terms instead (``_leaf_total``); for the distances that buffer measured 1.2–2.6×
    slower (2026-12-08), hence this second spelling of the same order."""
    if n < U8:   # NumPy: from −0.0, one at a time
        s = -0.0
        j = lo
        while j < lo + n:
            u = X[i, j] - a[j]
            s += u * u
            j += U1
        return s
    # NumPy: 8 accumulators, each started at its first number, then 8 numbers at a time (scalars, not an
    # array: an allocation per leaf would cost more than a short row's work)
    s0, s1, s2, s3 = _sq(X, i, a, lo), _sq(X, i, a, lo + U1), _sq(X, i, a, lo + U2), _sq(X, i, a, lo + U3)
    s4, s5, s6, s7 = _sq(X, i, a, lo + U4), _sq(X, i, a, lo + U5), _sq(X, i, a, lo + U6), _sq(X, i, a, lo + U7)
    end = lo + (n - n % U8)
    j = lo + U8
    while j < end:
        s0 += _sq(X, i, a, j)
        s1 += _sq(X, i, a, j + U1)
        s2 += _sq(X, i, a, j + U2)
        s3 += _sq(X, i, a, j + U3)
        s4 += _sq(X, i, a, j + U4)
        s5 += _sq(X, i, a, j + U5)
        s6 += _sq(X, i, a, j + U6)
        s7 += _sq(X, i, a, j + U7)
        j += U8
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < lo + n:   # the rest, one at a time
        s += _sq(X, i, a, j)
        j += U1
    return s


@jit
def _sq(X, i, a, j):
    u = X[i, j] - a[j]
    return u * u


@jit
def distances(X, a, c, lo, hi, out_a, out_c, leaf_lo, leaf_n, program):
    """‖x_i − a‖ and ‖x_i − c‖ for the rows i in [lo, hi): NumPy's sqrt(0.0 + pairwise sum)."""
    k = leaf_lo.size
    s, t, stack = np.empty(k), np.empty(k), np.empty(k + 1)
    for i in range(numba.uint64(lo), numba.uint64(hi)):
        for leaf in range(k):
            first, n = numba.uint64(leaf_lo[leaf]), numba.uint64(leaf_n[leaf])
            s[leaf] = _leaf_sq(X, i, a, first, n)
            t[leaf] = _leaf_sq(X, i, c, first, n)
        out_a[i] = np.sqrt(0.0 + _combine(s, program, stack))
        out_c[i] = np.sqrt(0.0 + _combine(t, program, stack))


@jit
def record_leaves(X, best, c, mean, l0, l1, leaf_lo, leaf_n, SA, SC):
    """A record's leaves l in [l0, l1), one column slab (the leaf's columns of every row) at a time, so that
    X is read from memory once: when ``mean``, the slab's column means go to c first (NumPy's ``add.reduce``
    over the rows — 0.0, then one row at a time — divided by p), then every row's leaf sums of (x − x_best)²
    and of (x − c)² to SA[i, l] and SC[i, l], the slab still in cache. ``combine_rows`` finishes the rows."""
    p = numba.uint64(X.shape[0])
    a = X[best]
    for leaf in range(l0, l1):
        lo, n = numba.uint64(leaf_lo[leaf]), numba.uint64(leaf_n[leaf])
        if mean:
            for j in range(lo, lo + n):
                c[j] = 0.0 + X[0, j]
            for i in range(U1, p):
                for j in range(lo, lo + n):
                    c[j] += X[i, j]
            for j in range(lo, lo + n):
                c[j] /= X.shape[0]
        for i in range(p):
            SA[i, leaf] = _leaf_sq(X, i, a, lo, n)
            SC[i, leaf] = _leaf_sq(X, i, c, lo, n)


@jit
def combine_rows(SA, SC, program, out_a, out_c):
    """Each row's two distances from its leaf sums (``record_leaves``): NumPy's sqrt(0.0 + pairwise sum)."""
    stack = np.empty(SA.shape[1] + 1)
    for i in range(SA.shape[0]):
        out_a[i] = np.sqrt(0.0 + _combine(SA[i], program, stack))
        out_c[i] = np.sqrt(0.0 + _combine(SC[i], program, stack))


@jit
def _leaf_total(v, lo, n):
    """NumPy's pairwise sum of the leaf v[lo:lo + n] of a 1-D array (n ≤ 128); lo and n unsigned."""
    if n < U8:   # NumPy: from −0.0, one at a time
        s = -0.0
        j = lo
        while j < lo + n:
            s += v[j]
            j += U1
        return s
    s0, s1, s2, s3, s4, s5, s6, s7 = v[lo], v[lo + U1], v[lo + U2], v[lo + U3], v[lo + U4], v[lo + U5], v[lo + U6], \
        v[lo + U7]
    end = lo + (n - n % U8)
    j = lo + U8
    while j < end:
        s0 += v[j]
        s1 += v[j + U1]
        s2 += v[j + U2]
        s3 += v[j + U3]
        s4 += v[j + U4]
        s5 += v[j + U5]
        s6 += v[j + U6]
        s7 += v[j + U7]
        j += U8
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while j < lo + n:
        s += v[j]
        j += U1
    return s


@jit
def _row_total(v, leaf_lo, leaf_n, program, sums, stack):
    """NumPy's ``sum`` of the 1-D array v: its initial 0.0 plus the pairwise sum of v's leaves."""
    for leaf in range(leaf_lo.size):
        sums[leaf] = _leaf_total(v, numba.uint64(leaf_lo[leaf]), numba.uint64(leaf_n[leaf]))
    return 0.0 + _combine(sums, program, stack)


@jit
def styblinski_tang(X, G, vals, leaf_lo, leaf_n, program):
    """Styblinski–Tang's value and gradient of every row of X in one pass (``kernels.styblinski_tang_terms``'
    operations): with x² = x·x, G = ((2.0·x²)·x − 16.0·x) + 2.5 and vals_i = 0.5 · Σ_j ((x²·x² − 16.0·x²) + 5.0·x),
    the row's terms kept in a buffer (in cache) and summed in NumPy's order."""
    d = X.shape[1]
    terms, sums, stack = np.empty(d), np.empty(leaf_lo.size), np.empty(leaf_lo.size + 1)
    for i in range(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            x2 = x * x
            G[i, j] = ((2.0 * x2) * x - 16.0 * x) + 2.5
            terms[j] = (x2 * x2 - 16.0 * x2) + 5.0 * x
        vals[i] = 0.5 * _row_total(terms, leaf_lo, leaf_n, program, sums, stack)


@jit
def ackley_sums(X, G, c, sq, cs, leaf_lo, leaf_n, program):
    """The per-element part of Ackley's oracle on every row of X in one pass: G ← sin(c·X), and NumPy's row
    sums of x·x into sq and of cos(c·x) into cs (the row's terms kept in buffers, in cache)."""
    d = X.shape[1]
    squares, cosines = np.empty(d), np.empty(d)
    sums, stack = np.empty(leaf_lo.size), np.empty(leaf_lo.size + 1)
    for i in range(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            angle = c * x
            G[i, j] = np.sin(angle)
            cosines[j] = np.cos(angle)
            squares[j] = x * x
        sq[i] = _row_total(squares, leaf_lo, leaf_n, program, sums, stack)
        cs[i] = _row_total(cosines, leaf_lo, leaf_n, program, sums, stack)


@jit
def ackley_grad(X, G, radial, w):
    """Ackley's gradient from ``ackley_sums``' G = sin(c·X): G ← radial_i·x_ij + w_i·G_ij."""
    for i in range(X.shape[0]):
        r, wi = radial[i], w[i]
        for j in range(X.shape[1]):
            G[i, j] = r * X[i, j] + wi * G[i, j]


@jit
def rastrigin(X, G, vals, two_pi, a, slope, offset, leaf_lo, leaf_n, program):
    """Rastrigin's value and gradient of every row of X in one pass (``Rastrigin._value_and_grad_into``'s
    operations): vals_i = (Σ x_j·x_j − a·Σ cos 2πx_j) + offset, G = sin(2πX)·slope + X·2.0, the row's terms
    kept in buffers (in cache) and summed in NumPy's order, as Styblinski–Tang's and Ackley's are."""
    d = X.shape[1]
    cosines, squares = np.empty(d), np.empty(d)
    sums, stack = np.empty(leaf_lo.size), np.empty(leaf_lo.size + 1)
    for i in range(X.shape[0]):
        for j in range(d):
            x = X[i, j]
            angle = two_pi * x
            G[i, j] = np.sin(angle) * slope + x * 2.0
            cosines[j] = np.cos(angle)
            squares[j] = x * x
        vals[i] = (_row_total(squares, leaf_lo, leaf_n, program, sums, stack)
                   - a * _row_total(cosines, leaf_lo, leaf_n, program, sums, stack)) + offset

