"""Simulation parts of the iteration-complexity check (reviewer 2): problems, tuned hitting times, the
paired leader gain against a random pull, and the one-step theorem's pull decomposition.

The verdict, summary and figure live in theory_checks/complexity.py and read only the record.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from lsgdsim import algorithms, leaders, objectives, simulate
from lsgdsim.algorithms.state import LeaderState
from lsgdsim.leaders import LeaderRule
from lsgdsim.simulate import DivergenceError

WORKERS = 8
PULL, PERIOD = 0.1, 4
BATCH = 64
# "random pull": LSGD's pull toward a uniformly chosen worker (no choice); a reference like SGD, so no
# control leader applies to it.
METHODS = ("lsgd", "random pull", "easgd", "sgd", "localsgd", "allreduce")
QUICK_METHODS = METHODS[:4]     # LocalSGD and all-reduce are references the verdict does not use


def make_algorithm(method: str, lr, rule: LeaderRule | None = None, groups: int = 1):
    """The algorithm of ``method`` at step size ``lr``; ``rule`` is LSGD's leader rule (exact by default).

    ``groups`` > 1 (LSGD kinds and SGD only) runs that many independent copies of p = WORKERS workers
    in one vectorized run (multi-leader LSGD with no global pull)."""
    rule = leaders.Exact() if rule is None else rule
    lsgd = lambda r: algorithms.LSGD(lr=lr, pull=PULL, period=PERIOD, leader=r, groups=groups)   # noqa: E731
    return {"lsgd": lambda: lsgd(rule), "random pull": lambda: lsgd(leaders.Random()),
            "easgd": lambda: algorithms.EASGD(lr=lr, alpha=0.9 / WORKERS, period=PERIOD),
            "sgd": lambda: algorithms.SGD(lr=lr),
            "localsgd": lambda: algorithms.LocalSGD(lr=lr, period=PERIOD),
            "allreduce": lambda: algorithms.AllReduceSGD(lr=lr)}[method]()


def problems(quick: bool, seed: int) -> dict:
    """name -> dict(obj, eps, steps, noise kwargs, center of the start distribution)."""
    out = {}
    for kappa in ((10, 100) if quick else (10, 100, 300)):
        q = objectives.Quadratic.random(dim=20, cond=float(kappa), seed=seed)
        eps = 1e-3 * float(np.trace(q.A)) / 2
        sigma = math.sqrt((eps / 2) * 4 * q.L / (q.dim * 0.5))   # SGD floor at η = 0.5/L equals ε/2
        out[f"quadratic κ={kappa}"] = {"obj": q, "eps": eps, "steps": 5 * kappa + 150,
                                       "kw": {"grad_noise": sigma}, "center": q.minimizer}
    lg = objectives.LogisticRegression(n_samples=1000, dim=20, seed=seed)
    out["logistic"] = {"obj": lg, "eps": 0.01, "steps": 250, "kw": {"batch_size": BATCH},
                       "center": np.zeros(lg.dim)}
    return out


def hitting_time(res, fmin: float, eps: float) -> dict:
    """First recorded step at which the mean-worker / best-worker gap is ≤ ε (inf if never)."""
    out = {}
    for key, gap in (("mean", res.mean_f - fmin), ("best", res.best_f - fmin)):
        hit = np.flatnonzero(gap <= eps)
        out[key] = float(res.steps[hit[0]]) if len(hit) else math.inf
    return out


def median_ci(values) -> tuple[float, float, float, float]:
    """Median, lower, upper, coverage: order-statistic interval (n ≥ 6) or [min, max]."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    med = float(np.median(v))
    if n < 6:
        return med, float(v[0]), float(v[-1]), float(1 - 2 * 0.5 ** n)
    k = max(int(stats.binom.ppf(0.025, n, 0.5)), 1)   # largest k with P(B ≤ k) ≤ 2.5% (approximately)
    return med, float(v[k - 1]), float(v[n - k]), float(1 - 2 * stats.binom.cdf(k - 1, n, 0.5))


def x0_of(center, seed: int):
    """The common start of all workers for one seed: center + N(0, I)."""
    return center + np.random.default_rng([seed, 7]).standard_normal(center.shape[0])


def run(prob, method: str, lr: float, seed: int, record_every: int, rule=None, monitor=None):
    return simulate(prob["obj"], make_algorithm(method, lr, rule), workers=WORKERS, steps=prob["steps"],
                    x0=x0_of(prob["center"], seed), seed=seed, record_every=record_every, monitor=monitor,
                    **prob["kw"])


def tune(prob, methods, grid, seeds, rule=None, progress=None) -> dict:
    """Hitting times per (method, c, seed) with η = c/L: ``{(method, c): [{"mean", "best"} per seed]}``.
    A diverged run counts as never reaching ε."""
    obj = prob["obj"]
    every = max(1, prob["steps"] // 200)
    hits = {}
    for method in methods:
        for c in grid:
            per_seed = []
            for s in seeds:
                try:
                    per_seed.append(hitting_time(run(prob, method, c / obj.L, s, every, rule), obj.fmin, prob["eps"]))
                except DivergenceError:
                    per_seed.append({"mean": math.inf, "best": math.inf})
            hits[method, c] = per_seed
        if progress is not None:
            progress.advance()
    return hits


def tuned_row(hits: dict, method: str, grid, metric: str = "mean") -> dict:
    """The method at its best c (smallest median iterations to ε; ties → smaller c), with the median's CI."""
    meds = {c: float(np.median([h[metric] for h in hits[method, c]])) for c in grid}
    c_best = min(grid, key=lambda c: (meds[c], c))
    med, lo, hi, cov = median_ci([h[metric] for h in hits[method, c_best]])
    return {"lr_over_L": c_best, "median_iterations": med, "ci_low": lo, "ci_high": hi, "ci_coverage": cov,
            "median_by_lr": {str(c): meds[c] for c in grid}}


class GroupRuns:
    """n independent copies of p workers (one start per copy) in one run, cached by (method, rule, lr, T).

    All methods share the seed, so copy k of every method sees the same gradient noise and mini-batches
    (common random numbers): differences between methods are paired copy by copy."""

    def __init__(self, prob, copies: int, seed: int):
        self.prob, self.n, self.seed = prob, copies, seed
        starts = np.stack([x0_of(prob["center"], seed + 1 + k) for k in range(copies)])
        self.x0 = np.repeat(starts, WORKERS, axis=0)
        self.cache: dict = {}

    def gaps(self, method: str, lr: float, steps: int, rule=None) -> np.ndarray:
        """(records, copies) mean-worker gaps f − f* of each copy over t ∈ [steps/2, steps], about 20 records
        (recording every step would cost more than the run: f is evaluated on the whole data set)."""
        if method == "lsgd" and rule == leaders.Random():
            method, rule = "random pull", None                 # the same run
        key = (method, rule, lr, steps)
        if key not in self.cache:
            obj = self.prob["obj"]
            res = simulate(obj, make_algorithm(method, lr, rule, groups=self.n if method != "sgd" else 1),
                           workers=self.n * WORKERS, steps=steps, x0=self.x0, seed=self.seed,
                           record_every=max(1, steps // 40), **self.prob["kw"])
            tail = res.steps >= steps / 2
            gap = (res.f[tail] - obj.fmin).reshape(int(tail.sum()), self.n, WORKERS)
            self.cache[key] = gap.mean(axis=2)
        return self.cache[key]


def leader_gain(groups: GroupRuns, lr: float, horizon: int, rule) -> dict:
    """What the leader adds at LSGD's tuned η: per copy, the mean over t ∈ [T'/2, T'] of
    log(gap_other(t) / gap_LSGD(t)) against the random pull and against SGD (> 0: LSGD lower), mean and SE."""
    T = max(2, int(horizon))
    mine = groups.gaps("lsgd", lr, T, rule)
    out = {"horizon": T, "copies": groups.n}
    for other in ("random pull", "sgd"):
        d = np.mean(np.log(groups.gaps(other, lr, T)) - np.log(mine), axis=0)   # (copies,)
        key = "over_random_pull" if other == "random pull" else "over_sgd"
        out[key] = float(d.mean())
        out[f"{key}_se"] = float(d.std(ddof=1) / math.sqrt(d.size))
    return out


@dataclass(frozen=True)
class _SGDPartState(LeaderState):
    """LSGD's state plus the workers after the local SGD step alone (before any pull)."""

    sgd_only: object = None


@dataclass(frozen=True, kw_only=True)
class _SGDPartLSGD(algorithms.LSGD):
    """LSGD that also keeps, in its state, where its local SGD step alone took the workers (before any pull)."""

    state_type = _SGDPartState

    def local_step(self, X, state, inp):
        Y, state = super().local_step(X, state, inp)
        return Y, state.update(sgd_only=Y)


def pull_decomposition(prob, lr: float, seed: int, rule=None) -> dict:
    """The one-step theorem's extra decrease along LSGD's own run, up to its hitting time T' of ε.

    At each communication t ≤ T': predicted c·mean_i(f(x_i) − f(z)) (x, z at step t − 1, c = PULL the pull
    per communication) and realized mean_i(f(y_i) − f(x_i⁺)), y_i the worker after its SGD step only (kept
    by the rule itself, so the measurement does not assume the form of the pull) and x_i⁺ after the pull.
    The measured improvement over SGD is (f̄_SGD(T') − f̄_LSGD(T'))/T' with SGD at the same η, start and
    seed (common random numbers). All three are per step.
    """
    obj = prob["obj"]

    def monitor(t, X, state, values):
        Y = state.sgd_only                      # None at step 0, before the first local step
        return {"X": X, "Y": X if Y is None else Y}

    alg = _SGDPartLSGD(lr=lr, pull=PULL, period=PERIOD, leader=rule or leaders.Exact())
    res = simulate(obj, alg, workers=WORKERS, steps=prob["steps"], x0=x0_of(prob["center"], seed), seed=seed,
                   record_every=1, monitor=monitor, **prob["kw"])
    sgd = run(prob, "sgd", lr, seed, record_every=1)
    X, Y = res.monitor["X"], res.monitor["Y"]             # (T + 1, p, d): after step t, and after its SGD part
    last = int(min(hitting_time(res, obj.fmin, prob["eps"])["mean"], prob["steps"]))
    predicted, realized = [], []
    for k, t in enumerate(res.leader_steps):
        if t > last:
            break
        f_prev = obj.value(X[t - 1])
        predicted.append(PULL * float(np.mean(f_prev - f_prev[res.leaders[k]])))
        realized.append(float(np.mean(obj.value(Y[t]) - obj.value(X[t]))))
    pred, real = float(np.sum(predicted)), float(np.sum(realized))
    advantage = float(sgd.mean_f[last] - res.mean_f[last])
    return {"communications": len(predicted), "horizon_steps": last,
            "predicted_extra_decrease_per_step": pred / max(last, 1),
            "realized_pull_decrease_per_step": real / max(last, 1),
            "measured_improvement_over_sgd_per_step": advantage / max(last, 1),
            "realized_over_predicted": real / pred if pred > 0 else math.nan,
            "measured_over_predicted": advantage / pred if pred > 0 else math.nan,
            "lsgd_gap_at_horizon": float(res.mean_f[last] - obj.fmin),
            "sgd_gap_at_horizon": float(sgd.mean_f[last] - obj.fmin)}
