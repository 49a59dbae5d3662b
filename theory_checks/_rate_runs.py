"""Rate check, runs and statistics: replica runs of LSGD/SGD/EASGD with η_t = a/(b + t), the exact SGD
expectation on quadratics, tail slopes and paired bootstrap ratios of tail constants (theory_checks/rate.py).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.leaders import Exact
from lsgdsim.schedules import InverseTime

from ._convex import _slopes, derive_seed, group_gaps, log_tail, replica_lsgd, slope_fit

WORKERS = 4
N_BOOT = 1000


# -- runs ------------------------------------------------------------------------------------------
def run_methods(obj, a, b, lam, seeds, T, seed, x0, grad_noise=0.0, batch_size=None,
                methods=("lsgd", "sgd", "easgd"), easgd_seeds=None, rule=None) -> dict:
    """Gaps per method: {name: (steps, best (seeds, R), mean (seeds, R))}.

    LSGD (leader rule ``rule``, default exact) and SGD use the same seed: replica j of both sees the
    same noise and mini-batches (randomness is per worker), so their constants can be compared pairwise.
    """
    lr = InverseTime(a, b)
    pull = InverseTime(a * lam, b)
    x0s = np.broadcast_to(x0, (seeds * WORKERS, obj.dim))
    kw = {"grad_noise": grad_noise, "batch_size": batch_size, "record_every": max(1, T // 400)}
    out = {}
    if "lsgd" in methods:
        res = simulate(obj, replica_lsgd(lr, pull, seeds, leader=rule or Exact()), workers=seeds * WORKERS,
                       steps=T, x0=x0s, seed=derive_seed(seed, 1), **kw)
        out["lsgd"] = (res.steps, *group_gaps(res.f, obj.fmin, seeds))
    if "sgd" in methods:
        res = simulate(obj, algorithms.SGD(lr=lr), workers=seeds * WORKERS, steps=T, x0=x0s,
                       seed=derive_seed(seed, 1), **kw)
        out["sgd"] = (res.steps, *group_gaps(res.f, obj.fmin, seeds))
    if "easgd" in methods:
        best, mean = [], []
        for k in range(easgd_seeds or seeds):
            res = simulate(obj, algorithms.EASGD(lr=lr, alpha=pull, period=1), workers=WORKERS, steps=T,
                           x0=x0s[:WORKERS], seed=derive_seed(seed, 3, k), **kw)
            bk, mk = group_gaps(res.f, obj.fmin, 1)
            best.append(bk[0])
            mean.append(mk[0])
        out["easgd"] = (res.steps, np.array(best), np.array(mean))
    return out


def sgd_expected_gap(eigs, mu0, a, b, s, T, chunk=200_000) -> np.ndarray:
    """Exact E f(x_t) − f*, t = 0..T, of SGD with η_t = a/(b + t) and isotropic noise s (per coordinate).

    eigs (d,) the Hessian's eigenvalues, mu0 (d,) the start x_0 − x* in its eigenbasis. Per eigen-direction
    the mean is μ_t = P_t μ_0 and the variance v_t = P_t² Σ_{k≤t} η_k² s² / P_k² with P_t = Π_{k≤t}(1 − η_k a_i);
    both are accumulated in logs, chunk by chunk (T may be 10⁷), so no Python loop over steps.
    """
    eigs, mu0 = np.asarray(eigs, float), np.asarray(mu0, float)
    out = np.empty(T + 1)
    out[0] = 0.5 * np.sum(eigs * mu0 * mu0)
    log_p, acc = np.zeros_like(eigs), np.zeros_like(eigs)
    for start in range(1, T + 1, chunk):
        t = np.arange(start, min(T, start + chunk - 1) + 1, dtype=float)
        eta = a / (b + t)
        lp = log_p + np.cumsum(np.log1p(-eta[:, None] * eigs), axis=0)      # (n, d)
        # Σ η_k² s²/P_k², scaled by P_t² inside the exponent to stay finite over long horizons.
        ac = acc + np.cumsum(eta[:, None] ** 2 * s * s * np.exp(-2 * lp), axis=0)
        out[start:start + len(t)] = 0.5 * np.sum(eigs * np.exp(2 * lp) * (mu0 * mu0 + ac), axis=1)
        log_p, acc = lp[-1], ac[-1]
    return out


def local_slope(gap: np.ndarray, T: int, shift: float) -> float:
    """Slope of log gap vs log(t + shift) over 40 log-spaced points of the tail t ∈ [T/10, T]."""
    steps = np.arange(T + 1)
    idx = log_tail(steps[: T + 1])
    return float(_slopes(np.log(steps[idx] + shift), np.log(gap[idx])))


def gapped_quadratic(seed: int, dim: int = 10, m: float = 1.0) -> objectives.Quadratic:
    """f with eigenvalues m and dim − 1 geometric in [4m, 10m] (random rotation, random minimizer)."""
    rng = np.random.default_rng(seed)
    eigs = np.concatenate([[m], np.geomspace(4 * m, 10 * m, dim - 1)])
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    Q = q * np.sign(np.diag(r))
    A = (Q * eigs) @ Q.T
    return objectives.Quadratic(0.5 * (A + A.T), 0.5 * (A + A.T) @ rng.standard_normal(dim))


def start_point(obj, seed, radius=3.0) -> np.ndarray:
    u = np.random.default_rng(seed).standard_normal(obj.dim)
    return obj.minimizer + radius * u / np.linalg.norm(u)


def eigen_start(obj, x0):
    w, V = np.linalg.eigh(obj.A)
    return w, V.T @ (x0 - obj.minimizer)


# -- statistics ------------------------------------------------------------------------------------
def fits(curves, rng, b: float) -> dict:
    return {name: {"mean_worker": slope_fit(st, mean, rng, shift=b), "best_worker": slope_fit(st, best, rng, shift=b)}
            for name, (st, best, mean) in curves.items()}


def _tail_constant(steps, gaps):
    """C = median over the tail records of t·(seed-mean gap), for rows of bootstrap means (..., K)."""
    idx = log_tail(steps)
    return np.median(np.asarray(steps, float)[idx] * gaps[..., idx], axis=-1), idx


def c_ratio(curves, num: str, den: str, rng, paired: bool, n_boot: int = N_BOOT) -> dict:
    """C(num)/C(den) for the mean worker with a 95% percentile bootstrap interval over seeds.

    ``paired``: num and den share seeds (same noise), so seeds are resampled jointly."""
    st, _, a = curves[num]
    _, _, b = curves[den]
    ca, idx = _tail_constant(st, a.mean(axis=0))
    cb, _ = _tail_constant(st, b.mean(axis=0))
    ia = rng.integers(0, a.shape[0], size=(n_boot, a.shape[0]))
    ib = ia if paired else rng.integers(0, b.shape[0], size=(n_boot, b.shape[0]))
    t = np.asarray(st, float)[idx]
    ra = np.median(t * a[:, idx][ia].mean(axis=1), axis=1)
    rb = np.median(t * b[:, idx][ib].mean(axis=1), axis=1)
    lo, hi = np.quantile(ra / rb, [0.025, 0.975])
    return {"ratio": float(ca / cb), "ci": [float(lo), float(hi)], "paired": bool(paired)}


def brief(fit):
    return {meth: {k: {key: v[key] for key in ("slope", "ci", "slope_raw", "C", "intercept", "shift", "tail")}
                   for k, v in f.items()} for meth, f in fit.items()}

