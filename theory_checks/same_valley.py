"""Reviewers 1 and 2 — do the workers lie in the same valley, or are they stranded in averaged locations?

Question (reviews: "no evidence that the workers lie in the same valley"; "are the other workers stranded
in averaged locations?"). The paper answers in words only. Measured here on five non-convex landscapes:
Rastrigin and Ackley (2-D, a lattice of local minima of different depth), the double well (2-D, two equal
minima ±e₁ and a saddle), the ring sin(r)/r (rings of minima of different depth) and matrix completion
f(U) = ¼‖P_Ω(UUᵀ − M)‖² (n = 12, rank 2, 70% of the entries observed, a new problem per seed).

Reading. 8 workers, deterministic gradients, independent starts (shared by every method of a seed), around
a centre drawn per seed off the global minimum (uniform in [−3, 3]² on Rastrigin and Ackley, [−10, 10]² for
the ring's disk of radius 22; centred starts made any gathering drift into a good valley).
At each record every worker is assigned to a *valley*: the local minimum that plain gradient descent from
its position reaches (one vectorized descent over all workers, records and runs of a landscape). Valleys
are identified by: the nearest lattice point (Rastrigin, Ackley), the sign of x₁ (double well), the nearest
ring of minima (ring), and for matrix completion *up to the symmetry* U ↦ UQ: the global minima form the
orbit {U*Q : Q orthogonal}, which has two connected components (det Q = ±1; for rank 1 these are ±U*), so
a valley is the component reached (the sign of det of the Procrustes rotation, once GD is within 5% of
‖U*‖ of the orbit), and a point from which GD does not reach the orbit within its budget is labelled
"not a global solution". A valley's value is its minimum's f. The *leader* is the best worker (lowest f)
at the record, for every method and control. Per run: the share of workers in the leader's valley over
time, the median distance of the non-leaders to the leader, and the mean valley value of the workers at
the end; the *valley gain* is SGD's mean final worker valley value (no communication, same starts: where
a typical worker ends alone) minus the method's (≥ 0: the workers end, on average, in valleys no worse than
alone). Stronger, reported but not judged: whether the leader's final valley is as good as the best valley
any worker reaches alone ("keeps the best valley", share of seeds) — a strong early pull can gather the
workers in the valley of the early leader and lose a better valley that another worker started in.
Methods: LSGD (pull λ every τ steps), EASGD (α = λ, β = min(0.9, pα), period τ), LocalSGD (average every
τ), SGD; λ ∈ {0.02, 0.05, 0.2}, τ ∈ {1, 4, 16} (quick mode: LSGD (0.05, 1), (0.2, 1), (0.2, 16), EASGD
(0.2, 1), LocalSGD τ = 4).

A cell (landscape, method, λ, τ) *gathers in a no-worse valley* when the final share in the leader's
valley, averaged over seeds, is at least GATHER = 0.9 and the valley gain is ≥ 0 (up to VALUE_TOL).

Leader dependence and controls. Gathering itself is not what the leader adds: any strong enough pull
toward any one worker gathers the workers. What the leader adds is *which* valley: pulled toward the best
worker they gather in its valley, no worse than where they would end alone. The main LSGD setting is
repeated with a worst leader (every pull toward the worst worker) and a random one; on Rastrigin and Ackley
the worst leader gathers them in bad valleys (negative gain) or not at all. On the double well and matrix
completion every valley is a global minimum, so there the gain is 0 for every method (leader-independent).

The verdict also asks what the leader adds over a random leader in the main setting (run in every mode):
paired over seeds, d_s = the workers' mean final valley value under a random leader minus under the rule's;
on every landscape whose valleys differ (not the double well or matrix completion, where d ≡ 0) its 95%
lower end must be > 0. 12 seeds in full mode (the 8 of before left the ring at −0.009; the record gives
the seeds that would separate), 5 in quick mode, which is too few on Rastrigin and the ring and says so.

Verdict (computed): "fails" unless the leader beats a random one as above; "holds" if LSGD's main setting
(λ = 0.2, τ = 1) gathers in a no-worse valley on all five landscapes and every LSGD cell of the grid does;
"holds under conditions" if the main setting does on all five but some cells (small λ, large τ) do not —
the summary and the record list every one; "fails" otherwise.
EASGD and LocalSGD are reported beside it (they may gather, in averaged valleys).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, leaders, simulate

from ._same_valley import LANDSCAPES, Landscape, descend, start
from ._stats import paired
from .controls import control_modes, leader_rule, reference, with_reference
from .progress import Progress
from .record import CheckRecord

NAME = "same-valley"
CLAIM = ("Pulling toward the leader gathers the workers in one valley, the leader's, no worse than where they "
         "would end alone; are the others stranded in averaged locations?")
LEADER_DEPENDENT = True
CAPTION = ("Share in the best worker's valley (λ = 0.2, τ = 1); non-leaders' distance; gathered over (λ, "
           "τ); gains.")

WORKERS = 8
GATHER = 0.9            # a cell gathers when ≥ 90% of the workers end in the leader's valley (seed mean)
VALUE_TOL = 1e-6        # valley gain ≥ −VALUE_TOL: no worse than a worker alone
EASGD_BETA = 0.9        # EASGD's center rate β = min(EASGD_BETA, p·α) (β = pα must stay ≤ 1)
MAIN = (0.2, 1)         # LSGD's main setting (λ, τ); EASGD is compared at α = λ, the same τ
LAMBDAS, PERIODS = (0.02, 0.05, 0.2), (1, 4, 16)
QUICK_LSGD = ((0.05, 1), (0.2, 1), (0.2, 16))
LOCAL_PERIOD = 4        # LocalSGD's period in the time curves
RECORDS = 10
CURVES = ("lsgd", "easgd", "localsgd", "sgd", "random leader", "worst leader")


# -- runs ------------------------------------------------------------------------------------------
def algorithm(family: str, lr: float, lam, tau, mode: str | None = None):
    if family == "lsgd":
        return algorithms.LSGD(lr=lr, pull=lam, period=tau, leader=leader_rule(leaders.Exact(), mode))
    if family == "easgd":
        return algorithms.EASGD(lr=lr, alpha=lam, beta=min(EASGD_BETA, WORKERS * lam), period=tau)
    if family == "localsgd":
        return algorithms.LocalSGD(lr=lr, period=tau)
    return algorithms.SGD(lr=lr)


def _positions(t, X, state, values):
    return {"x": X}


def trajectory(obj, alg, x0, steps: int) -> dict:
    """Positions (R, p, d), values (R, p), distances to the best worker (R, p), steps (R,), final center (d,)."""
    res = simulate(obj, alg, workers=WORKERS, steps=steps, x0=x0, record_every=steps // RECORDS,
                   monitor=_positions)
    center = res.center if res.center is not None else res.x.mean(axis=0)
    return {"X": res.monitor["x"], "f": res.f, "dist": res.dist_to_leader, "steps": res.steps, "center": center}


def run_stats(run: dict, labels, values, center_value) -> dict:
    """Share of workers in the best worker's valley (R,), non-leaders' median distance to it (R,), final valleys."""
    R = labels.shape[0]
    best = np.argmin(run["f"], axis=1)
    share = np.mean(labels == labels[np.arange(R), best][:, None], axis=1)
    others = np.ones_like(labels, dtype=bool)
    others[np.arange(R), best] = False
    dist = np.median(run["dist"][others].reshape(R, -1), axis=1)
    return {"share": share, "dist": dist, "valley_mean": float(values[-1].mean()),
            "leader_valley": float(values[-1, best[-1]]), "center_valley": float(center_value)}


def landscape_runs(spec: Landscape, settings, seeds, quick: bool, progress: Progress) -> dict:
    """{setting: [stats per seed]} for one landscape; the valleys of all runs come from one batched descent."""
    steps = spec.quick_steps if quick else spec.steps
    runs, keys = [], []
    for s in seeds:
        obj = spec.make(s)
        x0 = start(spec, obj, np.random.default_rng([s, 13]), WORKERS)
        for key in settings:
            family, lam, tau, mode = key
            runs.append(trajectory(obj, algorithm(family, spec.lr, lam, tau, mode), x0, steps))
            keys.append((s, key))
            progress.advance()
    out: dict = {key: [] for key in settings}
    by_seed: dict = {}
    for (s, key), run in zip(keys, runs, strict=True):
        by_seed.setdefault(s, []).append((key, run))
    for s, items in by_seed.items():
        obj = spec.make(s)
        pts = np.concatenate([np.concatenate([r["X"].reshape(-1, obj.dim), r["center"][None]]) for _, r in items])
        labels, values = spec.valleys(obj, descend(obj, pts, spec.descent_lr, spec.descent_steps, spec.gtol,
                                                        spec.settled), spec)
        n = items[0][1]["X"].shape[0] * WORKERS + 1
        for k, (key, run) in enumerate(items):
            lab, val = labels[k * n:(k + 1) * n], values[k * n:(k + 1) * n]
            out[key].append({**run_stats(run, lab[:-1].reshape(-1, WORKERS), val[:-1].reshape(-1, WORKERS),
                                         val[-1]), "steps": run["steps"]})
    return out


def cell(stats: list[dict], sgd: list[dict]) -> dict:
    """Seed means of one setting, paired with SGD's run from the same starts: the valley gain (SGD's mean final
    worker valley value minus this run's) and the share of seeds whose final leader valley is as good as the
    best SGD worker's ("keeps the best valley")."""
    pairs = list(zip(stats, sgd, strict=True))
    gain = np.mean([b["valley_mean"] - a["valley_mean"] for a, b in pairs])
    kept = np.mean([a["leader_valley"] <= b["leader_valley"] + VALUE_TOL for a, b in pairs])
    share_end = float(np.mean([s["share"][-1] for s in stats]))
    dist0 = np.mean([s["dist"][0] for s in stats])
    return {"share_end": share_end, "share_start": float(np.mean([s["share"][0] for s in stats])),
            "valley_gain": float(gain), "keeps_best_valley": float(kept),
            "valley_mean": float(np.mean([s["valley_mean"] for s in stats])),
            "leader_valley": float(np.mean([s["leader_valley"] for s in stats])),
            "center_valley": float(np.mean([s["center_valley"] for s in stats])),
            "dist_end_over_start": float(np.mean([s["dist"][-1] for s in stats]) / max(dist0, 1e-300)),
            "gathers": gathers(share_end, float(gain))}


def gathers(share_end: float, gain: float) -> bool:
    return bool(share_end >= GATHER and gain >= -VALUE_TOL)


# -- the check -------------------------------------------------------------------------------------
def settings_for(quick: bool, leader: str | None, controls: bool) -> list[tuple]:
    """(family, λ, τ, control mode) of every run of one seed; the controls repeat LSGD's main setting."""
    lsgd = QUICK_LSGD if quick else [(lam, tau) for lam in LAMBDAS for tau in PERIODS]
    easgd = [MAIN] if quick else [(lam, tau) for lam in LAMBDAS for tau in PERIODS]
    local = (LOCAL_PERIOD,) if quick else PERIODS
    return ([("lsgd", lam, tau, leader) for lam, tau in lsgd] + [("easgd", lam, tau, None) for lam, tau in easgd]
            + [("localsgd", None, tau, None) for tau in local] + [("sgd", None, None, None)]
            + [("lsgd", *MAIN, mode) for mode in with_reference(control_modes(leader, controls), leader)])


def over_random(right: list[dict], random: list[dict]) -> dict:
    """Paired over seeds, d_s = mean final valley value under a random leader − under the installed one (> 0:
    the installed leader's workers end in better valleys); mean, 95% lower end, seeds that would separate.
    Where every valley is a global minimum (double well, matrix completion) d ≡ 0: leader-independent."""
    d = [b["valley_mean"] - a["valley_mean"] for a, b in zip(right, random, strict=True)]
    return {**paired(d), "leader_independent": bool(np.max(np.abs(d)) <= VALUE_TOL)}


def _key(family, lam, tau) -> str:
    return family if lam is None and tau is None else f"{family} λ={lam:g} τ={tau}" if lam is not None \
        else f"{family} τ={tau}"


READING = ("Valley: the minimum plain GD reaches from a worker (matrix completion: the det Q = ±1 component of "
           "{U*Q}); leader: the best worker. Gathers: ≥ 90% end in its valley, on average no worse than alone (SGD).")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    seeds = tuple(range(seed, seed + (5 if quick else 12)))
    settings = settings_for(quick, leader, controls)
    modes = control_modes(leader, controls)
    progress.expect(len(LANDSCAPES) * len(seeds) * len(settings))
    main_lsgd, main_easgd = ("lsgd", *MAIN, leader), ("easgd", *MAIN, None)
    local_curve, sgd = ("localsgd", None, LOCAL_PERIOD, None), ("sgd", None, None, None)
    # One curve per entry of CURVES; a control's curve stays NaN unless it was measured as a control.
    curve_keys = [main_lsgd, main_easgd, local_curve, sgd] + [("lsgd", *MAIN, m) if m in modes else None
                                                              for m in ("random", "worst")]
    shares = np.full((len(LANDSCAPES), len(CURVES), RECORDS + 1), np.nan)
    dists = shares.copy()
    steps = np.zeros((len(LANDSCAPES), RECORDS + 1), dtype=np.int64)
    grid = {f: np.full((len(LANDSCAPES), len(LAMBDAS), len(PERIODS)), np.nan) for f in ("lsgd", "easgd")}
    measured, ctrl = {}, {m: {} for m in modes}
    for li, spec in enumerate(LANDSCAPES):
        runs = landscape_runs(spec, settings, seeds, quick, progress)
        cells = {}
        for key, stats in runs.items():
            family, lam, tau, mode = key
            c = cell(stats, runs[sgd])
            if mode is not None and mode != leader:     # a control, or the random reference of the verdict
                if mode in ctrl:
                    ctrl[mode][spec.label] = c
                continue
            cells[_key(family, lam, tau)] = {"family": family, "lambda": lam, "tau": tau, **c}
            if family in grid:
                grid[family][li, LAMBDAS.index(lam), PERIODS.index(tau)] = c["share_end"]
        for ci, key in enumerate(curve_keys):
            if key in runs:
                shares[li, ci] = np.mean([s["share"] for s in runs[key]], axis=0)
                dists[li, ci] = np.mean([s["dist"] for s in runs[key]], axis=0)
        steps[li] = runs[sgd][0]["steps"]
        ref = reference(leader, runs[main_lsgd], {"random": runs.get(("lsgd", *MAIN, "random"))})
        measured[spec.label] = {"main": cells[_key("lsgd", *MAIN)], "cells": cells,
                                "over_random": over_random(runs[main_lsgd], ref)}
    setting = {"workers": WORKERS, "seeds": list(seeds), "grad_noise": 0.0, "records": RECORDS,
               "main": {"lambda": MAIN[0], "tau": MAIN[1]}, "lambdas": list(LAMBDAS), "periods": list(PERIODS),
               "runs": [list(s) for s in settings], "easgd_beta": f"min({EASGD_BETA}, p·α)",
               "landscapes": [{"label": s.label, "lr": s.lr, "steps": s.quick_steps if quick else s.steps,
                               "descent": {"lr": s.descent_lr, "max_steps": s.descent_steps, "gtol": s.gtol}}
                              for s in LANDSCAPES], "leader": leader or "exact"}
    rec = CheckRecord(
        name=NAME, claim=CLAIM, reading=READING, setting=setting, measured={"landscapes": measured},
        expected={"gather": f"final share in the leader's valley ≥ {GATHER} (seed mean)",
                  "valley_gain": "≥ 0: the workers' valleys no worse than alone (SGD, no communication)"},
        controls={m: {"landscapes": c} for m, c in ctrl.items()},
        arrays={"share": shares, "dist": dists, "steps": steps, "grid_lsgd": grid["lsgd"], "grid_easgd": grid["easgd"]},
        details={"curves": [_key(*k[:3]) for k in curve_keys[:4]] + ["random leader", "worst leader"]})
    rec.measured["not_gathering"] = _not_gathering(rec)        # every LSGD setting that fails somewhere, listed
    return rec


# -- judging and drawing (pure functions of the record) ---------------------------------------------
def _lsgd_cells(record) -> list[tuple[str, dict]]:
    return [(lab, c) for lab, v in record.measured["landscapes"].items() for c in v["cells"].values()
            if c["family"] == "lsgd"]


def _main_count(landscapes: dict) -> int:
    return sum(bool(v["main"]["gathers"] if "main" in v else v["gathers"]) for v in landscapes.values())


def _beats_random(landscapes: dict) -> bool:
    """On every landscape whose valleys differ, the leader's workers end in significantly better valleys than
    under a random leader (95% lower end of the paired difference > 0)."""
    return all(v["over_random"]["leader_independent"] or v["over_random"]["lower"] > 0 for v in landscapes.values())


def verdict(record: CheckRecord) -> str:
    lands = record.measured["landscapes"]
    if _main_count(lands) < len(lands) or not _beats_random(lands):
        return "fails"
    return "holds" if all(c["gathers"] for _, c in _lsgd_cells(record)) else "holds under conditions"


def _not_gathering(record) -> list[str]:
    """Every LSGD setting (λ, τ) where some landscape does not gather, with how many of the landscapes."""
    bad: dict = {}
    for _, c in _lsgd_cells(record):
        if not c["gathers"]:
            key = f"λ={c['lambda']:g} τ={c['tau']}"
            bad[key] = bad.get(key, 0) + 1
    n = len(record.measured["landscapes"])
    return [f"{k} ({m}/{n})" for k, m in bad.items()]


def _family_count(record, key: str) -> str:
    lands = record.measured["landscapes"]
    cells = [v["cells"][key] for v in lands.values() if key in v["cells"]]
    return f"{sum(c['gathers'] for c in cells)}/{len(cells)}"


def summary(record: CheckRecord) -> str:
    lands = record.measured["landscapes"]
    lam, tau = record.setting["main"]["lambda"], record.setting["main"]["tau"]
    text = (f"At λ={lam:g}, τ={tau} LSGD gathers the workers in a no-worse valley on {_main_count(lands)}/"
            f"{len(lands)} landscapes; EASGD {_family_count(record, f'easgd λ={lam:g} τ={tau}')}.")
    differ = [v["over_random"] for v in lands.values() if not v["over_random"]["leader_independent"]]
    beat = [r for r in differ if r["lower"] > 0]
    text += f" Better valleys than a random leader (95%) on {len(beat)}/{len(differ)} landscapes whose valleys differ"
    need = max((r["seeds_to_separate"] for r in differ if r["lower"] <= 0), default=0)
    seeds = len(record.setting["seeds"])
    text += f" ({seeds} seeds; about {need} would separate)." if seeds < need < 10_000 else "."
    bad = _not_gathering(record)
    if bad:
        text += " Not at " + ", ".join(bad) + "."
    worst = record.controls.get("worst")
    if worst:
        text += f" Worst leader: {_main_count(worst['landscapes'])}/{len(lands)}."
    return text


def key_numbers(record: CheckRecord) -> list[dict]:
    lands, c = record.measured["landscapes"], record.controls
    lam, tau = record.setting["main"]["lambda"], record.setting["main"]["tau"]
    mains = {"measured": [v["main"] for v in lands.values()], **{m: list(c[m]["landscapes"].values()) for m in c}}

    def per_run(text):                         # one cell per column: the right leader's and each control's
        return {col: text(cells) for col, cells in mains.items()}

    cells = _lsgd_cells(record)
    easgd = f"easgd λ={lam:g} τ={tau}"
    averaged = [v["cells"][easgd]["valley_mean"] - v["main"]["valley_mean"] for v in lands.values()
                if easgd in v["cells"]]
    return [
        {"quantity": f"LSGD λ={lam:g} τ={tau}: landscapes gathered",
         **per_run(lambda cs: f"{sum(x['gathers'] for x in cs)}/{len(cs)}"),
         "expected": f"all ({len(lands)}/{len(lands)})"},
        {"quantity": "LSGD main: min final share; min gain",
         **per_run(lambda cs: f"{min(x['share_end'] for x in cs):.2f}; {min(x['valley_gain'] for x in cs):.2f}"),
         "expected": f"≥ {GATHER}; ≥ 0"},
        {"quantity": "LSGD (λ, τ) cells gathered", "measured": f"{sum(x['gathers'] for _, x in cells)}/{len(cells)}",
         "expected": "all for holds"},
        {"quantity": "EASGD gathered; valley − LSGD's (max)",
         "measured": f"{_family_count(record, easgd)}; {max(averaged, default=float('nan')):+.2f}",
         "expected": "free"},
        {"quantity": "LSGD main keeps the best valley (seeds)",
         **per_run(lambda cs: "–".join(f"{f(x['keeps_best_valley'] for x in cs):.0%}" for f in (min, max))),
         "expected": "free"},
    ]


def figure(record: CheckRecord):
    from lsgdsim import plotting
    labels = list(record.measured["landscapes"])
    # two rows of four panels, a row for the distance panel's legend, the methods' legend at the bottom
    fig, gs = plotting.grid(3, 4, width=10.0, height=6.8, height_ratios=(1, 1, 0.02))
    axes = np.array([plotting.panel(fig, gs[i, j]) for i in range(2) for j in range(4)])
    share, dist, steps = record.arrays["share"], record.arrays["dist"], record.arrays["steps"]
    styles = {"lsgd": ("-", 2.4), "sgd": (":", 1.2), "random leader": ("--", 1.2), "worst leader": ("--", 1.2)}
    order = [1, 2, 3, 4, 5, 0]                       # LSGD last, on top of the curves it may coincide with
    for li, lab in enumerate(labels):
        ax = axes.flat[li]
        for ci in order:
            if np.all(np.isnan(share[li, ci])):
                continue
            ls, lw = styles.get(CURVES[ci], ("-", 1.2))
            ax.plot(steps[li], share[li, ci], ls, color=plotting.COLORS[CURVES[ci]], lw=lw,
                    label=record.details["curves"][ci] if li == 0 else None)
        ax.axhline(GATHER, color=plotting.COLORS["bound"], lw=0.7, ls=":")
        ax.set(title=lab, xlabel="steps", ylabel="share in leader's valley", ylim=(-0.03, 1.05))
    ax = axes.flat[5]
    for li, lab in enumerate(labels):
        d = dist[li, 0] / max(dist[li, 0, 0], 1e-300)
        ax.semilogy(steps[li] / steps[li, -1], np.maximum(d, 1e-12), label=lab)
    ax.set(title="LSGD: non-leaders'\ndistance to leader", xlabel="fraction of the run (steps / T)",
           ylabel="median distance / start\n(floor 1e-12)")
    plotting.legend_row(fig, gs[2, 1], *ax.get_legend_handles_labels(), ncol=2, columnspacing=1.0)
    _grid_panel(axes.flat[6], record)
    _gain_panel(axes.flat[7], record, plotting)
    handles, names = axes.flat[0].get_legend_handles_labels()
    with plotting.style():
        fig.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8)
    return fig


def _grid_panel(ax, record):
    """LSGD over (λ, τ): on how many landscapes the cell gathers in a no-worse valley."""
    lams, periods = record.setting["lambdas"], record.setting["periods"]
    count = np.full((len(lams), len(periods)), np.nan)
    for _, c in _lsgd_cells(record):
        i, j = lams.index(c["lambda"]), periods.index(c["tau"])
        count[i, j] = np.nan_to_num(count[i, j]) + c["gathers"]
    n = len(record.measured["landscapes"])
    ax.imshow(np.ma.masked_invalid(count), vmin=0, vmax=n, cmap="viridis", origin="lower", aspect="auto")
    for i, j in zip(*np.nonzero(~np.isnan(count)), strict=True):
        ax.text(j, i, f"{count[i, j]:.0f}/{n}", ha="center", va="center", fontsize=8,
                color="white" if count[i, j] < 0.6 * n else "black")
    ax.set_xticks(range(len(periods)), [str(t) for t in periods])
    ax.set_yticks(range(len(lams)), [f"{v:g}" for v in lams])
    ax.set(title="LSGD: landscapes\ngathered", xlabel="period τ (steps)", ylabel="pull λ per communication")
    ax.grid(False)


def _gain_panel(ax, record, plotting):
    """Valley gain at the main setting per landscape and method (≥ 0: no worse than a worker alone)."""
    lands = record.measured["landscapes"]
    lam, tau = record.setting["main"]["lambda"], record.setting["main"]["tau"]
    rows = {"lsgd": [v["main"] for v in lands.values()],
            "easgd": [v["cells"].get(f"easgd λ={lam:g} τ={tau}") for v in lands.values()],
            "localsgd": [v["cells"].get(f"localsgd τ={LOCAL_PERIOD}") for v in lands.values()]}
    rows.update({f"{m} leader": [c["landscapes"].get(lab) for lab in lands] for m, c in record.controls.items()})
    width = 0.8 / len(rows)
    for k, (name, cells) in enumerate(rows.items()):
        gain = np.array([np.nan if c is None else c["valley_gain"] for c in cells])
        ax.bar(np.arange(len(lands)) + (k - (len(rows) - 1) / 2) * width, np.sign(gain) * np.log10(1 + np.abs(gain)),
               width, color=plotting.COLORS[name])
    ax.axhline(0, color=plotting.COLORS["bound"], lw=0.7)
    ax.set_xticks(range(len(lands)), [lab.split()[0] for lab in lands], fontsize=7.5, rotation=35,
                  ha="right", rotation_mode="anchor")
    ax.set(title="valley gain over\nthe workers alone", xlabel="landscape",
           ylabel="sign·log10(1 + |gain|)\n(f units)")
