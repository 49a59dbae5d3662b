"""Simulation parts of the stochastic-leader check (claim 3): limits of replicated LSGD runs, paired
comparisons with common random numbers, an unbiased but least-favourable loss estimator, and the
decaying theory pull η_t·λ_t of the O(1/t) part.

Everything here simulates or builds rules and schedules; the verdict, summary and figure live in
theory_checks/stochastic_leader.py and read only the record.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lsgdsim import leaders, simulate
from lsgdsim.leaders import LeaderRule
from lsgdsim.schedules import Schedule
from lsgdsim.validate import check_float, check_int, set_fields

from ._convex import group_gaps, replica_lsgd, slope_fit


@dataclass(frozen=True)
class Skewed(LeaderRule):
    """Unbiased loss estimates of variance σ_f² that favour the WORST worker (within each group of ``group``).

    The theorem (digest §3.3) assumes only that each estimate f̃(x_i) is unbiased with variance ≤ σ_f².
    This rule stays inside that class and pushes the ranking the wrong way: with c_r = 1 − 2r/(l − 1) for
    the worker of rank r (0 best … l − 1 worst) in its group of l, one coin per group and communication sets

        ε_i = +c_r·δ with probability π,   ε_i = −c_r·δ·π/(1 − π) otherwise,   δ = σ_f·√((1 − π)/π),

    so E ε_i = 0 and Var ε_i = c_r²σ_f² ≤ σ_f²; with probability π the best worker reads high and the worst
    low. (The estimates are correlated across workers; the poster states no independence.) NumPy only.
    """

    sigma: float = 0.1
    pi: float = 0.8
    group: int = 2

    def validate(self):
        set_fields(self, sigma=check_float(self.sigma, "Skewed sigma", 0.0),
                   pi=check_float(self.pi, "Skewed pi", 0.0, 1.0, lo_open=True, hi_open=True),
                   group=check_int(self.group, "Skewed group", 2))

    def scores(self, state, exact_values, streams):
        f = np.asarray(exact_values(), dtype=float)
        g = f.reshape(-1, self.group)                                   # (groups, l)
        rank = np.argsort(np.argsort(g, axis=1, kind="stable"), axis=1)
        c = 1.0 - 2.0 * rank / (self.group - 1)
        delta = self.sigma * math.sqrt((1 - self.pi) / self.pi)
        coin = np.asarray(streams.uniform("loss_noise", (g.shape[0],)))[:, None] < self.pi
        eps = np.where(coin, c * delta, -c * delta * self.pi / (1 - self.pi))
        return (g + eps).reshape(-1)


@dataclass(frozen=True)
class TheoryPull(Schedule):
    """Simulator pull η_t·λ_t with η_t = a/(b + t) and λ_t = λ·b/(b + t) (λ_t = Θ(1/t), λ_0 = λ): ∝ 1/t²."""

    a: float
    b: float
    lam: float

    def __post_init__(self):
        set_fields(self, a=check_float(self.a, "TheoryPull a", 0.0, lo_open=True),
                   b=check_float(self.b, "TheoryPull b", 0.0, lo_open=True),
                   lam=check_float(self.lam, "TheoryPull lam", 0.0))

    def __call__(self, t: int) -> float:
        return self.a * self.lam * self.b / (self.b + t) ** 2

    def bounds(self):
        return (0.0, self(1))


class Limits:
    """Tail limits of S independent LSGD replicas of p workers, one vectorized run per (p, λ, rule).

    The seed depends on (p, λ) only, so every rule at one (p, λ) sees the same gradient noise per worker
    (common random numbers): differences between rules are paired replica by replica. Runs are cached by
    (p, λ, rule), so a control that reduces to another rule (a random leader for every rule) costs nothing.
    """

    def __init__(self, obj, lr: float, noise: float, replicas: int, steps: int, burn: int, seed_of):
        self.obj, self.lr, self.noise = obj, lr, noise
        self.S, self.T, self.burn, self.seed_of = replicas, steps, burn, seed_of
        self.cache: dict = {}

    def __call__(self, p: int, lam: float, rule: LeaderRule) -> dict:
        """{"mean": (S,), "worst": (S,)}: per replica, the tail time average of the mean worker's gap
        f − f* and the largest time-averaged gap of one worker (the worst worker)."""
        key = (p, lam, rule)
        if key not in self.cache:
            alg = replica_lsgd(self.lr, self.lr * lam, self.S, leader=rule)
            res = simulate(self.obj, alg, workers=self.S * p, steps=self.T, x0=self.obj.minimizer,
                           grad_noise=self.noise, seed=self.seed_of(p, lam), record_every=max(1, self.T // 200))
            tail = res.steps >= self.burn
            gap = (res.f[tail] - self.obj.fmin).reshape(int(tail.sum()), self.S, p).mean(axis=0)   # (S, p)
            self.cache[key] = {"mean": gap.mean(axis=1), "worst": gap.max(axis=1)}
        return self.cache[key]


def mean_se(x) -> tuple[float, float]:
    """Mean and standard error over replicas of (S,) values."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def limit_row(limits: Limits, p: int, lam: float, sigma_f: float, rules: dict) -> dict:
    """Limits and paired differences at one configuration.

    ``rules`` maps names to the rules to run: "exact", "noisy", optional "window" (the authors' rule) and
    optional "skewed" (least-favourable unbiased estimator); "nopull" (λ = 0, i.e. SGD) and "random"
    (the same pull toward a uniformly chosen worker: no choice) are always run as references.
    Differences are paired per replica: excess_X = X − exact (mean and worst worker), choice_gain =
    random − exact, gain_over_nopull_X = nopull − X (mean worker); each with its SE.
    """
    runs = {name: limits(p, lam, rule) for name, rule in rules.items()}
    runs["nopull"] = limits(p, 0.0, leaders.Exact())
    runs["random"] = limits(p, lam, leaders.Random())    # a reference, not the check's leader: no control applies
    row = {"p": p, "lam": lam, "sigma_f": sigma_f}
    for name, r in runs.items():
        row[f"limit_{name}"], row[f"limit_{name}_se"] = mean_se(r["mean"])
        row[f"limit_{name}_worst"], row[f"limit_{name}_worst_se"] = mean_se(r["worst"])
    row["choice_gain"], row["choice_gain_se"] = mean_se(runs["random"]["mean"] - runs["exact"]["mean"])
    for name in rules.keys() - {"exact"}:
        for which in ("mean", "worst"):
            tag = "" if which == "mean" else "_worst"
            diff = runs[name][which] - runs["exact"][which]
            row[f"excess_{name}{tag}"], row[f"excess_{name}{tag}_se"] = mean_se(diff)
        row[f"gain_over_nopull_{name}"], row[f"gain_over_nopull_{name}_se"] = mean_se(
            runs["nopull"]["mean"] - runs[name]["mean"])
    return row


def bound_fields(row: dict, name: str, m: float, floor: float) -> dict:
    """The bound (4/m)λ√pσ_f for rule ``name`` at ``row``: term and whole bound, violations (> 2 SE), ratios,
    and the constant C the excess alone would need in C·λ√pσ_f/m."""
    scale = row["lam"] * math.sqrt(row["p"]) * row["sigma_f"] / m
    bound = 4.0 * scale
    ex = max(row[f"excess_{name}"], row[f"excess_{name}_worst"])
    ex_hi = max(row[f"excess_{name}"] + 2 * row[f"excess_{name}_se"],
                row[f"excess_{name}_worst"] + 2 * row[f"excess_{name}_worst_se"])
    lim = max(row[f"limit_{name}"], row[f"limit_{name}_worst"])
    term_violated = (row[f"excess_{name}"] - 2 * row[f"excess_{name}_se"] > bound
                     or row[f"excess_{name}_worst"] - 2 * row[f"excess_{name}_worst_se"] > bound)
    total_violated = (row[f"limit_{name}"] - 2 * row[f"limit_{name}_se"] > floor + bound
                      or row[f"limit_{name}_worst"] - 2 * row[f"limit_{name}_worst_se"] > floor + bound)
    return {"bound_term": bound, "total_bound": floor + bound, "excess_over_bound": ex / bound,
            "excess_upper_over_bound": ex_hi / bound, "constant_needed": ex / scale,
            "limit_over_total_bound": lim / (floor + bound),
            "term_violated": bool(term_violated), "total_violated": bool(total_violated)}


def exponent(xs, ys, ses) -> dict:
    """Log–log slope of ys vs xs over the points with ys > 2·se (None if fewer than 2)."""
    xs, ys, ses = map(np.asarray, (xs, ys, ses))
    keep = ys > 2 * ses
    if keep.sum() < 2:
        return {"exponent": None, "points": int(keep.sum())}
    return {"exponent": float(np.polyfit(np.log(xs[keep]), np.log(ys[keep]), 1)[0]), "points": int(keep.sum())}


def recovery_curves(obj, runs: dict, replicas: int, steps: int, noise: float, seed: int, start_seed: int,
                    shift: float, rng: np.random.Generator) -> dict:
    """The O(1/t) part: for each label → (lr, pull, rule), S replicas of p = BASE workers started 3 away
    from x* (one direction per check seed), the mean-worker gap curve (records,) averaged over replicas, and
    tail slope fits (mean and best worker) against log(b + t), bootstrap CI over replicas (``slope_fit``).
    Every label uses the same seed (common gradient noise)."""
    u = np.random.default_rng(start_seed).standard_normal(obj.dim)
    x0 = obj.minimizer + 3.0 * u / np.linalg.norm(u)
    out = {}
    for label, (lr, pull, rule, p) in runs.items():
        alg = replica_lsgd(lr, pull, replicas, leader=rule)
        res = simulate(obj, alg, workers=replicas * p, steps=steps, x0=x0, grad_noise=noise, seed=seed)
        best, mean = group_gaps(res.f, obj.fmin, replicas)
        out[label] = {"steps": res.steps, "mean_curve": mean.mean(axis=0),
                      "fit_mean": slope_fit(res.steps, mean, rng, shift=shift),
                      "fit_best": slope_fit(res.steps, best, rng, shift=shift)}
    return out
