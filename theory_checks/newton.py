"""Claim 5 — on a convex quadratic, at least half of the candidate leaders tilt the step toward Newton's.

Theorem (poster, digest §3.6, "likely Theorem 5"). f(x) = ½xᵀAx − bᵀx with A ≻ 0. If λ is small, or if the
angle θ at x between −∇f(x) and the Newton direction d_N = −A⁻¹∇f(x) is large, then at least half of the
candidate leaders z ∈ S(x) = {z : f(z) ≤ f(x)} satisfy angle(d_N, −∇f(x) + λ(z − x)) ≤ θ.
Source: poster statement only; the thresholds for "small" and "large" are NOT FOUND.

Reading tested. "Half" is by volume: z uniform in the ellipsoid S(x), sampled exactly (theory_checks/_newton.py,
which works in A's eigenbasis: the fraction is rotation invariant). λ is the theory's pull (step
x⁺ = x − η(g + λ(x − z))), in units of λ_min(A); A has the spectrum of Quadratic.random(dim, cond, mu=1)
(geometric, λ_min = 1). The fraction is scale-free (independent of ‖x − x*‖). θ ranges up to
θ_max = arccos(2√κ/(1 + κ)); cells with θ > θ_max are infeasible. Per cell (κ, d, θ, λ): the Monte Carlo
fraction with a 95% Clopper–Pearson interval; "half holds" if its lower bound exceeds ½, "fails" if its upper
bound is below ½. Where x − x* is placed at each θ:
- in plane (the earlier reading, kept beside): cos ψ·v_min + sin ψ·v_max with ψ between v_min and the widest
  direction (the other in-plane branch, toward v_max, is reached only by the whole-space sampling, so the
  two maps differ even for d = 2);
- whole space (judged): K random directions at angle θ (u uniform on the sphere, moved along the chord toward
  v_min or the widest direction to the angle), and a search for the worst x at that angle: for each λ, a
  derivative-free local search on the directions at angle θ (``_newton.worst_at_angle``: from the best of the
  in-plane and random directions, S steps of P Gaussian perturbations with σ from 0.4 down to 0.04, each
  retracted onto the angle by Newton steps on the sphere, keeping any that lowers the fraction, scored on a
  separate sample with common random numbers; full mode K = 24, S = 10, P = 4, 4000 samples). The worst
  direction found per (θ, λ) is re-measured on fresh samples; that is the cell's whole-space value. A search
  only bounds the infimum from above: a cell that fails is a counterexample; one that holds had no worse x found.

Exact λ → 0 limit (derived here, [RECON]): to first order the angle improves iff ⟨w, q⟩ > 0 (w = z − x,
q = d̂_N − cos θ·ĝ₋, ĝ₋ = −g/‖g‖), and ⟨e, q⟩ = −‖e‖ sin²θ (e = x − x*), so the fraction tends to
1 − ½ I_{1−t²}((d+1)/2, ½), t = ‖e‖ sin²θ/(c‖A^{-1/2}q‖), c² = eᵀAe. Since ‖A^{-1/2}q‖ ≤ sin θ/√λ_min and
c ≤ √λ_max‖e‖ (and the reverse), sin θ/√κ ≤ t ≤ √κ sin θ at every x: the limit exceeds ½ whenever θ > 0 and
tends to ½ as θ → 0. The infimum over angles is exactly ½, approached at small angles and not attained:
"at least half" holds in the limit, with equality approached as θ → 0 (the smallest grid angle only gives
the grid's minimum). The whole-space minimum of the limit per θ is found by the same search (deterministic).

Leader dependence and controls. The claim is about the candidates in the sublevel set, whichever of them
leads, so LEADER_DEPENDENT = False; the controls show that the criterion has power, i.e. can tell candidate
sets without the property. Worst (a worse-than-x leader): z' = 2x − z, the mirror of S(x) through x, which
lies in the superlevel set {f > f(x)} with the volume and the distances to x of S(x) (the superlevel set is
unbounded; the mirror changes only the side of x); its λ → 0 limit is one minus the above, < ½. Random: z
uniform in the ball of radius ‖x − x*‖ around x, limit exactly ½. Both are measured on the in-plane and the
random directions (no search) and judged by the same rule: in the plane, where the sublevel candidates pass
(i) and (ii), neither control has a cell where half holds (record.controls). ``measure(leader=...)`` makes
that candidate set the main, searched one.

Link to the simulator: −∇f(x) + λ(z − x) must be the step of the simulator's LSGD (theory form, exact leader
z ∈ S(x)); a relative error above 1e-8 makes the verdict "fails".

Verdict (computed, the module's rule applied to the whole-space map): (i) small λ: in every feasible cell
the minimum over x of the exact λ → 0 limit exceeds ½, and the sample at the smallest λ of the grid agrees
with the limit at the same x (within 4 standard errors + 0.005) — the earlier "and is not significantly below
½" is dropped: at the worst x the true fraction is within 10⁻³ of ½, so a 95% test per cell flags some of
the many such cells by chance; (ii) large angle: for θ ≥ ¾θ_max(κ), half holds at every λ. "holds" if half
holds in every cell; "holds under conditions" if (i) and (ii) hold; "fails" otherwise. The in-plane map
judged by the same rule is reported beside it (``measured["in_plane"]``).

Indefinite quadratics (reviewer 3's "negative curvature" remark; the Vol theorem is NOT FOUND, digest §3.7),
descriptive: for Quadratic.indefinite and x = x_s + a unit vector, the share of negative-curvature
displacements among candidates in the ball of radius R around x, against R/‖x − x_s‖.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import objectives

from . import _newton as geo
from .controls import check_mode, control_modes
from .progress import Progress
from .record import CheckRecord

NAME = "newton-alignment"
CLAIM = ("Convex quadratic: if λ is small or the angle of −∇f to Newton's step is large, at least half of the "
         "leaders with f(z) ≤ f(x) bring the step closer to Newton's.")
LEADER_DEPENDENT = False
CAPTION = ("Leaders improving the angle (• holds, × fails): plane vs worst x; small λ; controls; "
           "indefinite.")

SIM_TOL = 1e-8              # the simulator's LSGD step must be the direction analysed here
LARGE_ANGLE = 0.75          # condition (ii): θ ≥ LARGE_ANGLE · θ_max(κ)
KIND = {None: "sublevel", "worst": "mirror", "random": "ball", "mid": "ball"}   # mid: no better than any point
ISSUE_CELL = (10.0, 100, 45.0, 100.0)    # κ, d, θ, λ/λ_min where random x give ≈ 0.25 (issue 7)
SIZES = {True: dict(kappas=(10.0, 100.0), dims=(2, 20), angles=(1, 5, 15, 30, 45, 60, 75, 85), n_lams=8,
                    n=2000, n_search=2000, random_dirs=24, steps=8, per_step=4),
         False: dict(kappas=(10.0, 100.0, 1000.0), dims=(2, 10, 100),
                     angles=(1, 2, 5, 10, 15, 20, 30, 40, 45, 50, 60, 70, 75, 80, 85), n_lams=15,
                     n=20000, n_search=4000, random_dirs=24, steps=10, per_step=4)}


# -- measurement -----------------------------------------------------------------------------------
def spectrum(kappa: float, dim: int, seed: int = 0) -> np.ndarray:
    """(d,) ascending eigenvalues of the check's quadratic (λ_min = 1)."""
    return objectives.Quadratic.random(dim=dim, cond=kappa, mu=1.0, seed=seed).eigenvalues


def simulator_direction_error(rng, trials: int = 20) -> float:
    """Largest relative gap between the direction analysed here, −∇f(x) + λ(z − x), and the step the
    simulator's LSGD takes (theory form, exact leader z ∈ S(x)), (x⁺ − x)/η. The map describes LSGD only if ~0."""
    from lsgdsim import simulate
    from lsgdsim.algorithms import lsgd_theory
    worst = 0.0
    for _ in range(trials):
        q = objectives.Quadratic.random(dim=5, cond=10.0, seed=int(rng.integers(2**31)))
        x = q.minimizer + rng.standard_normal(5)
        z = x + geo.sample_sublevel(q.A, x - q.minimizer, 1, rng)[0]     # a candidate leader, f(z) ≤ f(x)
        eta, lam = 1e-3, float(rng.uniform(0.1, 10.0))
        res = simulate(q, lsgd_theory(eta, lam), workers=2, steps=1, x0=np.stack([z, x]), record_every=1)
        analysed = -q.grad(x[None, :])[0] + lam * (z - x)
        stepped = (res.x[1] - x) / eta
        worst = max(worst, float(np.linalg.norm(stepped - analysed) / np.linalg.norm(analysed)))
    return worst


READING = ("'Half' by volume of S(x) = {f ≤ f(x)}, λ in units of λ_min; 95% Clopper–Pearson per (κ, d, θ, λ) cell; x "
           "over the whole space (random and the worst found) and in the extreme-eigenvector plane.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    sz = SIZES[bool(quick)]
    kinds = (KIND[check_mode(leader)], *(KIND[m] for m in control_modes(leader, controls)))
    rng = np.random.default_rng([seed, 5])
    lams = np.geomspace(1e-4, 1e3, sz["n_lams"])
    problems = [(k, d) for k in sz["kappas"] for d in sz["dims"]]
    progress.expect(len(problems) + 1)
    maps = []
    for kappa, d in problems:
        maps.append(geo.problem_maps(spectrum(kappa, d, seed), sz["angles"], lams, kinds, sz, rng))
        progress.advance()
    arrays = {"kappa": np.array([k for k, _ in problems]), "dim": np.array([d for _, d in problems]),
              "theta_max": np.array([geo.theta_max_deg(spectrum(k, d, seed)) for k, d in problems]),
              "angles": np.array(sz["angles"], float), "lams": lams,
              **{key: np.stack([m[key] for m in maps]) for key in maps[0]}}
    radii = np.geomspace(0.01, 100.0, 9 if quick else 17)
    indef_cfg = ((2, 1), (10, 1), (10, 5)) if quick else ((2, 1), (10, 1), (10, 5), (50, 1), (50, 25))
    indef = [geo.negative_curvature_share(objectives.Quadratic.indefinite(dim=d, negative=k, cond=10.0, seed=seed).A,
                                          radii, sz["n"], rng) for d, k in indef_cfg]
    arrays |= {"indef_radii": radii, **{f"indef_{key}": np.stack([r[key] for r in indef])
                                        for key in ("share", "ci_low", "ci_high", "candidate_fraction")}}
    progress.advance()
    rec = CheckRecord(
        name=NAME, claim=CLAIM,
        reading=READING,
        setting={"kappas": list(sz["kappas"]), "dims": list(sz["dims"]), "angles_deg": list(sz["angles"]),
                 "lambda_over_lambda_min": lams.tolist(), "samples_per_cell": sz["n"],
                 "search": {k: sz[k] for k in ("n_search", "random_dirs", "steps", "per_step")},
                 "candidates": kinds[0], "controls": list(kinds[1:]), "large_angle": f"θ ≥ {LARGE_ANGLE}·θ_max",
                 "quadratic": "Quadratic.random spectrum, geometric, mu = 1 (computed in the eigenbasis)",
                 "indefinite": {"configs (dim, negative)": [list(c) for c in indef_cfg], "cond": 10.0,
                                "R_over_dist_to_saddle": radii.tolist()}},
        measured={}, expected={"half": 0.5, "simulator_direction_rel_error": f"<= {SIM_TOL:g}",
                               "small_lambda_limit": "> ½ at every x with θ > 0; infimum over θ is ½ (θ → 0)",
                               "large_angle": f"half holds at every λ for θ ≥ {LARGE_ANGLE}·θ_max(κ)"},
        arrays=arrays)
    rec.measured = {"simulator_direction_rel_error": simulator_direction_error(rng),
                    "whole_space": judge_map(rec, "space"), "in_plane": judge_map(rec, "plane"),
                    "issue_cell": issue_cell(arrays, kinds[0], sz, seed, rng),
                    "small_lambda": small_lambda_facts(arrays, kinds[0], seed, rng),
                    "indefinite": [{"dim": d, "negative": k, "R_half": r["R_half"],
                                    "small_R_limit": r["small_R_limit"], "share_smallest_R": r["share"][0],
                                    "share_largest_R": r["share"][-1]}
                                   for (d, k), r in zip(indef_cfg, indef, strict=True)]}
    rec.controls = {mode: judge_map(rec, "plane", KIND[mode]) for mode in control_modes(leader, controls)}
    return rec


def issue_cell(arrays: dict, kind: str, sz: dict, seed: int, rng, n_random: int = 200) -> dict | None:
    """The issue's example cell (κ = 10, d = 100, θ = 45°, λ = 100·λ_min; in quick mode the largest d):
    x in plane, the worst x found, and the quantiles of the fraction over ``n_random`` random x at that angle."""
    kappa, dim, theta, lam = ISSUE_CELL
    dims = arrays["dim"][arrays["kappa"] == kappa]
    if not dims.size:
        return None
    dim = dim if dim in dims else int(dims.max())
    p = int(np.flatnonzero((arrays["kappa"] == kappa) & (arrays["dim"] == dim))[0])
    i, j = int(np.argmin(np.abs(arrays["angles"] - theta))), int(np.argmin(np.abs(np.log(arrays["lams"] / lam))))
    a = spectrum(kappa, dim, seed)
    E = geo.random_at_angle(a, float(arrays["angles"][i]), n_random, rng)
    fr = geo.fractions(a, E, arrays["lams"][j:j + 1], geo.uniform_ball(rng, sz["n"], dim), kind)[:, 0]
    q = np.quantile(fr, [0.0, 0.1, 0.5, 0.9])
    return {"kappa": kappa, "dim": dim, "theta_deg": float(arrays["angles"][i]),
            "lambda_over_lambda_min": float(arrays["lams"][j]), "in_plane": float(arrays[f"{kind}_plane"][p, i, j]),
            "random_x": n_random, "random_x_min": float(q[0]), "random_x_q10": float(q[1]),
            "random_x_median": float(q[2]), "random_x_q90": float(q[3]),
            "worst_x_found": float(arrays["space_fraction"][p, i, j])}


def small_lambda_facts(arrays: dict, kind: str, seed: int, rng, tiny_deg: float = 1e-3) -> dict:
    """The λ → 0 limit over the grid: its minimum (which angle), against ½ and the analytic lower bound; and
    its largest distance from ½ at θ = ``tiny_deg`` (x in plane and 8 random x per problem), which shows the
    infimum over angles (½ for the sublevel set, derived in the docstring) being approached."""
    lim = arrays["space_limit_min"]
    p, i = np.unravel_index(np.nanargmin(lim), lim.shape)
    near_zero = 0.0
    for kappa, dim in zip(arrays["kappa"], arrays["dim"], strict=True):
        a = spectrum(float(kappa), int(dim), seed)
        E = np.vstack([geo.plane_at_angle(a, tiny_deg)[None], geo.random_at_angle(a, tiny_deg, 8, rng)])
        near_zero = max(near_zero, float(np.max(np.abs(geo.small_lambda_limit(a, E, kind) - 0.5))))
    return {"min_limit_whole_space": float(lim[p, i]), "at_theta_deg": float(arrays["angles"][i]),
            "at_kappa": float(arrays["kappa"][p]), "at_dim": int(arrays["dim"][p]),
            "min_limit_in_plane": float(np.nanmin(arrays[f"{kind}_plane_limit"])),
            "above_analytic_lower_bound": None if kind != "sublevel" else
            bool(np.all(np.nan_to_num(lim - arrays["limit_lower_bound"]) >= -1e-12)),
            "tiny_angle_deg": tiny_deg, "max_distance_from_half_at_tiny_angle": near_zero}


# -- judging (pure functions of the record) --------------------------------------------------------
def _map_arrays(record: CheckRecord, which: str, kind: str | None):
    """(fraction (P, T, L), limit minimum (P, T), limit at the x of the smallest-λ column (P, T)) of a map."""
    A, kind = record.arrays, kind or record.setting["candidates"]
    if which == "space":
        return A["space_fraction"], A["space_limit_min"], A["space_limit_at_worst"]
    return A[f"{kind}_plane"], A[f"{kind}_plane_limit"], A[f"{kind}_plane_limit"]


def judge_map(record: CheckRecord, which: str = "space", kind: str | None = None) -> dict:
    """The module's rule (docstring) applied to one map: ``which`` "space" (the judged candidates, worst x
    found) or "plane" (in-plane x) for candidates ``kind`` (default: the record's main ones)."""
    A = record.arrays
    frac, limit_min, limit_same = _map_arrays(record, which, kind)
    n = record.setting["samples_per_cell"]
    ok = ~np.isnan(frac)
    lo, hi = geo.clopper_pearson(np.round(np.nan_to_num(frac) * n), n)
    holds, fails = ok & (lo > 0.5), ok & (hi < 0.5)
    rows = ok[:, :, 0]
    col = frac[:, :, 0][rows]
    se = np.sqrt(np.maximum(col * (1 - col), 0.25 / n) / n)
    err = np.abs(col - limit_same[rows])
    small_ok = bool(np.all(limit_min[rows] > 0.5) and np.all(err <= 4 * se + 0.005))
    big = rows & (np.nan_to_num(A["achieved"]) >= LARGE_ANGLE * A["theta_max"][:, None])
    large_ok = bool(np.all(holds[big]))
    p, i, j = np.unravel_index(np.argmin(np.where(big[:, :, None] & ok, frac, np.inf)), frac.shape)
    all_hold_from = [_all_lambda_hold_from(holds[q], rows[q], A["angles"], A["theta_max"][q]) for q in range(len(frac))]
    verdict = "holds" if holds.sum() == ok.sum() else "holds under conditions" if small_ok and large_ok else "fails"
    return {"cells_feasible": int(ok.sum()), "cells_half_holds": int(holds.sum()), "cells_half_fails": int(fails.sum()),
            "small_lambda_condition_holds": small_ok, "min_limit": float(np.min(limit_min[rows])),
            "min_fraction_at_smallest_lambda": float(col.min()), "max_abs_error_vs_limit": float(err.max()),
            "large_angle_condition_holds": large_ok, "min_fraction_at_large_angles": float(frac[p, i, j]),
            "worst_large_angle_cell": {"kappa": float(A["kappa"][p]), "dim": int(A["dim"][p]),
                                       "theta_deg": float(A["angles"][i]), "lambda": float(A["lams"][j])},
            "all_lambda_hold_from_theta_over_theta_max": all_hold_from, "rule_verdict": verdict}


def _all_lambda_hold_from(holds, rows, angles, theta_max) -> float | None:
    """Smallest θ/θ_max of the grid from which half holds at every λ for every larger feasible angle."""
    good = [i for i in np.flatnonzero(rows) if all(holds[k].all() for k in np.flatnonzero(rows) if k >= i)]
    return round(float(angles[good[0]] / theta_max), 3) if good else None


def verdict(record: CheckRecord) -> str:
    if record.measured["simulator_direction_rel_error"] > SIM_TOL:   # the map would describe another step
        return "fails"
    return judge_map(record, "space")["rule_verdict"]


def summary(record: CheckRecord) -> str:
    ws, ip = judge_map(record, "space"), judge_map(record, "plane")
    word = lambda ok: "holds" if ok else "fails"                                       # noqa: E731
    inf_half = record.measured["small_lambda"]["max_distance_from_half_at_tiny_angle"] < 0.01
    limit = (f"the λ→0 limit exceeds ½ at every x{', inf ½ as θ→0' if inf_half else ''}" if ws["min_limit"] > 0.5
             else f"the λ→0 limit goes down to {ws['min_limit']:.2f}")
    return (f"(i) Small λ {word(ws['small_lambda_condition_holds'])}: {limit}. (ii) Large angle "
            f"{word(ws['large_angle_condition_holds'])} (whole space): min "
            f"{ws['min_fraction_at_large_angles']:.2f} (plane {ip['min_fraction_at_large_angles']:.2f}). "
            f"Half holds in {ws['cells_half_holds']}/{ws['cells_feasible']} cells (plane {ip['cells_half_holds']}).")


def key_numbers(record: CheckRecord) -> list[dict]:
    ws, ip, ctrl = judge_map(record, "space"), judge_map(record, "plane"), record.controls
    sl = record.measured["small_lambda"]
    cells = lambda m: f"{m['cells_half_holds']}/{m['cells_feasible']}"                  # noqa: E731
    rows = [
        {"quantity": "cells where half holds: space (plane)", "measured": f"{cells(ws)} ({ip['cells_half_holds']})",
         **{mode: f"({cells(m)})" for mode, m in ctrl.items()}, "expected": "all, or (i) + (ii)"},
        {"quantity": "(ii) θ ≥ ¾θmax: min fraction, space (plane)", "measured":
         f"{ws['min_fraction_at_large_angles']:.2f} ({ip['min_fraction_at_large_angles']:.2f})",
         **{mode: f"({m['min_fraction_at_large_angles']:.2f})" for mode, m in ctrl.items()},
         "expected": "> ½ at every λ"},
        {"quantity": "(i) λ→0 limit, min over x", "measured": f"{ws['min_limit']:.4f} (θ={sl['at_theta_deg']:g}°); "
         f"½±{sl['max_distance_from_half_at_tiny_angle']:.0e} at θ={sl['tiny_angle_deg']:g}°",
         **{mode: f"({m['min_limit']:.4f})" for mode, m in ctrl.items()}, "expected": "> ½"},
    ]
    c = record.measured["issue_cell"]
    if c:
        rows.append({"quantity": f"κ=10, d={c['dim']}, θ=45°, λ=100·λmin",
                     "measured": f"random x min {c['random_x_min']:.2f} med {c['random_x_median']:.2f}, worst "
                     f"{c['worst_x_found']:.2f}", "expected": "≥ ½ (issue: ≈ 0.25)"})
    return rows


# -- figure (drawn from the record alone) -----------------------------------------------------------
def figure(record: CheckRecord):
    """Top: one heat map per (κ, d) and candidate set (rows κ, columns d × {in plane, worst x}), labelled
    only on the outer panels; bottom: the λ→0 limit, the controls and the indefinite case, each legend
    under its panel."""
    from lsgdsim import plotting
    A = record.arrays
    kappas, dims = sorted(set(A["kappa"].tolist())), sorted(set(A["dim"].tolist()))
    fig, gs = plotting.grid(2, 1, width=10.0, height=2.0 * len(kappas) + 3.6,
                            height_ratios=[2.0 * len(kappas), 3.4])
    maps = gs[0].subgridspec(len(kappas), 2 * len(dims))
    image = _heatmaps(fig, maps, record, kappas, dims, plotting)
    fig.colorbar(image, ax=fig.axes, location="right", shrink=0.6, label="fraction improving")
    lines = gs[1].subgridspec(2, 4, height_ratios=[1, 0.02])
    axes = [plotting.panel(fig, lines[0, j]) for j in range(4)]
    _panel_limit(axes[0], A, record.setting["candidates"], plotting)
    _panel_controls(axes[1], record, plotting)
    _panel_indefinite(axes[2], axes[3], record, plotting)
    for j, ax in enumerate(axes[:3]):                                   # each legend under its panel
        plotting.legend_row(fig, lines[1, j], *ax.get_legend_handles_labels(), fontsize=7.5)
    return fig


def _heatmaps(fig, spec, record, kappas, dims, plotting):
    """The maps of the fraction improving over (λ, θ); returns the last image (for the colour bar)."""
    A, kind, n = record.arrays, record.setting["candidates"], record.setting["samples_per_cell"]
    theta_max = {kap: {round(float(t)) for t, k in zip(A["theta_max"], A["kappa"], strict=True) if k == kap}
                 for kap in kappas}            # θmax of each row: one value (in the row label) or several
    image = None
    for p in range(len(A["kappa"])):
        r, col = kappas.index(A["kappa"][p]), 2 * dims.index(A["dim"][p])
        for k, (frac, where) in enumerate(((A[f"{kind}_plane"][p], "in plane"), (A["space_fraction"][p], "worst x"))):
            ax = plotting.panel(fig, spec[r, col + k])
            image = _heatmap(ax, frac, n, A, plotting)
            row_max = theta_max[A["kappa"][p]]
            if len(row_max) > 1:                   # θmax differs along the row: on each panel, in its grey band
                ax.text(0.03, 0.97, f"θmax {A['theta_max'][p]:.0f}°", transform=ax.transAxes, fontsize=7,
                        va="top", color="#444444")
            if r == 0:
                ax.set_title(f"d={A['dim'][p]}: {where}", fontsize=8.5)
            if col + k == 0:
                tmax = f", θmax {next(iter(row_max))}°" if len(row_max) == 1 else ""
                ax.set_ylabel(f"κ={A['kappa'][p]:g}{tmax}\nθ [deg]")
            else:
                ax.tick_params(labelleft=False)
            if r == len(kappas) - 1:
                ax.set_xlabel("log10 λ/λ_min", fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
    return image


def _heatmap(ax, frac, n, A, plotting):
    from matplotlib.colors import ListedColormap
    cmap = ListedColormap(plotting.plt.get_cmap("RdYlGn")(np.linspace(0, 1, 256))).with_extremes(bad="#dddddd")
    T, L = frac.shape
    image = ax.pcolormesh(np.arange(L + 1) - 0.5, np.arange(T + 1) - 0.5, np.ma.masked_invalid(frac), cmap=cmap,
                          vmin=0, vmax=1, shading="flat")
    ok = ~np.isnan(frac)
    lo, hi = geo.clopper_pearson(np.round(np.nan_to_num(frac) * n), n)
    jj, ii = np.meshgrid(np.arange(L), np.arange(T))
    ax.plot(jj[ok & (lo > 0.5)], ii[ok & (lo > 0.5)], "o", ms=1.5, color="k")
    ax.plot(jj[ok & (hi < 0.5)], ii[ok & (hi < 0.5)], "x", ms=2.5, color="k")
    if np.nanmin(frac, initial=1.0) < 0.5 < np.nanmax(frac, initial=0.0):   # the ½ contour
        ax.contour(jj, ii, np.where(ok, frac, np.nan), levels=[0.5], colors="k", linewidths=1.2)
    lam = np.log10(A["lams"])
    step = max(1, L // 4)
    ax.set_xticks(range(0, L, step), [f"{v:g}" for v in lam[::step]], fontsize=6)
    ystep = -(-T // 8)                          # at most 8 angle labels
    ax.set_yticks(range(0, T, ystep), [f"{v:g}" for v in A["angles"][::ystep]], fontsize=6)
    ax.grid(False)
    return image


def _panel_limit(ax, A, kind, plotting):
    kappas, dims = sorted(set(A["kappa"].tolist())), sorted(set(A["dim"].tolist()))
    for p in range(len(A["kappa"])):                       # colour: κ; line style: d
        ax.plot(A["angles"], A["space_limit_min"][p], lw=0.9, marker=".", ms=3,
                color=plotting.ordered_colors(len(kappas))[kappas.index(A["kappa"][p])],
                ls=("-", "--", ":", "-.")[dims.index(A["dim"][p]) % 4], label=f"κ={A['kappa'][p]:g}, d={A['dim'][p]}")
    ax.axhline(0.5, color=plotting.COLORS["bound"], lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("θ [deg]")
    ax.set_ylabel("λ→0 limit, min over x")
    ax.set_title("small λ: > ½, → ½ as θ → 0" if kind == "sublevel" else f"small λ ({kind} candidates)", fontsize=8)


def _panel_controls(ax, record, plotting):
    """Fraction against λ at the issue's cell (or the largest d at κ = 10): x in plane, random x, worst x
    found, and the two controls in plane."""
    A, c = record.arrays, record.measured["issue_cell"]
    p = int(np.flatnonzero((A["kappa"] == c["kappa"]) & (A["dim"] == c["dim"]))[0])
    i = int(np.argmin(np.abs(A["angles"] - c["theta_deg"])))
    kind = record.setting["candidates"]
    C = plotting.COLORS
    tag = "" if kind == "sublevel" else f" ({kind})"
    lines = [(A[f"{kind}_plane"], f"in plane{tag}", C["lsgd"], "-"), (A[f"{kind}_random_median"],
             f"random x (median){tag}", C["lsgd"], "--"), (A["space_fraction"], f"worst x found{tag}", C["lsgd"], ":")]
    lines += [(A[f"{geo_kind}_plane"], f"{mode} leader, in plane", C[f"{mode} leader"],
               plotting.CONTROL_DASHES[f"{mode} leader"])
              for mode, geo_kind in (("random", "ball"), ("worst", "mirror"))
              if f"{geo_kind}_plane" in A and geo_kind != kind]
    for arr, lab, color, ls in lines:
        ax.plot(A["lams"], arr[p, i], ls=ls, color=color, label=lab)
    ax.axhline(0.5, color=C["bound"], lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set(xlabel="λ / λ_min", ylabel="fraction improving", ylim=(-0.02, 1.02))
    ax.set_title(f"κ={c['kappa']:g}, d={c['dim']}, θ={A['angles'][i]:g}°: controls", fontsize=8)


def _panel_indefinite(ax_share, ax_cand, record, plotting):
    A = record.arrays
    cfgs = record.setting["indefinite"]["configs (dim, negative)"]
    for k, (d, neg) in enumerate(cfgs):
        line, = ax_share.plot(A["indef_radii"], A["indef_share"][k], marker="os^Dv"[k % 5], ms=3.5,
                              label=f"d={d}, {neg} neg.")
        ax_share.fill_between(A["indef_radii"], A["indef_ci_low"][k], A["indef_ci_high"][k], alpha=0.2,
                              color=line.get_color())
        ax_cand.plot(A["indef_radii"], A["indef_candidate_fraction"][k], marker="os^Dv"[k % 5], ms=3.5,
                     color=line.get_color())
    ax_share.axhline(0.5, color=plotting.COLORS["bound"], lw=0.7, ls=":")
    for ax in (ax_share, ax_cand):
        ax.set_xscale("log")
        ax.set_xlabel("R / ‖x − x_s‖")
    ax_share.set_ylabel("neg.-curvature share")
    ax_share.set_title("indefinite: candidates in a ball", fontsize=8)
    ax_cand.set_ylabel("candidates / samples")
    ax_cand.set_title("indefinite: ball share with f(z) ≤ f(x)", fontsize=8)
