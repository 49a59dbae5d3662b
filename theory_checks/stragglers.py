"""Algorithm 1 under stragglers: does the total-iteration trigger reach ε sooner, and who leads?

Claim (the paper's Algorithm 1, digest §2.4: "LSGD Algorithm (Asynchronous)"; a round happens when the
total number of local steps over all p workers reaches a multiple of p·τ, so fast workers are not held
back by slow ones). The paper states the algorithm and runs it; it neither measures what the trigger
buys nor asks whether the leader then drifts toward the fast workers (who do more steps between rounds).

Claim tested (precise reading). With heavy-tailed compute times, LSGD with Algorithm 1's total trigger
reaches a gap of ε sooner in simulated time than LSGD with the bulk-synchronous per-worker trigger
(a round every τ of each worker's own steps, everyone waiting for the slowest), at every ε tested.
Reported, not judged: the fast half's share of the leads against its share of the local steps.

What is measured. The noisy quadratic of :mod:`theory_checks._timed` (d = 20, κ = 20, σ = 2, η = 0.2/L),
p = 16 workers, LSGD λ = 0.1, τ = 4, the pull after the local step (Algorithm 1's order) under both
triggers; worker i's step takes m_i·u^(−1/2) s (Pareto of shape 2: infinite variance), m_i rising from
the paper cluster's 4.0 ms (worker 0) to 8.0 ms (worker 15) (:func:`lsgdsim.clock.clusters.with_stragglers`);
one flat 10 Gb/s network (latency 50 µs, CNN7's 1.41 MB a message); 2 s of simulated time. The gap is
the mean over workers of f(x_i) − f* at each record; its time to ε is the first record at or below ε,
with ε = 10% and 2% of the starting gap (both well above the noise floor). Triggers are compared
paired by seed as log(t_own / t_total) with 95% t-intervals.

Leader dependence and controls. The leader part: at the budget's end, the mean gap over the last 10% of
records with the installed leader against a random leader (same trigger, total; the same messages), as
log(gap_random / gap_LSGD); it must be significantly positive. Installing a random, a mid-ranked or the
worst leader leaves it at 0 or below, and the verdict fails; the controls (random, worst) also rerun both
triggers.

Verdict (computed). "fails" if the leader part is not significantly positive (95% lower bound ≤ 0) or the
total trigger is faster at no ε (no 95% lower bound of log(t_own / t_total) > 0); "holds" if it is
faster at every ε; "holds under conditions" otherwise.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms
from lsgdsim.clock.clusters import with_stragglers

from ._timed import flat_clock, leader_part, paired_log_ratio, quadratic, ratio_text, timed
from .controls import control_modes, leader_rule, reference, with_reference
from .progress import Progress
from .record import CheckRecord

NAME = "stragglers"
CLAIM = ("Algorithm 1: with heavy-tailed step times, the total-iteration trigger reaches ε sooner in wall-clock "
         "time than the per-worker trigger (and does the leader drift toward the fast workers?).")
LEADER_DEPENDENT = True
CAPTION = ("Mean-worker gap vs simulated time per trigger (median over seeds; the ε levels dotted), and each "
           "worker's share of the leads against its share of the steps (total trigger).")

TRIGGERS = ("total", "own")
WORKERS, PERIOD, PULL, BUDGET = 16, 4, 0.1, 2.0
SPREAD, SHAPE, BANDWIDTH = 2.0, 2.0, 1.25e9
EPSILONS = (0.10, 0.02)           # shares of the starting gap
GRID = 81


def one_run(trigger: str, seed: int, mode: str | None) -> dict:
    """Gap curve on a time grid, times to each ε, the final gap, lead and step counts per worker."""
    q, lr = quadratic(seed)
    alg = algorithms.LSGD(lr=lr, pull=PULL, period=PERIOD, trigger=trigger, order="after",
                          leader=leader_rule(mode=mode))
    res = timed(q, alg, WORKERS, with_stragglers(flat_clock(BANDWIDTH), WORKERS, SPREAD, SHAPE), BUDGET, seed,
                record_every=1)
    gap = res.f.mean(axis=1) - q.fmin
    reached = [np.flatnonzero(gap <= eps * gap[0]) for eps in EPSILONS]
    tail = max(1, len(gap) // 10)
    return {"curve": np.interp(np.linspace(0, BUDGET, GRID), res.sim_time, gap),
            "time_to": np.array([res.sim_time[r[0]] if r.size else np.inf for r in reached]),
            "final_gap": float(gap[-tail:].mean()),
            "leads": np.bincount(np.asarray(res.leaders, int), minlength=WORKERS).astype(float),
            "steps": np.asarray(res.worker_steps[-1], float)}


def runs(seeds, mode, triggers=TRIGGERS, progress=None) -> dict:
    """{trigger: {quantity: array with seeds first}}."""
    out = {}
    for trig in triggers:
        rows = [one_run(trig, s, mode) for s in seeds]
        if progress is not None:
            progress.advance(len(seeds))
        out[trig] = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    return out


def statistics(r: dict, reference_final: np.ndarray) -> dict:
    """Trigger comparison per ε, the leader part against a random leader (total trigger), the drift."""
    half = WORKERS // 2
    faster = [paired_log_ratio(r["own"]["time_to"][:, k], r["total"]["time_to"][:, k]) for k in range(len(EPSILONS))]
    leads, steps = r["total"]["leads"], r["total"]["steps"]
    return {"faster": faster, "faster_at": [bool(f["lower"] > 0) for f in faster],
            "slower_at": [bool(f["upper"] < 0) for f in faster],
            "leader_part": leader_part(reference_final[None, :], r["total"]["final_gap"][None, :]),
            "fast_half_lead_share": float(leads[:, :half].sum() / max(1.0, leads.sum())),
            "fast_half_step_share": float(steps[:, :half].sum() / steps.sum()),
            "mean_steps": {t: float(r[t]["steps"].mean()) for t in TRIGGERS},
            "time_to_median": {t: np.median(r[t]["time_to"], axis=0).tolist() for t in TRIGGERS}}


# -- the check -------------------------------------------------------------------------------------
def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    seeds = [seed + k for k in range(10 if quick else 24)]
    modes = control_modes(leader, controls)
    own_reference = with_reference(modes, leader) != modes           # the reference is not a control's runs
    progress.expect(len(seeds) * (len(TRIGGERS) * (1 + len(modes)) + own_reference))
    main = runs(seeds, leader, progress=progress)
    ctrl_runs = {m: runs(seeds, m, progress=progress) for m in modes}
    by_mode = {"random": runs(seeds, "random", ("total",), progress)} if own_reference else ctrl_runs
    ref_final = reference(leader, main, by_mode)["total"]["final_gap"]
    measured = statistics(main, ref_final)
    ctrl = {m: statistics(r, ref_final) for m, r in ctrl_runs.items()}
    arrays = {f"{t}.{k}": v for t, r in main.items() for k, v in r.items()}
    arrays.update({f"control.{m}.{t}.curve": r[t]["curve"] for m, r in ctrl_runs.items() for t in TRIGGERS})
    arrays["time"] = np.linspace(0, BUDGET, GRID)
    setting = {"workers": WORKERS, "seeds": seeds, "budget_s": BUDGET, "epsilons_of_start": list(EPSILONS),
               "stragglers": {"shape": SHAPE, "spread": SPREAD, "minimum_step_s": "4.0 ms → 8.0 ms"},
               "network": {"bandwidth_bytes_per_s": BANDWIDTH, "latency_s": 50e-6, "model_bytes": "CNN7"},
               "lsgd": {"pull": PULL, "period": PERIOD, "order": "after"}, "leader": leader or "exact",
               "quadratic": {"dim": 20, "cond": 20.0, "grad_noise": 2.0, "lr": "0.2/L"}}
    reading = (f"{WORKERS} workers, Pareto({SHAPE:g}) steps, {BUDGET:g} s simulated; time to "
               f"{', '.join(f'{e:.0%}' for e in EPSILONS)} of the start gap, total vs per-worker trigger, paired "
               "(95%). "
               "Fails if not better than a random leader or faster at no ε.")
    expected = {"log_t_own_over_t_total_lower_bound": "> 0", "leader_part_lower_bound": "> 0"}
    return CheckRecord(name=NAME, claim=CLAIM, reading=reading, setting=setting, measured=measured,
                       expected=expected, controls=ctrl, arrays=arrays)


def verdict(record: CheckRecord) -> str:
    m = record.measured
    if m["leader_part"]["lower"] <= 0 or not any(m["faster_at"]):
        return "fails"
    return "holds" if all(m["faster_at"]) else "holds under conditions"


def summary(record: CheckRecord) -> str:
    m, eps = record.measured, record.setting["epsilons_of_start"]
    text = "; ".join(f"to {e:.0%} of the start the per-worker trigger takes {ratio_text(f)} the total trigger's time"
                     for e, f in zip(eps, m["faster"], strict=True))
    text += (f". The fast half leads {m['fast_half_lead_share']:.0%} of the rounds and does "
             f"{m['fast_half_step_share']:.0%} of the steps")
    if m["leader_part"]["lower"] <= 0:
        text += f"; the leader ends no better than a random one ({ratio_text(m['leader_part'])})"
    return text + "."


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c, eps = record.measured, record.controls, record.setting["epsilons_of_start"]

    def row(quantity, fmt, expected):
        return {"quantity": quantity, "measured": fmt(m), **{mode: fmt(s) for mode, s in c.items()},
                "expected": expected}
    rows = [row(f"t_own / t_total, ε = {e:.0%}", lambda s, k=k: ratio_text(s["faster"][k]), "> 1 (95%)")
            for k, e in enumerate(eps)]
    return [
        *rows,
        row("gap random leader / gap, end", lambda s: ratio_text(s["leader_part"]), "> 1 (95%)"),
        row("fast half: leads / steps",
            lambda s: f"{s['fast_half_lead_share']:.0%} / {s['fast_half_step_share']:.0%}", "reported"),
        row("steps per worker, total / own",
            lambda s: f"{s['mean_steps']['total']:.0f} / {s['mean_steps']['own']:.0f}", "reported")]


# -- figure ----------------------------------------------------------------------------------------
def figure(record: CheckRecord):
    from lsgdsim import plotting
    a, eps = record.arrays, record.setting["epsilons_of_start"]
    fig, axes = plotting.subplots(1, 2, width=4.6, height=3.4)
    ax_g, ax_l = axes[0]
    styles = {"total": "-", "own": "--"}
    leader = record.setting["leader"]
    name = "LSGD" if leader == "exact" else f"LSGD ({leader} leader)"
    for t in TRIGGERS:
        label = "total trigger (Algorithm 1)" if t == "total" else "per-worker trigger"
        ax_g.plot(a["time"], np.median(a[f"{t}.curve"], axis=0), styles[t], color=plotting.COLORS["lsgd"],
                  label=f"{name}, {label}")
        for mode in record.controls:
            ax_g.plot(a["time"], np.median(a[f"control.{mode}.{t}.curve"], axis=0), styles[t], lw=1,
                      color=plotting.COLORS[f"{mode} leader"], label=f"{mode} leader, {label}")
    start = np.median(a["total.curve"][:, 0])
    for e in eps:
        ax_g.axhline(e * start, color=plotting.COLORS["bound"], ls=":", lw=0.8)
        ax_g.annotate(f"ε = {e:.0%} of start", (a["time"][-1], e * start), fontsize=6, ha="right", va="bottom")
    ax_g.set(yscale="log", xlabel="simulated time (s)", ylabel="mean-worker gap f − f*",
             title=f"{record.setting['workers']} workers, Pareto stragglers")
    workers = np.arange(record.setting["workers"])
    leads, steps = a["total.leads"].sum(axis=0), a["total.steps"].sum(axis=0)
    ax_l.bar(workers, leads / max(1.0, leads.sum()), color=plotting.COLORS["lsgd"], label="share of the leads")
    ax_l.plot(workers, steps / steps.sum(), "o-", ms=3, color=plotting.COLORS["bound"], lw=0.8,
              label="share of the local steps")
    ax_l.set(xlabel=f"worker (0 fastest, {workers[-1]} slowest)", ylabel="share", title="who leads (total trigger)")
    handles, labels = ax_g.get_legend_handles_labels()
    h2, l2 = ax_l.get_legend_handles_labels()
    plotting.legend_below(fig, handles + h2, labels + l2, ncol=3, fontsize=7)
    return fig
