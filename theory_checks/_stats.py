"""Statistics the checks share: t-intervals over seeds, and how many seeds a comparison would need."""
from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95):
    """Mean and half-width of the t-interval over seeds (half-width nan for one seed or non-finite values)."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2 or not np.all(np.isfinite(v)):
        return m, float("nan")
    return m, float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def seeds_to_separate(values, level: float = 0.95, cap: int = 10_000) -> int:
    """The number of seeds whose t-interval would exclude 0 if the per-seed ``values`` kept their mean and
    spread: the smallest n ≥ 2 with t(n − 1)·sd/√n < |mean| (``cap`` when the mean is 0 or not finite).
    A record states it beside a comparison, so that a verdict on too few seeds says how many it needed."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or not np.all(np.isfinite(v)) or v.mean() == 0:
        return cap
    m, sd = abs(float(v.mean())), float(v.std(ddof=1))
    n = np.arange(2, cap + 1)
    ok = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) < m
    return int(n[ok][0]) if ok.any() else cap


def paired(differences) -> dict:
    """Per-seed differences d_s (> 0: the rule's leader better): their mean, the lower end of the 95%
    t-interval (−inf without one: one seed, or a run that never got there) and the seeds that would
    separate the mean from 0 (:func:`seeds_to_separate`)."""
    mean, half = mean_ci(differences)
    lower = mean - half if np.isfinite(half) else float("-inf")
    return {"mean": float(mean), "lower": float(lower), "seeds_to_separate": seeds_to_separate(differences)}
