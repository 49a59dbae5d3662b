"""Quadratics f(x) = ½ xᵀAx − bᵀx: strongly convex (chosen spectrum) or indefinite (saddles)."""
from __future__ import annotations

import numpy as np

from ..backend import namespace
from ..validate import check_float
from .base import Objective, StationaryPoint

SPECTRA = ("geometric", "linear", "uniform")


def _spectrum(dim: int, lo: float, hi: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "geometric":
        return np.geomspace(lo, hi, dim)
    if kind == "linear":
        return np.linspace(lo, hi, dim)
    if kind == "uniform":  # extremes pinned so the condition number is exact
        inner = rng.uniform(lo, hi, max(dim - 2, 0))
        return np.sort(np.concatenate([[lo], inner, [hi]])[:dim]) if dim > 1 else np.array([lo])
    raise ValueError(f"spectrum must be one of {', '.join(SPECTRA)}; got {kind!r}")


def _random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class Quadratic(Objective):
    """f(x) = ½ xᵀAx − bᵀx with symmetric A (d, d) and b (d,).

    Positive definite A: strongly convex with ``mu`` = λ_min(A), ``L`` = λ_max(A), minimizer A⁻¹b,
    fmin = −½ bᵀA⁻¹b. Indefinite A (non-singular): the unique stationary point A⁻¹b is a saddle
    (``minimizer`` is None). One matrix product X·A serves both value and gradient.
    """

    name = "quadratic"

    def __init__(self, A, b=None):
        A = np.asarray(A, dtype=float)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
            raise ValueError(f"A must be a square (d, d) matrix; got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("A must be finite")
        if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(A).max())):
            raise ValueError("A must be symmetric")
        d = A.shape[0]
        b = np.zeros(d) if b is None else np.asarray(b, dtype=float)
        if b.shape != (d,) or not np.all(np.isfinite(b)):
            raise ValueError(f"b must be a finite vector of shape ({d},); got shape {b.shape}")
        self.A = 0.5 * (A + A.T)
        self.b = b
        self.dim = d
        self.eigenvalues = np.linalg.eigvalsh(self.A)
        lo, hi = self.eigenvalues[0], self.eigenvalues[-1]
        self.L = float(np.abs(self.eigenvalues).max())
        self.init_center = np.zeros(d)
        if np.min(np.abs(self.eigenvalues)) <= 1e-12 * max(self.L, 1e-300):
            self.mu = None  # singular: no unique stationary point
            return
        xs = np.linalg.solve(self.A, self.b)
        fs = float(-0.5 * self.b @ xs)
        if lo > 0:
            self.mu = float(lo)
            self.minimizer, self.fmin = xs, fs
            self.stationary_points = (StationaryPoint(xs, "min", fs, is_global=True),)
            self.init_center = xs
        else:
            self.mu = None
            kind = "max" if hi < 0 else "saddle"
            self.stationary_points = (StationaryPoint(xs, kind, fs),)
            self.init_center = xs

    # -- constructors ------------------------------------------------------------------------------
    @classmethod
    def random(cls, dim: int = 20, cond: float = 10.0, mu: float = 1.0, spectrum: str = "geometric",
               seed: int = 0, shift_scale: float = 1.0) -> Quadratic:
        """Random rotation of a spectrum from ``mu`` to ``mu * cond``; minimizer ~ N(0, shift_scale² I)."""
        if not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        if not np.isfinite(cond) or cond < 1:
            raise ValueError(f"cond must be a finite number >= 1; got {cond!r}")
        if not np.isfinite(mu) or mu <= 0:
            raise ValueError(f"mu must be a finite positive number; got {mu!r}")
        shift_scale = check_float(shift_scale, "shift_scale")
        rng = np.random.default_rng(seed)
        eig = _spectrum(dim, mu, mu * cond, spectrum, rng)
        Q = _random_rotation(dim, rng)
        A = (Q * eig) @ Q.T
        xs = shift_scale * rng.standard_normal(dim)
        out = cls(A, A @ xs)
        # Every argument, so that the description rebuilds this very matrix; ``mu`` as asked for, beside the
        # measured λ_min(A) that ``describe()`` reports as mu (they differ in the last bits).
        out._origin = {"kind": "random", "cond": float(cond), "spectrum": spectrum, "seed": int(seed),
                       "requested_mu": float(mu), "shift_scale": float(shift_scale)}
        return out

    @classmethod
    def indefinite(cls, dim: int = 20, negative: int = 1, cond: float = 10.0, seed: int = 0) -> Quadratic:
        """Saddle at a random point: ``negative`` eigenvalues in [−cond, −1], the rest in [1, cond]."""
        if not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        if not isinstance(negative, (int, np.integer)) or not 0 <= negative <= dim:
            raise ValueError(f"negative must be an integer in [0, dim={dim}]; got {negative!r}")
        if not np.isfinite(cond) or cond < 1:
            raise ValueError(f"cond must be a finite number >= 1; got {cond!r}")
        rng = np.random.default_rng(seed)
        mags = np.geomspace(1.0, cond, dim)
        signs = np.ones(dim)
        signs[rng.permutation(dim)[:negative]] = -1.0
        Q = _random_rotation(dim, rng)
        A = (Q * (signs * mags)) @ Q.T
        xs = rng.standard_normal(dim)
        out = cls(A, A @ xs)
        out.name = "indefinite-quadratic"
        out._origin = {"kind": "indefinite", "negative": int(negative), "cond": float(cond), "seed": int(seed)}
        return out

    def _config(self) -> dict:
        return dict(getattr(self, "_origin", {"kind": "explicit"}))

    # -- oracle ------------------------------------------------------------------------------------
    def value_and_grad(self, X):
        xp = namespace(X)
        A = self._const(xp, X.dtype, "A")
        b = self._const(xp, X.dtype, "b")
        AX = xp.matmul(X, A)          # A symmetric: rows of X·A are A x_i
        G = AX - b
        vals = xp.sum(X * (0.5 * AX - b), axis=1)
        return vals, G

    _blocks_any_layout = True   # (see Objective._blocks_any_layout)

    def _value_and_grad_into(self, X, vals, G):
        # The same operations as value_and_grad (the same bits), with the product written straight into G
        # and the value's terms built in one temporary.
        A, b = self._const(np, X.dtype, "A"), self._const(np, X.dtype, "b")
        np.matmul(X, A, out=G)
        terms = np.multiply(G, 0.5)
        terms -= b
        terms *= X
        np.sum(terms, axis=1, out=vals)
        G -= b

    def value(self, X):
        return self.value_and_grad(X)[0]

    def hessian(self, x):
        xp = namespace(x)
        return xp.asarray(self._const(xp, x.dtype, "A"), copy=True)  # a copy: callers may write to it

    def hvp(self, x, v):
        xp = namespace(x, v)
        return xp.matmul(self._const(xp, v.dtype, "A"), v)
