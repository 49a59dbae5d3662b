"""Claim 1: one LSGD step improves on the SGD one-step bound by the leader term (strongly convex f).

Theorem (poster, digest §3.1; the supplement with the exact statement and step-size condition was not
recovered). f m-strongly convex with M-Lipschitz gradient, stochastic gradient g = ∇f(x) + ξ with
E ξ = 0 and E‖ξ‖² ≤ σ², leader (guiding point) z with f(z) ≤ f(x), theory-form step
x⁺ = x − η(g + λ(x − z)). For η "small enough":

    E f(x⁺) − f*  ≤  (1 − mη)(f(x) − f*) − ηλ(f(x) − f(z)) + η²Mσ²/2.

Reading tested. σ² is the TOTAL variance E‖ξ‖² (the simulator's ``grad_noise = s`` is per coordinate,
σ² = d·s²). The step is the simulator's LSGD with algorithmic pull η·λ and τ = 1 (``lsgd_theory``); the
pull without η is a different step and is shown to disagree. "η small enough" is read as the digest's
derived condition η ≤ η_B := min{1/(2M), m/(2Mλ)} [RECON, digest §3.1].

What depends on the leader. The LSGD-specific part is the extra decrease −ηλ(f(x) − f(z)) over SGD, with
z the LEADER. It is measured with the leader chosen by the simulator's rule (exact, or a control):
p = 8 workers spread over a decade of distances from x*, one SGD and one LSGD step with the same noise,
and per worker the realized extra decrease Δ = E f(x⁺_SGD) − E f(x⁺_LSGD) against the predicted
T = ηλ(f(x) − f(z)) for the z actually chosen. On random quadratics (η ∈ {¼, 1}·η_B) Δ is exact: the
noise adds η²tr(AΣ)/2 to both steps, so the noiseless simulated difference is the expectation (checked
against the closed form); on logistic regression Δ is a paired Monte Carlo mean with its SE. For every f
of the class and every z (derived in ``_one_step_sim.extra_decrease_band``),
T + ηλ[(m/2)‖δ‖² − ηM‖∇f + λδ‖‖δ‖] ≤ Δ ≤ T + ηλ[(M/2)‖δ‖² + ηM‖∇f‖‖δ‖], δ = x − z (noise adds σ² under
the norms): Δ is the theorem's term up to curvature terms. The leader part holds when, for every
non-leader worker, (i) T ≥ 0 (the chosen leader satisfies f(z) ≤ f(x)), (ii) Δ lies in the band, and
(iii) Δ ≥ 0 (only a near-tie the band allows, T ≥ 0 with Δ ≥ its lower end, excuses a negative value;
logistic: with 3 SE). A worst leader breaks (i) for every worker and (iii) for about a third of them (a
pull toward a worse point still lowers f for the others: it averages); a random leader breaks (i) for
a third to a half of them. The parts below are about the step-size condition and hold for any valid z, so they are
leader-independent; they run with the installed rule too, and a control then breaks the simulator's
agreement with the step toward the placed z.

Leader-independent parts.
1. Random quadratics (d 1–100, κ 1–10⁴, m 10⁻²–10², λ/m 10⁻²–10³), random x and leaders z with
   f(z) ≤ f(x); E f(x⁺) − f* = f(x̄⁺) − f* + (η²/2)tr(AΣ) exactly, x̄⁺ = x − η(∇f(x) + λ(x − z)), for the
   isotropic Σ = (σ²/d)I and the worst case Σ = σ²v_Mv_Mᵀ (noise term η²Mσ²/2 exactly: the inequality
   reduces to its noiseless part). Evaluated for η ∈ η_B·{0.01, 0.1, 0.5, 1}.
2. The largest admissible η. With e = x − x*, δ = x − z, worst-case Σ, RHS − LHS = −η·c₁ − η²·c₂ where
   −c₁ = eᵀ(A² − (m/2)A)e + (λ/2)δᵀAδ ≥ mF > 0 and c₂ = ½(Ae + λδ)ᵀA(Ae + λδ), so the inequality holds
   exactly on [0, −c₁/c₂]. Per eigenvalue a, max c₂/(−c₁) = a²/(2a − m) + λ, increasing in a, so the exact
   threshold over all x, z is (derived here, [RECON]) η* = 1/(λ + M²/(2M − m)), attained by e ∝ v_M/(M −
   m/2), δ ∝ 2v_M/M (a valid leader). η_B ≤ η* always, with equality only for κ = 1, λ = m; η*/η_B → 4 −
   2/κ as λ → 0 and → 2κ as λ → ∞. Per problem the check bisects η on the direct evaluation.
3. The whole class (PEPit, optional ``pep`` extra; ``_one_step_pep``): the worst case of one step over
   all m-strongly convex M-smooth f and leaders with f(z) ≤ f(x) is an SDP; σ = 0 is the binding case
   (smoothness: noise adds at most η²Mσ²/2, which the bound pays). The largest η for the class, found by
   bisection, is compared with η* on a grid of (m, M, λ) (one case in quick mode). It agrees with η* to
   ~3e-6 relative in every case tried (judged at 1e-4): η* is exact for the whole class, not only for
   quadratics. The record keeps the solver (Clarabel, tolerance 1e-8) and the cases.
4. Logistic regression (ℓ₂-regularized, m = reg, M = the L bound), Monte Carlo with the simulator: one
   step from x with z held in worker 0 (the exact rule's leader); holds at η if mean + 3 SE of
   E f(x⁺) − f* is below the RHS, fails if mean − 3 SE is above it.
5. Simulator vs closed form on quadratics: noiseless x⁺ and f(x⁺) to 1e-9 (relative), the mean over R
   noisy replicas within 5 SE; the pull without η (LSGD(lr=η, pull=λ)) is reported as a different step.

Documented examples (``EXAMPLES``) are re-evaluated at every run and reported in ``details``; any
counterexample found by the property tests (tests/test_check_one_step.py) is to be added there, never
deleted.

Verdict (computed). "fails" if the leader part fails (i–iii above, either objective), the simulator
disagrees with the closed form, or any violation is found with η ≤ η_B (exact, logistic, or PEPit's
class threshold below η_B); "holds under conditions" if none is found inside but violations exist for
larger η (the theorem needs its step-size condition); "holds" if no violation is found at any η tried.
"""
from __future__ import annotations

import numpy as np

from lsgdsim.leaders import Exact

from . import _one_step_pep as pep
from ._convex import derive_seed
from ._one_step_exact import EXAMPLES, evaluate_example, quadratic_study
from ._one_step_sim import (
    Z_CI,
    Z_SIM,
    extra_decrease_logistic,
    extra_decrease_quadratic,
    leader_configs,
    logistic_study,
    simulator_agreement,
)
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "one-step"
CLAIM = ("Strongly convex, smooth f, η small enough: E f(x⁺) − f* ≤ (1 − mη)(f(x) − f*) − ηλ(f(x) − f(z)) + "
         "η²Mσ²/2 for x⁺ = x − η(g + λ(x − z)), z the leader (f(z) ≤ f(x)).")
LEADER_DEPENDENT = True
CAPTION = ("(a) largest η / η_B; (b) exact slack; (c) logistic MC; (d) extra decrease vs ηλ(f(x) − f(z)).")
EXTRA_TOL = 1e-7         # simulated extra decrease vs closed form (difference of two f values ~ f*)
SIZES = {True: {"problems": 60, "samples": 300, "reps": 4000, "configs": 24, "leader_reps": 2000},
         False: {"problems": 200, "samples": 1500, "reps": 20000, "configs": 200, "leader_reps": 5000}}


def leader_part(rule, configs, seed: int, reps: int) -> dict:
    """The LSGD-specific measurement for one leader rule: extra decrease on quadratics and logistic regression."""
    return {"quadratic": extra_decrease_quadratic(configs, rule, seed),
            "logistic": extra_decrease_logistic(rule, seed, reps)}


def _stats(part: dict) -> dict:
    return {obj: v["stats"] for obj, v in part.items()}


READING = ("σ² = E‖ξ‖², τ = 1; 'η small enough': η ≤ min{1/(2M), m/(2Mλ)}. Leader part: E f(x⁺_SGD) − E f(x⁺_LSGD) "
           "vs ηλ(f(x) − f(z)) per worker (exact: quadratics; 3 SE: logistic); PEPit over "
           "the class.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    z = SIZES[bool(quick)]
    rule = leader_rule(Exact(), leader)
    modes = control_modes(leader, controls)
    grid = pep.QUICK_GRID if quick else pep.GRID
    progress.expect(4 + len(modes) + (len(grid) if pep.available() else 0))
    quad = quadratic_study(z["problems"], z["samples"], np.random.default_rng(derive_seed(seed, 1)), quick)
    progress.advance()
    agree = simulator_agreement(np.random.default_rng(derive_seed(seed, 2)), z["reps"], seed, rule=rule)
    logi = logistic_study(z["reps"], seed, quick, rule=rule)
    progress.advance()
    examples = [evaluate_example(ex) for ex in EXAMPLES]
    configs = leader_configs(z["configs"], np.random.default_rng(derive_seed(seed, 3)))
    parts = {"right": leader_part(rule, configs, seed, z["leader_reps"])}
    progress.advance()
    for mode in modes:
        parts[mode] = leader_part(leader_rule(Exact(), mode), configs, seed, z["leader_reps"])
        progress.advance()
    pep_study = pep.study(quick, progress)
    progress.advance()
    measured = {"leader_part": _stats(parts["right"]), **_quadratic_numbers(quad, z), **_logistic_numbers(logi),
                "simulator_ok": agree["ok"], "simulator_det_rel_err_max": agree["det_rel_err_max"],
                "simulator_z_scores_max_abs": float(max(abs(v) for v in agree["z_scores"])),
                "misread_pull_rel_err_min": agree["misread_pull_rel_err_min"],
                "examples_as_documented": int(sum(e["as_documented"] for e in examples)), "examples": len(examples),
                "pep": {k: v for k, v in pep_study.items() if k != "cases"}}
    setting = {**z, "dims": "1–20" if quick else "1–100", "cond": "1–1e4", "m": "1e-2–1e2", "lam_over_m": "1e-2–1e3",
               "eta_fractions_of_bound": [0.01, 0.1, 0.5, 1.0], "leader": leader or "exact", "seed": seed,
               "leader_part": {"workers": 8, "eta_over_bound": [0.25, 1.0], "logistic_lam_over_m": [0.5, 20]},
               "logistic": {"n_samples": 200, "dim": 5, "reg": 0.05, "grad_noise_per_coord": logi["s"]},
               "pep_grid": [list(g) for g in grid]}
    return CheckRecord(
        name=NAME, claim=CLAIM,
        reading=READING,
        setting=setting, measured=measured, expected=_EXPECTED,
        controls={mode: {"leader_part": _stats(part)} for mode, part in parts.items() if mode != "right"},
        arrays=_arrays(quad, parts),
        details={"examples": examples, "worst_inside_violation": quad["worst_inside"], "simulator": agree,
                 "logistic": logi, "pep_cases": pep_study.get("cases", []),
                 "problems": quad["rows"][:50] if quick else quad["rows"][:200]})


_EXPECTED = {
    "leader_part": "every non-leader: f(z) ≤ f(x), Δ in the derived band around ηλ(f(x) − f(z)), Δ ≥ 0",
    "violations_inside_derived_bound": 0,
    "eta_star_formula": "1/(λ + M²/(2M − m))  (exact threshold, derived here)",
    "eta_bound_formula": "min{1/(2M), m/(2Mλ)}  (digest §3.1 [RECON])",
    "bisection_vs_eta_star_max_rel_diff": "< 1e-6",
    "pep_over_star": f"1 ± {pep.AGREE_TOL:g}",
    "simulator_det_rel_err_max": f"< 1e-9; |z| < {Z_SIM}",
}


def _columns(rows) -> dict:
    return {k: np.array([r[k] for r in rows]) for k in ("eta_bound", "eta_star", "eta_bisect", "eta_emp_random",
                                                         "eta_emp_random_iso")}


def _quadratic_numbers(quad: dict, z: dict) -> dict:
    """The exact study's numbers: violations inside η_B, the thresholds η* and η_emp against η_B."""
    rows = quad["rows"]
    col = _columns(rows)
    eb, es, emp = col["eta_bound"], col["eta_star"], col["eta_emp_random"]

    def spread(v):
        return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max())}

    return {"quadratic_problems": len(rows), "samples_per_problem": z["samples"] + 1,
            "violations_inside_derived_bound": quad["inside_viol"],
            "evaluations_inside_derived_bound": quad["inside_total"],
            "c1_max_over_all": float(max(r["c1_max"] for r in rows)),
            "eta_star_over_bound": spread(es / eb), "eta_emp_random_over_bound": spread(emp / eb),
            "eta_emp_random_over_star_min": float((emp / es).min()),
            "eta_emp_iso_over_bound_median": float(np.median(np.minimum(col["eta_emp_random_iso"] / eb, 1e12))),
            "bisection_vs_eta_star_max_rel_diff": float(np.max(np.abs(col["eta_bisect"] / es - 1))),
            "problems_failing_at_1.05_eta_star": int(sum(r["fails_at_1.05_star"] for r in rows))}


def _logistic_numbers(logi: dict) -> dict:
    rows = logi["rows"]
    return {"logistic_inside_bound_not_shown_to_hold": sum(1 for r in rows if r["eta_over_bound"] <= 1
                                                           and not r["holds"]),
            "logistic_beyond_bound_violations": sum(1 for r in rows if r["eta_over_bound"] > 1 and r["violated"]),
            "logistic_max_eta_over_bound_holding": float(max([r["eta_over_bound"] for r in rows if r["holds"]],
                                                              default=0.0))}


def _arrays(quad: dict, parts: dict) -> dict:
    """What the figure draws: the thresholds per problem, the slack curves, and per worker the extra decrease."""
    col = _columns(quad["rows"])
    arrays = {"eta_bound": col["eta_bound"], "eta_star": col["eta_star"], "eta_emp_random": col["eta_emp_random"],
              "eta_grid": quad["eta_grid"], "slack_curves": np.array(quad["curves"])}
    for mode, part in parts.items():
        for obj, v in part.items():
            for k in ("T", "delta", "leader", "norm"):
                arrays[f"extra__{mode}__{obj}__{k}"] = v["arrays"][k]
    return arrays


# -- verdict, summary, key numbers -------------------------------------------------------------------
def leader_ok(part: dict) -> bool:
    """(i) T ≥ 0, (ii) Δ in the band, (iii) Δ ≥ 0 for every non-leader, and the simulated Δ is the closed form."""
    return all(s["hypothesis_violations"] == 0 and s["band_violations"] == 0 and s["negative_extra_decrease"] == 0
               for s in part.values()) and part["quadratic"]["simulator_vs_closed_rel_err_max"] < EXTRA_TOL


def _inside_bad(m) -> bool:
    return (m["violations_inside_derived_bound"]["worst"] + m["violations_inside_derived_bound"]["iso"] > 0
            or m["logistic_inside_bound_not_shown_to_hold"] > 0 or bool(m["pep"].get("any_below_bound")))


def verdict(record: CheckRecord) -> str:
    m = record.measured
    if not leader_ok(m["leader_part"]) or not m["simulator_ok"] or _inside_bad(m):
        return "fails"
    beyond = m["problems_failing_at_1.05_eta_star"] > 0 or m["logistic_beyond_bound_violations"] > 0
    return "holds under conditions" if beyond else "holds"


def _pep_text(p: dict) -> str:
    if not p.get("available"):
        return "PEPit part skipped (not installed)"
    n = len(p.get("cases", [])) if "cases" in p else None
    agree = "exact for the whole class" if p["all_agree"] else "NOT the class threshold"
    return f"PEPit: η* {agree}{f' ({n} cases)' if n else ''}"


def summary(record: CheckRecord) -> str:
    m = record.measured
    q, lg = m["leader_part"]["quadratic"], m["leader_part"]["logistic"]
    if not leader_ok(m["leader_part"]):  # realized/predicted ratios may be None (no valid leader at all)
        n, hyp = q["workers"] + lg["workers"], q["hypothesis_violations"] + lg["hypothesis_violations"]
        neg, band = (q["negative_extra_decrease"] + lg["negative_extra_decrease"],
                     q["band_violations"] + lg["band_violations"])
        return (f"The leader's extra decrease is not there: the leader is worse than x for {hyp}/{n} workers "
                f"(ηλ(f(x) − f(z)) < 0), {neg}/{n} lose f against SGD, {band}/{n} are outside the derived band.")
    if not m["simulator_ok"] or _inside_bad(m):
        return ("The simulator's step disagrees with the closed form, or the inequality is violated inside "
                "η ≤ min{1/(2M), m/(2Mλ)}: see the record.")
    return (f"Extra decrease over SGD ≥ 0 for all {q['workers'] + lg['workers']} workers (≥ "
            f"{q['realized_over_predicted_min']:.2f}× predicted); no violation for η ≤ η_B; "
            f"η* = 1/(λ + M²/(2M−m)) ≈ {m['eta_star_over_bound']['median']:.1f}·η_B; {_pep_text(m['pep'])}.")


def _fmt_leader(part: dict) -> str:
    n = sum(s["workers"] for s in part.values())
    neg = sum(s["negative_extra_decrease"] for s in part.values())
    hyp = sum(s["hypothesis_violations"] for s in part.values())
    return f"{neg}/{n}; {hyp}/{n}"


def _fmt_pep(cases: list) -> str:
    worst = max(cases, key=lambda c_: abs(c_["pep_over_star"] - 1))["pep_over_star"]
    return f"{worst:.6f} (worst of {len(cases)})"


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c = record.measured, record.controls
    q = m["leader_part"]["quadratic"]
    p = m["pep"]
    viol = m["violations_inside_derived_bound"]
    return [
        {"quantity": "workers with Δ < 0; with f(z) > f(x)", "measured": _fmt_leader(m["leader_part"]),
         **{mode: _fmt_leader(c[mode]["leader_part"]) for mode in c}, "expected": "0 and 0"},
        {"quantity": "Δ/ηλ(f(x) − f(z)), min/median",
         "measured": " / ".join("—" if q[k] is None else f"{q[k]:.2f}"
                                for k in ("realized_over_predicted_min", "realized_over_predicted_median")),
         "expected": "in the band (≈ 1–2)"},
        {"quantity": "violations, η ≤ η_B (exact; logistic)",
         "measured": f"{viol['worst'] + viol['iso']} of {m['evaluations_inside_derived_bound']}; "
                     f"{m['logistic_inside_bound_not_shown_to_hold']}", "expected": "0"},
        {"quantity": "PEPit: largest η over F(m,M) / η*",
         "measured": _fmt_pep(record.details["pep_cases"]) if p.get("available") else "skipped",
         "expected": f"1 ± {pep.AGREE_TOL:g} ({p.get('solver', {}).get('solver', '—')})"},
    ]


# -- figure ----------------------------------------------------------------------------------------
def figure(record: CheckRecord):
    from lsgdsim import plotting
    fig, axes = plotting.four_panels()
    _panel_eta(axes[0], record, plotting)
    _panel_slack(axes[1], record, plotting)
    _panel_logistic(axes[2], record, plotting)
    _panel_extra(axes[3], record, plotting)
    return fig


def _panel_eta(ax, record, plotting):
    eb, es, emp = (np.asarray(record.arrays[k]) for k in ("eta_bound", "eta_star", "eta_emp_random"))
    ax.loglog(eb, emp, "o", ms=4, mfc="none", color=plotting.COLORS["lsgd"], label="largest η, random x, z")
    ax.loglog(eb, es, "x", ms=3, color="k", label="exact η* = 1/(λ + M²/(2M−m))")
    cases = record.details.get("pep_cases", [])
    if cases:
        ax.loglog([c_["eta_bound"] for c_ in cases], [c_["eta_pep"] for c_ in cases], "s", ms=6, mfc="none",
                  color=plotting.COLORS["easgd"], label="PEPit, whole class")
    lim = [eb.min() / 2, max(emp.max(), es.max()) * 2]
    ax.plot(lim, lim, "--", color=plotting.COLORS["bound"], lw=1, label="η = η_B")
    ax.set(xlabel="derived bound η_B = min{1/(2M), m/(2Mλ)}", ylabel="largest η with the inequality",
           title="(a) step-size condition")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=7)


def _panel_slack(ax, record, plotting):
    grid = np.asarray(record.arrays["eta_grid"])
    for c_ in np.asarray(record.arrays["slack_curves"]):
        ax.plot(grid, c_, lw=1, alpha=0.7, color=plotting.COLORS["lsgd"])
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_yticks([-1e3, -1e0, 0, 1e-2, 1e0])
    ax.axvline(1.0, color=plotting.COLORS["bound"], ls="--", lw=1)
    ax.axhline(0.0, color="r", lw=0.8)
    ax.set(xlabel="η / η_B", ylabel="min over samples of (RHS − LHS)/(f(x) − f*)",
           title="(b) exact slack, 10 quadratics")


def _panel_logistic(ax, record, plotting):
    logi = record.details["logistic"]
    markers = iter("osd^")
    for lam in sorted({r["lam"] for r in logi["rows"]}):
        for theta in sorted({r["theta"] for r in logi["rows"]}):
            rr = [r for r in logi["rows"] if r["lam"] == lam and r["theta"] == theta]
            ax.errorbar([r["eta_over_bound"] for r in rr], [(r["rhs"] - r["lhs_mean"]) / logi["fx_gap"] for r in rr],
                        yerr=[Z_CI * r["lhs_se"] / logi["fx_gap"] for r in rr], marker=next(markers), ms=3,
                        capsize=2, label=f"λ={lam:.3g}, θ={theta}")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-2)
    ax.axvline(1.0, color=plotting.COLORS["bound"], ls="--", lw=1)
    ax.axhline(0.0, color="r", lw=0.8)
    ax.set(xlabel="η / η_B", ylabel="(RHS − E f(x⁺) + f*)/(f(x) − f*) ± 3 SE", title="(c) logistic, Monte Carlo")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=7)


def _panel_extra(ax, record, plotting):
    """Per worker, on the scale ηλ(f(x) − f*): realized extra decrease against the predicted term."""
    arr = record.arrays
    styles = {"right": (plotting.COLORS["lsgd"], "o", "right leader"),
              "random": (plotting.COLORS["random leader"], "^", "random leader"),
              "worst": (plotting.COLORS["worst leader"], "v", "worst leader")}
    for mode, (color, marker, label) in styles.items():
        if f"extra__{mode}__quadratic__T" not in arr:
            continue
        get = lambda k, mode=mode: np.concatenate([arr[f"extra__{mode}__{o}__{k}"]  # noqa: E731
                                                   for o in ("quadratic", "logistic")])
        keep = ~get("leader").astype(bool)
        norm = get("norm")[keep]
        ax.scatter(get("T")[keep] / norm, get("delta")[keep] / norm, s=8, marker=marker, color=color, alpha=0.6,
                   label=label)
    lo = min(-1.0, ax.get_xlim()[0])
    line = np.concatenate([-np.geomspace(-lo, 1e-3, 50), np.geomspace(1e-3, 1, 20)])
    ax.plot(line, line, "--", color=plotting.COLORS["bound"], lw=0.8, label="Δ = ηλ(f(x) − f(z))")
    ax.axhline(0, color="grey", lw=0.6)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xscale("symlog", linthresh=1e-1)
    ax.set_yscale("symlog", linthresh=1e-1)
    top = int(np.ceil(np.log10(-lo)))
    ax.set_xticks([-(10.0 ** k) for k in range(top, -1, -2)] + [0, 1])     # every other decade: readable
    ax.set_yticks([-1e2, -1e1, -1, 0, 1, 1e1, 1e2])
    ax.set(xlabel="predicted (f(x) − f(z))/(f(x) − f*)", ylabel="extra decrease Δ / (ηλ(f(x) − f*))",
           title="(d) the leader's extra decrease")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=7)
