"""The paper's claim (iv): LSGD is more communication-efficient, at equal wall-clock time.

Claim (digest §1 and §4: "LSGD is communication efficient: only the leader's parameters are broadcast",
and its experiments plot test error against wall-clock time). No theorem: an engineering claim, tested
in simulated time on networks from fast to slow.

Claim tested (precise reading). At an equal simulated-time budget on one flat network, LSGD's center
(the workers' average, what the paper evaluates) ends closer to the optimum than synchronous EASGD's
center and than all-reduce SGD's iterate; and how much of LSGD's advantage over EASGD is the leader
itself, how much everything else (its cheaper collective and its pull structure).

What is measured. The noisy quadratic of :mod:`theory_checks._timed` (d = 20, κ = 20, σ = 2, η = 0.2/L)
with p = 8 workers, a budget of 4 s of simulated time (about 1000 steps of 4.0 ms when communication is
free), every message priced at CNN7's 1.41 MB, latency 50 µs, bandwidth 100 Gb/s to 100 Mb/s. LSGD:
λ = 0.1, τ = 4, exact leader (a minloc, then a broadcast of the leader's row); EASGD: α = 0.9/p, τ = 4,
synchronous (the center's parameter server gathers and scatters the rows: :mod:`lsgdsim.clock.network`);
all-reduce SGD: the gradients averaged every step. The gap of a run is f(center) − f* at the budget's
end (all-reduce SGD: its one iterate). Comparisons are paired by seed (same problem) as log-ratios of
gaps with 95% t-intervals; the steps each worker got done and its communication seconds are reported.

Leader dependence and controls. The same LSGD runs with a random leader (the same minloc and broadcast,
so the same price) are the reference that splits LSGD's advantage over EASGD:
log(gap_EASGD / gap_LSGD) = log(gap_EASGD / gap_random) [collective and pull structure]
+ log(gap_random / gap_LSGD) [the leader]. The leader part, pooled over the bandwidths (per seed, the mean
over bandwidths of log(gap_random / gap_LSGD)), must be significantly positive: installing a random, a
mid-ranked or the worst leader (``leader=...``) in the LSGD runs leaves it at 0 or below, and the verdict
fails.

Verdict (computed). Per bandwidth, LSGD "wins" when both log(gap_EASGD / gap_LSGD) and
log(gap_all-reduce / gap_LSGD) have 95% lower bounds > 0. "fails" if the pooled leader part is not
significantly positive (its 95% lower bound ≤ 0: the leader no better than a random worker's pull;
the record says how many seeds would separate them) or LSGD wins at no bandwidth; "holds" if it wins at
every bandwidth; "holds under conditions" otherwise (the summary names where).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms

from ._timed import MODEL_BYTES, STEP, flat_clock, leader_part, paired_log_ratio, quadratic, ratio_text, timed
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "communication-efficiency"
CLAIM = ("Claim (iv): LSGD is communication-efficient: at equal wall-clock time it ends lower than EASGD and "
         "all-reduce SGD, from fast networks to slow ones.")
LEADER_DEPENDENT = True
CAPTION = ("Final gap of the center at an equal simulated-time budget vs bandwidth (median, 95% range over "
           "seeds), and the local steps each method got done.")

BANDWIDTHS = {"100 Gb/s": 12.5e9, "10 Gb/s": 1.25e9, "1 Gb/s": 1.25e8, "100 Mb/s": 1.25e7}
QUICK_BANDWIDTHS = ("10 Gb/s", "1 Gb/s", "100 Mb/s")
WORKERS, PERIOD, PULL, BUDGET = 8, 4, 0.1, 4.0
BASELINES = ("easgd", "allreduce")
KINDS = ("lsgd", "random", *BASELINES)     # "random": LSGD with a random leader, the reference


def make(kind: str, lr: float, mode: str | None = None):
    if kind == "easgd":
        return algorithms.EASGD(lr=lr, alpha=0.9 / WORKERS, period=PERIOD)
    if kind == "allreduce":
        return algorithms.AllReduceSGD(lr=lr)
    return algorithms.LSGD(lr=lr, pull=PULL, period=PERIOD, leader=leader_rule(mode="random" if kind == "random"
                                                                               else mode))


def one_run(kind: str, bandwidth: float, seed: int, mode: str | None = None) -> dict:
    """The gap of the center at the budget's end, the steps per worker, the communication seconds."""
    q, lr = quadratic(seed)
    res = timed(q, make(kind, lr, mode), WORKERS, flat_clock(bandwidth), BUDGET, seed)
    point = res.center if res.center is not None else res.x.mean(axis=0)
    return {"gap": float(q.value(point[None, :])[0] - q.fmin), "steps": float(np.mean(res.worker_steps[-1])),
            "communicate": float(np.mean(res.breakdown["communicate"]))}


def runs(kinds, names, seeds, mode=None, progress=None) -> dict:
    """{kind: {quantity: (n_bandwidths, n_seeds) array}}."""
    out = {}
    for kind in kinds:
        rows = []
        for name in names:
            rows.append([one_run(kind, BANDWIDTHS[name], s, mode) for s in seeds])
            if progress is not None:
                progress.advance(len(seeds))
        out[kind] = {key: np.array([[r[key] for r in row] for row in rows]) for key in ("gap", "steps", "communicate")}
    return out


def comparisons(lsgd: np.ndarray, ref: dict) -> list[dict]:
    """Per bandwidth: LSGD (gaps ``lsgd``) against EASGD, all-reduce SGD and the random leader (``ref``)."""
    out = []
    for b in range(lsgd.shape[0]):
        row = {f"over_{k}": paired_log_ratio(ref[k]["gap"][b], lsgd[b]) for k in (*BASELINES, "random")}
        row["collective_part"] = paired_log_ratio(ref["easgd"]["gap"][b], ref["random"]["gap"][b])
        row["wins"] = bool(all(row[f"over_{k}"]["lower"] > 0 for k in BASELINES))
        out.append(row)
    return out


# -- the check -------------------------------------------------------------------------------------
def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    names = QUICK_BANDWIDTHS if quick else tuple(BANDWIDTHS)
    seeds = [seed + k for k in range(8 if quick else 12)]
    modes = [m for m in control_modes(leader, controls) if m != "random"]   # the random control is the reference
    progress.expect(len(names) * len(seeds) * (len(KINDS) + len(modes)))
    ref = runs(KINDS, names, seeds, leader, progress)
    ctrl_runs = {m: runs(("lsgd",), names, seeds, m, progress)["lsgd"] for m in modes}
    if controls and leader is None:
        ctrl_runs["random"] = ref["random"]
    measured = {"per_bandwidth": dict(zip(names, comparisons(ref["lsgd"]["gap"], ref), strict=True)),
                "leader_part": leader_part(ref["random"]["gap"], ref["lsgd"]["gap"]),
                "methods": {k: {q: v.mean(axis=1).tolist() for q, v in r.items()} for k, r in ref.items()}}
    ctrl = {m: {"per_bandwidth": dict(zip(names, comparisons(r["gap"], ref), strict=True)),
                "leader_part": leader_part(ref["random"]["gap"], r["gap"]),
                "steps": r["steps"].mean(axis=1).tolist()} for m, r in ctrl_runs.items()}
    arrays = {f"{k}.{q}": v for k, r in ref.items() for q, v in r.items()}
    arrays.update({f"control.{m}.gap": r["gap"] for m, r in ctrl_runs.items()})
    setting = {"workers": WORKERS, "seeds": seeds, "bandwidths": list(names),
               "bandwidth_bytes_per_s": [BANDWIDTHS[n] for n in names], "budget_s": BUDGET, "step_s": STEP,
               "jitter_sigma": 0.1, "latency_s": 50e-6, "model_bytes": MODEL_BYTES, "leader": leader or "exact",
               "quadratic": {"dim": 20, "cond": 20.0, "grad_noise": 2.0, "lr": "0.2/L"},
               "lsgd": {"pull": PULL, "period": PERIOD}, "easgd": {"alpha": f"0.9/{WORKERS}", "period": PERIOD},
               "allreduce": "gradients averaged every step"}
    reading = (f"{WORKERS} workers, {BUDGET:g} s simulated, 1.41 MB messages; gap = f(center) − f* at the end, "
               "paired (95%). Wins: below EASGD and all-reduce SGD. Fails if not better than a random leader (pooled) "
               "or wins nowhere.")
    expected = {"over_baselines_lower_bound": "> 0 (wins)", "leader_part_lower_bound": "> 0"}
    return CheckRecord(name=NAME, claim=CLAIM, reading=reading, setting=setting, measured=measured,
                       expected=expected, controls=ctrl, arrays=arrays)


def verdict(record: CheckRecord) -> str:
    per = record.measured["per_bandwidth"].values()
    if record.measured["leader_part"]["lower"] <= 0 or not any(r["wins"] for r in per):
        return "fails"
    return "holds" if all(r["wins"] for r in per) else "holds under conditions"


def summary(record: CheckRecord) -> str:
    per = record.measured["per_bandwidth"]
    wins = [n for n, r in per.items() if r["wins"]]
    lead = record.measured["leader_part"]
    text = (f"LSGD's center ends lower than both EASGD's and all-reduce SGD's at {', '.join(wins) or 'no bandwidth'} "
            f"of {', '.join(per)}")
    if lead["lower"] <= 0:
        return text + f"; its leader is not better than a random worker's pull: {ratio_text(lead)}{_need(record)}."
    last = per[list(per)[-1]]
    return (text + f"; at {list(per)[-1]} EASGD's gap is {ratio_text(last['over_easgd'])} LSGD's, of which the "
            f"leader is {ratio_text(last['over_random'])} and the rest {ratio_text(last['collective_part'])}.")


def _need(record: CheckRecord) -> str:
    need, have = record.measured["leader_part"]["seeds_to_separate"], len(record.setting["seeds"])
    return f" ({have} seeds; about {need} would separate)" if have < need < 10_000 else ""


def key_numbers(record: CheckRecord) -> list[dict]:
    names, m, c = record.setting["bandwidths"], record.measured, record.controls

    def cells(per, key):
        return " / ".join(f"×{np.exp(per[n][key]['mean']):.2f}" for n in names)

    def row(quantity, key, expected):
        ctrl = {mode: cells(c[mode]["per_bandwidth"], key) for mode in c}
        return {"quantity": f"gap {quantity}", "measured": cells(m["per_bandwidth"], key), **ctrl,
                "expected": f"{expected} (95%)"}
    steps = "; ".join(f"{k} {' / '.join(f'{s:.0f}' for s in m['methods'][k]['steps'])}" for k in ("lsgd", *BASELINES))
    return [row("EASGD / LSGD", "over_easgd", "> 1"), row("all-reduce / LSGD", "over_allreduce", "> 1"),
            {"quantity": "gap random leader / LSGD, pooled", "measured": ratio_text(m["leader_part"]),
             **{mode: ratio_text(c[mode]["leader_part"]) for mode in c}, "expected": "> 1 (95%)"},
            {"quantity": "steps per worker", "measured": steps, "expected": "reported"}]


# -- figure ----------------------------------------------------------------------------------------
def figure(record: CheckRecord):
    from lsgdsim import plotting
    names, a = record.setting["bandwidths"], record.arrays
    bits = np.array(record.setting["bandwidth_bytes_per_s"]) * 8
    fig, axes = plotting.subplots(1, 2, width=4.6, height=3.4)
    ax_g, ax_s = axes[0]
    leader = record.setting["leader"]
    curves = [("lsgd", "LSGD" if leader == "exact" else f"LSGD, {leader} leader installed", "lsgd"),
              ("random", "LSGD, random leader", "random leader"),
              *((f"control.{m}", f"LSGD, {m} leader", f"{m} leader") for m in record.controls if m != "random"),
              ("easgd", "EASGD (synchronous)", "easgd"), ("allreduce", "all-reduce SGD", "allreduce")]
    for k, (key, label, color) in enumerate(curves):
        gap = a[f"{key}.gap"]
        shift = 1.08 ** (k - (len(curves) - 1) / 2)                 # side by side, so the ranges do not overlap
        lo, mid, hi = np.percentile(gap, [2.5, 50, 97.5], axis=1)
        ax_g.errorbar(bits * shift, mid, yerr=[mid - lo, hi - mid], color=plotting.COLORS[color], marker="o", ms=3,
                      capsize=2, label=label)
        if f"{key}.steps" in a and key != "random":             # a random leader pays LSGD's price exactly
            ax_s.plot(bits, a[f"{key}.steps"].mean(axis=1), color=plotting.COLORS[color], marker="o", ms=3,
                      label=label)
    ax_g.set(xscale="log", yscale="log", xlabel="bandwidth (bit/s)", ylabel="final gap f(center) − f*",
             title=f"equal budget: {record.setting['budget_s']:g} s simulated")
    ax_s.axhline(record.setting["budget_s"] / record.setting["step_s"], color=plotting.COLORS["bound"], ls=":",
                 lw=0.8, label="free communication")
    ax_s.set(xscale="log", yscale="log", xlabel="bandwidth (bit/s)", ylabel="local steps per worker",
             title="what the budget bought")
    for ax in (ax_g, ax_s):
        ax.set_xticks(bits, names)
        ax.minorticks_off()
    handles, labels = ax_g.get_legend_handles_labels()
    plotting.legend_below(fig, [*handles, *ax_s.get_legend_handles_labels()[0][-1:]], [*labels, "free communication"],
                          ncol=3, fontsize=7)
    return fig
