"""Helpers shared by the strongly convex checks (one-step, rate, stochastic-leader).

- :func:`derive_seed`: independent integer seeds from the check's base seed and a tag;
- :func:`replica_lsgd`: S independent LSGD replicas of p workers in ONE vectorized run (multi-leader
  LSGD with S groups and no global pull is exactly S independent single-leader runs);
- :func:`group_gaps`: per-replica best-worker and mean-worker gaps f − f* from a Result;
- :func:`log_tail` / :func:`slope_fit`: log–log slope of a seed-averaged curve over the tail, with a
  percentile bootstrap over seeds (replicas), and the constant C of gap ≈ C/t;
- :func:`constant_boot`: bootstrap draws of that constant C (to put intervals on ratios of constants).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms


def derive_seed(seed: int, *tags: int) -> int:
    """A non-negative int seed from (seed, *tags), via SeedSequence (independent streams per tag)."""
    return int(np.random.SeedSequence([int(seed), *map(int, tags)]).generate_state(1, np.uint32)[0])


def replica_lsgd(lr, pull, replicas: int, period: int = 1, **kw) -> algorithms.LSGD:
    """LSGD on ``replicas`` independent groups (leader chosen within each group; no global pull).

    With workers = replicas·p, group j = rows j·p … (j+1)·p − 1 evolves exactly as a single-leader
    LSGD run of p workers with communication period ``period`` (docs/design.md §3, multi-leader rule with
    λ_G = 0); all randomness is per worker.
    """
    return algorithms.LSGD(lr=lr, pull=pull, period=period, groups=replicas, global_pull=0.0, **kw)


def group_gaps(f: np.ndarray, fmin: float, replicas: int) -> tuple[np.ndarray, np.ndarray]:
    """(best, mean) gaps of shape (replicas, records) from a Result's ``f`` (records, replicas·p)."""
    gap = np.asarray(f, dtype=float) - fmin
    R, P = gap.shape
    g = gap.reshape(R, replicas, P // replicas)
    return g.min(axis=2).T, g.mean(axis=2).T


def log_tail(steps: np.ndarray, frac: float = 0.1, points: int = 40) -> np.ndarray:
    """Indices of about ``points`` records log-spaced over the tail t ∈ [frac·T, T] (T the last step)."""
    steps = np.asarray(steps)
    T = steps[-1]
    want = np.geomspace(max(1.0, frac * T), T, points)
    idx = np.unique(np.searchsorted(steps, want).clip(0, len(steps) - 1))
    return idx[steps[idx] > 0]


def _slopes(logt: np.ndarray, logy: np.ndarray) -> np.ndarray:
    """Least-squares slopes of rows of logy (..., K) against logt (K,)."""
    tc = logt - logt.mean()
    return ((logy - logy.mean(axis=-1, keepdims=True)) * tc).sum(axis=-1) / (tc * tc).sum()


def slope_fit(steps: np.ndarray, gaps: np.ndarray, rng: np.random.Generator, frac: float = 0.1,
              n_boot: int = 1000, level: float = 0.95, shift: float = 0.0) -> dict:
    """Slope of log(mean over seeds of gaps) vs log(t + shift) over the tail, bootstrap CI over seeds.

    gaps: (seeds, records). ``shift`` = b for η_t = a/(b + t): the expected gap behaves like C/(b + t),
    whose slope in log t is −t/(b + t) > −1 on a finite window; regressing on log(t + b) removes that
    bias without changing the O(1/t) question. Returns slope, ci (lo, hi), ``slope_raw`` (against log t),
    the constant C = median over the tail of t·gap, the fitted intercept (gap ≈ exp(intercept)·(t +
    shift)^slope) and the tail window.
    """
    gaps = np.asarray(gaps, dtype=float)
    idx = log_tail(steps, frac)
    t = np.asarray(steps, dtype=float)[idx]
    y = gaps[:, idx]
    slope_raw = float(_slopes(np.log(t), np.log(y.mean(axis=0))))
    logt = np.log(t + shift)
    mean = y.mean(axis=0)
    slope = float(_slopes(logt, np.log(mean)))
    intercept = float(np.log(mean).mean() - slope * logt.mean())
    S = y.shape[0]
    boot = y[rng.integers(0, S, size=(n_boot, S))].mean(axis=1)          # (n_boot, K)
    bs = _slopes(logt, np.log(np.maximum(boot, 1e-300)))
    a = (1 - level) / 2
    lo, hi = np.quantile(bs, [a, 1 - a])
    return {"slope": slope, "ci": [float(lo), float(hi)], "slope_raw": slope_raw, "C": float(np.median(t * mean)),
            "intercept": intercept, "shift": float(shift), "tail": [int(t[0]), int(t[-1])], "seeds": int(S)}


def plot_tail_fit(ax, fit: dict, lw: float = 1.2) -> None:
    """Draw a :func:`slope_fit` result, gap ≈ exp(intercept)·(t + shift)^slope, over its tail window."""
    tt = np.geomspace(*fit["tail"], 10)
    ax.loglog(tt, np.exp(fit["intercept"]) * (tt + fit["shift"]) ** fit["slope"], ":", color="k", lw=lw)


def constant_boot(steps: np.ndarray, gaps: np.ndarray, rng: np.random.Generator, frac: float = 0.1,
                  n_boot: int = 1000) -> np.ndarray:
    """(n_boot,) bootstrap draws over seeds (rows of gaps (seeds, records)) of :func:`slope_fit`'s constant
    C = median over the tail t ∈ [frac·T, T] of t·(seed-mean gap); ratios of independent draws give
    percentile intervals for ratios of constants."""
    gaps = np.asarray(gaps, dtype=float)
    idx = log_tail(steps, frac)
    t = np.asarray(steps, dtype=float)[idx]
    y = gaps[:, idx]
    S = y.shape[0]
    boot = y[rng.integers(0, S, size=(n_boot, S))].mean(axis=1)          # (n_boot, K)
    return np.median(t * boot, axis=1)
