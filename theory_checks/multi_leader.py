"""Multi-leader LSGD: local leaders (λ, τ) on groups of l = p/n workers plus a global leader (λ_G, τ_G).

Question. The paper's theory covers one leader (digest §3.8: no multi-leader theory was found); its
experiments use the multi-leader rule (docs/design.md §3; digest §2.3–2.4). Three questions, with data:
(1) Does the one-step extra decrease hold per group with the local leader, and what does the global
pull add? (2) What is the O(1/t) constant against single-leader LSGD at the same communication budget,
across group sizes, on a quadratic and on logistic regression? (3) Does the multi-leader rule keep
LGD's success on the symmetric landscapes (ring sin(r)/r, matrix completion)?

Readings.
(1) Theory form x⁺ = x − η(g + λ(x − z_j)) with z_j the leader of x's group (simulator pull ηλ), one
step from states of a multi-leader run (p = 8, l ∈ {2, 4}, spread starts, several times along the run)
on the noisy quadratic (d = 10, κ = 10, s = 0.5 per coordinate, σ² = d·s²), with η = η_B(λ + λ_G) =
min{1/(2M), m/(2M(λ + λ_G))}. E f(x⁺) is exact: one noiseless simulator step plus (η²/2)s²tr(A). Per
group the one-step theorem must hold for every worker: P = ηλ(f(x) − f(z_j)) ≥ 0 (the local leader is
at least as good) and D ≥ P, D = (1 − mη)(f(x) − f*) + η²Mσ²/2 − (E f(x⁺) − f*) the decrease below the
SGD bound. With both pulls at once (a global step), D ≥ ηλ(f(x) − f(z_j)) + ηλ_G(f(x) − f(z)) is
derived here [RECON] from the theorem with the leader (λz_j + λ_Gz)/(λ + λ_G) (convexity) and is
checked the same way. With the rule's own leader P ≥ 0 holds by construction (the local leader is its
group's best); what can fail with it is D ≥ P, the theorem itself: a pull that moves away from the leader
breaks it (tests/test_check_multi_leader.py), as does any leader that is not the group's best. Also
reported: the decrease over the SGD step itself, E f(x_SGD⁺) − E f(x⁺),
against P (the theorem does not bound it).
(2) η_t = a/(b + t), a·m = 2, b = a·M, λ = λ_G chosen so that the first pull η_1λ is 0.4, τ = 2,
τ_G = 4 (the authors' τ_G = 2τ), exact leader; mean-worker gap; C = median over the tail of t·gap;
p = 8, l ∈ {2, 4}. Replicas: a run with a global pull is one seed per run (its global leader is the
best of its own p workers); single-leader LSGD and the groups with λ_G = 0 run as replica groups of
one run (exact). Communication budget = floats communicated per step (``Result.meta``: scores, and
every broadcast of a leader's d-vector to the others of its group or to all). Matching: single-leader
LSGD (same λ per communication) is run at τ_s ∈ {1, 2, 4}; its C is interpolated (linear in log
floats) at the multi-leader run's floats per step. The ratio C_multi/C_single gets a 95% bootstrap
interval over seeds of both; "no worse" means its lower end is ≤ 1.1. What the global pull adds:
C_multi/C_multi(λ_G = 0). Counting every float alike favours single-leader LSGD: the multi-leader
rule saves floats only on the slow links between groups, which this count does not weigh.
(3) symmetry.py's settings (deterministic, p = 4, λ = 0.05, τ = 1), two groups of 2 with τ_G = 4 and
λ_G = λ against single-leader LGD; success: best worker on the best ring / at f ≤ 1e-8. "Not worse":
the Wilson 95% intervals do not separate with single-leader LGD on top. The ring's sample size is
computed: 40 pilot starts, then as many as would make intervals of the pilot's two rates stop overlapping
(``_multi_leader.starts_to_separate``; at most 1000), recorded as ``landscapes.ring.sample_size``.
Quick mode: the quadratic only in (2), fewer states, seeds and matrix ranks, 16 ring starts and no more
(the record says when that is too few to separate the two rates).

Leader dependence and controls. (1) is about the leaders: with a worst leader P < 0 (the pull toward
the worst of the group is an extra *increase* in the bound) and the check must fail; the one-step
numbers are measured again with a random and a worst leader (``controls``); a random leader fails (1)
too, since a worker is often pulled toward a worse one. (2) and (3) use the same rule and are reported
for the right leader only (``leader=...`` installs a control there as well).

Verdict (computed). "fails" if (1) fails in some group or with both pulls, for some l; "holds" if (1)
holds, every multi-leader tail slope is confidently ≤ −0.9, no matched constant ratio is confidently
above 1.1 and no landscape success rate is significantly below single-leader LGD's; otherwise "holds
under conditions" (the summary names what is worse).
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from lsgdsim import leaders

from . import _multi_leader as ml
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

# Multi-leader LSGD, a variant of LSGD's rule: a setting blue, not another method's colour (EAMSGD's pink).
MULTI = "#2171b5"
NAME = "multi-leader"
CLAIM = ("Multi-leader LSGD: the one-step extra decrease holds per group; at equal floats its O(1/t) constant matches "
         "single-leader's; it keeps LGD's wins on symmetric landscapes.")
LEADER_DEPENDENT = True
CAPTION = ("One step per group (D vs P; worst leader red); C/C_SGD vs floats; t·gap; ring, "
           "matrix success.")

SIZES, SLOPE_TOL = (2, 4), -0.9
# problems: name -> (replicas S, separate multi-leader runs, steps T); quick mode leaves out logistic regression.
# ring_seeds: the pilot starts; ring_cap: at most this many starts when the pilot's rates need more to separate
QUICK = {"K": 12, "traj": 300, "problems": {"quadratic": (16, 8, 1000)}, "ring_seeds": 16, "ring_cap": 16,
         "mat_seeds": 6, "ranks": (1, 3), "mat_steps": 300}
FULL = {"K": 30, "traj": 600, "problems": {"quadratic": (32, 24, 3000), "logistic": (12, 12, 1000)},
        "ring_seeds": 40, "ring_cap": 1000, "mat_seeds": 24, "ranks": (1, 3, 10), "mat_steps": 800}


def _arrays(prob, curves) -> dict:
    """The seed-mean curves of one problem's runs, for the figure (keys PROBLEM__NAME)."""
    out = {f"{prob}__steps": curves["sgd"][0]}
    out |= {f"{prob}__{name}": g.mean(axis=0) for name, (_, g, _) in curves.items()}
    return out


READING = ("(1) group-leader pull, η = η_B(λ+λ_G), exact: per group P = ηλ(f(x) − f(z_j)) ≥ 0, SGD-bound "
           "slack ≥ P, also with both pulls. (2) tail t·gap constant, η_t ∝ 1/t, vs one leader at equal floats. (3) "
           "ring/matrix success.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    cfg = QUICK if quick else FULL
    modes = control_modes(leader, controls)
    progress.expect(1 + len(modes) + len(cfg["problems"]) * (len(ml.SINGLE_PERIODS) + len(SIZES))
                    + 1 + len(cfg["ranks"]))
    rng = np.random.default_rng(ml.derive_seed(seed, 300))
    prs = ml.problems(seed, cfg["problems"])
    rule = leader_rule(leaders.Exact(), leader)
    one_step, rows = ml.one_step_groups(prs["quadratic"], SIZES, rule, cfg["K"], cfg["traj"], seed)
    arrays = {"onestep_P": rows[SIZES[-1]]["P_local"], "onestep_D": rows[SIZES[-1]]["D_local"],
              "onestep_group": rows[SIZES[-1]]["group"]}
    progress.advance()
    ctrl = {}
    for mode in modes:
        stats, c_rows = ml.one_step_groups(prs["quadratic"], SIZES, leader_rule(leaders.Exact(), mode), cfg["K"],
                                           cfg["traj"], seed)
        ctrl[mode] = {"one_step": stats}
        if mode == "worst":
            arrays |= {"onestep_worst_P": c_rows[SIZES[-1]]["P_local"], "onestep_worst_D": c_rows[SIZES[-1]]["D_local"]}
        progress.advance()
    budget = {}
    for prob, pr in prs.items():
        curves = ml.budget_curves(pr, SIZES, rule, *cfg["problems"][prob], ml.derive_seed(seed, 5), progress)
        budget[prob] = ml.budget_rows(curves, SIZES, pr["b"], rng)
        arrays |= _arrays(prob, curves)
    lands = ml.landscape_rates(range(seed, seed + cfg["ring_seeds"]), range(seed, seed + cfg["mat_seeds"]),
                               cfg["ranks"], cfg["mat_steps"], rule, progress, ring_cap=cfg["ring_cap"])
    return CheckRecord(
        name=NAME, claim=CLAIM,
        reading=READING,
        setting={"workers": ml.WORKERS, "group_sizes": list(SIZES), "local_period": ml.LOCAL_PERIOD,
                 "global_period": ml.GLOBAL_PERIOD, "first_pull": ml.FIRST_PULL,
                 "single_periods": list(ml.SINGLE_PERIODS),
                 **{k: v for k, v in cfg.items() if k != "problems"},
                 "runs": {k: dict(zip(("replicas", "multi_runs", "steps"), v, strict=True))
                          for k, v in cfg["problems"].items()},
                 "problems_detail": {k: {"dim": pr["obj"].dim, "m": pr["obj"].mu, "M": pr["obj"].L, "a": pr["a"],
                                         "b": pr["b"], "lam": pr["lam"]} for k, pr in prs.items()},
                 "landscapes": {"ring": ml.symmetry.RING, "matrix": {**ml.symmetry.MATRIX, "steps": cfg["mat_steps"]},
                                "global_period": ml.GLOBAL_PERIOD}, "seed": seed},
        measured={"one_step": one_step, "budget": budget, "landscapes": lands},
        expected={"one_step": "P ≥ 0 and D ≥ P for every worker of every group", "slope": f"≤ {SLOPE_TOL} (CI upper)",
                  "ratio_to_single": f"CI lower end ≤ {ml.SLACK}", "landscapes": "Wilson intervals do not separate"},
        controls=ctrl, arrays=arrays)


# -- judging ---------------------------------------------------------------------------------------
def one_step_ok(one_step: dict) -> bool:
    return all(all(s["holds_per_group"]) and s["both_pulls"]["holds"] for s in one_step.values())


def _multis(m):
    return [(prob, size, m["budget"][prob][f"multi_{size}"]) for prob in m["budget"] for size in map(str, SIZES)]


def _worse(m) -> list[str]:
    out = [f"{p} l={s} slope" for p, s, r in _multis(m) if r["ci"][1] > SLOPE_TOL]
    out += [f"{p} l={s} C×{r['ratio_to_single']:.2f}" for p, s, r in _multis(m)
            if r["ratio_to_single_ci"][0] > ml.SLACK]
    out += [name for name, r in m["landscapes"].items() if r["single"]["ci95"][0] > r["multi"]["ci95"][1]]
    return out


def verdict(record: CheckRecord) -> str:
    m = record.measured
    if not one_step_ok(m["one_step"]):
        return "fails"
    return "holds under conditions" if _worse(m) else "holds"


def _groups_holding(one_step: dict) -> str:
    held = sum(sum(s["holds_per_group"]) for s in one_step.values())
    total = sum(len(s["holds_per_group"]) for s in one_step.values())
    return f"{held}/{total} groups"


def summary(record: CheckRecord) -> str:
    m = record.measured
    ratios = ", ".join(f"{p[:4]} l={s} {r['ratio_to_single']:.2f}" for p, s, r in _multis(m))
    worse = _worse(m)
    text = (f"One-step bound holds in {_groups_holding(m['one_step'])}. C_multi/C_single at equal floats: {ratios}. "
            + (f"Worse: {'; '.join(worse)}." if worse else "Symmetric landscapes: no worse."))
    worst = record.controls.get("worst", {}).get("one_step")
    return text + (f" Worst leader: {_groups_holding(worst)}." if worst else "")


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c = record.measured, record.controls
    both = lambda o: "holds" if all(s["both_pulls"]["holds"] for s in o.values()) else "fails"   # noqa: E731
    multis = _multis(m)
    short = lambda key: "; ".join(f"{p[0]}{s} {r[key]:.2f}" for p, s, r in multis)               # noqa: E731
    lands = m["landscapes"]
    return [
        {"quantity": "one-step bound, groups holding (l=2, 4)", "measured": _groups_holding(m["one_step"]),
         **{mode: _groups_holding(c[mode]["one_step"]) for mode in c}, "expected": "all: P ≥ 0, D ≥ P"},
        {"quantity": "both pulls: D ≥ P_local + P_global", "measured": both(m["one_step"]),
         **{mode: both(c[mode]["one_step"]) for mode in c}, "expected": "holds [RECON]"},
        {"quantity": "C_multi/C_single, equal floats (q/l, l)", "measured": short("ratio_to_single"),
         "expected": f"≤ {ml.SLACK} (CI lower)"},
        {"quantity": "C_multi/C(λ_G = 0): global pull adds", "measured": short("ratio_to_no_global"),
         "expected": "free"},
        {"quantity": "success single/multi (matrix: worst rank)",
         "measured": f"ring {lands['ring']['single']['rate']:.2f}/{lands['ring']['multi']['rate']:.2f}; matrix "
                     f"{min(r['single']['rate'] for k, r in lands.items() if k != 'ring'):.2f}/"
                     f"{min(r['multi']['rate'] for k, r in lands.items() if k != 'ring'):.2f}",
         "expected": "not separated (Wilson)"},
    ]


# -- figure ----------------------------------------------------------------------------------------
def figure(record: CheckRecord):
    from lsgdsim import plotting
    fig, axes = plotting.four_panels()
    _panel_one_step(axes[0], record, plotting)
    _panel_budget(axes[1], record, plotting)
    _panel_curves(axes[2], record, plotting)
    _panel_landscapes(axes[3], record, plotting)
    return fig


def _panel_one_step(ax, record, plotting):
    a = record.arrays
    P, D = np.asarray(a["onestep_P"]), np.asarray(a["onestep_D"])
    ax.scatter(P, D, s=9, c=np.asarray(a["onestep_group"]), cmap="viridis", label="right leader (colour: group)")
    if "onestep_worst_P" in a:
        ax.scatter(a["onestep_worst_P"], a["onestep_worst_D"], s=9, marker="x", color=plotting.COLORS["worst leader"],
                   label="worst leader")
    lim = np.array([min(P.min(), np.min(a.get("onestep_worst_P", P))), max(P.max(), 0)])
    ax.plot(lim, lim, color=plotting.COLORS["bound"], lw=0.8, ls=":", label="D = P (theorem: D ≥ P)")
    ax.axvspan(lim[0], 0, color=plotting.COLORS["worst leader"], alpha=0.08, label="P < 0: leader worse than x")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set(xlabel="predicted P = ηλ(f(x) − f(z_group))", ylabel="D = SGD bound − E f(x⁺) + f*",
           title=f"one step per group (l = {SIZES[-1]})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.38), fontsize=7)


def _panel_budget(ax, record, plotting):
    colors = plotting.COLORS
    for prob, rows in record.measured["budget"].items():
        ls = "-" if prob == "quadratic" else "--"
        c_sgd = rows["sgd"]["C"]
        single = [rows[f"single_{t}"] for t in ml.SINGLE_PERIODS]
        ax.plot([r["floats_per_step"] for r in single], [r["C"] / c_sgd for r in single], ls=ls, marker="o", ms=3,
                color=colors["lsgd"], label=f"single leader τ_s = {', '.join(map(str, ml.SINGLE_PERIODS))} ({prob})")
        for size, mk in zip(SIZES, ("s", "D"), strict=True):
            r, r0 = rows[f"multi_{size}"], rows[f"nolead_{size}"]
            ax.plot([r["floats_per_step"]], [r["C"] / c_sgd], mk, color=MULTI, ms=6, mfc=MULTI if ls == "-"
                    else "none", label=f"multi, l = {size} ({prob})")
            ax.plot([r0["floats_per_step"]], [r0["C"] / c_sgd], mk, color="#999999", ms=5,
                    mfc="#999999" if ls == "-" else "none", label=f"groups only, λ_G = 0, l = {size}"
                    if prob == "quadratic" else None)
    ax.axhline(1, color=colors["sgd"], ls=":", lw=1, label="SGD")
    ax.set(xscale="log", xlabel="floats communicated per step", ylabel="C / C_SGD  (C = tail t·gap)",
           title="O(1/t) constant vs communication")
    ax.xaxis.set_minor_formatter(NullFormatter())         # overlapping minor labels; a few major ones instead
    ax.set_xticks([10, 20, 40, 80], ["10", "20", "40", "80"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.38), ncol=2, fontsize=6)


def _panel_curves(ax, record, plotting):
    a = record.arrays
    st = np.asarray(a["quadratic__steps"], dtype=float)
    keep = st > 0
    for key, color, ls, label in (("sgd", plotting.COLORS["sgd"], "-", "SGD"),
                                  ("single_1", plotting.COLORS["lsgd"], "-", "single leader τ = 1"),
                                  (f"multi_{SIZES[-1]}", MULTI, "-", f"multi, l = {SIZES[-1]}"),
                                  (f"nolead_{SIZES[-1]}", "#999999", "--", f"groups only, l = {SIZES[-1]}")):
        ax.plot(st[keep], st[keep] * np.asarray(a[f"quadratic__{key}"])[keep], color=color, ls=ls, lw=1, label=label)
    ax.set(xscale="log", yscale="log", xlabel="step t", ylabel="t · (mean-worker gap), seed mean",
           title="quadratic, η_t = a/(b + t)")
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks([0.3, 0.5, 1, 2, 4], ["0.3", "0.5", "1", "2", "4"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.38), ncol=2, fontsize=7)


def _panel_landscapes(ax, record, plotting):
    lands = record.measured["landscapes"]
    x = np.arange(len(lands))
    for off, key, color, label in ((-0.18, "single", plotting.COLORS["lsgd"], "single-leader LGD"),
                                   (0.18, "multi", MULTI, "multi-leader LGD (2 × 2)")):
        rates = [r[key] for r in lands.values()]
        vals = np.array([r["rate"] for r in rates])
        err = np.array([[r["rate"] - r["ci95"][0], r["ci95"][1] - r["rate"]] for r in rates]).T
        ax.bar(x + off, vals, width=0.34, color=color, yerr=np.maximum(err, 0), capsize=2, label=label)  # rounding
    ax.set_xticks(x, [k.replace("matrix rank ", "matrix\nrank ") for k in lands], fontsize=7)
    ax.set(ylim=(0, 1.05), ylabel="success rate (Wilson 95% CI)", title="symmetric landscapes")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.38), fontsize=7)
