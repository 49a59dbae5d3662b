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

What is measured. Single-leader LSGD (DESIGN.md §3) for C communications (C = 182 as in the paper's
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

Verdict (computed). "holds" if no configuration sticks; "fails" if the Window rule sticks at the base
configuration of both problems; otherwise "holds under conditions", with the sticking (and stranding)
configurations named in the summary.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import stats

from lsgdsim import algorithms, leaders, objectives, simulate

from .record import CheckResult

NAME = "leader-stickiness"
CLAIM = ("Reviewer 1: LSGD does not stick with a single leader while the other workers stay stranded; "
         "the paper's figure shows frequent switches (≈34/38/48/62 of 182 selections, longest runs ≈8–10).")

PAPER_COUNTS = np.array([34, 38, 48, 62])   # digest §4.2, 4 workers, ResNet20 / CIFAR-10
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


def leader_stats(leader_ids, workers: int) -> dict:
    """Switching statistics of a leader series (C,) of worker indices."""
    ids = np.asarray(leader_ids, dtype=int)
    C = len(ids)
    counts = np.bincount(ids, minlength=workers)
    share = counts / max(C, 1)
    change = np.flatnonzero(np.diff(ids)) + 1
    runs = np.diff(np.concatenate([[0], change, [C]])) if C else np.zeros(0, dtype=int)
    nz = share[share > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(workers)) if workers > 1 else 1.0
    chi2, chi2_p = stats.chisquare(counts) if C else (np.nan, np.nan)
    return {"communications": C, "counts": counts.tolist(), "share": share.round(4).tolist(),
            "max_share": float(share.max()) if C else np.nan, "min_share": float(share.min()) if C else np.nan,
            "longest_run": int(runs.max()) if C else 0, "longest_run_fraction": float(runs.max() / C) if C else 0.0,
            "mean_run": float(runs.mean()) if C else 0.0, "switches": int(len(runs) - 1),
            "workers_who_led": int((counts > 0).sum()), "normalized_entropy": entropy,
            "chi2": float(chi2), "chi2_p_iid": float(chi2_p)}


def _paper_reference() -> dict:
    out = leader_stats(np.repeat(np.arange(4), PAPER_COUNTS), 4)
    out.update(longest_run=10, longest_run_fraction=10 / PAPER_COUNTS.sum(), mean_run=None, switches=None)
    return out


LR = {"logistic": 0.5, "rastrigin": 0.002}   # logistic: L ≈ 0.33, ηL ≈ 0.16; Rastrigin: L ≈ 397, ηL ≈ 0.8
BATCH = 16                                   # logistic mini-batch size
SIGMA_F = 2.0                                # Rastrigin: loss-estimate noise seen by the Window rule
RESOLUTION = 1e-12                           # exact rules: relative score spread below this is rounding


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


def _run_one(cfg: Config, obj, comms: int, seed: int):
    """One LSGD run of ``comms`` communications; returns the Result."""
    if cfg.rule == "window":
        rule = leaders.Window(cfg.window, sigma=0.0 if cfg.problem == "logistic" else SIGMA_F)
    else:
        rule = leaders.Exact()
    alg = algorithms.LSGD(lr=LR[cfg.problem], pull=cfg.pull, period=cfg.period, leader=rule)
    steps = _steps(cfg, comms)
    # Exact rules: record f at every step, so that each selection's scores f(x_i) at step t − 1 are known.
    every = 1 if cfg.rule != "window" else max(1, steps // 200)
    return simulate(obj, alg, workers=cfg.workers, steps=steps, seed=seed, record_every=every, **_noise_kw(cfg))


def resolved_leaders(res, exact: bool) -> np.ndarray:
    """The leader series, without selections an exact rule made among scores equal up to rounding.

    A deterministic LGD run collapses the workers onto one point; once the spread of their values is at the
    level of floating-point rounding, argmin is decided by rounding and says nothing about stickiness.
    Needs ``record_every = 1`` (record t − 1 holds f at step t − 1, the scores of the selection at t).
    """
    if not exact:
        return res.leaders
    scores = res.f[res.leader_steps - 1]
    spread = scores.max(axis=1) - scores.min(axis=1)
    return res.leaders[spread > RESOLUTION * (1.0 + np.abs(scores).max(axis=1))]


def stranding(res, sgd_res=None) -> dict:
    """Non-leader distance to the best worker (last quarter vs start); with an SGD reference run
    (Rastrigin), the basin mismatch and the non-leaders' final f against independent SGD workers."""
    D = res.dist_to_leader                      # (R, p), 0 for the best worker
    p = D.shape[1]
    nonleader = D.sum(axis=1) / (p - 1)         # mean over the p − 1 others
    tail = nonleader[-max(1, len(nonleader) // 4):].mean()
    out = {"nonleader_dist_start": float(nonleader[0]), "nonleader_dist_end": float(tail),
           "nonleader_dist_ratio": float(tail / nonleader[0]) if nonleader[0] > 0 else np.nan}
    if sgd_res is not None:
        best = int(np.argmin(res.final_f))
        others = np.delete(np.arange(p), best)
        cells = np.round(res.x)
        out["other_basin_fraction"] = float(np.mean(np.any(cells[others] != cells[best], axis=1)))
        out["nonleader_final_f"] = float(res.final_f[others].mean())
        out["leader_final_f"] = float(res.final_f[best])
        out["sgd_mean_final_f"] = float(sgd_res.final_f.mean())
    return out


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


def measure(cfg: Config, seeds, comms: int, quick: bool):
    """Median-over-seeds statistics of one configuration, and the first seed's (Result, counted leader series)."""
    per_seed, first = [], None
    for s in seeds:
        obj = _problem(cfg.problem, s, quick)
        res = _run_one(cfg, obj, comms, s)
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


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckResult:
    start = time.perf_counter()
    comms = 100 if quick else 182
    seeds = [seed + k for k in range(2 if quick else 6)]
    rows, examples = [], {}
    for cfg in _configs(quick):
        row, examples[cfg.key] = measure(cfg, seeds, comms, quick)
        rows.append(row)

    by_key = {r["config"]: r for r in rows}
    stuck = [r["config"] for r in rows if r["sticks"]]
    stranded = [r["config"] for r in rows if r["stranded"]]
    base_sticks = {pr: by_key[f"{pr}/base"]["sticks"] for pr in ("logistic", "rastrigin")}
    if not stuck:
        verdict = "holds"
    elif all(base_sticks.values()):
        verdict = "fails"
    else:
        verdict = "holds under conditions"

    lb, rb = by_key["logistic/base"], by_key["rastrigin/base"]
    summary = (f"Window rule on mini-batch logistic regression (p=4, τ=4, λ=0.1): max share {lb['max_share']:.2f}, "
               f"longest run {lb['longest_run_fraction']:.0%} of the communications (paper: 0.34, ≈5%); on "
               f"Rastrigin (σ=20): max share {rb['max_share']:.2f}, longest run {rb['longest_run_fraction']:.0%}. "
               f"{len(stuck)}/{len(rows)} configurations stick"
               + (f" ({'; '.join(stuck)})" if stuck else "")
               + (f"; non-leaders stranded in other basins, worse than independent SGD, in: {'; '.join(stranded)}."
                  if stranded else "; no configuration strands its non-leaders."))

    figure = None
    if figure_dir is not None:
        figure = _plot(Path(figure_dir), rows, examples)

    return CheckResult(
        name=NAME, claim=CLAIM,
        reading=("Single-leader LSGD, leader = lowest running mean of the last W observed losses (authors' rule). "
                 f"A configuration sticks when the median over seeds of the max leader share exceeds "
                 f"{MAX_SHARE_FACTOR:g}/p or that of the longest run exceeds {MAX_RUN_FRACTION:.0%} of the "
                 "communications; exact-rule runs count only selections whose scores differ by more than rounding. "
                 "Verdict: holds if no configuration sticks, fails if the Window rule sticks at the base "
                 "configuration of both problems, else holds under conditions. Stranded (Rastrigin): most "
                 "non-leaders end in another integer cell than the best worker and their mean final f is above "
                 "that of independent SGD workers from the same start and noise."),
        setting={"communications_per_run": comms, "seeds": seeds,
                 "base": {"pull": 0.1, "period": 4, "workers": 4, "window": 10},
                 "logistic": {"n_samples": 600 if quick else 1000, "dim": 20, "batch_size": BATCH,
                              "lr": LR["logistic"]},
                 "rastrigin": {"dim": 10, "A": 10.0, "lr": LR["rastrigin"], "grad_noise": 20.0,
                               "window_loss_noise": SIGMA_F},
                 "sweeps": "one at a time around the base: pull {0.01, 0.5}, period {1, 16}, workers "
                           + ("{8}" if quick else "{8, 16}") + ", window {1, 50}, Rastrigin grad_noise {5, 80}; "
                           "exact rule with stochastic and with deterministic gradients"},
        measured={"configs": rows, "sticking_configs": stuck, "stranded_configs": stranded,
                  "base_sticks": base_sticks},
        expected={"max_share_limit": f"{MAX_SHARE_FACTOR:g}/p", "longest_run_fraction_limit": MAX_RUN_FRACTION,
                  "paper_figure": _paper_reference()},
        verdict=verdict, summary=summary, figure=figure,
        elapsed_s=time.perf_counter() - start)


def _plot(figure_dir: Path, rows, examples) -> str:
    from lsgdsim.plotting import COLORS, save, subplots

    fig, axes = subplots(2, 3, width=4.2, height=3.0)
    for ax, key, title in ((axes[0, 0], "logistic/base", "logistic, mini-batch, Window(10)"),
                           (axes[0, 1], "rastrigin/base", "Rastrigin, grad noise, Window(10)")):
        ids = examples[key][1]
        ax.step(np.arange(len(ids)), ids, where="post", lw=0.8, color=COLORS["lsgd"])
        ax.set_yticks(range(4))
        ax.set(xlabel="communication", ylabel="leader (worker)", title=title)

    ax = axes[0, 2]
    bars = {"paper fig. (182 sel.)": PAPER_COUNTS / PAPER_COUNTS.sum()}
    for key, lab in (("logistic/base", "logistic Window"), ("rastrigin/base", "Rastrigin Window"),
                     ("logistic/exact rule, deterministic (LGD)", "logistic exact, det. (resolved)")):
        bars[lab] = np.bincount(examples[key][1], minlength=4) / max(1, len(examples[key][1]))
    width = 0.8 / len(bars)
    for k, (lab, share) in enumerate(bars.items()):
        ax.bar(np.arange(4) + (k - (len(bars) - 1) / 2) * width, share, width, label=lab)
    ax.axhline(0.5, color="k", ls="--", lw=0.8)
    ax.set(xlabel="worker", ylabel="share of communications as leader", title="leader share (p = 4)",
           xticks=range(4))
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    for key, lab in (("logistic/base", "logistic Window λ=0.1"), ("rastrigin/base", "Rastrigin Window λ=0.1"),
                     ("rastrigin/pull=0.5", "Rastrigin Window λ=0.5"),
                     ("logistic/exact rule, deterministic (LGD)", "logistic exact, det.")):
        res = examples[key][0]
        D = res.dist_to_leader
        ax.semilogy(res.steps, D.sum(axis=1) / (D.shape[1] - 1), label=lab, lw=1)
    ax.set(xlabel="step", ylabel="mean non-leader distance to best", title="are non-leaders stranded?")
    ax.legend(fontsize=7)

    labels = [r["config"].replace("logistic/", "L:").replace("rastrigin/", "R:")
              .replace("exact rule, stochastic gradients", "exact").replace("exact rule, deterministic (LGD)",
                                                                            "exact det.") for r in rows]
    colors = ["#d95f02" if r["sticks"] else COLORS["lsgd"] for r in rows]
    y = np.arange(len(rows))
    ax = axes[1, 1]
    ax.barh(y, [r["max_share"] * r["workers"] for r in rows], color=colors)
    ax.axvline(MAX_SHARE_FACTOR, color="k", ls="--", lw=0.8)
    ax.set_yticks(y, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set(xlabel="max share × p (fair = 1)", title="max leader share (orange: sticks)")
    ax = axes[1, 2]
    ax.barh(y, [r["longest_run_fraction"] for r in rows], color=colors)
    ax.axvline(MAX_RUN_FRACTION, color="k", ls="--", lw=0.8)
    ax.set_yticks(y, [""] * len(rows))
    ax.invert_yaxis()
    ax.set(xlabel="longest run / communications", title="longest leader run")
    path = figure_dir / f"{NAME}.png"
    save(fig, path)
    return f"{figure_dir.name}/{path.name}"
