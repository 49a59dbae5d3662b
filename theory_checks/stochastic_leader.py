"""Claim 3: choosing the leader from noisy loss estimates costs at most (4/m)·λ·√p·σ_f in the limit.

Theorem (poster, digest §3.3; exact statement not recovered). f m-strongly convex, M-smooth, gradient
noise of variance σ², leader = argmin of unbiased loss estimates f̃(x_i) with variance ≤ σ_f², p
workers, constant η and λ (theory form x⁺ = x − η(g + λ(x − z))):

    limsup_k E f(x_k) − f*  ≤  ½·η·κ·σ²  +  (4/m)·λ·√p·σ_f,

and with η_k, λ_k = Θ(1/k) the rate is again O(1/k). The poster's prose: the noisy choice "increases the
variance of the limit by no more than O(λ√p σ_f)".

Reading tested. Theory-form LSGD (simulator pull = η·λ, τ = 1), leader ``leaders.Noisy(σ_f)``: scores
f(x_i) + σ_f·ξ_i with fresh ξ_i ~ N(0, 1) at every step. σ² is the total gradient-noise variance
(simulator per-coordinate s, σ² = d·s²). The limit E f − f* is estimated by the time average over the
tail window (after a burn-in of many mixing times 1/(mη)) and over independent replicas (seeds), for
(i) the MEAN WORKER (average over the p workers of f(x_i) − f*) and (ii) the WORST WORKER (the max over
workers of each worker's time average, averaged over replicas). The EXCESS is that limit minus the same
quantity of the exact-leader run (σ_f = 0) with the same seeds (common random numbers for the gradient
noise). The bound term is respected at a configuration unless excess − 2·SE > (4/m)λ√pσ_f; the whole
bound unless the limit − 2·SE > ½ηκσ² + (4/m)λ√pσ_f.

What is measured. A random quadratic (d = 10, κ = 10, m = 1, s = 1), η = 0.02; one-at-a-time sweeps
around (p = 8, λ = 2, σ_f = 0.1) of σ_f (10⁻² … 1, below and above the spread of the workers' losses),
p (2 … 32) and λ (0.5 … 8). Exponents of the excess in σ_f, p and λ are fitted by log–log regression on
the points where the excess is significantly positive (> 2 SE); the bound predicts at most 0.5 (p),
1 (λ), 1 (σ_f) — much flatter measured scaling means the bound is loose there. Then η_t = a/(b + t),
λ_t = η_t·λ (a·m = 2) with the noisy leader (σ_f = 0.3): tail slope of the mean and best worker's gap
against log(b + t) with a bootstrap CI over replicas, as in the ``rate`` check. The theorem's own
step-size condition is not known; configurations satisfying the derived one-step condition
η ≤ min{1/(2M), m/(2Mλ)} (digest §3.1 [RECON]) are flagged (here λ ≤ 2.5); the bound is checked at every
configuration, flagged or not.

Verdict (computed). "fails" if the bound (its σ_f term or the whole) is significantly exceeded at some
configuration; "holds" if it is respected everywhere and the 1/t schedule gives a slope ≤ −0.9 (95% CI
upper end) for the mean worker; "holds under conditions" if the bound is respected but the O(1/t)
recovery is not confirmed.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lsgdsim import leaders, objectives, simulate
from lsgdsim.schedules import InverseTime

from ._convex import derive_seed, group_gaps, plot_tail_fit, replica_lsgd, slope_fit
from .record import CheckResult

NAME = "stochastic-leader"
CLAIM = ("With the leader chosen by unbiased loss estimates of variance σ_f², constant η, λ: "
         "limsup E f − f* ≤ ½ηκσ² + (4/m)λ√p σ_f; with η_t, λ_t = Θ(1/t) the rate is again O(1/t).")

SLOPE_TOL = -0.9
ETA = 0.02
NOISE = 1.0           # per-coordinate gradient noise s
BASE = {"p": 8, "lam": 2.0, "sigma_f": 0.1}


def tail_limits(obj, p, lam, sigma_f, S, T, burn, seed):
    """Per replica: tail time-average of the mean-worker gap and the worst worker's time-average gap."""
    rule = leaders.Noisy(sigma_f) if sigma_f > 0 else leaders.Exact()
    alg = replica_lsgd(ETA, ETA * lam, S, leader=rule)
    res = simulate(obj, alg, workers=S * p, steps=T, x0=obj.minimizer, grad_noise=NOISE, seed=seed,
                   record_every=max(1, T // 500))
    tail = res.steps >= burn
    gap = (res.f[tail] - obj.fmin).reshape(int(tail.sum()), S, p).mean(axis=0)   # (S, p) time averages
    return gap.mean(axis=1), gap.max(axis=1)


def exponent(xs, ys, ses) -> dict:
    """Log–log slope of ys vs xs over the points with ys > 2·se (None if fewer than 2)."""
    xs, ys, ses = map(np.asarray, (xs, ys, ses))
    keep = ys > 2 * ses
    if keep.sum() < 2:
        return {"exponent": None, "points": int(keep.sum())}
    slope = np.polyfit(np.log(xs[keep]), np.log(ys[keep]), 1)[0]
    return {"exponent": float(slope), "points": int(keep.sum())}


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckResult:
    start = time.perf_counter()
    obj = objectives.Quadratic.random(dim=10, cond=10.0, mu=1.0, seed=derive_seed(seed, 200) % 2**31)
    m, M, d = obj.mu, obj.L, obj.dim
    kappa, sigma2 = M / m, d * NOISE**2
    floor_bound = 0.5 * ETA * kappa * sigma2
    if quick:
        S, T, burn = 12, 1500, 500
        grid = {"sigma_f": [0.01, 0.1, 1.0], "p": [2, 8, 32], "lam": [0.5, 2.0, 8.0]}
    else:
        S, T, burn = 48, 4000, 1000
        grid = {"sigma_f": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0], "p": [2, 4, 8, 16, 32], "lam": [0.5, 1.0, 2.0, 4.0, 8.0]}

    configs = []
    for name, values in grid.items():
        for v in values:
            cfg = {**BASE, name: v}
            if cfg not in configs:
                configs.append(cfg)
    zero_cache = {}
    rows = []
    for cfg in configs:
        p, lam, sf = cfg["p"], cfg["lam"], cfg["sigma_f"]
        run_seed = derive_seed(seed, 201, p, int(lam * 100))        # same seed for σ_f > 0 and σ_f = 0
        key = (p, lam)
        if key not in zero_cache:
            zero_cache[key] = tail_limits(obj, p, lam, 0.0, S, T, burn, run_seed)
        mean0, worst0 = zero_cache[key]
        mean1, worst1 = tail_limits(obj, p, lam, sf, S, T, burn, run_seed)
        bound = 4.0 / m * lam * np.sqrt(p) * sf
        ex_m, ex_w = mean1 - mean0, worst1 - worst0
        row = {**cfg, "bound_term": bound, "total_bound": floor_bound + bound,
               "limit_mean": float(mean1.mean()), "limit_mean_se": float(mean1.std(ddof=1) / np.sqrt(S)),
               "limit_worst": float(worst1.mean()), "limit_worst_se": float(worst1.std(ddof=1) / np.sqrt(S)),
               "limit_exact_mean": float(mean0.mean()),
               "excess_mean": float(ex_m.mean()), "excess_mean_se": float(ex_m.std(ddof=1) / np.sqrt(S)),
               "excess_worst": float(ex_w.mean()), "excess_worst_se": float(ex_w.std(ddof=1) / np.sqrt(S))}
        row["inside_derived_step_condition"] = bool(ETA <= min(1 / (2 * M), m / (2 * M * lam)))
        row["excess_over_bound"] = max(row["excess_mean"], row["excess_worst"]) / bound
        row["term_violated"] = bool(row["excess_mean"] - 2 * row["excess_mean_se"] > bound
                                    or row["excess_worst"] - 2 * row["excess_worst_se"] > bound)
        row["total_violated"] = bool(row["limit_mean"] - 2 * row["limit_mean_se"] > row["total_bound"]
                                     or row["limit_worst"] - 2 * row["limit_worst_se"] > row["total_bound"])
        rows.append(row)

    exps = {}
    for name in grid:
        sel = [r for r in rows if all(r[k] == BASE[k] for k in BASE if k != name)]
        sel.sort(key=lambda r: r[name])
        exps[name] = {which: exponent([r[name] for r in sel], [r[f"excess_{which}"] for r in sel],
                                      [r[f"excess_{which}_se"] for r in sel]) for which in ("mean", "worst")}

    # -- O(1/t) with η_t, λ_t ∝ 1/t and the noisy leader --------------------------------------------
    S_r, T_r = (16, 2000) if quick else (48, 20000)
    a = 2.0 / m
    b = a * M
    rng = np.random.default_rng(derive_seed(seed, 202))
    rec = {}
    for label, rule in (("noisy", leaders.Noisy(0.3)), ("exact", leaders.Exact())):
        p = BASE["p"]
        alg = replica_lsgd(InverseTime(a, b), InverseTime(a * BASE["lam"], b), S_r, leader=rule)
        u = np.random.default_rng(derive_seed(seed, 203)).standard_normal(d)
        res = simulate(obj, alg, workers=S_r * p, steps=T_r, x0=obj.minimizer + 3.0 * u / np.linalg.norm(u),
                       grad_noise=0.5, seed=derive_seed(seed, 204))
        best, mean = group_gaps(res.f, obj.fmin, S_r)
        rec[label] = {"steps": res.steps, "mean": mean, "best": best,
                      "fit_mean": slope_fit(res.steps, mean, rng, shift=b),
                      "fit_best": slope_fit(res.steps, best, rng, shift=b)}
    recovery_ok = rec["noisy"]["fit_mean"]["ci"][1] <= SLOPE_TOL

    term_viol = [r for r in rows if r["term_violated"]]
    total_viol = [r for r in rows if r["total_violated"]]
    if term_viol or total_viol:
        verdict = "fails"
    elif recovery_ok:
        verdict = "holds"
    else:
        verdict = "holds under conditions"

    ratio = np.array([r["excess_over_bound"] for r in rows])
    fm = rec["noisy"]["fit_mean"]
    measured = {
        "configs": len(rows),
        "bound_term_violations": len(term_viol),
        "total_bound_violations": len(total_viol),
        "max_excess_over_bound": float(ratio.max()),
        "median_excess_over_bound": float(np.median(ratio)),
        "configs_inside_derived_step_condition": int(sum(r["inside_derived_step_condition"] for r in rows)),
        "max_excess_over_bound_inside_step_condition": float(max(
            [r["excess_over_bound"] for r in rows if r["inside_derived_step_condition"]], default=float("nan"))),
        "negative_excess_configs": int(sum(r["excess_mean"] < -2 * r["excess_mean_se"] for r in rows)),
        "exponents": exps,
        "exact_leader_limit_mean": float(np.mean([r["limit_exact_mean"] for r in rows])),
        "sgd_floor_bound": floor_bound,
        "max_limit_over_total_bound": float(max(max(r["limit_mean"], r["limit_worst"]) / r["total_bound"]
                                                 for r in rows)),
        "recovery_slope_mean_worker": {"slope": fm["slope"], "ci": fm["ci"]},
        "recovery_slope_best_worker": {k: rec["noisy"]["fit_best"][k] for k in ("slope", "ci")},
        "recovery_C_noisy_over_exact": fm["C"] / rec["exact"]["fit_mean"]["C"],
    }
    expected = {"excess": "<= (4/m)·λ·√p·σ_f", "limit": "<= ½ηκσ² + (4/m)λ√pσ_f",
                "exponents_at_most": {"sigma_f": 1.0, "p": 0.5, "lam": 1.0},
                "recovery_slope": f"<= {SLOPE_TOL} (95% CI upper end)"}

    def fmt(e):
        return "n/a" if e["exponent"] is None else f"{e['exponent']:.2f}"
    summary = (f"excess/bound ≤ {ratio.max():.2g} (median {np.median(ratio):.2g}) over {len(rows)} configs, "
               f"{len(term_viol)} violations; exponents (mean worker) σ_f {fmt(exps['sigma_f']['mean'])}, "
               f"p {fmt(exps['p']['mean'])}, λ {fmt(exps['lam']['mean'])}; 1/t schedule with noisy leader: slope "
               f"{fm['slope']:.2f} [{fm['ci'][0]:.2f}, {fm['ci'][1]:.2f}]")
    figure = None
    if figure_dir is not None:
        figure = _figure(Path(figure_dir), rows, grid, rec, exps)
    return CheckResult(
        name=NAME, claim=CLAIM,
        reading=("theory-form LSGD (pull = η·λ, τ = 1), leaders.Noisy(σ_f) (fresh N(0, σ_f²) score noise each step); "
                 "limit = tail time-average over replicas of the mean worker's and the worst worker's gap; excess "
                 "= limit − limit with the exact leader (same seeds); violation = excess − 2 SE above the bound."),
        setting={"dim": d, "cond": kappa, "m": m, "M": M, "eta": ETA, "grad_noise_per_coord": NOISE,
                 "sigma2_total": sigma2, "replicas": S, "steps": T, "burn_in": burn, "base": BASE, "grid": grid,
                 "recovery": {"a": a, "b": b, "lam": BASE["lam"], "sigma_f": 0.3, "grad_noise_per_coord": 0.5,
                              "replicas": S_r, "steps": T_r}, "seed": seed},
        measured=measured, expected=expected, verdict=verdict, summary=summary, figure=figure,
        elapsed_s=time.perf_counter() - start, details={"configs": rows})


def _figure(fig_dir: Path, rows, grid, rec, exps) -> str:
    from lsgdsim import plotting
    fig, axes = plotting.subplots(1, 3, width=4.2, height=3.4)
    ax = axes[0, 0]
    b = np.array([r["bound_term"] for r in rows])
    for which, mk in (("mean", "o"), ("worst", "s")):
        y = np.array([r[f"excess_{which}"] for r in rows])
        e = np.array([2 * r[f"excess_{which}_se"] for r in rows])
        ax.errorbar(b, np.abs(y), yerr=e, fmt=mk, ms=3, capsize=2, label=f"|excess|, {which} worker",
                    mfc="none" if which == "worst" else None)
    lim = [b.min() / 3, b.max() * 3]
    ax.plot(lim, lim, "--", color="k", lw=1, label="bound (4/m)λ√pσ_f")
    ax.axhline(np.mean([r["limit_exact_mean"] for r in rows]), color="grey", lw=1, ls=":",
               label="exact-leader limit (for scale)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("(4/m)·λ·√p·σ_f")
    ax.set_ylabel("excess limit E f − f* over exact leader")
    ax.set_title("noisy-leader excess vs bound")
    ax.legend()
    ax = axes[0, 1]
    for name, c in zip(grid, ("#1b9e77", "#d95f02", "#7570b3"), strict=True):
        sel = sorted([r for r in rows if all(r[k] == BASE[k] for k in BASE if k != name)], key=lambda r: r[name])
        x = np.array([r[name] / BASE[name] for r in sel])
        y = np.array([r["excess_mean"] for r in sel])
        e = exps[name]["mean"]["exponent"]
        ax.errorbar(x, np.abs(y), yerr=[2 * r["excess_mean_se"] for r in sel], marker="o", ms=3, capsize=2,
                    color=c, label=f"vary {name} (exponent {'n/a' if e is None else f'{e:.2f}'})")
        if (y < 0).any():
            ax.plot(x[y < 0], -y[y < 0], "x", color="r", ms=6)
        ax.plot(x, [r["bound_term"] for r in sel], ls=":", color=c, lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameter / base value (p=8, λ=2, σ_f=0.1)")
    ax.set_ylabel("|excess| (mean worker) ± 2 SE; dotted: bound")
    ax.set_title("scaling of the excess")
    ax.legend()
    ax = axes[0, 2]
    for label, color in (("noisy", "#d95f02"), ("exact", "#1b9e77")):
        r = rec[label]
        st = r["steps"]
        keep = st > 0
        f = r["fit_mean"]
        ax.loglog(st[keep], r["mean"].mean(axis=0)[keep], color=color,
                  label=f"{label} leader, mean worker (slope {f['slope']:.2f} [{f['ci'][0]:.2f}, {f['ci'][1]:.2f}])")
        plot_tail_fit(ax, f, lw=1.5)
    ax.set_xlabel("step t")
    ax.set_ylabel("E f(x_t) − f*")
    ax.set_title("η_t, λ_t ∝ 1/t with a noisy leader (σ_f = 0.3)")
    ax.legend(fontsize=6)
    path = fig_dir / f"{NAME}.png"
    plotting.save(fig, path)
    return f"figures/{path.name}"
