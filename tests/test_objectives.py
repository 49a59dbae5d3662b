"""One generic suite over every objective (BoTorch style): each declares its facts, the tests check them.

Tolerances (float64 unless stated):
- gradient vs central differences of the value (step h = 1e-6·spread):
  ‖g − g_fd‖∞ ≤ 1e-6 · (‖g‖∞ + (1 + |f|)/spread), spread = the width of the sampled box;
- Hessian vs central differences of the gradient (same h): ‖H − H_fd‖max ≤ 1e-6 · (‖H‖max + 1/spread²);
- declared stationary points: ‖∇f(x*)‖∞ ≤ 1e-10 · (1 + ‖x*‖∞), |f(x*) − value| ≤ 1e-12 · (1 + |value|);
- fused vs separate calls, vectorized rows vs single rows, NumPy vs array-api-strict: 1e-12 relative;
- float32 vs float64 on the same (float32-representable) points: values 1e-4, gradients 1e-3 relative.
"""
from __future__ import annotations

import functools
import json
import math

import array_api_strict as xps
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lsgdsim.backend import namespace, to_numpy
from lsgdsim.objectives import (
    OBJECTIVES,
    Ackley,
    DoubleWell,
    LogisticRegression,
    MatrixFactorization,
    Objective,
    Quadratic,
    Rastrigin,
    RingSinc,
    Rosenbrock,
    StyblinskiTang,
    make_objective,
    objective_options,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CASES = {
    "quadratic": lambda: Quadratic.random(dim=5, cond=20.0, seed=1),
    "indefinite": lambda: Quadratic.indefinite(dim=4, negative=2, seed=2),
    "logistic": lambda: LogisticRegression(n_samples=60, dim=5, reg=0.05, seed=3),
    "ring": lambda: RingSinc(),
    "ring-scaled": lambda: RingSinc(scale=2.5),
    "double-well-1d": lambda: DoubleWell(dim=1),
    "double-well-3d": lambda: DoubleWell(dim=3),
    "rastrigin": lambda: Rastrigin(dim=3),
    "ackley": lambda: Ackley(dim=3),
    "rosenbrock-2d": lambda: Rosenbrock(dim=2),
    "rosenbrock-5d": lambda: Rosenbrock(dim=5),
    "styblinski-tang": lambda: StyblinskiTang(dim=3),
    "matrix": lambda: MatrixFactorization(n=6, rank=2, seed=1),
    "matrix-completion": lambda: MatrixFactorization(n=5, rank=1, observed=0.6, seed=4),
}
NAMES = list(CASES)


@functools.cache
def get(name: str) -> Objective:
    return CASES[name]()


def spread(obj: Objective) -> float:
    return max(2.0 * obj.init_scale, 1.0)


def center(obj: Objective) -> np.ndarray:
    return np.zeros(obj.dim) if obj.init_center is None else np.asarray(obj.init_center, float)


@st.composite
def points(draw, obj: Objective, max_workers: int = 5):
    """Worker blocks X (p, d) in the box center ± spread, p drawn from 1..max_workers."""
    p = draw(st.integers(1, max_workers))
    U = draw(arrays(np.float64, (p, obj.dim), elements=st.floats(-1.0, 1.0, allow_nan=False)))
    X = center(obj) + spread(obj) * U
    if isinstance(obj, Ackley):  # keep central differences (step 4e-6) clear of the cone tip x = 0
        assume(np.all(np.linalg.norm(X, axis=1) > 0.1))
    return X


def fd_grad(obj: Objective, X: np.ndarray, h: float) -> np.ndarray:
    """Central differences of the value, all p·d perturbations in one vectorized call."""
    p, d = X.shape
    E = h * np.eye(d)
    Xp = (X[:, None, :] + E[None]).reshape(-1, d)
    Xm = (X[:, None, :] - E[None]).reshape(-1, d)
    return ((obj.value(Xp) - obj.value(Xm)) / (2 * h)).reshape(p, d)


def to_strict(a: np.ndarray):
    return xps.asarray(a)


# -- (a) gradients vs central differences -----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_gradient_matches_central_differences(name, data):
    obj = get(name)
    X = data.draw(points(obj))
    vals, G = obj.value_and_grad(X)
    h = 1e-6 * spread(obj)
    G_fd = fd_grad(obj, X, h)
    err = np.max(np.abs(G - G_fd), axis=1)
    tol = 1e-6 * (np.max(np.abs(G), axis=1) + (1 + np.abs(vals)) / spread(obj))
    assert np.all(err <= tol), (err, tol)


@pytest.mark.parametrize("name", [n for n in NAMES if get(n).is_finite_sum])
@SETTINGS
@given(data=st.data())
def test_batch_gradient_matches_central_differences(name, data):
    obj = get(name)
    X = data.draw(points(obj))
    p = X.shape[0]
    b = data.draw(st.integers(1, 7))
    idx = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).integers(0, obj.n_samples, (p, b))
    vals, G = obj.batch_value_and_grad(X, idx)
    h = 1e-6 * spread(obj)
    d = obj.dim
    E = h * np.eye(d)
    rep = np.repeat(idx, d, axis=0)
    vp = obj.batch_value_and_grad((X[:, None, :] + E[None]).reshape(-1, d), rep)[0]
    vm = obj.batch_value_and_grad((X[:, None, :] - E[None]).reshape(-1, d), rep)[0]
    G_fd = ((vp - vm) / (2 * h)).reshape(p, d)
    tol = 1e-6 * (np.max(np.abs(G), axis=1) + (1 + np.abs(vals)) / spread(obj))
    assert np.all(np.max(np.abs(G - G_fd), axis=1) <= tol)


# -- (b) Hessians vs central differences of the gradient --------------------------------------------
@pytest.mark.parametrize("name", [n for n in NAMES if get(n).has_hessian])
@SETTINGS
@given(data=st.data())
def test_hessian_matches_central_differences(name, data):
    obj = get(name)
    x = data.draw(points(obj, max_workers=1))[0]
    H = np.asarray(obj.hessian(x))
    d = obj.dim
    assert H.shape == (d, d)
    h = 1e-6 * spread(obj)
    E = h * np.eye(d)
    H_fd = (obj.grad(x + E) - obj.grad(x - E)).T / (2 * h)  # column j = ∂g/∂x_j
    scale = np.max(np.abs(H)) + 1 / spread(obj) ** 2
    assert np.max(np.abs(H - H_fd)) <= 1e-6 * scale
    assert np.max(np.abs(H - H.T)) <= 1e-12 * scale
    v = np.random.default_rng(0).standard_normal(d)
    np.testing.assert_allclose(obj.hvp(x, v), H @ v, rtol=1e-12, atol=1e-12 * scale * np.abs(v).sum())


@pytest.mark.parametrize("name", [n for n in NAMES if get(n).has_hessian and (get(n).L or get(n).mu)])
@SETTINGS
@given(data=st.data())
def test_curvature_within_declared_mu_and_L(name, data):
    """mu ≤ λ(∇²f(x)) and |λ(∇²f(x))| ≤ L at every point: the declared constants are real bounds."""
    obj = get(name)
    x = data.draw(points(obj, max_workers=1))[0]
    eig = np.linalg.eigvalsh(np.asarray(obj.hessian(x)))
    if obj.L is not None:
        assert np.max(np.abs(eig)) <= obj.L * (1 + 1e-12)
    if obj.mu is not None:
        assert eig[0] >= obj.mu * (1 - 1e-12)


# -- (c) declared minimizers and stationary points --------------------------------------------------
def _hessian_or_none(obj, x):
    if not obj.has_hessian:
        return None
    try:
        return np.asarray(obj.hessian(x))
    except ValueError:  # e.g. Ackley at its cone tip
        return None


@pytest.mark.parametrize("name", NAMES)
def test_declared_stationary_points_are_stationary_with_declared_values(name):
    obj = get(name)
    assert obj.stationary_points, "every objective here declares at least one stationary point"
    for sp in obj.stationary_points:
        x = np.asarray(sp.x, float)
        assert x.shape == (obj.dim,)
        vals, G = obj.value_and_grad(x[None, :])
        assert np.max(np.abs(G)) <= 1e-10 * (1 + np.max(np.abs(x))), (sp.kind, G)
        assert abs(vals[0] - sp.value) <= 1e-12 * (1 + abs(sp.value)), (sp.kind, vals[0], sp.value)
        H = _hessian_or_none(obj, x)
        if H is None:
            continue
        eig = np.linalg.eigvalsh(H)
        tol = 1e-8 * max(1.0, np.max(np.abs(eig)))
        if sp.kind == "min":
            assert eig[0] >= -tol, eig
        elif sp.kind == "max":
            assert eig[-1] <= tol, eig
        else:  # a saddle has a direction of descent (it may be degenerate in the others)
            assert eig[0] < -tol, eig


@pytest.mark.parametrize("name", NAMES)
def test_minimizer_fmin_and_global_points_agree(name):
    obj = get(name)
    if obj.minimizer is None:
        assert obj.fmin is None and not any(sp.is_global for sp in obj.stationary_points)
        return
    x = np.asarray(obj.minimizer, float)
    assert x.shape == (obj.dim,)
    assert abs(obj.value(x[None, :])[0] - obj.fmin) <= 1e-12 * (1 + abs(obj.fmin))
    globals_ = [sp for sp in obj.stationary_points if sp.is_global]
    assert globals_ and all(sp.kind == "min" and math.isclose(sp.value, obj.fmin, abs_tol=1e-12)
                            for sp in globals_)
    assert any(np.allclose(sp.x, x, rtol=0, atol=1e-12) for sp in globals_)
    for sp in obj.stationary_points:  # nothing declared is better than the global minimum
        assert sp.value >= obj.fmin - 1e-12 * (1 + abs(obj.fmin))


@pytest.mark.parametrize("name", [n for n in NAMES if get(n).fmin is not None])
@SETTINGS
@given(data=st.data())
def test_no_sampled_point_beats_fmin(name, data):
    obj = get(name)
    X = data.draw(points(obj))
    assert np.all(obj.value(X) >= obj.fmin - 1e-12 * (1 + abs(obj.fmin)))


# -- (d) fused vs separate calls, vectorized vs per-row ---------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_fused_and_vectorized_calls_agree(name, data):
    obj = get(name)
    X = data.draw(points(obj))
    vals, G = obj.value_and_grad(X)
    assert vals.shape == (X.shape[0],) and G.shape == X.shape
    scale_v, scale_g = 1 + np.max(np.abs(vals)), 1 + np.max(np.abs(G))
    assert np.max(np.abs(obj.value(X) - vals)) <= 1e-12 * scale_v
    assert np.max(np.abs(obj.grad(X) - G)) <= 1e-12 * scale_g
    for i in range(X.shape[0]):
        v1, g1 = obj.value_and_grad(X[i:i + 1])
        assert abs(v1[0] - vals[i]) <= 1e-12 * scale_v
        assert np.max(np.abs(g1[0] - G[i])) <= 1e-12 * scale_g


# -- (e) the finite-sum oracle ----------------------------------------------------------------------
FINITE_SUMS = [n for n in NAMES if get(n).is_finite_sum]


@pytest.mark.parametrize("name", FINITE_SUMS)
@pytest.mark.parametrize("batch", [1, 4, 15])
def test_batches_of_a_partition_average_to_the_full_oracle(name, batch):
    """Equal-size batches partitioning {0..n−1}, all at one point: their mean is the full oracle."""
    obj = get(name)
    n = obj.n_samples
    assert n % batch == 0
    rng = np.random.default_rng(batch)
    x = center(obj) + spread(obj) * rng.uniform(-1, 1, obj.dim)
    idx = rng.permutation(n).reshape(n // batch, batch)
    X = np.tile(x, (n // batch, 1))
    vals, G = obj.batch_value_and_grad(X, idx)
    full_v, full_g = obj.value_and_grad(x[None, :])
    np.testing.assert_allclose(vals.mean(), full_v[0], rtol=1e-13)
    np.testing.assert_allclose(G.mean(axis=0), full_g[0], rtol=1e-12, atol=1e-14 * np.abs(full_g).max())
    # and a batch of every index is exactly the full oracle, row by row
    X3 = x + 0.3 * rng.standard_normal((3, obj.dim))
    all_idx = np.tile(np.arange(n), (3, 1))
    bv, bg = obj.batch_value_and_grad(X3, all_idx)
    fv, fg = obj.value_and_grad(X3)
    np.testing.assert_allclose(bv, fv, rtol=1e-13)
    np.testing.assert_allclose(bg, fg, rtol=1e-12, atol=1e-14 * np.abs(fg).max())


@pytest.mark.parametrize("name", FINITE_SUMS)
def test_batch_oracle_rejects_bad_index_shapes(name):
    obj = get(name)
    X = np.zeros((3, obj.dim))
    for idx in (np.zeros(3, dtype=np.int64), np.zeros((2, 4), dtype=np.int64), np.zeros((3, 0), dtype=np.int64)):
        with pytest.raises(ValueError, match="idx"):
            obj.batch_value_and_grad(X, idx)


def test_non_finite_sums_say_so():
    obj = get("rastrigin")
    assert not obj.is_finite_sum
    with pytest.raises(NotImplementedError):
        obj.batch_value_and_grad(np.zeros((1, obj.dim)), np.zeros((1, 1), dtype=np.int64))


# -- (f) array-api-strict gives the same numbers, in its own arrays ---------------------------------
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_array_api_strict_matches_numpy(name, data):
    obj = get(name)
    X = data.draw(points(obj))
    vals, G = obj.value_and_grad(X)
    sv, sg = obj.value_and_grad(to_strict(X))
    assert namespace(sv) is xps and namespace(sg) is xps
    np.testing.assert_allclose(to_numpy(sv), vals, rtol=1e-12, atol=1e-12 * (1 + np.abs(vals).max()))
    np.testing.assert_allclose(to_numpy(sg), G, rtol=1e-12, atol=1e-12 * (1 + np.abs(G).max()))
    assert namespace(obj.value(to_strict(X))) is xps
    np.testing.assert_allclose(to_numpy(obj.value(to_strict(X))), vals, rtol=1e-12,
                               atol=1e-12 * (1 + np.abs(vals).max()))
    if obj.has_hessian:
        H = np.asarray(obj.hessian(X[0]))
        sH = obj.hessian(to_strict(X[0]))
        assert namespace(sH) is xps
        np.testing.assert_allclose(to_numpy(sH), H, rtol=1e-12, atol=1e-12 * (1 + np.abs(H).max()))
    if obj.is_finite_sum:
        idx = np.random.default_rng(0).integers(0, obj.n_samples, (X.shape[0], 6))
        bv, bg = obj.batch_value_and_grad(X, idx)
        sbv, sbg = obj.batch_value_and_grad(to_strict(X), xps.asarray(idx))
        assert namespace(sbv) is xps and namespace(sbg) is xps
        np.testing.assert_allclose(to_numpy(sbv), bv, rtol=1e-12)
        np.testing.assert_allclose(to_numpy(sbg), bg, rtol=1e-12, atol=1e-12 * (1 + np.abs(bg).max()))


# -- (g) float32 in, float32 out --------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("strict", [False, True], ids=["numpy", "strict"])
def test_float32_in_float32_out(name, strict):
    obj = get(name)
    rng = np.random.default_rng(7)
    X32 = (center(obj) + spread(obj) * rng.uniform(-1, 1, (4, obj.dim))).astype(np.float32)
    X64 = X32.astype(np.float64)
    wrap = to_strict if strict else (lambda a: a)
    expect = xps.float32 if strict else np.float32
    vals, G = obj.value_and_grad(wrap(X32))
    assert vals.dtype == expect and G.dtype == expect
    assert obj.value(wrap(X32)).dtype == expect
    v64, g64 = obj.value_and_grad(X64)
    vals, G = to_numpy(vals), to_numpy(G)
    assert np.all(np.abs(vals - v64) <= 1e-4 * (1 + np.abs(v64)))
    assert np.all(np.max(np.abs(G - g64), axis=1) <= 1e-3 * (np.max(np.abs(g64), axis=1) + 1))
    if obj.has_hessian:
        assert obj.hessian(wrap(X32[0])).dtype == expect
    if obj.is_finite_sum:
        idx = rng.integers(0, obj.n_samples, (4, 3))
        bv, bg = obj.batch_value_and_grad(wrap(X32), xps.asarray(idx) if strict else idx)
        assert bv.dtype == expect and bg.dtype == expect


# -- (h) constructor validation ---------------------------------------------------------------------
BAD_ARGS = [
    (LogisticRegression, {"n_samples": 0}, "n_samples"),
    (LogisticRegression, {"dim": 0}, "dim"),
    (LogisticRegression, {"dim": 2.5}, "dim"),
    (LogisticRegression, {"reg": 0.0}, "reg"),
    (LogisticRegression, {"reg": float("nan")}, "reg"),
    (LogisticRegression, {"noise": 0.7}, "noise"),
    (LogisticRegression, {"seed": -1}, "seed"),
    (RingSinc, {"dim": 3}, "dim"),
    (RingSinc, {"scale": 0.0}, "scale"),
    (RingSinc, {"scale": float("inf")}, "scale"),
    (RingSinc, {"n_rings": 0}, "n_rings"),
    (DoubleWell, {"dim": 0}, "dim"),
    (DoubleWell, {"dim": True}, "dim"),
    (Rastrigin, {"dim": -3}, "dim"),
    (Rastrigin, {"A": -1.0}, "A"),
    (Ackley, {"dim": 0}, "dim"),
    (Ackley, {"a": 0.0}, "a"),
    (Ackley, {"b": -0.2}, "b"),
    (Ackley, {"c": float("nan")}, "c"),
    (Rosenbrock, {"dim": 1}, "dim"),
    (StyblinskiTang, {"dim": 0}, "dim"),
    (MatrixFactorization, {"n": 0}, "n"),
    (MatrixFactorization, {"rank": 0}, "rank"),
    (MatrixFactorization, {"n": 3, "rank": 4}, "rank"),
    (MatrixFactorization, {"observed": 0.0}, "observed"),
    (MatrixFactorization, {"observed": 1.5}, "observed"),
    (MatrixFactorization, {"seed": -2}, "seed"),
]


@pytest.mark.parametrize(("factory", "kwargs", "param"), BAD_ARGS,
                         ids=[f"{f.__name__}-{p}-{v}" for f, k, p in BAD_ARGS for v in [k[p]]])
def test_bad_constructor_arguments_raise_value_error_naming_them(factory, kwargs, param):
    with pytest.raises(ValueError, match=rf"^{param} must"):
        factory(**kwargs)


# -- (i) the ring landscape ------------------------------------------------------------------------
def test_ring_values_match_the_paper_levels():
    obj = RingSinc()
    kinds = [kind for _, _, kind in obj.rings]
    assert kinds[:4] == ["min", "max", "min", "max"]
    np.testing.assert_allclose(obj.ring_radii[:5], [4.4934, 7.7253, 10.9041, 14.0662, 17.2208], atol=1e-4)
    # poster levels (paper-digest §4.1b): −0.217 (LGD), −0.091 (EAGD), 0.128, 0.071, −0.058
    assert round(obj.ring_values[0], 4) == -0.2172
    assert round(obj.ring_values[2], 4) == -0.0913
    assert round(obj.ring_values[1], 4) == 0.1284
    assert round(obj.ring_values[4], 4) == -0.0580
    assert obj.fmin == obj.ring_values[0]
    # tan r = r at every radius, and the scaled ring is the same ring stretched
    r = obj.ring_radii
    np.testing.assert_allclose(np.tan(r), r, rtol=1e-10)
    np.testing.assert_allclose(RingSinc(scale=3.0).ring_radii, 3 * r, rtol=1e-15)


def test_ring_is_smooth_through_the_origin():
    obj = RingSinc()
    radii = np.array([0.0, 1e-9, 1e-4, 0.1, 0.5 - 1e-12, 0.5 + 1e-12, 1.0])
    X = np.stack([radii * 0.6, radii * 0.8], axis=1)
    vals, G = obj.value_and_grad(X)
    np.testing.assert_allclose(vals, np.where(radii > 0, np.sin(radii) / np.where(radii > 0, radii, 1), 1.0),
                               rtol=1e-15)
    # gradient = φ'(r)·x/r, φ'(r) = (r cos r − sin r)/r² = −r/3 + r³/30 − … (series where that cancels)
    slope = np.sum(G * X, axis=1) / np.where(radii > 0, radii, 1)
    safe = np.where(radii > 1e-3, radii, 1.0)
    ref = np.where(radii > 1e-3, (safe * np.cos(safe) - np.sin(safe)) / safe ** 2,
                   -radii / 3 + radii ** 3 / 30)
    np.testing.assert_allclose(slope, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(obj.hessian(np.zeros(2)), -np.eye(2) / 3, rtol=1e-15)


# -- facts specific to one objective ----------------------------------------------------------------
def test_logistic_minimizer_is_polished_and_constants_are_right():
    obj = LogisticRegression()  # the defaults: n = 500, d = 10, reg = 1e-2
    assert obj.minimizer_grad_norm < 1e-10
    assert np.linalg.norm(obj.grad(obj.minimizer[None, :])) < 1e-10
    A = obj.features
    assert obj.L == pytest.approx(obj.reg + np.linalg.eigvalsh(A.T @ A)[-1] / (4 * obj.n_samples), rel=1e-12)
    assert obj.mu == obj.reg
    assert set(np.unique(obj.labels)) == {-1.0, 1.0}
    flipped = np.mean(obj.labels != np.sign(A @ obj.true_weights))
    assert 0.05 < flipped < 0.15  # noise = 0.1 flips about a tenth of the labels
    same = LogisticRegression(seed=0)
    np.testing.assert_array_equal(same.minimizer, obj.minimizer)
    assert not np.array_equal(LogisticRegression(seed=1).features, obj.features)


def test_logistic_is_stable_for_huge_margins():
    obj = get("logistic")
    X = np.full((2, obj.dim), 1e4) * np.array([[1.0], [-1.0]])
    vals, G = obj.value_and_grad(X)
    assert np.all(np.isfinite(vals)) and np.all(np.isfinite(G))
    assert np.all(np.isfinite(obj.hessian(X[0])))


def test_matrix_symmetry_and_procrustes_distance():
    obj = get("matrix")
    n, r = obj.n, obj.rank
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((r, r)))
    rotated = (obj.factor @ Q).reshape(-1)
    U = np.random.default_rng(2).standard_normal((n, r))
    X = np.stack([obj.minimizer, rotated, -obj.minimizer, np.zeros(obj.dim), U.reshape(-1), (U @ Q).reshape(-1)])
    vals, G = obj.value_and_grad(X)
    np.testing.assert_allclose(vals[:3], 0.0, atol=1e-28)
    assert vals[4] == pytest.approx(vals[5], rel=1e-12)       # f(UQ) = f(U)
    dist = obj.distance_to_solution(X)
    np.testing.assert_allclose(dist[:3], 0.0, atol=1e-7)
    assert dist[3] == pytest.approx(np.linalg.norm(obj.factor), rel=1e-12)
    assert dist[4] == pytest.approx(dist[5], rel=1e-10)
    assert dist[4] <= np.linalg.norm(U - obj.factor)          # the best rotation beats the identity
    np.testing.assert_allclose(obj.distance_to_solution(to_strict(X)), dist, rtol=1e-15)
    # the gradient is P_Ω(UUᵀ − M)·U
    Uw = X[4].reshape(n, r)
    np.testing.assert_allclose(G[4].reshape(n, r), (obj.mask * (Uw @ Uw.T - obj.target)) @ Uw, rtol=1e-12)


def test_matrix_mask_is_symmetric_with_the_requested_density():
    obj = MatrixFactorization(n=40, rank=3, observed=0.3, seed=5)
    assert np.array_equal(obj.mask, obj.mask.T)
    upper = obj.mask[np.triu_indices(40)]
    assert 0.2 < upper.mean() < 0.4
    assert np.all(MatrixFactorization(n=5, observed=1.0).mask == 1.0)


def test_double_well_kinds_depend_on_dim():
    assert get("double-well-1d").stationary_points[-1].kind == "max"
    assert get("double-well-3d").stationary_points[-1].kind == "saddle"


def test_styblinski_tang_constants():
    obj = StyblinskiTang(dim=4)
    np.testing.assert_allclose(obj.minimizer, -2.903534027771177, rtol=1e-15)
    assert obj.fmin == pytest.approx(4 * -39.16616570377142, rel=1e-14)


def test_ackley_gradient_is_zero_at_the_cone_tip():
    obj = get("ackley")
    vals, G = obj.value_and_grad(np.zeros((2, obj.dim)))
    assert np.all(G == 0) and np.allclose(vals, 0.0, atol=1e-14)
    with pytest.raises(ValueError, match="x = 0"):
        obj.hessian(np.zeros(obj.dim))


# -- metadata and the registry ----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_describe_is_json_and_initial_points_have_the_right_shape(name):
    obj = get(name)
    desc = obj.describe()
    assert json.loads(json.dumps(desc)) == desc and desc["dim"] == obj.dim
    X0 = obj.initial_point(4, np.random.default_rng(0))
    assert X0.shape == (4, obj.dim) and np.all(np.isfinite(X0))
    assert np.all(np.isfinite(obj.value(X0)))


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_registry_builds_every_objective_from_its_own_options(name):
    takes = objective_options(name)
    opts = {k: v for k, v in {"dim": None if name == "ring" else 4, "cond": 10.0, "seed": 3}.items() if k in takes}
    obj = make_objective(name, **opts, noise=None)  # None counts as not given
    assert isinstance(obj, Objective)
    expected_dim = {"ring": 2, "matrix": obj.dim}.get(name, 4)
    assert obj.dim == expected_dim
    with pytest.raises(ValueError, match=rf"objective '{name}' does not take workers \(its options: "):
        make_objective(name, **opts, workers=8)  # an option it does not take is an error, not dropped
    X = obj.initial_point(2, np.random.default_rng(0))
    assert obj.value(X).shape == (2,)


def test_registry_passes_options_and_rejects_bad_names(monkeypatch):
    assert make_objective("quadratic", dim=6, cond=30.0, seed=2).describe()["cond"] == 30.0
    assert make_objective("ring", dim=2, scale=2.0).scale == 2.0
    with pytest.raises(ValueError, match=r"^dim must be 2"):
        make_objective("ring", dim=3)
    with pytest.raises(ValueError, match=r"objective must be one of quadratic, .*; got 'nope'"):
        make_objective("nope", dim=2)
    assert make_objective("quadratic", seed=0).dim == 20  # the factory's own default
    monkeypatch.setitem(OBJECTIVES, "needs-dim", lambda dim: DoubleWell(dim))
    with pytest.raises(ValueError, match="'needs-dim' needs dim"):
        make_objective("needs-dim", dim=None, seed=0)
    with pytest.raises(ValueError, match=r"^dim must"):
        make_objective("rastrigin", dim=0)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_oracle_returns_fresh_arrays(name):
    """The run loop adds noise to the gradient in place: an oracle must never hand out cached state."""
    obj = make_objective(name, dim=2 if name in ("ring", "rastrigin", "ackley", "rosenbrock") else None)
    X = obj.initial_point(3, np.random.default_rng(0))
    v1, g1 = obj.value_and_grad(X)
    g_copy = np.array(g1, copy=True)
    g1 += 1.0
    v1 += 1.0
    _, g2 = obj.value_and_grad(X)
    np.testing.assert_array_equal(g2, g_copy)
    if obj.is_finite_sum:
        idx = np.zeros((3, 2), dtype=np.int64)
        _, gb = obj.batch_value_and_grad(X, idx)
        gb_copy = np.array(gb, copy=True)
        gb += 1.0
        np.testing.assert_array_equal(obj.batch_value_and_grad(X, idx)[1], gb_copy)
