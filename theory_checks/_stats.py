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


def precision(quantity: str, used: int, estimate: float, interval, threshold: float, cap: int = 10_000,
              needed: int | None = None) -> dict:
    """The sample size a comparison "``estimate`` vs ``threshold``" needs, from the interval it was judged by.

    An interval from ``used`` seeds (or starts, or copies) narrows like 1/√n, so the side of ``interval`` that
    faces the threshold, at distance h from the estimate, stops reaching it once n ≥ used·(h/|estimate −
    threshold|)². ``needed`` is that n (``cap`` when the estimate sits on the threshold or nothing is finite);
    ``enough`` says whether ``used`` reaches it: a verdict read from a comparison that is not ``enough`` rests on
    margins too thin for its sample, and the record says so. A t-interval over seeds passes ``needed`` from
    :func:`seeds_to_separate` instead (exact for it: the t quantile grows as n shrinks)."""
    lo, hi = (float(v) for v in interval)
    side = hi if estimate < threshold else lo
    h, margin = abs(side - estimate), abs(estimate - threshold)
    finite = np.isfinite([estimate, h, margin]).all()
    rule = "n·(h/|estimate − threshold|)², h the interval's half facing the threshold"
    if needed is not None:
        rule = "smallest n with t(n − 1)·sd/√n < |mean| (t-interval over seeds)"
    elif not finite or margin == 0:
        needed = cap
    else:
        needed = int(min(cap, max(2, np.ceil(used * (h / margin) ** 2))))
    return {"quantity": quantity, "used": int(used), "needed": int(needed), "enough": bool(used >= needed),
            "rule": rule}


def thin_note(entries: list[dict]) -> str:
    """' Margins too thin for the sample: X (6 used, about 14 needed).' for the entries of :func:`precision`
    that are not enough, or '' (at most two named; the record lists them all)."""
    thin = [e for e in entries if not e["enough"]]
    if not thin:
        return ""
    named = "; ".join(f"{e['quantity']} ({e['used']} used, about {e['needed']} needed)" for e in thin[:2])
    return f" Margins too thin for the sample: {named}{'; …' if len(thin) > 2 else ''}."
