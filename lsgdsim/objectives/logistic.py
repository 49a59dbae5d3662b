"""L2-regularized logistic regression on synthetic data: a strongly convex finite sum."""
from __future__ import annotations

import numpy as np
from scipy import optimize

from ..backend import namespace
from .base import Objective, StationaryPoint


def _softplus_and_sigmoid(xp, z):
    """softplus(z) = log(1 + eᶻ) and sigmoid(z) = 1/(1 + e⁻ᶻ), elementwise, without overflow.

    Both share e = exp(−|z|) ∈ (0, 1]: softplus = max(z, 0) + log1p(e), and sigmoid is 1/(1+e) for
    z ≥ 0, e/(1+e) for z < 0.
    """
    e = xp.exp(-xp.abs(z))
    softplus = xp.maximum(z, xp.zeros_like(z)) + xp.log1p(e)
    inv = 1.0 / (1.0 + e)
    sigmoid = xp.where(z >= 0, inv, e * inv)
    return softplus, sigmoid


def _curvature(xp, z):
    """σ(z)σ(−z) = e/(1 + e)² with e = exp(−|z|): the logistic loss's second derivative, ≤ 1/4."""
    e = xp.exp(-xp.abs(z))
    return e / ((1.0 + e) * (1.0 + e))


class LogisticRegression(Objective):
    """f(w) = (1/n) Σⱼ log(1 + exp(−yⱼ aⱼᵀw)) + (reg/2)‖w‖², a finite sum of n = ``n_samples`` terms.

    Synthetic data (seeded): features aⱼ ~ N(0, I_d); labels yⱼ = sign(aⱼᵀw_true) ∈ {−1, +1} with
    w_true ~ N(0, I_d), each label flipped independently with probability ``noise``. Only the signed
    features bⱼ = yⱼaⱼ enter f, so the margins of p workers are one product X·Bᵀ (p, n).

    Facts: ``mu`` = reg; ``L`` = reg + λ_max(AᵀA)/(4n) (the logistic loss has curvature ≤ 1/4);
    the minimizer is computed once at construction (L-BFGS-B, then Newton steps with the exact
    Hessian) so that ‖∇f(w*)‖ is at the level of rounding (``minimizer_grad_norm`` records it).
    ``batch_value_and_grad(X, idx)`` gives each worker the mean loss over its own samples ``idx``
    (p, b) plus the regularizer, an unbiased estimate of ``value_and_grad`` under uniform sampling.
    """

    name = "logistic"

    def __init__(self, n_samples: int = 500, dim: int = 10, reg: float = 1e-2, seed: int = 0,
                 noise: float = 0.1):
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer; got {dim!r}")
        if not isinstance(reg, (int, float, np.floating)) or not np.isfinite(reg) or reg <= 0:
            raise ValueError(f"reg must be a finite positive number; got {reg!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        if not isinstance(noise, (int, float, np.floating)) or not 0 <= noise <= 0.5:
            raise ValueError(f"noise must be a label-flip probability in [0, 0.5]; got {noise!r}")
        self.n_samples, self.dim = int(n_samples), int(dim)
        self.reg, self.noise, self.seed = float(reg), float(noise), int(seed)

        rng = np.random.default_rng(seed)
        self.features = rng.standard_normal((self.n_samples, self.dim))
        self.true_weights = rng.standard_normal(self.dim)
        labels = np.where(self.features @ self.true_weights >= 0, 1.0, -1.0)
        flip = rng.random(self.n_samples) < self.noise
        self.labels = np.where(flip, -labels, labels)
        self.signed = self.labels[:, None] * self.features      # B (n, d), rows bⱼ = yⱼaⱼ
        self.signed_T = np.ascontiguousarray(self.signed.T)     # Bᵀ (d, n), for X·Bᵀ
        self.identity = np.eye(self.dim)

        self.mu = self.reg
        self.L = self.reg + float(np.linalg.eigvalsh(self.signed.T @ self.signed)[-1]) / (4 * self.n_samples)
        self.minimizer = self._solve()
        self.fmin = float(self._numpy_value_and_grad(self.minimizer)[0])
        self.minimizer_grad_norm = float(np.linalg.norm(self._numpy_value_and_grad(self.minimizer)[1]))
        self.stationary_points = (StationaryPoint(self.minimizer, "min", self.fmin, is_global=True),)
        self.init_center = np.zeros(self.dim)
        self.init_scale = 1.0

    def _config(self) -> dict:
        return {"reg": self.reg, "noise": self.noise, "seed": self.seed}

    # -- the minimizer, once, in NumPy float64 -----------------------------------------------------
    def _numpy_value_and_grad(self, w):
        vals, grads = self.value_and_grad(np.asarray(w, dtype=float)[None, :])
        return float(vals[0]), grads[0]

    def _solve(self) -> np.ndarray:
        res = optimize.minimize(self._numpy_value_and_grad, np.zeros(self.dim), jac=True, method="L-BFGS-B",
                                options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
        w = res.x
        for _ in range(8):  # Newton polish: quadratic convergence from an L-BFGS-B point
            grad = self._numpy_value_and_grad(w)[1]
            if np.linalg.norm(grad) < 1e-15:
                break
            w = w - np.linalg.solve(self.hessian(w), grad)
        return w

    # -- oracle ------------------------------------------------------------------------------------
    def value_and_grad(self, X):
        xp = namespace(X)
        BT = self._const(xp, X.dtype, "signed_T")
        margins = xp.matmul(X, BT)                                  # (p, n): yⱼ aⱼᵀx
        loss, sig = _softplus_and_sigmoid(xp, -margins)             # σ(−m) = −d/dm softplus(−m)
        n = self.n_samples
        vals = xp.sum(loss, axis=1) / n + (0.5 * self.reg) * xp.sum(X * X, axis=1)
        G = xp.matmul(sig, self._const(xp, X.dtype, "signed")) * (-1.0 / n) + self.reg * X
        return vals, G

    def value(self, X):
        xp = namespace(X)
        margins = xp.matmul(X, self._const(xp, X.dtype, "signed_T"))
        loss = _softplus_and_sigmoid(xp, -margins)[0]
        return xp.sum(loss, axis=1) / self.n_samples + (0.5 * self.reg) * xp.sum(X * X, axis=1)

    def batch_value_and_grad(self, X, idx):
        """Mean loss and gradient over each worker's samples: X (p, d), idx (p, b) ints → (p,), (p, d)."""
        xp = namespace(X, idx)
        if idx.ndim != 2 or idx.shape[0] != X.shape[0] or idx.shape[1] < 1:
            raise ValueError(f"idx must have shape (p={X.shape[0]}, b >= 1); got {tuple(idx.shape)}")
        p, b = idx.shape
        B = self._const(xp, X.dtype, "signed")
        rows = xp.reshape(xp.take(B, xp.reshape(idx, (-1,)), axis=0), (p, b, self.dim))  # (p, b, d)
        margins = xp.sum(rows * X[:, None, :], axis=2)                                    # (p, b)
        loss, sig = _softplus_and_sigmoid(xp, -margins)
        vals = xp.sum(loss, axis=1) / b + (0.5 * self.reg) * xp.sum(X * X, axis=1)
        G = xp.reshape(xp.matmul(sig[:, None, :], rows), (p, self.dim)) * (-1.0 / b) + self.reg * X
        return vals, G

    def hessian(self, x):
        """(1/n) Bᵀ diag(σ(m)σ(−m)) B + reg·I at one point x (d,), m = Bx."""
        xp = namespace(x)
        B = self._const(xp, x.dtype, "signed")
        BT = self._const(xp, x.dtype, "signed_T")
        weights = _curvature(xp, xp.matmul(B, x))
        return xp.matmul(BT * weights[None, :], B) / self.n_samples + self.reg * self._const(
            xp, x.dtype, "identity")

    def hvp(self, x, v):
        xp = namespace(x, v)
        B = self._const(xp, v.dtype, "signed")
        Bv = xp.matmul(B, v) * _curvature(xp, xp.matmul(B, x))
        return xp.matmul(self._const(xp, v.dtype, "signed_T"), Bv) / self.n_samples + self.reg * v
