"""O(1/t) on a strongly convex quadratic and on logistic regression: LSGD vs SGD vs EASGD vs LocalSGD, log–log.

What it shows (claim 2, digest §3.2): with η_t = a/(b + t) the expected gap E f(x_t) − f* of every method
falls like 1/t. The settings follow the rate check (``theory_checks.rate``): p = 4 workers from one common
start at distance 3 from x*, a·m = 2 and b = a·M (η_1 ≈ 1/M), theory-form pulls λ_t = η_t·m (LSGD: pull
toward the leader, τ = 1; EASGD: α_t = η_t·m, β = p·α_t, τ = 1); LocalSGD averages every τ = 4 steps.
Quadratic: d = 10, κ = 10, m = 1, Gaussian gradient noise 0.5 per coordinate; logistic regression:
n = 500, d = 10, ℓ₂ weight m = 0.1, mini-batches of 8. Curves: the gap of the mean worker, averaged
over independent seeds, with its 95% bootstrap band; the dotted line is the fitted tail slope
(``theory_checks._convex.slope_fit``: log gap vs log(b + t) over t ∈ [T/10, T]) and the shaded wedge
its 95% bootstrap interval over seeds. A slope of −1 is O(1/t).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, plotting, simulate
from lsgdsim.schedules import InverseTime
from theory_checks._convex import derive_seed, group_gaps, log_tail, replica_lsgd, slope_fit

NAME = "rates"
TITLE = "Strongly convex rates: LSGD vs SGD vs EASGD vs LocalSGD with fitted O(1/t) slopes"
CLAIM = "Claim 2: with η_t = Θ(1/t), E f(x_t) − f* = O(1/t) for LSGD, as for SGD and EASGD."
VOLATILE = ()
METHODS = ("lsgd", "sgd", "easgd", "localsgd")
PROBLEMS = ("quadratic", "logistic")
WORKERS, LOCAL_PERIOD, CURVE_POINTS = 4, 4, 160


def config(quick: bool = False, seed: int = 0) -> dict:
    steps = {"quadratic": 600, "logistic": 400} if quick else {"quadratic": 10_000, "logistic": 4000}
    return {"seed": seed, "workers": WORKERS, "seeds": 3 if quick else 12, "steps": steps, "a_times_m": 2.0,
            "quadratic": {"dim": 10, "cond": 10.0, "mu": 1.0, "grad_noise": 0.5},
            "logistic": {"n_samples": 500, "dim": 10, "reg": 0.1, "batch_size": 8},
            "local_period": LOCAL_PERIOD, "start_distance": 3.0}


def tasks(cfg: dict) -> list[dict]:
    loops = {"easgd": cfg["seeds"], "localsgd": cfg["seeds"]}     # not vectorizable over seeds: one run each
    return [{"key": f"{p}-{m}", "problem": p, "method": m,
             "cost": cfg["steps"][p] * loops.get(m, 2) * (3 if p == "logistic" else 1) / 20_000}
            for p in PROBLEMS for m in METHODS]


def problem(cfg: dict, name: str):
    """(objective, start x0 (d,), a, b, simulate keywords) of problem ``name``."""
    k = PROBLEMS.index(name)
    if name == "quadratic":
        q = cfg["quadratic"]
        obj = objectives.Quadratic.random(dim=q["dim"], cond=q["cond"], mu=q["mu"],
                                          seed=derive_seed(cfg["seed"], 90, k) % 2**31)
        kw = {"grad_noise": q["grad_noise"]}
    else:
        q = cfg["logistic"]
        obj = objectives.LogisticRegression(n_samples=q["n_samples"], dim=q["dim"], reg=q["reg"],
                                            seed=derive_seed(cfg["seed"], 90, k) % 10_000)
        kw = {"batch_size": q["batch_size"]}
    u = np.random.default_rng(derive_seed(cfg["seed"], 91, k)).standard_normal(obj.dim)
    x0 = obj.minimizer + cfg["start_distance"] * u / np.linalg.norm(u)
    a = cfg["a_times_m"] / obj.mu
    return obj, x0, a, a * obj.L, kw


def run_task(cfg: dict, task: dict) -> dict:
    """Mean-worker gaps (seeds, records) of one method on one problem."""
    obj, x0, a, b, kw = problem(cfg, task["problem"])
    S, p, T = cfg["seeds"], cfg["workers"], cfg["steps"][task["problem"]]
    lr, pull = InverseTime(a, b), InverseTime(a * obj.mu, b)
    kw.update(steps=T, record_every=max(1, T // 500))
    seed = derive_seed(cfg["seed"], PROBLEMS.index(task["problem"]), METHODS.index(task["method"]))
    m = task["method"]
    if m in ("lsgd", "sgd"):                                     # S independent replicas in one run
        alg = replica_lsgd(lr, pull, S) if m == "lsgd" else algorithms.SGD(lr=lr)
        res = simulate(obj, alg, workers=S * p, x0=np.broadcast_to(x0, (S * p, obj.dim)), seed=seed, **kw)
        return {"steps": res.steps, "gap": group_gaps(res.f, obj.fmin, S)[1]}
    gaps = []
    for k in range(S):
        alg = algorithms.EASGD(lr=lr, alpha=pull, period=1) if m == "easgd" else \
            algorithms.LocalSGD(lr=lr, period=cfg["local_period"])
        res = simulate(obj, alg, workers=p, x0=np.broadcast_to(x0, (p, obj.dim)), seed=derive_seed(seed, k), **kw)
        gaps.append(group_gaps(res.f, obj.fmin, 1)[1][0])
    return {"steps": res.steps, "gap": np.stack(gaps)}


def _mean_band(gaps: np.ndarray, rng, n_boot: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    S = gaps.shape[0]
    boot = gaps[rng.integers(0, S, size=(n_boot, S))].mean(axis=1)
    lo, hi = np.quantile(boot, [0.025, 0.975], axis=0)
    return gaps.mean(axis=0), lo, hi


def _fit_lines(steps, gaps, fit: dict) -> dict:
    """The fitted tail line and the lines with the CI's slopes, all through the fit's pivot point."""
    idx = log_tail(steps)
    logt = np.log(np.asarray(steps, float)[idx] + fit["shift"])
    px = logt.mean()
    py = fit["intercept"] + fit["slope"] * px
    t = np.geomspace(*fit["tail"], 12)
    x = np.log(t + fit["shift"])
    return {"t": t, "y": np.exp(py + fit["slope"] * (x - px)), "lo": np.exp(py + fit["ci"][0] * (x - px)),
            "hi": np.exp(py + fit["ci"][1] * (x - px))}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    rng = np.random.default_rng(derive_seed(cfg["seed"], 99))
    arrays, info = {}, {}
    for task, res in zip(tasks(cfg), results, strict=True):
        key = f"{task['problem']}.{task['method']}"
        steps, gaps = res["steps"], res["gap"]
        _, _, _, b, _ = problem(cfg, task["problem"])
        fit = slope_fit(steps, gaps, rng, shift=b)
        keep = np.unique(np.geomspace(1, len(steps) - 1, CURVE_POINTS).astype(int))
        mean, lo, hi = _mean_band(gaps[:, keep], rng)
        arrays.update({f"{key}.t": steps[keep], f"{key}.mean": mean, f"{key}.lo": lo, f"{key}.hi": hi})
        arrays.update({f"{key}.fit_{k}": v for k, v in _fit_lines(steps, gaps, fit).items()})
        info[key] = {"slope": fit["slope"], "ci": fit["ci"], "C": fit["C"], "tail": fit["tail"]}
    return arrays, info


def draw(data):
    cfg, a = data.config, data.arrays
    fig, axes = plotting.subplots(1, 2, width=4.9, height=3.9)
    titles = {"quadratic": f"quadratic, d = {cfg['quadratic']['dim']}, κ = {cfg['quadratic']['cond']:g}, "
                           f"noise {cfg['quadratic']['grad_noise']}",
              "logistic": f"logistic regression, n = {cfg['logistic']['n_samples']}, "
                          f"batch {cfg['logistic']['batch_size']}"}
    for ax, p in zip(axes.flat, PROBLEMS, strict=True):
        for m in METHODS:
            k, c = f"{p}.{m}", plotting.color(m)
            fit = data.info[k]
            tau = f", τ = {cfg['local_period']}" if m == "localsgd" else ""
            ax.loglog(a[f"{k}.t"], a[f"{k}.mean"], color=c,
                      label=f"{plotting.label(m)}{tau}: slope {fit['slope']:.2f} "
                            f"[{fit['ci'][0]:.2f}, {fit['ci'][1]:.2f}]")
            plotting.band(ax, a[f"{k}.t"], a[f"{k}.lo"], a[f"{k}.hi"], m, alpha=0.15)
            ax.loglog(a[f"{k}.fit_t"], a[f"{k}.fit_y"], ":", color="k", lw=1.1)
            plotting.band(ax, a[f"{k}.fit_t"], a[f"{k}.fit_lo"], a[f"{k}.fit_hi"], m, alpha=0.35)
        ax.set(title=titles[p], xlabel="iteration t", ylabel="E f(x_t) − f*  (mean worker)")
        ax.legend(loc="lower left", fontsize=7.5, title="tail slope [95% CI]", title_fontsize=7.5)
    fig.suptitle(f"η_t = a/(b + t), a·m = {cfg['a_times_m']:g}, b = a·M; mean over {cfg['seeds']} seeds "
                 f"(band: 95% bootstrap); dotted: fitted tail slope; −1 is O(1/t)", fontsize=9)
    return fig
