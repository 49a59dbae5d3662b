"""Reviewer 2: how does the communication period τ affect LSGD, at an equal gradient budget?

Question (NeurIPS 2019 review of paper 5205, Reviewer 2, point 1; digest §6 items 1 and 7): "The LSGD
method also behaves like local SGD method, and number of rounds for synchronization plays a significant
role in the convergence. However, there is no analysis on how this hyper-parameter affects the
convergence rate of the proposed approach." The paper gives no τ study; the authors' code communicates
every τ = 256 steps by default and pulls with a fixed strength c per communication (digest §5.4).

Claim tested (precise reading). "Communicating with the leader helps, and a larger τ cuts communication
at a modest cost": at the same number of gradient evaluations (T steps × p workers), for every τ in the
grid, LSGD (λ = 0.1 per communication, the authors' convention, exact leader) is compared with
independent SGD workers from the same starts, noise and mini-batches (no communication, τ = ∞; the
seeds pair the runs). The *benefit* at τ is B_τ = gap_SGD − gap_τ (paired over seeds, 95% t-interval),
shown as a share of gap_SGD; the *share kept* at τ is B_τ / B_1. "Converges" alone says nothing about
the leader (SGD without any communication converges too), so the verdict rests on the benefit.

What is measured. Problems: a strongly convex quadratic (d = 20, κ = 20) with Gaussian gradient noise
σ = 2, and L2-regularized logistic regression with mini-batches of 32; constant η (0.2/L, 0.5/L), p = 8.
The "gap" of a run is the mean over workers of f(x_i) − f* averaged over the last 10% of the run (the
constant-step noise floor makes one last value noisy); the gap at the workers' average (EASGD: its
center) and the floats communicated are reported too. Reported comparisons, not in the verdict: LSGD
with λ scaled with τ (λ_τ = 1 − (1 − λ)^τ, the contraction of τ pulls of λ; full mode only) and EASGD
(α = 0.9/p per communication, the authors' convention).

Leader dependence and controls. The benefit is what communicating with the leader adds, so it depends
on the leader. The same LSGD runs at every τ are repeated with a random leader and a worst leader (the
worker with the HIGHEST f leads; :mod:`theory_checks.controls`); the SGD reference is shared. At the
noise floor of these convex problems the workers are nearly exchangeable, so most of the benefit comes
from the coupling itself (a pull toward any other worker averages noise): a random leader keeps about
90% of it and even the worst leader keeps a positive benefit (about 15% of SGD's gap on both problems
in full mode, against 59% and 25% for the right leader). A benefit over no communication alone therefore
cannot tell a right leader from a wrong one here; the rule also asks that the leader's choice beat a
leader chosen at random significantly (at τ = 1, paired by seed; this random-leader reference is
measured in every mode), so that a random or a mid-ranked leader installed fails the check. The
λ-scaled variant and EASGD are reported, not judged.

Verdict (computed), per problem: (0) the benefit at τ = 1 is significant: its 95% lower bound is > 0
and its mean ≥ 10% of gap_SGD; (0') it is significantly above a random leader's (95% lower bound of
B_1 − B_1(random) > 0); (a) the run converges at every τ (finite, gap ≤ 5% of the initial gap);
(b) "modest cost" at τ: at least 50% of the τ = 1 benefit is kept. "fails" if (0), (0') or (a) fails
on some problem; "holds" if (b) holds at every τ on every problem; "holds under conditions" otherwise
(the summary gives, per problem, the largest τ up to which (b) holds).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.simulate import DivergenceError

from ._stats import mean_ci, seeds_to_separate
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "comm-period"
CLAIM = ("Reviewer 2: τ matters. At equal gradients, LSGD's benefit over no communication is real at τ = 1; "
         "a larger τ cuts communication and keeps most of it.")
LEADER_DEPENDENT = True
CAPTION = ("Benefit over no communication (share of SGD's gap, 95% CI) vs τ per leader, EASGD; gap vs "
           "floats sent.")

PERIODS = (1, 2, 4, 8, 16, 32, 64)
QUICK_PERIODS = (1, 4, 16, 64)
PROBLEMS = ("quadratic", "logistic")
PULL = 0.1            # λ per communication (authors' convention)
CONVERGED = 0.05      # (a): final gap ≤ 5% of the initial gap
SIGNIFICANT = 0.10    # (0): benefit at τ = 1 ≥ 10% of SGD's gap (and its 95% lower bound > 0)
KEPT = 0.5            # (b): at least half of the τ = 1 benefit kept
WORKERS = 8
BATCH = 32
LSGD_KINDS = ("lsgd", "lsgd-scaled")       # the LSGD runs (their leader rule follows the installed control)


def _problems(quick: bool, seed: int):
    quad = objectives.Quadratic.random(dim=20, cond=20.0, seed=seed)
    logit = objectives.LogisticRegression(n_samples=500 if quick else 1000, dim=10 if quick else 20, seed=seed)
    # η: 0.2/L on the quadratic (noise σ = 2 sets the floor), 0.5/L with mini-batches of 32 on logistic.
    return {"quadratic": (quad, 0.2 / quad.L, {"grad_noise": 2.0}),
            "logistic": (logit, 0.5 / logit.L, {"batch_size": BATCH})}


def make_method(kind: str, tau: int, mode: str | None = None):
    """lr -> algorithm at period τ; ``mode`` installs a control leader in the LSGD kinds."""
    if kind == "sgd":
        return lambda lr: algorithms.SGD(lr=lr)
    if kind == "easgd":
        return lambda lr: algorithms.EASGD(lr=lr, alpha=0.9 / WORKERS, period=tau)
    pull = PULL if kind == "lsgd" else 1 - (1 - PULL) ** tau
    return lambda lr: algorithms.LSGD(lr=lr, pull=pull, period=tau, leader=leader_rule(mode=mode))


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


def sweep(instances: dict, kind: str, periods, steps: int, mode=None, progress: Progress | None = None) -> dict:
    """Runs of one method over τ and seeds: arrays (n_τ, n_seeds) of gap, gap_average, initial_gap, floats."""
    rows = []
    for tau in periods:
        make = make_method(kind, tau, mode)
        row = []
        for s, inst in instances.items():
            row.append(_one(inst, make, steps, s))
            if progress is not None:
                progress.advance()
        rows.append(row)
    return {key: np.array([[r[key] for r in row] for row in rows], dtype=float)
            for key in ("gap", "gap_average", "initial_gap", "floats")}


def method_rows(runs: dict, periods, sgd_gap) -> list[dict]:
    """Per τ: mean gap (95% CI), gap at the average, relative gap, floats, and the paired benefit over
    no communication B_τ = mean_s(gap_SGD,s − gap_τ,s) as a share of mean gap_SGD (95% CI)."""
    scale = float(np.mean(sgd_gap))
    out = []
    for k, tau in enumerate(periods):
        gap, gap_ci = mean_ci(runs["gap"][k])
        avg, avg_ci = mean_ci(runs["gap_average"][k])
        benefit, benefit_ci = mean_ci((sgd_gap - runs["gap"][k]) / scale)
        out.append({"period": tau, "gap": gap, "gap_ci": gap_ci, "gap_average": avg, "gap_average_ci": avg_ci,
                    "relative_gap": float(np.mean(runs["gap"][k] / runs["initial_gap"][k])),
                    "floats": int(np.mean(runs["floats"][k])), "benefit": benefit, "benefit_ci": benefit_ci})
    return out


def _bound(mean: float, half: float) -> float:
    """mean + half, the end of a t-interval; without an interval (a run diverged) the mean itself if it is
    infinite, else −inf (no bound: nothing counts as significant)."""
    if np.isfinite(half):
        return mean + half
    return mean if np.isinf(mean) else float("-inf")


def lsgd_stats(rows: list[dict], runs: dict, random_tau1, scale: float) -> dict:
    """The verdict's numbers for one LSGD curve: (0) the τ = 1 benefit, (0') its difference to a random
    leader's at τ = 1 (paired by seed, share of SGD's gap), (a) convergence, (b) the share kept per τ."""
    b1, ci1 = rows[0]["benefit"], rows[0]["benefit_ci"]
    per_seed = (random_tau1 - runs["gap"][0]) / scale
    choice, choice_ci = mean_ci(per_seed)
    kept = [r["benefit"] / b1 if b1 > 0 else float("nan") for r in rows]
    ok = [bool(k >= KEPT) for k in kept]
    first_bad = next((i for i, v in enumerate(ok) if not v), len(ok))
    return {"benefit_tau1": b1, "benefit_tau1_lower": _bound(b1, -ci1), "over_random_tau1": choice,
            "over_random_tau1_upper": _bound(choice, choice_ci), "over_random_tau1_lower": _bound(choice, -choice_ci),
            "seeds_to_separate_from_random": seeds_to_separate(per_seed),
            "converges": [bool(np.isfinite(r["gap"]) and r["relative_gap"] <= CONVERGED) for r in rows],
            "kept": kept, "kept_up_to_period": rows[first_bad - 1]["period"] if first_bad > 0 else None}


def _significant(s: dict) -> bool:
    """(0) and (0'): a real benefit over no communication, significantly above a random leader's."""
    return bool(s["benefit_tau1_lower"] > 0 and s["benefit_tau1"] >= SIGNIFICANT and s["over_random_tau1_lower"] > 0)


def _modest_everywhere(s: dict) -> bool:
    return all(k >= KEPT for k in s["kept"])


# -- the check -------------------------------------------------------------------------------------
def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    steps = 512 if quick else 2048
    seeds = [seed + k for k in range(6 if quick else 8)]
    periods = QUICK_PERIODS if quick else PERIODS
    kinds = ("lsgd", "easgd") if quick else ("lsgd", "lsgd-scaled", "easgd")
    modes = control_modes(leader, controls)
    # LSGD with a control leader: the random-leader reference of (0') runs at τ = 1 always, the controls
    # over the whole grid (the random control's τ = 1 column is that reference).
    extra = {"random": periods[:1], **{mode: periods for mode in modes}}
    progress.expect(len(PROBLEMS) * len(seeds) * (1 + len(periods) * len(kinds) + sum(map(len, extra.values()))))
    measured = {"per_problem": {}, "curves": {}, "sgd_no_communication": {}}
    ctrl = {mode: {"per_problem": {}, "curves": {}} for mode in modes}
    arrays = {}
    for problem in PROBLEMS:
        instances = {s: _problems(quick, s)[problem] for s in seeds}
        sgd_gap = sweep(instances, "sgd", (1,), steps, progress=progress)["gap"][0]
        scale = float(np.mean(sgd_gap))
        gap, ci = mean_ci(sgd_gap)
        measured["sgd_no_communication"][problem] = {"gap": gap, "gap_ci": ci}
        runs = {kind: sweep(instances, kind, periods, steps, mode=leader if kind in LSGD_KINDS else None,
                            progress=progress) for kind in kinds}
        runs.update({f"lsgd-{mode}": sweep(instances, "lsgd", ps, steps, mode=mode, progress=progress)
                     for mode, ps in extra.items()})
        random_tau1 = runs["lsgd-random"]["gap"][0]
        arrays[f"gap.{problem}.sgd"] = sgd_gap
        arrays.update({f"gap.{problem}.{kind}": r["gap"] for kind, r in runs.items()})
        curves = {kind: method_rows(runs[kind], periods, sgd_gap) for kind in kinds}
        measured["curves"][problem] = curves
        measured["per_problem"][problem] = lsgd_stats(curves["lsgd"], runs["lsgd"], random_tau1, scale)
        right = measured["per_problem"][problem]["benefit_tau1"]
        for mode in modes:
            rows = method_rows(runs[f"lsgd-{mode}"], periods, sgd_gap)
            ctrl[mode]["curves"][problem] = {"lsgd": rows}
            # with what the control keeps of the installed (right) leader's τ = 1 benefit, per τ
            ctrl[mode]["per_problem"][problem] = {**lsgd_stats(rows, runs[f"lsgd-{mode}"], random_tau1, scale),
                                                  "share_of_right_tau1": [r["benefit"] / right for r in rows]}
    setting = {"steps": steps, "workers": WORKERS, "seeds": seeds, "periods": list(periods), "methods": list(kinds),
               "leader": leader or "exact",
               "quadratic": {"dim": 20, "cond": 20.0, "grad_noise": 2.0, "lr": "0.2/L"},
               "logistic": {"n_samples": 500 if quick else 1000, "dim": 10 if quick else 20, "batch_size": BATCH,
                            "lr": "0.5/L"},
               "lsgd": {"pull": PULL}, "lsgd-scaled": {"pull": "1 - (1 - 0.1)^τ"},
               "easgd": {"alpha": f"0.9/{WORKERS}", "beta": 0.9}, "sgd": "independent workers, same seeds"}
    reading = (f"Equal budget ({steps} steps × {WORKERS} workers), τ ∈ {list(periods)}, λ = {PULL}; B_τ = gap(SGD "
               f"alone) − gap(LSGD), paired. Fails unless B_1 > 0 (95%), ≥ {SIGNIFICANT:.0%} of SGD's gap, "
               f"not below a random leader's (95%), all τ converge; holds if all τ keep ≥ {KEPT:.0%} of B_1.")
    expected = {"benefit_tau1_min_share_of_sgd_gap": SIGNIFICANT, "benefit_tau1_lower_bound": "> 0",
                "over_random_tau1_lower_bound": "> 0",
                "kept_share_min": KEPT, "converged_relative_gap_max": CONVERGED}
    return CheckRecord(name=NAME, claim=CLAIM, reading=reading, setting=setting, measured=measured,
                       expected=expected, controls=ctrl, arrays=arrays)


def verdict(record: CheckRecord) -> str:
    per = record.measured["per_problem"].values()
    if not all(_significant(s) and all(s["converges"]) for s in per):
        return "fails"
    return "holds" if all(_modest_everywhere(s) for s in per) else "holds under conditions"


def _pcts(per: dict, key: str, k: int | None = None) -> str:
    """'61%/25%': one number per problem (element ``k`` of a per-τ list)."""
    return "/".join(f"{(s[key] if k is None else s[key][k]):.0%}" for s in per.values())


def summary(record: CheckRecord) -> str:
    per, c = record.measured["per_problem"], record.controls
    text = f"τ=1 benefit over no communication (quad/logistic, share of SGD's gap) {_pcts(per, 'benefit_tau1')}"
    if "random" in c and "worst" in c:
        text += (f" (random leader {_pcts(c['random']['per_problem'], 'benefit_tau1')}, worst "
                 f"{_pcts(c['worst']['per_problem'], 'benefit_tau1')})")
    if all(_significant(s) for s in per.values()):
        text += ("; ≥ half of it kept up to τ=" + "/".join(str(s["kept_up_to_period"]) for s in per.values())
                 + f", {_pcts(per, 'kept', -1)} at τ={record.setting['periods'][-1]}")
    else:
        need = max(s["seeds_to_separate_from_random"] for s in per.values())
        text += (f"; minus a random leader's: {_pcts(per, 'over_random_tau1')}: not a real benefit of the leader on "
                 f"every problem" + (f" (with {len(record.setting['seeds'])} seeds; about {need} would separate)"
                                     if 0 < need < 10_000 and need > len(record.setting["seeds"]) else ""))
    return text + "."


def _cells(per: dict, fmt) -> str:
    return " / ".join(fmt(s) for s in per.values())


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c = record.measured, record.controls
    last = record.setting["periods"][-1]
    pct = lambda key, k=0: lambda s: f"{s[key][k] if isinstance(s[key], list) else s[key]:+.0%}"   # noqa: E731

    def row(quantity, fmt, expected, ctrl_fmt=None):
        ctrl = {mode: _cells(c[mode]["per_problem"], ctrl_fmt or fmt) for mode in c}
        return {"quantity": quantity, "measured": _cells(m["per_problem"], fmt), **ctrl, "expected": expected}
    return [
        row("τ=1 benefit / SGD's gap (quad / logistic)", pct("benefit_tau1"), f"> 0 (95%), ≥ {SIGNIFICANT:.0%}"),
        row("τ=1 benefit − random leader's", pct("over_random_tau1"), "> 0 (95%)"),
        row(f"benefit at τ={last} / LSGD's at τ=1", pct("kept", -1), f"≥ {KEPT:.0%}",
            ctrl_fmt=pct("share_of_right_tau1", -1)),
        row("converges at every τ", lambda s: "yes" if all(s["converges"]) else "no",
            f"gap ≤ {CONVERGED:.0%} of start"),
    ]


# -- figure ----------------------------------------------------------------------------------------
def _curves(record: CheckRecord, problem: str):
    """(label, colour, linestyle, rows) for every curve of ``problem`` in the record."""
    from lsgdsim.plotting import COLORS, CONTROL_DASHES
    leader = record.setting.get("leader", "exact")
    name = "LSGD" if leader == "exact" else f"LSGD, {leader} leader installed"
    c = record.measured["curves"][problem]
    key = f"{leader} leader"
    out = [(name, COLORS["lsgd"], "-", c["lsgd"]) if leader == "exact" else
           (name, COLORS[key], CONTROL_DASHES[key], c["lsgd"])]
    if "lsgd-scaled" in c:
        out.append(("LSGD, λ_τ = 1 − (1 − λ)^τ", COLORS["lsgd"], "--", c["lsgd-scaled"]))
    for mode, ctrl in record.controls.items():
        out.append((f"LSGD, {mode} leader", COLORS[f"{mode} leader"], CONTROL_DASHES[f"{mode} leader"],
                    ctrl["curves"][problem]["lsgd"]))
    out.append(("EASGD, α = 0.9/p", COLORS["easgd"], "-", c["easgd"]))
    return out


def figure(record: CheckRecord):
    from lsgdsim import plotting
    fig, axes = plotting.subplots(2, 2, width=4.4, height=3.1)
    periods = record.setting["periods"]
    for row, problem in enumerate(PROBLEMS):
        ax_b, ax_f = axes[row, 0], axes[row, 1]
        curves = _curves(record, problem)
        for k, (label, color, ls, rows) in enumerate(curves):
            tau = np.array([r["period"] for r in rows], dtype=float)
            ben = np.array([r["benefit"] for r in rows])
            ci = np.nan_to_num(np.array([r["benefit_ci"] for r in rows]))
            shift = 1.07 ** (k - (len(curves) - 1) / 2)          # side by side, so the error bars do not overlap
            ax_b.errorbar(tau * shift, ben, yerr=ci, color=color, ls=ls, marker="o", ms=3, capsize=2, label=label)
            floats = np.array([r["floats"] for r in rows], dtype=float)
            ax_f.plot(floats, [r["gap"] for r in rows], color=color, ls=ls, marker="o", ms=3, label=label)
            if k == 0:
                for f, g, t in zip(floats, [r["gap"] for r in rows], tau, strict=True):
                    ax_f.annotate(f"τ={t:.0f}", (f, g), fontsize=6, xytext=(3, -9), textcoords="offset points")
        stats_ = record.measured["per_problem"][problem]
        b1 = stats_["benefit_tau1"]
        if "random" not in record.controls:                   # the random-leader reference of rule (0')
            ax_b.plot([periods[0]], [b1 - stats_["over_random_tau1"]], "s", color=plotting.COLORS["random leader"],
                      ms=5, label="random leader, τ = 1 (reference)")
        ax_b.axhline(0, color=plotting.COLORS["sgd"], ls=":", lw=1, label="SGD, no communication")
        if b1 > 0:
            ax_b.axhline(KEPT * b1, color=plotting.COLORS["bound"], ls=":", lw=0.8,
                         label=f"{KEPT:.0%} of LSGD's τ = 1 benefit")
        ax_f.axhline(record.measured["sgd_no_communication"][problem]["gap"], color=plotting.COLORS["sgd"], ls=":",
                     lw=1, label="SGD, no communication")
        ax_b.set(xscale="log", xlabel="communication period τ (steps)", ylabel="benefit / SGD's gap",
                 title=f"{problem}: benefit over no communication")
        ax_b.set_xticks(periods, [str(t) for t in periods])
        ax_f.set(xscale="log", yscale="log", xlabel="floats communicated (whole run)",
                 ylabel="final mean-worker gap f − f*", title=f"{problem}: gap vs communication")
        ax_f.margins(x=0.08)
    handles, labels = axes[1, 0].get_legend_handles_labels()
    plotting.legend_below(fig, handles, labels, ncol=3, fontsize=7)
    return fig
