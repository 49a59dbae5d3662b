"""The paper's symmetric non-convex toys: the 2-D ring landscape sin(r)/r and the double well.

Both illustrate the "curse of symmetry" (paper-digest §3.5, §4.1b): workers placed symmetrically around
a bad stationary point average (EASGD) to that point, while a leader pull (LSGD) does not.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ..backend import namespace
from ..validate import check_float, check_int
from .base import Objective, StationaryPoint


def _horner(s, coeffs):
    """Σₖ coeffs[k]·sᵏ for an array s (Python-float coefficients keep the dtype of s)."""
    out = coeffs[-1] + 0.0 * s
    for c in reversed(coeffs[:-1]):
        out = out * s + c
    return out


# Taylor coefficients in s = r² (exact rationals as floats), used for r < _SERIES_R where the closed
# forms cancel: φ(r) = sin r / r; h(r) = φ'(r)/r; k(r) = (φ''(r) − h(r))/r² so ∇²φ = h·I + k·xxᵀ.
_TERMS = 10
_PHI = [(-1) ** k / math.factorial(2 * k + 1) for k in range(_TERMS)]
_H = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, _TERMS + 1)]
_K = [(-1) ** k * 4 * k * (k - 1) / math.factorial(2 * k + 1) for k in range(2, _TERMS + 2)]
_SERIES_R = 0.5  # truncation error < 1e-20 below; closed-form rounding error ≈ eps/r⁴ < 4e-15 above


def _tan_root(n: int) -> float:
    """The n-th positive root of tan r = r (equivalently r cos r − sin r = 0), in (nπ, nπ + π/2)."""
    return optimize.brentq(lambda r: r * math.cos(r) - math.sin(r), n * math.pi, n * math.pi + math.pi / 2,
                           xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)


class RingSinc(Objective):
    """The paper's 2-D toy f(x, y) = sin(ρ)/ρ with ρ = √(x² + y²)/scale (f = 1 at the origin).

    Its level sets are rings: extrema lie where tan ρ = ρ, alternating minima (ρ ≈ 4.4934, f ≈ −0.2172,
    the global one; 10.9041, −0.0913; 17.2208, −0.0580; ...) and maxima (7.7253, 0.1284; ...), with
    the global maximum f = 1 at the origin. ``rings`` lists (radius, value, kind) for the first
    ``n_rings``; ``ring_radii`` and ``ring_values`` are the same as arrays. Every ring is a circle of
    (non-isolated) stationary points; ``stationary_points`` holds the origin and one point per ring.

    Near the origin value, gradient and Hessian use Taylor series in ρ² (no 0/0); ``L`` = 1/(3·scale²)
    is |φ''(0)|, the largest curvature anywhere. ``dim`` must be 2 (it is accepted so that a uniform
    ``--dim`` option fails loudly instead of being ignored).
    """

    name = "ring"
    _value_and_grad_into = Objective._rows_into   # row by row: blocks in cache, threads

    def __init__(self, dim: int = 2, scale: float = 1.0, n_rings: int = 6):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim != 2:
            raise ValueError(f"dim must be 2 for the ring landscape sin(r)/r; got {dim!r}")
        self.dim = 2
        self.scale = check_float(scale, "scale", 0.0, lo_open=True)
        n_rings = check_int(n_rings, "n_rings", 1)
        radii = np.array([_tan_root(n) for n in range(1, n_rings + 1)])
        values = np.sin(radii) / radii
        self.ring_radii = self.scale * radii
        self.ring_values = values
        self.rings = tuple((float(r), float(v), "min" if v < 0 else "max")
                           for r, v in zip(self.ring_radii, values, strict=True))
        self.minimizer = np.array([self.ring_radii[0], 0.0])
        self.fmin = float(values[0])
        points = [StationaryPoint(np.zeros(2), "max", 1.0)]
        for k, (r, v, kind) in enumerate(self.rings):
            angle = 0.7 * k  # spread the representatives around their rings
            x = np.array([r, 0.0]) if k == 0 else r * np.array([math.cos(angle), math.sin(angle)])
            points.append(StationaryPoint(x, kind, v, is_global=(k == 0)))
        self.stationary_points = tuple(points)
        self.L = 1.0 / (3.0 * self.scale ** 2)
        self.init_center = np.zeros(2)
        self.init_scale = 15.0 * self.scale

    def _config(self) -> dict:
        return {"scale": self.scale, "n_rings": len(self.rings)}

    def _radial(self, xp, X, axis):
        """u = X/scale, s = |u|², the series mask and a safe radius (1 where the series is used)."""
        U = X * (1.0 / self.scale) if self.scale != 1.0 else X
        s = xp.sum(U * U, axis=axis)
        small = s < _SERIES_R ** 2
        s_series = xp.where(small, s, xp.zeros_like(s))  # keeps the unused branch finite
        r_safe = xp.where(small, xp.ones_like(s), xp.sqrt(s))
        return U, small, s_series, r_safe

    def value(self, X):
        xp = namespace(X)
        _, small, s_series, r = self._radial(xp, X, axis=1)
        return xp.where(small, _horner(s_series, _PHI), xp.sin(r) / r)

    def value_and_grad(self, X):
        xp = namespace(X)
        U, small, s_series, r = self._radial(xp, X, axis=1)
        sin, cos = xp.sin(r), xp.cos(r)
        vals = xp.where(small, _horner(s_series, _PHI), sin / r)
        h = xp.where(small, _horner(s_series, _H), (r * cos - sin) / (r * r * r))
        return vals, (h / self.scale)[:, None] * U

    def hessian(self, x):
        xp = namespace(x)
        u, small, s_series, r = self._radial(xp, x, axis=0)
        sin, cos = xp.sin(r), xp.cos(r)
        r2 = r * r
        h = xp.where(small, _horner(s_series, _H), (r * cos - sin) / (r2 * r))
        k = xp.where(small, _horner(s_series, _K), (3.0 * sin - 3.0 * r * cos - r2 * sin) / (r2 * r2 * r))
        eye = xp.eye(2, dtype=x.dtype)
        return (h * eye + k * (u[:, None] * u[None, :])) * (1.0 / self.scale ** 2)


class DoubleWell(Objective):
    """f(x) = (x₁² − 1)²/4 + ½ Σ_{k≥2} x_k²: minima ±e₁ (f = 0), and 0 (f = ¼) between them.

    The origin is a local maximum for ``dim`` = 1 and a saddle for ``dim`` ≥ 2. It is the digest's
    EASGD counter-example (§3.5): two workers at ∓√(1−ρ)e₁ with center 0 are a stationary point of
    the EASGD objective although f'(workers) ≠ 0 and the center is the maximum. The curvature is
    unbounded (3x₁² − 1), so ``L`` is None; ``mu`` is None (non-convex).
    """

    name = "double-well"
    _value_and_grad_into = Objective._rows_into   # row by row: blocks in cache, threads

    def __init__(self, dim: int = 1):
        self.dim = check_int(dim, "dim", 1)
        e1 = np.zeros(self.dim)
        e1[0] = 1.0
        self.minimizer = e1
        self.fmin = 0.0
        self.stationary_points = (
            StationaryPoint(e1, "min", 0.0, is_global=True),
            StationaryPoint(-e1, "min", 0.0, is_global=True),
            StationaryPoint(np.zeros(self.dim), "max" if self.dim == 1 else "saddle", 0.25),
        )
        self.init_center = np.zeros(self.dim)
        self.init_scale = 1.0

    def value(self, X):
        xp = namespace(X)
        x1, rest = X[:, 0], X[:, 1:]
        w = x1 * x1 - 1.0
        return 0.25 * (w * w) + 0.5 * xp.sum(rest * rest, axis=1)

    def value_and_grad(self, X):
        xp = namespace(X)
        x1, rest = X[:, 0:1], X[:, 1:]
        w = x1 * x1 - 1.0
        vals = 0.25 * (w * w)[:, 0] + 0.5 * xp.sum(rest * rest, axis=1)
        return vals, xp.concat([x1 * w, rest], axis=1)

    def hessian(self, x):
        xp = namespace(x)
        curv = xp.concat([3.0 * x[0:1] * x[0:1] - 1.0, xp.ones_like(x[1:])])
        return xp.eye(self.dim, dtype=x.dtype) * curv[None, :]
