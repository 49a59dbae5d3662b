"""Reviewer 1: does LSGD stick with a single leader while the other workers are stranded?

Question (NeurIPS 2019 review of paper 5205, Reviewer 1, digest §6 item 1): "Is this indicated in the
schedule of the leader switching? Does it tend to stick with a single leader for a long time, while the
other workers are stranded in averaged locations?" The paper's answer is its leader-switching figure
(digest §4.2): 4 workers, ≈182 leader selections, counts ≈34/38/48/62 per worker, longest runs of one
leader ≈8–10 selections, every worker leads at times.

Claim tested (precise reading). With the authors' leader rule — the leader is the worker with the lowest
running mean of its last W observed mini-batch losses (``leaders.Window``, digest §5.3) — *the leader does
not stick*: in every configuration, (a) no worker leads more than 2/p of the communications (twice its
fair share; the paper's figure has 62/182 = 0.34 ≤ 0.5 for p = 4) and (b) the longest run of one leader is
at most 10% of the communications (the paper's ≈10/182 = 5.5%). A configuration "sticks" when the median
over seeds of the max share or of the longest-run fraction breaks (a) or (b).

What is measured. Single-leader LSGD (docs/design.md §3) for C communications (C = 182 as in the paper's
figure, 100 in quick mode; steps = C·τ + τ − 1, so that the run ends just before the next communication
and final positions are where the workers' own SGD steps took them) on
- logistic regression (convex finite sum) with mini-batch gradients and the Window rule on the mini-batch
  losses (the paper's setting);
- Rastrigin in 10-D (non-convex, a local minimum near every integer point) with Gaussian gradient noise σ;
  the Window rule sees the losses plus N(0, σ_f²) noise standing in for mini-batch loss noise.
Around a base configuration (λ = 0.1 per communication, τ = 4, p = 4, W = 10, Rastrigin σ = 20) λ, τ, p,
W and (Rastrigin) σ are swept one at a time. Contrast configurations use the exact rule (argmin of the
true f) with the same stochastic gradients, and deterministically (full gradients, no noise: LGD); for
exact rules, selections among scores equal up to rounding (relative spread ≤ 1e-12: the workers of a
deterministic run collapse onto one point) are not counted. Per run: the leader identity series, run
lengths (mean, max), the per-worker share, the normalized entropy H(share)/log p and the chi-square
statistic of the counts against uniform (its p-value assumes independent selections, which a window rule
violates, so it is reported, not used), and the distance of the non-leaders to the best worker over time.
Stranding: the non-leaders' mean distance to the best worker over the last quarter of the run divided by
the same at step 0; on Rastrigin also the fraction of non-leaders ending in another integer cell (basin)
than the best worker, and their final f against independent SGD workers from the same start and noise.
A Rastrigin configuration "strands" its non-leaders when most end in another basin *and* their mean final
f is above the SGD workers' (the pull left them worse off than not communicating at all).

Leader dependence and controls. The question is about how the leader rule in use behaves (does one worker
keep the lead?), not a claim that choosing the best worker helps: there is no benefit of the right leader
that a wrong one must spoil, so LEADER_DEPENDENT = False, and a control leader is not expected to make the
verdict fail. The controls give the scale the numbers are read on, at the two base configurations
(record.controls, same statistics): a random leader (``leaders.Random``, a uniform draw per communication) is
what "no sticking" looks like (max share near 1/p, short runs, whatever the positions), and the worst leader
(``leaders.Worst(Window)``: the highest window loss leads, the others are pulled toward it) shows what
the same rule does when the pulls go the wrong way. Seen so far (quick and full): the random leader has a max
share ≈ 0.30 and longest runs of 4–5 selections on both problems; on Rastrigin the Window rule's ≈ 0.97
against that 0.30 shows that its sticking is the rule following a best worker that stays best, not chance;
the worst leader there switches every few selections yet one worker leads ≈ 0.6–0.75 of them.
``measure(leader=...)`` installs a control in every run (``controls.leader_rule``), and the verdict then
describes that rule.

Verdict (computed). "holds" if no configuration sticks; "fails" if the rule sticks at the base
configuration of both problems; otherwise "holds under conditions", with the sticking (and stranding)
configurations named in the record.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lsgdsim import algorithms, leaders, objectives, simulate

from ._stickiness import PAPER_COUNTS, leader_stats, paper_reference, resolved_leaders, stranding
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "leader-stickiness"
CLAIM = ("Reviewer 1: LSGD's leader does not stick to one worker while the others stay stranded (paper: "
         "≈34/38/48/62 of 182 selections, longest runs ≈8–10).")
LEADER_DEPENDENT = False
CAPTION = ("Leader series, shares (base, first seed); non-leader distances; max share, longest run per "
           "config.")

MAX_SHARE_FACTOR = 2.0                       # (a): max share ≤ 2/p
MAX_RUN_FRACTION = 0.10                      # (b): longest run ≤ 10% of communications


@dataclass(frozen=True)
class Config:
    """One LSGD configuration: problem, leader rule, pull λ, period τ, workers p, window W, noise."""

    problem: str          # "logistic" or "rastrigin"
    rule: str = "window"  # "window" (authors'), "exact" (true f), or "exact-deterministic" (LGD)
    pull: float = 0.1
    period: int = 4
    workers: int = 4
    window: int = 10
    grad_noise: float = 20.0  # Rastrigin only (logistic: mini-batch gradients)
    label: str = "base"

    @property
    def key(self) -> str:
        return f"{self.problem}/{self.label}"


LR = {"logistic": 0.5, "rastrigin": 0.002}   # logistic: L ≈ 0.33, ηL ≈ 0.16; Rastrigin: L ≈ 397, ηL ≈ 0.8
BATCH = 16                                   # logistic mini-batch size
SIGMA_F = 2.0                                # Rastrigin: loss-estimate noise seen by the Window rule


def _problem(name: str, seed: int, quick: bool):
    if name == "logistic":
        return objectives.LogisticRegression(n_samples=600 if quick else 1000, dim=20, seed=seed)
    return objectives.Rastrigin(dim=10)


def _noise_kw(cfg: Config) -> dict:
    if cfg.rule == "exact-deterministic":
        return {}
    return {"batch_size": BATCH} if cfg.problem == "logistic" else {"grad_noise": cfg.grad_noise}


def _steps(cfg: Config, comms: int) -> int:
    """comms·τ + τ − 1: the run ends just before the next communication, so final positions are where the
    workers' own local steps took them, not where the last pull put them."""
    return comms * cfg.period + cfg.period - 1


def _run_one(cfg: Config, obj, comms: int, seed: int, mode: str | None = None):
    """One LSGD run of ``comms`` communications with the configuration's rule (or its control ``mode``)."""
    if cfg.rule == "window":
        rule = leaders.Window(cfg.window, sigma=0.0 if cfg.problem == "logistic" else SIGMA_F)
    else:
        rule = leaders.Exact()
    alg = algorithms.LSGD(lr=LR[cfg.problem], pull=cfg.pull, period=cfg.period, leader=leader_rule(rule, mode))
    steps = _steps(cfg, comms)
    # Exact rules: record f at every step, so that each selection's scores f(x_i) at step t − 1 are known.
    every = 1 if cfg.rule != "window" else max(1, steps // 200)
    return simulate(obj, alg, workers=cfg.workers, steps=steps, seed=seed, record_every=every, **_noise_kw(cfg))


def _configs(quick: bool) -> list[Config]:
    cfgs = []
    for problem in ("logistic", "rastrigin"):
        base = Config(problem)
        cfgs.append(base)
        for lam in (0.01, 0.5):
            cfgs.append(replace(base, pull=lam, label=f"pull={lam}"))
        for tau in (1, 16):
            cfgs.append(replace(base, period=tau, label=f"period={tau}"))
        for p in ((8,) if quick else (8, 16)):
            cfgs.append(replace(base, workers=p, label=f"workers={p}"))
        for w in (1, 50):
            cfgs.append(replace(base, window=w, label=f"window={w}"))
        if problem == "rastrigin":
            for sigma in (5.0, 80.0):
                cfgs.append(replace(base, grad_noise=sigma, label=f"grad_noise={sigma:g}"))
        cfgs.append(replace(base, rule="exact", label="exact rule, stochastic gradients"))
        cfgs.append(replace(base, rule="exact-deterministic", grad_noise=0.0, label="exact rule, deterministic (LGD)"))
    return cfgs


def _median(values):
    return float(np.median(np.asarray(values, dtype=float)))


SUMMARY_KEYS = ("communications", "max_share", "longest_run_fraction", "longest_run", "mean_run",
                "normalized_entropy", "workers_who_led", "switches", "nonleader_dist_ratio")
RASTRIGIN_KEYS = ("other_basin_fraction", "nonleader_final_f", "leader_final_f", "sgd_mean_final_f")


def measure_config(cfg: Config, seeds, comms: int, quick: bool, mode: str | None = None):
    """Median-over-seeds statistics of one configuration (leader rule: its own, or the control ``mode``),
    and the first seed's (Result, counted leader series)."""
    per_seed, first = [], None
    for s in seeds:
        obj = _problem(cfg.problem, s, quick)
        res = _run_one(cfg, obj, comms, s, mode)
        sgd_res = None
        if cfg.problem == "rastrigin":   # same start, same noise stream: what the workers reach alone
            sgd_res = simulate(obj, algorithms.SGD(lr=LR["rastrigin"]), workers=cfg.workers, steps=_steps(cfg, comms),
                               seed=s, record_every=_steps(cfg, comms), **_noise_kw(cfg))
        resolved = resolved_leaders(res, cfg.rule != "window")
        st = leader_stats(resolved, cfg.workers)
        st.update(stranding(res, sgd_res))
        per_seed.append(st)
        first = (res, resolved) if first is None else first
    keys = SUMMARY_KEYS + (RASTRIGIN_KEYS if cfg.problem == "rastrigin" else ())
    agg = {k: round(_median([r[k] for r in per_seed]), 4) for k in keys}
    limit = MAX_SHARE_FACTOR / cfg.workers
    sticks = agg["max_share"] > limit or agg["longest_run_fraction"] > MAX_RUN_FRACTION
    stranded = (cfg.problem == "rastrigin" and agg["other_basin_fraction"] > 0.5
                and agg["nonleader_final_f"] > agg["sgd_mean_final_f"])
    row = {"config": cfg.key, "rule": cfg.rule, "pull": cfg.pull, "period": cfg.period, "workers": cfg.workers,
           "window": cfg.window, **({"grad_noise": cfg.grad_noise} if cfg.problem == "rastrigin" else {}),
           "max_share_limit": limit, **agg, "sticks": bool(sticks), "stranded": bool(stranded),
           "first_seed_counts": per_seed[0]["counts"]}
    return row, first



BASES = ("logistic/base", "rastrigin/base")
LGD = "logistic/exact rule, deterministic (LGD)"
SERIES = {"logistic/base": "series_logistic", "rastrigin/base": "series_rastrigin", LGD: "series_logistic_lgd"}
DISTANCES = (("logistic/base", "logistic Window λ=0.1"), ("rastrigin/base", "Rastrigin Window λ=0.1"),
             ("rastrigin/pull=0.5", "Rastrigin Window λ=0.5"), (LGD, "logistic exact, det."))


READING = ("Leader = lowest mean of the last W losses (authors' rule); a configuration sticks if the seed-median max "
           f"leader share > {MAX_SHARE_FACTOR:g}/p or longest run > {MAX_RUN_FRACTION:.0%} of communications.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    comms = 100 if quick else 182
    seeds = [seed + k for k in range(2 if quick else 6)]
    cfgs = _configs(quick)
    modes = control_modes(leader, controls)
    progress.expect(len(cfgs) + len(modes) * len(BASES))
    rows, examples = [], {}
    for cfg in cfgs:
        row, examples[cfg.key] = measure_config(cfg, seeds, comms, quick, leader)
        rows.append(row)
        progress.advance()
    ctrl = {mode: {} for mode in modes}
    for mode in modes:          # the controls at the base configurations only (the scale the numbers are read on)
        for cfg in (c for c in cfgs if c.key in BASES):
            ctrl[mode][cfg.key] = measure_config(cfg, seeds, comms, quick, mode)[0]
            progress.advance()
    arrays = {name: np.asarray(examples[key][1], dtype=np.int64) for key, name in SERIES.items()}
    for k, (key, _) in enumerate(DISTANCES):
        res = examples[key][0]
        arrays[f"dist_steps_{k}"] = np.asarray(res.steps)
        arrays[f"dist_{k}"] = res.dist_to_leader.sum(axis=1) / (res.dist_to_leader.shape[1] - 1)
    stuck = [r["config"] for r in rows if r["sticks"]]
    return CheckRecord(
        name=NAME, claim=CLAIM,
        reading=READING,
        setting={"communications_per_run": comms, "seeds": seeds, "leader": leader or "right",
                 "base": {"pull": 0.1, "period": 4, "workers": 4, "window": 10},
                 "logistic": {"n_samples": 600 if quick else 1000, "dim": 20, "batch_size": BATCH,
                              "lr": LR["logistic"]},
                 "rastrigin": {"dim": 10, "A": 10.0, "lr": LR["rastrigin"], "grad_noise": 20.0,
                               "window_loss_noise": SIGMA_F},
                 "sweeps": "one at a time around the base: pull {0.01, 0.5}, period {1, 16}, workers "
                           + ("{8}" if quick else "{8, 16}") + ", window {1, 50}, Rastrigin grad_noise {5, 80}; "
                           "exact rule with stochastic and with deterministic gradients",
                 "stranded": "Rastrigin: most non-leaders end in another integer cell than the best worker and "
                             "their mean final f is above that of independent SGD workers (same start and noise)"},
        measured={"configs": rows, "sticking_configs": stuck,
                  "stranded_configs": [r["config"] for r in rows if r["stranded"]],
                  "base_sticks": {key.split("/")[0]: key in stuck for key in BASES}},
        expected={"max_share_limit": f"{MAX_SHARE_FACTOR:g}/p", "longest_run_fraction_limit": MAX_RUN_FRACTION,
                  "paper_figure": paper_reference()},
        controls=ctrl, arrays=arrays,
        details={"distance_curves": [lab for _, lab in DISTANCES], "series": SERIES})


def verdict(record: CheckRecord) -> str:
    rows = record.measured["configs"]
    if not any(r["sticks"] for r in rows):
        return "holds"
    base = [r["sticks"] for r in rows if r["config"] in BASES]
    return "fails" if all(base) else "holds under conditions"


def _base(record: CheckRecord, key: str, mode: str | None = None) -> dict:
    if mode is not None:
        return record.controls[mode][key]
    return next(r for r in record.measured["configs"] if r["config"] == key)


def summary(record: CheckRecord) -> str:
    lb, rb = _base(record, BASES[0]), _base(record, BASES[1])
    rows = record.measured["configs"]
    who = {"right": "Window rule", "worst": "Worst(Window)", "random": "Random leader",
           "mid": "MidRanked(Window)"}[record.setting["leader"]]
    text = (f"{who}: max share {lb['max_share']:.2f}, longest run {lb['longest_run_fraction']:.0%} on logistic "
            f"(paper 0.34, ≈5%); {rb['max_share']:.2f}, {rb['longest_run_fraction']:.0%} on Rastrigin. "
            f"{sum(r['sticks'] for r in rows)}/{len(rows)} configs stick, "
            f"{sum(r['stranded'] for r in rows)} strand non-leaders.")
    if "random" in record.controls:
        text += (f" Random leader: {_base(record, BASES[0], 'random')['max_share']:.2f}, "
                 f"{_base(record, BASES[1], 'random')['max_share']:.2f}.")
    return text


def key_numbers(record: CheckRecord) -> list[dict]:
    modes = list(record.controls)
    out = []
    for key, problem in zip(BASES, ("logistic", "Rastrigin"), strict=True):
        for stat, fmt, expected in (("max_share", "{:.2f}", f"≤ {MAX_SHARE_FACTOR:g}/p = 0.50"),
                                    ("longest_run_fraction", "{:.0%}", f"≤ {MAX_RUN_FRACTION:.0%}")):
            out.append({"quantity": f"{problem} base: {stat.replace('_fraction', '').replace('_', ' ')}",
                        "measured": fmt.format(_base(record, key)[stat]),
                        **{m: fmt.format(_base(record, key, m)[stat]) for m in modes}, "expected": expected})
    rows = record.measured["configs"]
    out.append({"quantity": "configurations that stick / strand",
                "measured": f"{sum(r['sticks'] for r in rows)}/{len(rows)}, {sum(r['stranded'] for r in rows)}",
                "expected": "0 (holds)"})
    return out


# -- figure (drawn from the record alone) -----------------------------------------------------------
SHADES = ("#0b5d46", "#8fd3c1")     # darker / lighter LSGD green for LSGD variants in one panel


def _short(label: str) -> str:
    return {"exact rule, stochastic gradients": "exact rule", "exact rule, deterministic (LGD)": "exact, det. (LGD)"
            }.get(label, label)


def figure(record: CheckRecord):
    from lsgdsim import plotting
    from lsgdsim.plotting import COLORS
    # two rows of panels; under the lower one a row of its legends (constrained layout sizes it)
    fig, gs = plotting.grid(3, 3, width=10.0, height=7.0, height_ratios=(1, 1, 0.02))
    top = [plotting.panel(fig, gs[0, j]) for j in range(3)]
    bottom = [plotting.panel(fig, gs[1, j]) for j in range(3)]
    A = record.arrays
    for ax, key, title in ((top[0], BASES[0], "logistic, mini-batch, Window(10)\nfirst seed"),
                           (top[1], BASES[1], "Rastrigin, grad noise, Window(10)\nfirst seed")):
        ids = A[SERIES[key]]
        ax.step(np.arange(len(ids)), ids, where="post", lw=0.8, color=COLORS["lsgd"])
        ax.set_yticks(range(4))
        ax.set_ylim(-0.3, 3.3)                # the top tick's label stays clear of the two-line title
        ax.set(xlabel="communication", ylabel="leader (worker index)", title=title)
    _panel_shares(top[2], A, COLORS)
    ax = bottom[0]
    styles = ((COLORS["lsgd"], "-"), (SHADES[0], "-"), (SHADES[1], "-"), (COLORS["lsgd"], "--"))  # all LSGD
    for k, label in enumerate(record.details["distance_curves"]):
        ax.semilogy(A[f"dist_steps_{k}"], A[f"dist_{k}"], label=label, lw=1, color=styles[k][0], ls=styles[k][1])
    ax.set(xlabel="step", ylabel="mean non-leader\ndistance to best", title="are non-leaders stranded?")
    plotting.legend_row(fig, gs[2, 0], *ax.get_legend_handles_labels())
    handles = _panel_configs(bottom[1], bottom[2], record, COLORS)
    plotting.legend_row(fig, gs[2, 1:], handles, ncol=len(handles))
    return fig


def _panel_shares(ax, A, COLORS):
    bars = {"paper fig. (182 sel.)": (PAPER_COUNTS / PAPER_COUNTS.sum(), "none")}   # hollow: not a control
    for name, lab, color in (("series_logistic", "logistic Window", COLORS["lsgd"]),
                             ("series_rastrigin", "Rastrigin Window", SHADES[0]),
                             ("series_logistic_lgd", "logistic exact, det. (resolved)", SHADES[1])):
        bars[lab] = (np.bincount(A[name], minlength=4)[:4] / max(1, len(A[name])), color)
    width = 0.8 / len(bars)
    for k, (lab, (share, color)) in enumerate(bars.items()):
        ax.bar(np.arange(4) + (k - (len(bars) - 1) / 2) * width, share, width, label=lab, color=color,
               edgecolor="k" if color == "none" else color, lw=0.8)
    ax.axhline(0.5, color=COLORS["bound"], ls="--", lw=0.8)
    # the legend sits in head room above share 1 (no share exceeds it), so it covers no bar
    ax.set(xlabel="worker index", ylabel="share of communications\nas leader",
           title="leader share\n(p = 4, first seed)", xticks=range(4), ylim=(0, 1.65), yticks=np.linspace(0, 1, 5))
    ax.legend(loc="upper right", fontsize=7.5, frameon=False, borderaxespad=0.1, labelspacing=0.3)


def _panel_configs(ax_share, ax_run, record, COLORS):
    """One row per sweep label (the controls get their own rows after the base), one marker per problem
    (filled circle: logistic, open square: Rastrigin); dashed: the sticking limits."""
    from matplotlib.lines import Line2D
    points = [(r, r["config"].split("/", 1)[1], "right leader") for r in record.measured["configs"]]
    for mode in record.controls:
        points += [(r, f"base, {mode} leader", f"{mode} leader") for r in record.controls[mode].values()]
    labels = list(dict.fromkeys(lab for _, lab, _ in sorted(points, key=lambda p: p[1] != "base")))
    labels = ["base"] + [lab for lab in labels if lab.startswith("base, ")] + \
        [lab for lab in labels if not lab.startswith("base")]
    y = {lab: k for k, lab in enumerate(labels)}
    color = {"right leader": COLORS["lsgd"], "random leader": COLORS["random leader"],
             "worst leader": COLORS["worst leader"]}
    for r, lab, who in points:
        logistic = r["config"].startswith("logistic")
        for ax, value in ((ax_share, r["max_share"] * r["workers"]), (ax_run, r["longest_run_fraction"])):
            ax.plot(value, y[lab], "o" if logistic else "s", ms=5, mec=color[who],
                    mfc=color[who] if logistic else "none", ls="none")
    ax_share.axvline(MAX_SHARE_FACTOR, color=COLORS["bound"], ls="--", lw=0.8)
    ax_run.axvline(MAX_RUN_FRACTION, color=COLORS["bound"], ls="--", lw=0.8)
    ax_share.set_yticks(range(len(labels)), [_short(lab) for lab in labels], fontsize=7)
    ax_run.set_yticks(range(len(labels)), [""] * len(labels))
    for ax in (ax_share, ax_run):
        ax.set_ylim(len(labels) - 0.5, -0.5)
    ax_share.set(xlabel="max leader share × p (fair share = 1)", ylabel="configuration",
                 title="max leader share\nper configuration")
    ax_run.set(xlabel="longest run / communications", ylabel="configuration (rows as left)",
               title="longest leader run\nper configuration")
    handles = [Line2D([], [], marker="o", ls="none", color="k", label="logistic"),
               Line2D([], [], marker="s", ls="none", mfc="none", color="k", label="Rastrigin")]
    handles += [Line2D([], [], marker="o", ls="none", color=c, label=w) for w, c in color.items()
                if w == "right leader" or w.split()[0] in record.controls]
    return handles          # drawn by the caller in the legend row under the two panels
