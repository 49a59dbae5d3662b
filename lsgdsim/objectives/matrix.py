"""Symmetric low-rank matrix factorization / completion: the paper's "curse of symmetry" example."""
from __future__ import annotations

import numpy as np

from ..backend import namespace, to_numpy
from ..validate import check_int
from .base import Objective, StationaryPoint


class MatrixFactorization(Objective):
    """f(U) = ¼ ‖P_Ω(UUᵀ − M)‖_F² over U (n, r), with target M = U*U*ᵀ (paper-digest §4.1a).

    Parameters are x = vec(U) in row-major order (x[i·r + k] = U[i, k]), so d = n·r and worker rows
    reshape to a batch U (p, n, r); values and gradients are batched matrix products. The target factor
    U* has N(0, 1/n) entries, so M's nonzero eigenvalues are ≈ 1 whatever n (step sizes transfer across
    sizes). Ω is a symmetric 0/1 mask: each entry of the upper triangle (diagonal included) is observed
    with probability ``observed`` (1.0 = plain factorization, every entry).

    Normalization: the ¼ makes the gradient exactly ∇f(U) = P_Ω(UUᵀ − M)·U (P_Ω of a symmetric matrix
    is symmetric). fmin = 0 at U*; ``minimizer`` = vec(U*).

    Symmetry: f(UQ) = f(U) for every orthogonal Q (r, r), so the global minima form the orbit {U*Q}
    (for rank 1: ±U*). Averaging workers that sit near different copies (EASGD) lands near worse
    points, typically the saddle U = 0 (value ¼‖P_Ω M‖²; a local maximum if P_Ω M is positive
    definite). ``distance_to_solution`` measures the distance to the orbit (orthogonal Procrustes).
    With every entry observed and rank ≥ 2, the eigen-factor that drops M's smallest eigenpair is a
    further saddle (value ¼λ_r²) and is declared too.
    """

    name = "matrix"

    def __init__(self, n: int = 20, rank: int = 2, observed: float = 1.0, seed: int = 0):
        self.n = check_int(n, "n", 1)
        self.rank = check_int(rank, "rank", 1)
        if self.rank > self.n:
            raise ValueError(f"rank must be an integer in [1, n={self.n}]; got {rank!r}")
        if (isinstance(observed, bool) or not isinstance(observed, (int, float, np.floating))
                or not 0 < observed <= 1):
            raise ValueError(f"observed must be a fraction in (0, 1]; got {observed!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        self.observed, self.seed = float(observed), int(seed)
        n, r = self.n, self.rank
        self.dim = n * r

        rng = np.random.default_rng(seed)
        self.factor = rng.standard_normal((n, r)) / np.sqrt(n)     # U*
        self.target = self.factor @ self.factor.T                  # M
        upper = np.triu(rng.random((n, n)) < self.observed)
        self.mask = (upper | upper.T).astype(float)                # Ω, symmetric 0/1
        observed_target = self.mask * self.target
        if not np.any(self.mask):
            raise ValueError(f"observed={observed!r} leaves no observed entry for n={n}; raise it")

        self.minimizer = self.factor.reshape(-1)
        self.fmin = 0.0
        zero_value = 0.25 * float(np.sum(observed_target ** 2))
        zero_kind = "max" if np.linalg.eigvalsh(observed_target)[0] > 0 else "saddle"
        points = [StationaryPoint(self.minimizer, "min", 0.0, is_global=True),
                  StationaryPoint(np.zeros(self.dim), zero_kind, zero_value)]
        if self.observed == 1.0 and r >= 2:
            lam, vec = np.linalg.eigh(self.target)
            lam, vec = lam[::-1][:r], vec[:, ::-1][:, :r]          # the r nonzero eigenpairs, descending
            partial = vec * np.sqrt(np.clip(lam, 0.0, None))
            partial[:, -1] = 0.0
            points.append(StationaryPoint(partial.reshape(-1), "saddle", 0.25 * float(lam[-1] ** 2)))
        self.stationary_points = tuple(points)
        self.init_center = np.zeros(self.dim)
        self.init_scale = 0.5 / float(np.sqrt(n))  # half the size of U*'s entries

    def _config(self) -> dict:
        return {"n": self.n, "rank": self.rank, "observed": self.observed, "seed": self.seed}

    # -- oracle ------------------------------------------------------------------------------------
    def _residual(self, xp, X):
        """U (p, n, r) and P_Ω(UUᵀ − M) (p, n, n)."""
        U = xp.reshape(X, (X.shape[0], self.n, self.rank))
        R = xp.matmul(U, xp.permute_dims(U, (0, 2, 1))) - self._const(xp, X.dtype, "target")
        return U, R * self._const(xp, X.dtype, "mask")

    def value(self, X):
        xp = namespace(X)
        R = self._residual(xp, X)[1]
        return 0.25 * xp.sum(R * R, axis=(1, 2))

    def value_and_grad(self, X):
        xp = namespace(X)
        U, R = self._residual(xp, X)
        vals = 0.25 * xp.sum(R * R, axis=(1, 2))
        return vals, xp.reshape(xp.matmul(R, U), (X.shape[0], self.dim))

    def hessian(self, x):
        """∇²f at one point x (n·r,): H[(i,a),(j,b)] = R_ij δ_ab + δ_ij Σ_k W_ik U_ka U_kb + W_ij U_ib U_ja."""
        xp = namespace(x)
        n, r = self.n, self.rank
        U, R = self._residual(xp, x[None, :])
        U, R = U[0, ...], R[0, ...]
        W = self._const(xp, x.dtype, "mask")
        eye_r = xp.eye(r, dtype=x.dtype)
        eye_n = xp.eye(n, dtype=x.dtype)
        outer = xp.reshape(U[:, :, None] * U[:, None, :], (n, r * r))       # U_ka U_kb per row k
        gram = xp.reshape(xp.matmul(W, outer), (n, r, r))                   # Σ_k W_ik U_ka U_kb
        H = (R[:, None, :, None] * eye_r[None, :, None, :]
             + eye_n[:, None, :, None] * gram[:, :, None, :]
             + W[:, None, :, None] * U[:, None, None, :] * xp.permute_dims(U, (1, 0))[None, :, :, None])
        return xp.reshape(H, (n * r, n * r))

    # -- symmetry-aware distance -------------------------------------------------------------------
    def distance_to_solution(self, X) -> np.ndarray:
        """min over orthogonal Q of ‖U_i Q − U*‖_F for each row of X (p, n·r), as NumPy (p,).

        Orthogonal Procrustes: with U_iᵀU* = A Σ Bᵀ the optimum is Q = ABᵀ and the squared distance is
        ‖U_i‖² + ‖U*‖² − 2 tr Σ. Any backend's X is accepted (copied to the host).
        """
        X = np.asarray(to_numpy(X), dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"X must have shape (p, {self.dim}); got {X.shape}")
        U = X.reshape(-1, self.n, self.rank)
        sv = np.linalg.svd(np.swapaxes(U, 1, 2) @ self.factor, compute_uv=False)   # (p, r)
        sq = np.sum(U ** 2, axis=(1, 2)) + np.sum(self.factor ** 2) - 2.0 * np.sum(sv, axis=1)
        return np.sqrt(np.clip(sq, 0.0, None))
