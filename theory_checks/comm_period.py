"""Reviewer 2: how does the communication period τ affect convergence, at an equal gradient budget?

Question (NeurIPS 2019 review of paper 5205, Reviewer 2, point 1; digest §6 items 1 and 7): "The LSGD
method also behaves like local SGD method, and number of rounds for synchronization plays a significant
role in the convergence. However, there is no analysis on how this hyper-parameter affects the
convergence rate of the proposed approach." The paper gives no τ study; the authors' code communicates
every τ = 256 steps by default and pulls with a fixed strength c per communication (digest §5.4).

Claim tested (precise reading). "LSGD converges for every τ, and a larger τ cuts communication at a
modest cost in accuracy": at the same number of gradient evaluations (T steps × p workers), for every
τ ∈ {1, 2, 4, 8, 16, 32, 64}, (a) *converges*: the final gap is below 5% of the initial gap and the run
stays finite; (b) *modest cost*: the final gap at τ is at most 2× the gap at τ = 1 (ratio of means over
seeds). Tested for LSGD with the pull fixed per communication (λ = 0.1, the authors' convention), on
every problem.

What is measured. Problems: a strongly convex quadratic (d = 20, κ = 20) with Gaussian gradient noise, and
L2-regularized logistic regression with mini-batch gradients. Methods, all with the same constant step
size η per problem and p = 8 workers: LSGD with λ fixed per communication; LSGD with λ scaled with τ
(λ_τ = 1 − (1 − λ₁)^τ, λ₁ = 0.1, the same contraction toward a fixed leader over τ steps as τ pulls of λ₁;
reported, not in the verdict); EASGD with α = β/p, β = 0.9 per communication (the authors' EASGD
convention). The "final gap" of a run is the mean over workers of f(x_i) − f* averaged over the last 10%
of the run (what a worker attains; the constant-step noise floor makes a single last value noisy); the
gap at the workers' average f(x̄) − f* (the paper's evaluation point; EASGD: its center) is reported too.
Per τ: mean over seeds with a 95% t-interval, floats communicated (the simulator's count), and the
trade-off curve gap vs floats. Reference: independent SGD workers (no communication, τ = ∞) from the same
starts and noise; "benefit retained" at τ is (gap_SGD − gap_τ)/(gap_SGD − gap_1), the share of what
communicating every step gains over not communicating that is kept at period τ. Quick mode leaves out the
λ-scaled variant.

Verdict (computed). "holds" if (a) and (b) hold for every τ on every problem; "holds under conditions"
if (a) holds everywhere but (b) fails for some τ (the summary gives the largest τ with a modest cost);
"fails" if LSGD does not converge for some τ.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy import stats

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.simulate import DivergenceError

from .record import CheckResult

NAME = "comm-period"
CLAIM = ("Reviewer 2: the communication period τ matters for convergence; the claim tested is that LSGD "
         "converges for every τ and that a larger τ cuts communication at a modest cost in accuracy.")

PERIODS = (1, 2, 4, 8, 16, 32, 64)
PULL = 0.1            # λ per communication (authors' convention)
CONVERGED = 0.05      # (a): final gap ≤ 5% of the initial gap
MODEST = 2.0          # (b): final gap ≤ 2 × the τ = 1 gap
WORKERS = 8
BATCH = 32


def mean_ci(values, level: float = 0.95):
    """Mean and half-width of the t-interval over seeds (half-width nan for one seed)."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return m, float("nan")
    return m, float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def _problems(quick: bool, seed: int):
    quad = objectives.Quadratic.random(dim=20, cond=20.0, seed=seed)
    logit = objectives.LogisticRegression(n_samples=500 if quick else 1000, dim=10 if quick else 20, seed=seed)
    # η: 0.2/L on the quadratic (noise σ = 2 sets the floor), 0.5/L with mini-batches of 32 on logistic.
    return {"quadratic": (quad, 0.2 / quad.L, {"grad_noise": 2.0}),
            "logistic": (logit, 0.5 / logit.L, {"batch_size": BATCH})}


def _methods(tau: int, quick: bool):
    """Constructors lr -> algorithm at period τ (quick mode leaves out the λ-scaled LSGD variant)."""
    methods = {"lsgd": lambda lr: algorithms.LSGD(lr=lr, pull=PULL, period=tau),
               "lsgd-scaled": lambda lr: algorithms.LSGD(lr=lr, pull=1 - (1 - PULL) ** tau, period=tau),
               "easgd": lambda lr: algorithms.EASGD(lr=lr, alpha=0.9 / WORKERS, period=tau)}
    if quick:
        del methods["lsgd-scaled"]
    return methods


def final_gaps(res, fmin: float, obj) -> dict:
    """Mean-worker gap over the last 10% of records; gap at the worker average (EASGD: center); initial gap."""
    tail = max(1, len(res.steps) // 10)
    point = res.center if res.center is not None else res.x.mean(axis=0)
    return {"gap": float(res.f[-tail:].mean() - fmin),
            "gap_average": float(obj.value(point[None, :])[0] - fmin),
            "initial_gap": float(res.f[0].mean() - fmin),
            "floats": int(res.meta["floats_communicated"])}


def _one(instance, make, steps: int, seed: int) -> dict:
    obj, lr, kw = instance
    try:
        res = simulate(obj, make(lr), workers=WORKERS, steps=steps, seed=seed, record_every=max(1, steps // 128),
                       **kw)
    except DivergenceError:
        return {"gap": np.inf, "gap_average": np.inf, "initial_gap": np.nan, "floats": 0}
    return final_gaps(res, obj.fmin, obj)


def _aggregate(per_seed) -> dict:
    gap, gap_ci = mean_ci([r["gap"] for r in per_seed])
    avg, avg_ci = mean_ci([r["gap_average"] for r in per_seed])
    return {"gap": gap, "gap_ci": gap_ci, "gap_average": avg, "gap_average_ci": avg_ci,
            "relative_gap": float(np.mean([r["gap"] / r["initial_gap"] for r in per_seed])),
            "floats": int(np.mean([r["floats"] for r in per_seed]))}


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckResult:
    start = time.perf_counter()
    steps = 512 if quick else 2048
    seeds = [seed + k for k in range(3 if quick else 8)]
    curves: dict = {}          # problem -> method -> list over τ of dicts
    sgd_ref: dict = {}         # problem -> independent SGD workers (no communication, τ = ∞)
    for problem in ("quadratic", "logistic"):
        instances = {s: _problems(quick, s)[problem] for s in seeds}
        curves[problem] = {m: [] for m in _methods(1, quick)}
        for tau in PERIODS:
            for method, make in _methods(tau, quick).items():
                per_seed = [_one(instances[s], make, steps, s) for s in seeds]
                curves[problem][method].append({"period": tau, **_aggregate(per_seed)})
        sgd_ref[problem] = _aggregate([_one(instances[s], lambda lr: algorithms.SGD(lr=lr), steps, s)
                                       for s in seeds])

    checks, converges_all, modest_all, modest_until = {}, True, True, {}
    for problem, by_method in curves.items():
        rows = by_method["lsgd"]
        base = rows[0]["gap"]
        ratios = [r["gap"] / base for r in rows]
        conv = [bool(np.isfinite(r["gap"]) and r["relative_gap"] <= CONVERGED) for r in rows]
        modest = [bool(q <= MODEST) for q in ratios]
        largest = max([PERIODS[0]] + [tau for tau, ok in zip(PERIODS, modest, strict=True) if ok])
        # the largest τ up to which every smaller τ also has a modest cost
        first_bad = next((k for k, ok in enumerate(modest) if not ok), len(PERIODS))
        modest_until[problem] = PERIODS[first_bad - 1] if first_bad > 0 else None
        checks[problem] = {"converges": conv, "degradation_vs_tau1": [round(q, 3) for q in ratios],
                           "modest_cost": modest, "largest_modest_period": largest,
                           "modest_up_to_period": modest_until[problem],
                           "easgd_degradation_vs_tau1": [round(r["gap"] / by_method["easgd"][0]["gap"], 3)
                                                         for r in by_method["easgd"]],
                           "lsgd_scaled_degradation_vs_tau1": [
                               round(r["gap"] / by_method["lsgd-scaled"][0]["gap"], 3)
                               for r in by_method.get("lsgd-scaled", [])] or None,
                           "lsgd_over_easgd_gap": [round(a["gap"] / b["gap"], 3) for a, b in
                                                   zip(rows, by_method["easgd"], strict=True)],
                           "sgd_no_communication_gap": sgd_ref[problem]["gap"],
                           # share of the τ = 1 benefit over not communicating that is kept at τ
                           "benefit_retained": [round((sgd_ref[problem]["gap"] - r["gap"])
                                                      / (sgd_ref[problem]["gap"] - base), 3) for r in rows]}
        converges_all &= all(conv)
        modest_all &= all(modest)
    if not converges_all:
        verdict = "fails"
    elif modest_all:
        verdict = "holds"
    else:
        verdict = "holds under conditions"

    parts = []
    for problem, c in checks.items():
        parts.append(f"{problem}: LSGD gap ×{c['degradation_vs_tau1'][-1]:.2g} at τ=64 vs τ=1 "
                     f"(EASGD ×{c['easgd_degradation_vs_tau1'][-1]:.2g}; no communication "
                     f"×{c['sgd_no_communication_gap'] / curves[problem]['lsgd'][0]['gap']:.2g}), modest "
                     f"(≤{MODEST:g}×) up to τ={c['modest_up_to_period']}, {c['benefit_retained'][-1]:.0%} of the "
                     f"τ=1 benefit over no communication kept at τ=64")
    if "lsgd-scaled" in curves["quadratic"]:
        for problem, by_method in curves.items():
            scaled = by_method["lsgd-scaled"]
            k = int(np.argmin([r["gap"] for r in scaled]))
            parts.append(f"{problem}, λ scaled with τ: best mean-worker gap at τ={scaled[k]['period']} "
                         f"(×{scaled[k]['gap'] / scaled[0]['gap']:.2f} of τ=1) but the gap at the worker average "
                         f"grows ×{scaled[-1]['gap_average'] / scaled[0]['gap_average']:.1f} by τ=64")
    comm_cut = curves["quadratic"]["lsgd"][0]["floats"] / max(1, curves["quadratic"]["lsgd"][-1]["floats"])
    summary = ("LSGD converges for every τ" if converges_all else "LSGD does not converge for some τ") + \
        f"; τ=64 sends {comm_cut:.0f}× fewer floats than τ=1. " + "; ".join(parts) + "."

    figure = None
    if figure_dir is not None:
        figure = _plot(Path(figure_dir), curves, sgd_ref)

    return CheckResult(
        name=NAME, claim=CLAIM,
        reading=(f"Equal gradient budget ({steps} steps × {WORKERS} workers) for every τ in {list(PERIODS)}. "
                 f"LSGD pulls with λ = {PULL} per communication. Converges: mean-worker gap over the last 10% of "
                 f"the run ≤ {CONVERGED:.0%} of the initial gap and finite. Modest cost: gap(τ) ≤ {MODEST:g} × "
                 "gap(τ=1) (means over seeds). holds: both for all τ on both problems; holds under conditions: "
                 "converges for all τ but the cost is not modest for some τ; fails: no convergence for some τ."),
        setting={"steps": steps, "workers": WORKERS, "seeds": seeds, "periods": list(PERIODS),
                 "quadratic": {"dim": 20, "cond": 20.0, "grad_noise": 2.0, "lr": "0.2/L"},
                 "logistic": {"n_samples": 500 if quick else 1000, "dim": 10 if quick else 20, "batch_size": BATCH,
                              "lr": "0.5/L"},
                 "lsgd": {"pull": PULL}, "lsgd-scaled": {"pull": "1 - (1 - 0.1)^τ"},
                 "easgd": {"alpha": f"0.9/{WORKERS}", "beta": 0.9}},
        measured={"curves": curves, "sgd_no_communication": sgd_ref, "per_problem": checks},
        expected={"converged_relative_gap_max": CONVERGED, "modest_degradation_max": MODEST},
        verdict=verdict, summary=summary, figure=figure,
        elapsed_s=time.perf_counter() - start)


def _plot(figure_dir: Path, curves, sgd_ref) -> str:
    from lsgdsim.plotting import COLORS, save, subplots

    fig, axes = subplots(2, 2, width=4.4, height=3.0)
    styles = {"lsgd": (COLORS["lsgd"], "-", "LSGD, λ fixed per comm."),
              "lsgd-scaled": (COLORS["lsgd"], "--", "LSGD, λ_τ = 1 − (1 − λ)^τ"),
              "easgd": (COLORS["easgd"], "-", "EASGD, α = 0.9/p")}
    for row, (problem, by_method) in enumerate(curves.items()):
        ax_tau, ax_floats = axes[row, 0], axes[row, 1]
        for method, rows in by_method.items():
            color, ls, label = styles[method]
            tau = np.array([r["period"] for r in rows])
            gap = np.array([r["gap"] for r in rows])
            ci = np.nan_to_num(np.array([r["gap_ci"] for r in rows]))
            ax_tau.errorbar(tau, gap, yerr=np.minimum(ci, 0.95 * gap), color=color, ls=ls, marker="o", ms=3,
                            capsize=2, label=label)
            floats = np.array([r["floats"] for r in rows], dtype=float)
            ax_floats.plot(floats, gap, color=color, ls=ls, marker="o", ms=3, label=label)
            for f, g, t in zip(floats, gap, tau, strict=True):
                if method != "lsgd-scaled":
                    ax_floats.annotate(f"{t}", (f, g), fontsize=6, xytext=(2, 2), textcoords="offset points")
        for ax in (ax_tau, ax_floats):
            ax.axhline(sgd_ref[problem]["gap"], color=COLORS["sgd"], ls=":", lw=1, label="SGD, no communication")
        ax_tau.set(xscale="log", yscale="log", xlabel="communication period τ", ylabel="final mean-worker gap",
                   title=f"{problem}: gap vs τ (equal gradients)")
        ax_tau.set_xticks(PERIODS, [str(t) for t in PERIODS])
        ax_floats.set(xscale="log", yscale="log", xlabel="floats communicated", ylabel="final mean-worker gap",
                      title=f"{problem}: gap vs communication (labels: τ)")
        ax_tau.legend(fontsize=7)
    path = figure_dir / f"{NAME}.png"
    save(fig, path)
    return f"{figure_dir.name}/{path.name}"
