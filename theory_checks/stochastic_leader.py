"""Claim 3: choosing the leader from noisy loss estimates costs at most (4/m)·λ·√p·σ_f in the limit.

Theorem (poster, digest §3.3; exact statement not recovered). f m-strongly convex, M-smooth, gradient
noise of variance σ², leader = argmin of unbiased loss estimates f̃(x_i) with variance ≤ σ_f², p
workers, constant η and λ (theory form x⁺ = x − η(g + λ(x − z))):

    limsup_k E f(x_k) − f*  ≤  ½·η·κ·σ²  +  (4/m)·λ·√p·σ_f,

and with η_k, λ_k = Θ(1/k) the rate is again O(1/k). A rough derivation gives 2/m instead of 4/m
(digest §3.3 [RECON]).

Reading tested. Theory-form LSGD (simulator pull = η·λ, τ = 1), leader ``leaders.Noisy(σ_f)`` (scores
f(x_i) + σ_f·ξ_i, fresh ξ_i ~ N(0, 1) each step). σ² is the total gradient-noise variance (per-coordinate
s, σ² = d·s²). The limit E f − f* is the tail time average (after a burn-in of many mixing times) over S
replicas, for the MEAN worker and the WORST worker (the largest per-worker time average). Every rule at one
(p, λ) uses the same gradient noise (common random numbers), so differences are paired per replica.
The EXCESS is the noisy-leader limit minus the exact leader's. References: NO PULL (λ = 0: independent
SGD workers) and a RANDOM PULL (the same pull toward a uniformly chosen worker: a pull without a choice).

What is LSGD-specific, and the verdict's parts. The bound alone cannot tell a right leader from a wrong
one (a worst leader's excess is negative and the bound is ~500× loose). What the claim says about the
leader is that its benefit survives noisy selection: (A) the exact leader's limit is below the random
pull's (the choice helps; > 2 SE at every configuration), (B) the noisy leader's limit is below no pull
(> 2 SE at every configuration), (C) the excess is within the bound and the limit within the whole bound
(violation: more than 2 SE above). A worst or random leader breaks (A).

Settings. Sweep: random quadratic d = 10, κ = 10, m = 1, s = 1, η = 0.02, one-at-a-time around (p = 8,
λ = 2, σ_f = 0.1) in σ_f, p and λ; the authors' window rule (``leaders.Window(10, σ_f)``: the running mean of
the last 10 losses seen with N(0, σ_f²) noise; biased by lag, so not covered by the theorem) is measured on
the σ_f sweep, reported, not judged. Binding attempt: the bound is loosest when λ/m is large, p large and
σ_f far from the spread of the workers' losses, so it is tried at d = 1, κ = 1, p = 2, λ/m ≤ 1, σ_f near
that spread, with Gaussian noise and with ``Skewed`` (an unbiased estimator of variance σ_f² that makes the
worst worker read lowest most of the time: the least favourable estimator of the theorem's class we found).
If no excess comes within 1/4 of the bound (upper 2 SE end), the record labels the bound "not falsifiable
in this range". The constant needed, max excess·m/(λ√pσ_f), says whether 2/m or 4/m is supported.
O(1/t): η_t = a/(b + t) (a·m = 2, b = aM), λ_t = λ·b/(b + t) (so the pull η_t·λ_t ∝ 1/t², as the theorem
assumes), noisy (σ_f = 0.3) and exact leader; tail slope of the mean worker's gap against log(b + t),
bootstrap CI over replicas. A constant-λ run (pull ∝ 1/t) is shown beside it, not judged.

Sample sizes. The record's ``precision`` gives, for (A) and (B) at every configuration, the replicas the
"> 2 SE" comparison needs (n·(2 SE/gain)², the SE narrowing like 1/√n) and whether S reached it.

Verdict (computed). "fails" if (A) or (B) fails at some configuration, or (C) is violated anywhere; else
"holds" if the noisy leader's λ_t = Θ(1/t) slope is ≤ −0.9 (95% CI upper end), "holds under conditions"
if it is not.
"""
from __future__ import annotations

import math

import numpy as np

from lsgdsim import leaders, objectives
from lsgdsim.schedules import InverseTime

from . import _stochastic_leader as sl
from ._convex import derive_seed, plot_tail_fit
from ._stats import precision, thin_note
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "stochastic-leader"
CLAIM = ("With the leader chosen by unbiased loss estimates of variance σ_f², constant η, λ: "
         "limsup E f − f* ≤ ½ηκσ² + (4/m)λ√p σ_f; with η_t, λ_t = Θ(1/t) the rate is again O(1/t).")
LEADER_DEPENDENT = True
CAPTION = ("Limits vs λ per leader; excess over the exact leader vs the bound; O(1/t) with λ_t ∝ 1/t.")

SLOPE_TOL = -0.9
FALSIFIABLE = 0.25        # the bound is testable here if some excess (upper 2 SE end) reaches this share of it
ETA, NOISE = 0.02, 1.0    # constant step; per-coordinate gradient noise s
BASE = {"p": 8, "lam": 2.0, "sigma_f": 0.1}
WINDOW = 10               # the authors' window (digest §2.8, CIFAR-10)
SKEW_PI = 0.8
RECOVERY_SIGMA_F, RECOVERY_NOISE = 0.3, 0.5
SIZES = {
    True: {"S": 24, "T": 1000, "burn": 300,     # burn-in: 6 relaxation times 1/(mη) of the slowest mode
           "grid": {"sigma_f": [0.01, 0.1, 1.0], "p": [2, 8, 32], "lam": [0.5, 2.0, 8.0]},
           "bind": {"S": 128, "T": 1000, "burn": 300, "lam": [0.1, 1.0], "sigma_f": [0.003, 0.01]},
           "recovery": {"S": 16, "T": 2000}},
    False: {"S": 48, "T": 4000, "burn": 1000,
            "grid": {"sigma_f": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0], "p": [2, 4, 8, 16, 32],
                     "lam": [0.5, 1.0, 2.0, 4.0, 8.0]},
            "bind": {"S": 64, "T": 4000, "burn": 1000, "lam": [0.1, 0.3, 1.0], "sigma_f": [0.001, 0.003, 0.01, 0.03]},
            "recovery": {"S": 48, "T": 20000}},
}


def sweep_configs(grid: dict) -> list[dict]:
    """One-at-a-time configurations around BASE, without repeats (BASE first appears once)."""
    out = []
    for name, values in grid.items():
        for v in values:
            cfg = {**BASE, name: v}
            if cfg not in out:
                out.append(cfg)
    return out


def sweep_rows(limits, configs, mode, m, floor, window: bool, progress) -> list[dict]:
    """One row per configuration with the leader rules built under control ``mode``."""
    rows = []
    for cfg in configs:
        p, lam, sf = cfg["p"], cfg["lam"], cfg["sigma_f"]
        rules = {"exact": leader_rule(leaders.Exact(), mode), "noisy": leader_rule(leaders.Noisy(sf), mode)}
        if window and p == BASE["p"] and lam == BASE["lam"]:
            rules["window"] = leader_rule(leaders.Window(WINDOW, sf), mode)
        row = sl.limit_row(limits, p, lam, sf, rules)
        row.update(sl.bound_fields(row, "noisy", m, floor))
        row["inside_derived_step_condition"] = bool(ETA <= min(1 / (2 * limits.obj.L), m / (2 * limits.obj.L * lam)))
        if "window" in rules:
            row["window"] = sl.bound_fields(row, "window", m, floor)
        rows.append(row)
        progress.advance()
    return rows


def leader_stats(rows) -> dict:
    """(A) the choice helps and (B) the noisy leader beats no pull, counted over configurations."""
    choice = [r["choice_gain"] - 2 * r["choice_gain_se"] > 0 for r in rows]
    beats = [r["gain_over_nopull_noisy"] - 2 * r["gain_over_nopull_noisy_se"] > 0 for r in rows]
    kept = [(r["limit_random"] - r["limit_noisy"]) / (r["limit_random"] - r["limit_exact"])
            if r["limit_random"] > r["limit_exact"] else math.nan for r in rows]
    return {"configs": len(rows), "choice_helps": int(sum(choice)), "noisy_beats_nopull": int(sum(beats)),
            "min_choice_gain_z": min(r["choice_gain"] / max(r["choice_gain_se"], 1e-300) for r in rows),
            "min_gain_over_nopull_z": min(r["gain_over_nopull_noisy"] / max(r["gain_over_nopull_noisy_se"], 1e-300)
                                          for r in rows),
            "kept_share_of_choice_gain": [None if math.isnan(k) else k for k in kept],
            "ok": bool(all(choice) and all(beats))}


def binding_rows(seed, mode, size, progress) -> list[dict]:
    """The attempt to make the bound bind: d = 1, κ = 1, p = 2, small λ/m, σ_f near the loss spread."""
    obj = objectives.Quadratic(A=np.array([[1.0]]))
    floor = 0.5 * ETA * 1.0 * NOISE ** 2
    limits = sl.Limits(obj, ETA, NOISE, size["S"], size["T"], size["burn"],
                       lambda p, lam: derive_seed(seed, 205, p, int(lam * 1000)))
    rows = []
    for lam in size["lam"]:
        for sf in size["sigma_f"]:
            rules = {"exact": leader_rule(leaders.Exact(), mode), "noisy": leader_rule(leaders.Noisy(sf), mode),
                     "skewed": leader_rule(sl.Skewed(sf, SKEW_PI, 2), mode)}
            row = sl.limit_row(limits, 2, lam, sf, rules)
            row.update({f"{k}_{name}": v for name in ("noisy", "skewed")
                        for k, v in sl.bound_fields(row, name, 1.0, floor).items()})
            rows.append(row)
            progress.advance()
    return rows


def recovery(obj, seed, mode, size) -> dict:
    """η_t = a/(b + t), λ_t = λ·b/(b + t): noisy and exact leader; constant λ for comparison."""
    a = 2.0 / obj.mu
    b = a * obj.L
    lr, lam, p = InverseTime(a, b), BASE["lam"], BASE["p"]
    noisy = leader_rule(leaders.Noisy(RECOVERY_SIGMA_F), mode)
    runs = {"noisy": (lr, sl.TheoryPull(a, b, lam), noisy, p),
            "exact": (lr, sl.TheoryPull(a, b, lam), leader_rule(leaders.Exact(), mode), p),
            "noisy_constant_lambda": (lr, InverseTime(a * lam, b), noisy, p)}
    curves = sl.recovery_curves(obj, runs, size["S"], size["T"], RECOVERY_NOISE, derive_seed(seed, 204),
                                derive_seed(seed, 203), b, np.random.default_rng(derive_seed(seed, 202)))
    return {"a": a, "b": b, "curves": curves}


READING = ("Theory-form LSGD, leader = argmin f + N(0, σ_f²); limit = tail average over replicas. Exact leader < "
           "random pull, noisy leader < no pull at every config (paired, > 2 SE); excess ≤ bound; λ_t ∝ 1/t slope ≤ "
           "−0.9.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    size = SIZES[bool(quick)]
    modes = control_modes(leader, controls)
    obj = objectives.Quadratic.random(dim=10, cond=10.0, mu=1.0, seed=derive_seed(seed, 200) % 2**31)
    m, M, d = obj.mu, obj.L, obj.dim
    floor = 0.5 * ETA * (M / m) * d * NOISE ** 2
    configs = sweep_configs(size["grid"])
    bind = size["bind"]
    progress.expect(len(configs) * (1 + len(modes)) + len(bind["lam"]) * len(bind["sigma_f"]) + 1)
    limits = sl.Limits(obj, ETA, NOISE, size["S"], size["T"], size["burn"],
                       lambda p, lam: derive_seed(seed, 201, p, int(lam * 100)))
    rows = sweep_rows(limits, configs, leader, m, floor, True, progress)
    brows = binding_rows(seed, leader, bind, progress)
    rec = recovery(obj, seed, leader, size["recovery"])
    progress.advance()
    ctrl_rows = {mode: sweep_rows(limits, configs, mode, m, floor, False, progress) for mode in modes}
    record = CheckRecord(
        name=NAME, claim=CLAIM,
        reading=READING,
        setting={"dim": d, "cond": M / m, "m": m, "M": M, "eta": ETA, "grad_noise_per_coord": NOISE,
                 "sigma2_total": d * NOISE ** 2, "replicas": size["S"], "steps": size["T"], "burn_in": size["burn"],
                 "base": BASE, "grid": size["grid"], "window": WINDOW,
                 "binding": {**bind, "dim": 1, "cond": 1.0, "p": 2, "skewed_pi": SKEW_PI},
                 "recovery": {"a": rec["a"], "b": rec["b"], "lam_0": BASE["lam"], "lam_t": "λ·b/(b + t)",
                              "sigma_f": RECOVERY_SIGMA_F, "grad_noise_per_coord": RECOVERY_NOISE,
                              "replicas": size["recovery"]["S"], "steps": size["recovery"]["T"]}, "seed": seed},
        measured=summarize(rows, brows, rec, size["grid"]),
        expected={"choice_and_nopull": "exact < random pull and noisy < no pull (> 2 SE) at every configuration",
                  "excess": "≤ (4/m)·λ·√p·σ_f", "limit": "≤ ½ηκσ² + (4/m)λ√pσ_f",
                  "exponents_at_most": {"sigma_f": 1.0, "p": 0.5, "lam": 1.0},
                  "recovery_slope": f"≤ {SLOPE_TOL} (95% CI upper end)", "sgd_floor_bound": floor},
        controls={mode: {"leader": leader_stats(r), "max_excess_over_bound": max(x["excess_over_bound"] for x in r)}
                  for mode, r in ctrl_rows.items()},
        details={"configs": rows, "binding": brows, "control_rows": ctrl_rows,
                 "recovery_fits": {k: {f: v[f] for f in ("fit_mean", "fit_best")} for k, v in rec["curves"].items()}},
        arrays={"recovery_steps": rec["curves"]["noisy"]["steps"],
                **{f"recovery_{k}": v["mean_curve"] for k, v in rec["curves"].items()}})
    record.measured["precision"] = precision_rows(rows, size["S"])
    return record


def precision_rows(rows, replicas: int) -> list[dict]:
    """(A) and (B) at every configuration as :func:`~theory_checks._stats.precision` entries: a gain judged by
    "> 2 SE" is an interval gain ± 2 SE that narrows like 1/√replicas."""
    out = []
    for r in rows:
        cfg = f"p={r['p']}, λ={r['lam']:g}, σ_f={r['sigma_f']:g}"
        for key, what in (("choice_gain", "exact leader vs random pull"),
                          ("gain_over_nopull_noisy", "noisy leader vs no pull")):
            g, h = r[key], 2 * r[f"{key}_se"]
            out.append(precision(f"{cfg}: {what}", replicas, g, (g - h, g + h), 0.0))
    return out


def summarize(rows, brows, rec, grid) -> dict:
    """The numbers the verdict and the report use."""
    exps = {}
    for name in grid:
        sel = sorted([r for r in rows if all(r[k] == BASE[k] for k in BASE if k != name)], key=lambda r: r[name])
        exps[name] = {w: sl.exponent([r[name] for r in sel], [r[f"excess_noisy{t}"] for r in sel],
                                     [r[f"excess_noisy{t}_se"] for r in sel])
                      for w, t in (("mean", ""), ("worst", "_worst"))}
    upper = max([r["excess_upper_over_bound"] for r in rows]
                + [b[f"excess_upper_over_bound_{n}"] for b in brows for n in ("noisy", "skewed")])
    needed = max([r["constant_needed"] for r in rows] + [b[f"constant_needed_{n}"] for b in brows
                                                           for n in ("noisy", "skewed")])
    win = [r["window"] for r in rows if "window" in r]
    fits = rec["curves"]
    fm = fits["noisy"]["fit_mean"]
    return {
        "configs": len(rows), "leader": leader_stats(rows),
        "bound_term_violations": sum(r["term_violated"] for r in rows)
        + sum(b[f"term_violated_{n}"] for b in brows for n in ("noisy", "skewed")),
        "total_bound_violations": sum(r["total_violated"] for r in rows)
        + sum(b[f"total_violated_{n}"] for b in brows for n in ("noisy", "skewed")),
        "max_excess_over_bound": max(r["excess_over_bound"] for r in rows),
        "median_excess_over_bound": float(np.median([r["excess_over_bound"] for r in rows])),
        "binding_max_excess_over_bound": {n: max(b[f"excess_over_bound_{n}"] for b in brows)
                                          for n in ("noisy", "skewed")},
        "max_excess_upper_over_bound": upper, "bound_falsifiable": bool(upper >= FALSIFIABLE),
        "bound_label": "falsifiable in this range" if upper >= FALSIFIABLE else "not falsifiable in this range",
        "constant_needed": needed,
        "constants_respected": {"4/m": bool(needed <= 4.0), "2/m": bool(needed <= 2.0)},
        "window_max_excess_over_bound": max((w["excess_over_bound"] for w in win), default=math.nan),
        "window_gain_over_nopull_min": min((r["gain_over_nopull_window"] for r in rows if "window" in r),
                                           default=math.nan),
        "exponents": exps,
        "configs_inside_derived_step_condition": int(sum(r["inside_derived_step_condition"] for r in rows)),
        "max_limit_over_total_bound": max(r["limit_over_total_bound"] for r in rows),
        "recovery": {"slope": fm["slope"], "ci": fm["ci"], "ok": bool(fm["ci"][1] <= SLOPE_TOL),
                     "best_worker": {k: fits["noisy"]["fit_best"][k] for k in ("slope", "ci")},
                     "exact": {k: fits["exact"]["fit_mean"][k] for k in ("slope", "ci")},
                     "constant_lambda": {k: fits["noisy_constant_lambda"]["fit_mean"][k] for k in ("slope", "ci")},
                     "C_noisy_over_exact": fm["C"] / fits["exact"]["fit_mean"]["C"]},
    }


# -- judging and reporting (pure functions of the record) -------------------------------------------
def verdict(record: CheckRecord) -> str:
    m = record.measured
    if m["bound_term_violations"] or m["total_bound_violations"] or not m["leader"]["ok"]:
        return "fails"
    return "holds" if m["recovery"]["ok"] else "holds under conditions"


def _falsifiable(m) -> str:
    return "" if m["bound_falsifiable"] else " (not falsifiable in this range)"


def summary(record: CheckRecord) -> str:
    m, ld = record.measured, record.measured["leader"]
    r = m["recovery"]
    worst = record.controls.get("worst", {}).get("leader")
    text = (f"Exact leader beats a random pull at {ld['choice_helps']}/{ld['configs']} configs, noisy beats no pull "
            f"at {ld['noisy_beats_nopull']}/{ld['configs']}; excess ≤ {m['max_excess_upper_over_bound']:.2g} "
            f"of the bound{_falsifiable(m)}; λ_t∝1/t slope {r['slope']:.2f}.")
    if worst:
        text += f" Worst leader: {worst['choice_helps']}/{worst['configs']}."
    return text + thin_note(m.get("precision", []))


def _ld(stats: dict) -> str:
    return f"{stats['choice_helps']}/{stats['configs']}, min z {stats['min_choice_gain_z']:.1f}"


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c = record.measured, record.controls
    r = m["recovery"]
    return [
        {"quantity": "(A) exact leader below random pull", "measured": _ld(m["leader"]),
         **{k: _ld(v["leader"]) for k, v in c.items()}, "expected": "all, z > 2"},
        {"quantity": "(B) noisy leader below no pull",
         "measured": f"{m['leader']['noisy_beats_nopull']}/{m['configs']}",
         **{k: f"{v['leader']['noisy_beats_nopull']}/{v['leader']['configs']}" for k, v in c.items()},
         "expected": "all, z > 2"},
        {"quantity": "(C) max excess / (4/m)λ√pσ_f",
         "measured": f"{m['max_excess_upper_over_bound']:.2g}" + _falsifiable(m).replace(" (", ": ").rstrip(")"),
         "expected": f"≤ 1 (testable if ≥ {FALSIFIABLE:g})"},
        {"quantity": "constant needed (× λ√pσ_f/m)",
         "measured": f"{m['constant_needed']:.2g} (2/m, 4/m: " + ("both hold)" if m["constants_respected"]["2/m"]
                                                                 else "only 4/m)" if m["constants_respected"]["4/m"]
                                                                 else "neither)"),
         "expected": "≤ 4 (poster), ≤ 2 (derived)"},
        {"quantity": "slope, λ_t ∝ 1/t, noisy leader",
         "measured": f"{r['slope']:.2f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]", "expected": f"≤ {SLOPE_TOL}"},
    ]


def figure(record: CheckRecord):
    from lsgdsim import plotting
    return plotting.row_with_legends([lambda ax, f=f: f(ax, record, plotting)
                                      for f in (_panel_limits, _panel_bound, _panel_recovery)],
                                     height=4.6, fontsize=7.5)


def _lam_sweep(rows):
    sel = sorted([r for r in rows if r["p"] == BASE["p"] and r["sigma_f"] == BASE["sigma_f"]], key=lambda r: r["lam"])
    return np.array([r["lam"] for r in sel]), sel


def _panel_limits(ax, record, plotting):
    C = plotting.COLORS
    lam, sel = _lam_sweep(record.details["configs"])
    get = lambda rows, k: np.array([r[k] for r in rows])   # noqa: E731
    ax.plot(lam, get(sel, "limit_nopull"), "-", color=C["sgd"], label="no pull (SGD)")
    ax.plot(lam, get(sel, "limit_random"), marker="s", ms=3, **plotting.control("random"), label="random pull")
    ax.plot(lam, get(sel, "limit_exact"), "-o", ms=3, color=C["lsgd"], label="exact leader")
    ax.plot(lam, get(sel, "limit_noisy"), "--o", ms=3, mfc="none", color=C["lsgd"],
            label=f"noisy leader, σ_f = {BASE['sigma_f']:g}")
    worst = record.details.get("control_rows", {}).get("worst")
    if worst:
        wl, ws = _lam_sweep(worst)
        ax.plot(wl, get(ws, "limit_exact"), marker="^", ms=3, **plotting.control("worst"), label="worst leader")
    ax.set(xscale="log", xlabel=f"λ (theory pull; p = {BASE['p']})", ylabel="limit E f − f*\n(mean worker)",
           title="what the leader adds")
    ax.set_xticks(lam, [f"{v:g}" for v in lam])
    ax.minorticks_off()


def _panel_bound(ax, record, plotting):
    C = plotting.COLORS
    rows, brows = record.details["configs"], record.details["binding"]
    floor = 1e-6
    pts = [("noisy (sweep)", "o", C["lsgd"], [r["bound_term"] for r in rows],
            [r["excess_upper_over_bound"] * r["bound_term"] for r in rows]),
           ("window rule", "D", plotting.SETTING_COLORS[2], [r["window"]["bound_term"] for r in rows if "window" in r],
            [r["window"]["excess_upper_over_bound"] * r["window"]["bound_term"] for r in rows if "window" in r])]
    for n, mk in (("noisy", "s"), ("skewed", "x")):
        pts.append((f"{n} (binding try)", mk, plotting.SETTING_COLORS[0], [b[f"bound_term_{n}"] for b in brows],
                    [b[f"excess_upper_over_bound_{n}"] * b[f"bound_term_{n}"] for b in brows]))
    allb = []
    for label, mk, color, b, e in pts:
        ax.plot(b, np.maximum(e, floor), mk, ms=4, color=color, mfc="none" if mk in "sD" else color, label=label)
        allb += b
    lim = np.array([min(allb) / 2, max(allb) * 2])
    ax.plot(lim, lim, "-", color=C["bound"], lw=1, label="bound (4/m)λ√pσ_f")
    ax.plot(lim, lim / 2, ":", color=C["bound"], lw=1, label="derived (2/m)λ√pσ_f")
    ax.set(xscale="log", yscale="log", xlabel="(4/m)·λ·√p·σ_f", ylabel="excess over exact leader\n(+2 SE)",
           title="cost of the noisy leader\nvs bound")


def _panel_recovery(ax, record, plotting):
    C = plotting.COLORS
    t = record.arrays["recovery_steps"]
    keep = t > 0
    fits = record.details["recovery_fits"]
    # the noisy leader thick and under, the exact one thin and dashed on top: both stay visible where equal
    for key, style, color, lw, label in (("noisy", "-", C["lsgd"], 2.6, "noisy leader"),
                                         ("exact", "--", "k", 0.9, "exact leader"),
                                         ("noisy_constant_lambda", ":", plotting.SETTING_COLORS[1], 1.4,
                                          "noisy, constant λ")):
        f = fits[key]["fit_mean"]
        ax.loglog(t[keep], record.arrays[f"recovery_{key}"][keep], style, color=color, lw=lw,
                  label=f"{label} (slope {f['slope']:.2f})")
        plot_tail_fit(ax, f, lw=1.2)
    ax.set(xlabel="iterations t", ylabel="E f(x_t) − f*\n(mean worker)",
           title=f"η_t, λ_t ∝ 1/t, σ_f = {RECOVERY_SIGMA_F:g}")
