"""The numba code of :mod:`lsgdsim.kernels` (imported only there, only when numba is installed).

Each function performs NumPy's own operations in NumPy's own order (see ``kernels``' docstring); no
``fastmath``, so no reassociation and no fused multiply-add. A row sum is NumPy's pairwise sum, cut into
its leaves (blocks of at most 128 numbers) and put back together by the row's *plan* (``kernels.plan``:
the leaves, and the post-order program that adds their sums as NumPy's recursive halving does), so no
function here recurses (numba's on-disk cache does not reload recursive functions safely).

A row ``x = X[i]`` is indexed in X, never taken as a view: a view costs its reference counting, more
than a short row's work.
"""
import numba
import numpy as np

jit = numba.njit(nogil=True, cache=True)


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
def _leaf_sq2(X, i, a, c, lo, n):
    """NumPy's sum of one leaf (n ≤ 128 numbers) of (x_j − a_j)² and of (x_j − c_j)², j in [lo, lo + n)."""
    if n < 8:   # NumPy: from −0.0, one at a time
        s = -0.0
        t = -0.0
        for j in range(lo, lo + n):
            u = X[i, j] - a[j]
            v = X[i, j] - c[j]
            s += u * u
            t += v * v
        return s, t
    # NumPy: 8 accumulators, each started at its first number, then 8 numbers at a time (scalars, not an
    # array: an allocation per leaf would cost more than a short row's work)
    u0, u1, u2, u3 = X[i, lo] - a[lo], X[i, lo + 1] - a[lo + 1], X[i, lo + 2] - a[lo + 2], X[i, lo + 3] - a[lo + 3]
    u4, u5 = X[i, lo + 4] - a[lo + 4], X[i, lo + 5] - a[lo + 5]
    u6, u7 = X[i, lo + 6] - a[lo + 6], X[i, lo + 7] - a[lo + 7]
    v0, v1, v2, v3 = X[i, lo] - c[lo], X[i, lo + 1] - c[lo + 1], X[i, lo + 2] - c[lo + 2], X[i, lo + 3] - c[lo + 3]
    v4, v5 = X[i, lo + 4] - c[lo + 4], X[i, lo + 5] - c[lo + 5]
    v6, v7 = X[i, lo + 6] - c[lo + 6], X[i, lo + 7] - c[lo + 7]
    s0, s1, s2, s3, s4, s5, s6, s7 = u0 * u0, u1 * u1, u2 * u2, u3 * u3, u4 * u4, u5 * u5, u6 * u6, u7 * u7
    t0, t1, t2, t3, t4, t5, t6, t7 = v0 * v0, v1 * v1, v2 * v2, v3 * v3, v4 * v4, v5 * v5, v6 * v6, v7 * v7
    m = n - n % 8
    for j in range(lo + 8, lo + m, 8):
        u0, u1, u2, u3 = X[i, j] - a[j], X[i, j + 1] - a[j + 1], X[i, j + 2] - a[j + 2], X[i, j + 3] - a[j + 3]
        u4, u5, u6, u7 = X[i, j + 4] - a[j + 4], X[i, j + 5] - a[j + 5], X[i, j + 6] - a[j + 6], X[i, j + 7] - a[j + 7]
        v0, v1, v2, v3 = X[i, j] - c[j], X[i, j + 1] - c[j + 1], X[i, j + 2] - c[j + 2], X[i, j + 3] - c[j + 3]
        v4, v5, v6, v7 = X[i, j + 4] - c[j + 4], X[i, j + 5] - c[j + 5], X[i, j + 6] - c[j + 6], X[i, j + 7] - c[j + 7]
        s0 += u0 * u0; s1 += u1 * u1; s2 += u2 * u2; s3 += u3 * u3   # noqa: E702
        s4 += u4 * u4; s5 += u5 * u5; s6 += u6 * u6; s7 += u7 * u7   # noqa: E702
        t0 += v0 * v0; t1 += v1 * v1; t2 += v2 * v2; t3 += v3 * v3   # noqa: E702
        t4 += v4 * v4; t5 += v5 * v5; t6 += v6 * v6; t7 += v7 * v7   # noqa: E702
    ss = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    tt = ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7))
    for j in range(lo + m, lo + n):   # the rest, one at a time
        u = X[i, j] - a[j]
        v = X[i, j] - c[j]
        ss += u * u
        tt += v * v
    return ss, tt


@jit
def distances(X, a, c, lo, hi, out_a, out_c, leaf_lo, leaf_n, program):
    """‖x_i − a‖ and ‖x_i − c‖ for the rows i in [lo, hi): NumPy's sqrt(0.0 + pairwise sum)."""
    k = leaf_lo.size
    s, t, stack = np.empty(k), np.empty(k), np.empty(k + 1)
    for i in range(lo, hi):
        for leaf in range(k):
            s[leaf], t[leaf] = _leaf_sq2(X, i, a, c, leaf_lo[leaf], leaf_n[leaf])
        out_a[i] = np.sqrt(0.0 + _combine(s, program, stack))
        out_c[i] = np.sqrt(0.0 + _combine(t, program, stack))


@jit
def _rastrigin_at(X, G, i, j, two_pi, slope):
    """Writes g_ij = sin(2πx_ij)·slope + x_ij·2.0 and returns (cos 2πx_ij, x_ij·x_ij)."""
    x = X[i, j]
    angle = two_pi * x
    G[i, j] = np.sin(angle) * slope + x * 2.0
    return np.cos(angle), x * x


@jit
def _leaf_rastrigin(X, G, i, lo, n, two_pi, slope, acc_c, acc_q):
    """One leaf of Rastrigin's value and gradient on row i, j in [lo, lo + n): writes the gradient and returns
    NumPy's sums of cos(2πx_j) and of x_j·x_j over the leaf (8 accumulators, in arrays: sin and cos, not
    the adds, are the cost here)."""
    if n < 8:
        c = -0.0
        q = -0.0
        for j in range(lo, lo + n):
            cj, qj = _rastrigin_at(X, G, i, j, two_pi, slope)
            c += cj
            q += qj
        return c, q
    m = n - n % 8
    for j in range(lo, lo + m):
        cj, qj = _rastrigin_at(X, G, i, j, two_pi, slope)
        k = (j - lo) % 8
        if j < lo + 8:
            acc_c[k], acc_q[k] = cj, qj
        else:
            acc_c[k] += cj
            acc_q[k] += qj
    c = ((acc_c[0] + acc_c[1]) + (acc_c[2] + acc_c[3])) + ((acc_c[4] + acc_c[5]) + (acc_c[6] + acc_c[7]))
    q = ((acc_q[0] + acc_q[1]) + (acc_q[2] + acc_q[3])) + ((acc_q[4] + acc_q[5]) + (acc_q[6] + acc_q[7]))
    for j in range(lo + m, lo + n):
        cj, qj = _rastrigin_at(X, G, i, j, two_pi, slope)
        c += cj
        q += qj
    return c, q


@jit
def rastrigin(X, G, vals, two_pi, a, slope, offset, leaf_lo, leaf_n, program):
    """Rastrigin's value and gradient of every row of X in one pass (``Rastrigin._value_and_grad_into``'s
    operations): vals_i = (Σ x_j·x_j − a·Σ cos 2πx_j) + offset, G = sin(2πX)·slope + X·2.0."""
    k = leaf_lo.size
    c, q, stack = np.empty(k), np.empty(k), np.empty(k + 1)
    acc_c, acc_q = np.empty(8), np.empty(8)
    for i in range(X.shape[0]):
        for leaf in range(k):
            c[leaf], q[leaf] = _leaf_rastrigin(X, G, i, leaf_lo[leaf], leaf_n[leaf], two_pi, slope, acc_c, acc_q)
        cosines = 0.0 + _combine(c, program, stack)
        squares = 0.0 + _combine(q, program, stack)
        vals[i] = (squares - a * cosines) + offset
