"""Classical non-convex test functions that scale with ``dim``: Rastrigin, Ackley, Rosenbrock, Styblinski–Tang.

Definitions follow the usual benchmark conventions (e.g. BoTorch ``test_functions.synthetic``); each
class declares its global minimizer and value, and the other stationary points that are known in
closed form or found once at construction (to rounding level).
"""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import is_cupy_namespace
from scipy import optimize

from .. import kernels
from ..backend import namespace
from ..kernels import TWO_PI
from ..validate import check_float, check_int
from ._fused import fused
from .base import Objective, StationaryPoint


def _root(fun, lo: float, hi: float) -> float:
    return optimize.brentq(fun, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)


def _axis_point(dim: int, first: float, rest: float = 0.0) -> np.ndarray:
    x = np.full(dim, rest)
    x[0] = first
    return x


class Rastrigin(Objective):
    """f(x) = A·d + Σₖ (x_k² − A cos 2πx_k): global minimum f(0) = 0 among ~11ᵈ local minima (|x| ≤ 5.12).

    Separable, so its stationary points are products of the 1-D ones of g(t) = t² − A cos 2πt. Besides
    the global minimum, ``stationary_points`` holds (for A > 1.5/2π, when they exist) the local minimum
    t₁e₁ with t₁ ≈ 0.995 (A = 10) and the point t₀e₁, t₀ ≈ 0.503, a saddle (local maximum if d = 1).
    ``L`` = 2 + 4π²A bounds the (diagonal) Hessian 2 + 4π²A cos 2πx.
    """

    name = "rastrigin"

    def __init__(self, dim: int = 2, A: float = 10.0):
        self.dim = check_int(dim, "dim", 1)
        self.A = check_float(A, "A", 0.0, lo_open=True)
        d, a = self.dim, self.A
        self.minimizer = np.zeros(d)
        self.fmin = 0.0
        points = [StationaryPoint(np.zeros(d), "min", 0.0, is_global=True)]
        if 1.5 - TWO_PI * a < 0:  # g' changes sign on (0.5, 0.75) and (0.75, 1)

            def slope(t):
                return 2.0 * t + TWO_PI * a * math.sin(TWO_PI * t)

            for lo, hi, kind in ((0.75, 1.0, "min"), (0.5, 0.75, "max" if d == 1 else "saddle")):
                t = _root(slope, lo, hi)
                points.append(StationaryPoint(_axis_point(d, t), kind, t * t - a * math.cos(TWO_PI * t) + a))
        self.stationary_points = tuple(points)
        self.L = 2.0 + 2.0 * TWO_PI * math.pi * a
        self.init_center = np.zeros(d)
        self.init_scale = 2.0

    def _config(self) -> dict:
        return {"A": self.A}

    def value(self, X):
        xp = namespace(X)
        return xp.sum(X * X - self.A * xp.cos(TWO_PI * X), axis=1) + self.A * self.dim

    def value_and_grad(self, X):
        xp = namespace(X)
        if is_cupy_namespace(xp):  # one fused kernel for the gradient and the value terms
            G, terms = fused("rastrigin")(X, X.dtype.type(self.A))
            return xp.sum(terms, axis=1) + self.A * self.dim, G
        # Few full-size temporaries (each costs a pass and, for large arrays, fresh pages): reduce cos
        # directly and build the gradient in place in the array that sin returned.
        angle = TWO_PI * X
        vals = xp.sum(X * X, axis=1) - self.A * xp.sum(xp.cos(angle), axis=1) + self.A * self.dim
        G = xp.sin(angle)
        G *= TWO_PI * self.A
        G += 2.0 * X
        return vals, G

    _blocks_any_layout = True   # (see Objective._blocks_any_layout)

    def _value_and_grad_into(self, X, vals, G):
        # The same operations as value_and_grad (so the same bits), written into the caller's block: one
        # compiled pass where numba is installed, else NumPy's passes with two temporaries (kernels.py).
        if not kernels.rastrigin_into(X, self.A, vals, G):
            kernels.numpy_rastrigin(X, self.A, vals, G)

    def hessian(self, x):
        xp = namespace(x)
        curv = 2.0 + (TWO_PI * TWO_PI * self.A) * xp.cos(TWO_PI * x)
        return xp.eye(self.dim, dtype=x.dtype) * curv[None, :]


class Ackley(Objective):
    """f(x) = −a·exp(−b·√(mean x²)) − exp(mean cos cx) + a + e: global minimum f(0) = 0.

    The first term is a cone at 0 (not differentiable there): the gradient at x = 0 is defined as 0
    (the minimum-norm subgradient) and the Hessian there does not exist (:meth:`hessian` raises).
    """

    name = "ackley"

    def __init__(self, dim: int = 2, a: float = 20.0, b: float = 0.2, c: float = TWO_PI):
        self.dim = check_int(dim, "dim", 1)
        self.a = check_float(a, "a", 0.0, lo_open=True)
        self.b = check_float(b, "b", 0.0, lo_open=True)
        self.c = check_float(c, "c", 0.0, lo_open=True)
        self.minimizer = np.zeros(self.dim)
        self.fmin = 0.0
        self.stationary_points = (StationaryPoint(np.zeros(self.dim), "min", 0.0, is_global=True),)
        self.init_center = np.zeros(self.dim)
        self.init_scale = 2.0

    def _config(self) -> dict:
        return {"a": self.a, "b": self.b, "c": self.c}

    def _terms(self, xp, X, axis):
        angle = self.c * X
        means = xp.mean(X * X, axis=axis), xp.mean(xp.cos(angle), axis=axis)
        return means, angle

    def value(self, X):
        xp = namespace(X)
        (sq_mean, cos_mean), _ = self._terms(xp, X, axis=1)
        return kernels.ackley_row_factors(xp, sq_mean, cos_mean, self.a, self.b, self.c, self.dim)[0]

    def value_and_grad(self, X):
        # ∇(−a e^{−b·rms}) = a b e^{−b·rms} x / (d·rms), set to 0 at rms = 0 (kernels.ackley_row_factors).
        return kernels.ackley_value_and_grad(namespace(X), X, self.a, self.b, self.c)

    def _value_and_grad_into(self, X, vals, G):
        # Row by row: sin, cos and the sums in one compiled pass where numba is installed (the same bits,
        # kernels.py), else NumPy's.
        if not kernels.ackley_into(X, self.a, self.b, self.c, vals, G):
            self._rows_into(X, vals, G)

    def hessian(self, x):
        xp = namespace(x)
        (sq_mean, cos_mean), angle = self._terms(xp, x, axis=0)
        rms, cone, wave = kernels.ackley_scalars(xp, sq_mean, cos_mean, self.a, self.b)
        if bool(rms == 0):
            raise ValueError("Ackley's Hessian does not exist at x = 0 (the exp(-b*rms) term is a cone)")
        d, b = self.dim, self.b
        alpha = b * cone / (d * rms)                       # ∇cone-term = alpha·x
        dalpha = -b * cone * (b / rms + 1.0 / (rms * rms)) / (d * d * rms)  # (dα/d rms)/(d·rms)
        sin = xp.sin(angle)
        eye = xp.eye(d, dtype=x.dtype)
        c2 = self.c * self.c
        return (alpha * eye + dalpha * (x[:, None] * x[None, :])
                + (wave * c2 / d) * (eye * xp.cos(angle)[None, :])
                - (wave * c2 / (d * d)) * (sin[:, None] * sin[None, :]))


class Rosenbrock(Objective):
    """f(x) = Σ_{k<d} 100(x_{k+1} − x_k²)² + (1 − x_k)²: global minimum f(1, ..., 1) = 0; d ≥ 2.

    For 4 ≤ d ≤ 30 a second, local minimum near (−1, 1, ..., 1) is known (Kok & Sandrock 2009); it is
    located once at construction by Newton's method and declared when it converges. Hessian exact
    (tridiagonal).
    """

    name = "rosenbrock"
    _value_and_grad_into = Objective._rows_into   # row by row: blocks in cache, threads

    def __init__(self, dim: int = 2):
        self.dim = check_int(dim, "dim", 2)
        ones = np.ones(self.dim)
        self.minimizer = ones
        self.fmin = 0.0
        points = [StationaryPoint(ones, "min", 0.0, is_global=True)]
        if 4 <= self.dim <= 30:
            local = self._newton(_axis_point(self.dim, -1.0, 1.0))
            if local is not None:
                points.append(StationaryPoint(local, "min", float(self.value(local[None, :])[0])))
        self.stationary_points = tuple(points)
        self.init_center = np.zeros(self.dim)
        self.init_scale = 1.0

    def _newton(self, x: np.ndarray) -> np.ndarray | None:
        for _ in range(50):
            g = self.grad(x[None, :])[0]
            if np.linalg.norm(g) < 1e-13:
                H = self.hessian(x)
                return x if np.linalg.eigvalsh(H)[0] > 0 else None
            x = x - np.linalg.solve(self.hessian(x), g)
        return None

    def value(self, X):
        xp = namespace(X)
        head, tail = X[:, :-1], X[:, 1:]
        t, u = tail - head * head, 1.0 - head
        return xp.sum(100.0 * (t * t) + u * u, axis=1)

    def value_and_grad(self, X):
        xp = namespace(X)
        head, tail = X[:, :-1], X[:, 1:]
        t, u = tail - head * head, 1.0 - head
        vals = xp.sum(100.0 * (t * t) + u * u, axis=1)
        zero = xp.zeros_like(X[:, :1])
        G = xp.concat([-400.0 * head * t - 2.0 * u, zero], axis=1) + xp.concat([zero, 200.0 * t], axis=1)
        return vals, G

    def hessian(self, x):
        xp = namespace(x)
        head, tail = x[:-1], x[1:]
        zero = xp.zeros_like(x[:1])
        diag = (xp.concat([1200.0 * head * head - 400.0 * tail + 2.0, zero])
                + xp.concat([zero, 200.0 + 0.0 * tail]))
        off = xp.concat([-400.0 * head, zero])           # H[k, k+1] = −400 x_k
        upper = xp.eye(self.dim, k=1, dtype=x.dtype) * off[:, None]
        return xp.eye(self.dim, dtype=x.dtype) * diag[None, :] + upper + xp.permute_dims(upper, (1, 0))


class StyblinskiTang(Objective):
    """f(x) = ½ Σₖ (x_k⁴ − 16x_k² + 5x_k): global minimum at x_k = −2.903534… (f = −39.166166… per coordinate).

    Separable with 3ᵈ stationary points: each coordinate sits at a root of 2t³ − 16t + 2.5, i.e.
    t₋ ≈ −2.9035 (minimum), t₀ ≈ 0.1567 (maximum) or t₊ ≈ 2.7468 (local minimum, −25.0299). Declared:
    the global minimum, the worst local minimum (all t₊), the best non-global one (one t₊), the local
    maximum (all t₀) and a saddle (one t₀, the rest t₋).
    """

    name = "styblinski-tang"

    def __init__(self, dim: int = 2):
        self.dim = check_int(dim, "dim", 1)
        d = self.dim

        def slope(t):
            return 2.0 * t ** 3 - 16.0 * t + 2.5

        def g(t):
            return 0.5 * (t ** 4 - 16.0 * t ** 2 + 5.0 * t)

        t_min, t_max, t_loc = _root(slope, -4.0, -2.0), _root(slope, 0.0, 1.0), _root(slope, 2.0, 4.0)
        self.coordinate_roots = (t_min, t_max, t_loc)
        self.minimizer = np.full(d, t_min)
        self.fmin = d * g(t_min)
        points = [StationaryPoint(self.minimizer, "min", self.fmin, is_global=True),
                  StationaryPoint(np.full(d, t_loc), "min", d * g(t_loc)),
                  StationaryPoint(np.full(d, t_max), "max", d * g(t_max))]
        if d >= 2:
            points += [StationaryPoint(_axis_point(d, t_loc, t_min), "min", g(t_loc) + (d - 1) * g(t_min)),
                       StationaryPoint(_axis_point(d, t_max, t_min), "saddle", g(t_max) + (d - 1) * g(t_min))]
        self.stationary_points = tuple(points)
        self.init_center = np.zeros(d)
        self.init_scale = 2.0

    def value(self, X):
        return kernels.styblinski_tang_values(namespace(X), X)

    def value_and_grad(self, X):
        return kernels.styblinski_tang_terms(namespace(X), X)

    def _value_and_grad_into(self, X, vals, G):
        # Row by row: one compiled pass where numba is installed (the same bits, kernels.py), else NumPy's.
        if not kernels.styblinski_tang_into(X, vals, G):
            self._rows_into(X, vals, G)

    def hessian(self, x):
        xp = namespace(x)
        return xp.eye(self.dim, dtype=x.dtype) * (6.0 * x * x - 16.0)[None, :]
