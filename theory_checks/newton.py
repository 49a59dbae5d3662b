"""Claim 5 — on a convex quadratic, at least half of the candidate leaders tilt the step toward Newton's.

Theorem (poster, digest §3.6, "likely Theorem 5"). f(x) = ½xᵀAx − bᵀx with A ≻ 0. If λ is small, or if the
angle at x between −∇f(x) and the Newton direction d_N = −A⁻¹∇f(x) is large, then at least half of the
candidate leaders z ∈ S(x) = {z : f(z) ≤ f(x)} satisfy

    angle(d_N, −∇f(x) + λ(z − x)) ≤ angle(d_N, −∇f(x)).

Source: poster statement only; the thresholds for "small" and "large" are NOT FOUND.

Reading tested. "Half" is by volume: z is uniform in the sublevel ellipsoid S(x), sampled exactly as
z = x* + c·A^{-1/2}u with u uniform in the unit ball (direction ~ N(0, I) normalised, radius U^{1/d})
and c² = (x − x*)ᵀA(x − x*). λ is the theory's pull (the step is x⁺ = x − η(g + λ(x − z))), reported as
λ/λ_min(A); A = Quadratic.random(dim, cond, mu=1) (geometric spectrum, so λ_min = 1). The angle θ
between −∇f and d_N is controlled by placing x − x* in the plane of the extreme eigenvectors
(cos ψ·v_min + sin ψ·v_max), which reaches every θ up to θ_max = arccos(2√κ/(1 + κ)); cells with
θ > θ_max are infeasible (grey). The fraction is scale-free (it does not depend on ‖x − x*‖).
Per cell: the Monte Carlo fraction with a 95% Clopper–Pearson interval; "half holds" if the lower
bound exceeds ½, "fails" if the upper bound is below ½, undecided otherwise. The samples are shared
across the λ grid (common random numbers) and only three dot products per sample are needed:
with w = z − x, cos(d_N, −g + λw) = (eᵀAe − λ wᵀe)/(‖e‖‖−Ae + λw‖), e = x − x*.

Exact λ → 0 limit (derived here, [RECON]): to first order the angle improves iff ⟨w, q⟩ > 0 with
q = d̂_N − cos θ·ĝ₋ (ĝ₋ = −g/‖g‖), and ⟨e, q⟩ = −‖e‖ sin²θ, so the fraction tends to the ball-cap
volume P(u·â > −t) = 1 − ½ I_{1−t²}((d+1)/2, ½), t = ‖e‖ sin²θ/(c‖A^{-1/2}q‖), â ∝ A^{-1/2}q — strictly
above ½ whenever θ > 0. It is the "expected" value the smallest-λ column is compared with.

Link to the simulator: the direction −∇f(x) + λ(z − x) must be the step the simulator's LSGD (theory
form) takes with leader z; a relative error above 1e-8 makes the verdict "fails".

Conditions checked for the verdict: (i) small λ: in every feasible cell the exact λ → 0 limit exceeds ½,
and the Monte Carlo fraction at the smallest λ of the grid (1e-4·λ_min) agrees with it (within 4 standard
errors + 0.005) and is not significantly below ½ (near θ → 0 the limit tends to ½, so the limit rather
than a finite sample decides); (ii) large angle: for θ ≥ ¾θ_max(κ), half holds at every λ. Verdict:
"holds" if half holds in every cell; "holds under conditions" if (i) and (ii) hold and some cells fail;
"fails" otherwise.

Indefinite quadratics (reviewer 3's "negative curvature" remark; the statement of the Vol theorem is
NOT FOUND, digest §3.7). Reading: for Quadratic.indefinite (saddle x_s) and x = x_s + a unit vector,
the sublevel set is unbounded, so z is sampled uniformly in the ball of radius R around x; among the
candidate leaders (f(z) ≤ f(x)) we report the share whose displacement has negative curvature,
(z − x)ᵀA(z − x) < 0, as a function of R/‖x − x_s‖, and the smallest R where the share's 95% lower
bound exceeds ½. This part is descriptive and does not enter the verdict.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import special, stats

from lsgdsim import objectives

from .record import CheckResult

NAME = "newton-alignment"
CLAIM = ("Convex quadratic: when λ is small or the angle between −∇f and the Newton step is large, at least half "
         "(by volume) of the candidate leaders {z : f(z) ≤ f(x)} bring −∇f + λ(z − x) closer in angle to the "
         "Newton direction than −∇f.")

SIM_TOL = 1e-8              # the simulator's LSGD step must be the direction analysed here
LARGE_ANGLE = 0.75          # condition (ii): θ ≥ LARGE_ANGLE · θ_max(κ)


def uniform_ball(rng, n: int, d: int) -> np.ndarray:
    """(n, d) points uniform in the unit ball of R^d."""
    u = rng.standard_normal((n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u * rng.random((n, 1)) ** (1.0 / d)


def sample_sublevel(A: np.ndarray, e: np.ndarray, n: int, rng) -> np.ndarray:
    """(n, d) displacements w = z − x, z uniform in {z : f(z) ≤ f(x)} for f = ½(z − x*)ᵀA(z − x*), e = x − x*.

    Exact: z = x* + c·A^{-1/2}u with u uniform in the unit ball and c² = eᵀAe (a linear image of a uniform
    ball is uniform in the image ellipsoid)."""
    ev, V = np.linalg.eigh(A)
    A_inv_half = (V / np.sqrt(ev)) @ V.T
    c = np.sqrt(e @ A @ e)
    return c * uniform_ball(rng, n, A.shape[0]) @ A_inv_half - e


def clopper_pearson(k, n, level=0.95):
    """Exact binomial confidence interval(s) for k successes out of n (arrays allowed)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    a = (1 - level) / 2
    lo = np.where(k > 0, stats.beta.ppf(a, k, n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, n - k), 1.0)
    return lo, hi


def angle_plane(A: np.ndarray, n_grid: int = 20001):
    """Directions e(ψ) = cos ψ v_min + sin ψ v_max for ψ up to the angle-maximising one, and their θ (deg)."""
    V = np.linalg.eigh(A)[1]
    psi = np.linspace(0.0, np.pi / 2, n_grid)
    E = np.outer(np.cos(psi), V[:, 0]) + np.outer(np.sin(psi), V[:, -1])
    AE = E @ A
    cos = np.sum(E * AE, axis=1) / (np.linalg.norm(E, axis=1) * np.linalg.norm(AE, axis=1))
    theta = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    top = int(np.argmax(theta))
    return E[: top + 1], theta[: top + 1]


def small_lambda_limit(A: np.ndarray, e: np.ndarray) -> float:
    """Exact λ → 0 limit of the fraction (module docstring), for x − x* = e."""
    d = A.shape[0]
    ev, V = np.linalg.eigh(A)
    A_inv_half = (V / np.sqrt(ev)) @ V.T
    Ae = A @ e
    cos = (e @ Ae) / (np.linalg.norm(e) * np.linalg.norm(Ae))
    q = -e / np.linalg.norm(e) + cos * Ae / np.linalg.norm(Ae)
    c = np.sqrt(e @ Ae)
    t = np.linalg.norm(e) * (1 - cos ** 2) / (c * np.linalg.norm(A_inv_half @ q))
    if t >= 1:
        return 1.0
    return float(1 - 0.5 * special.betainc((d + 1) / 2, 0.5, 1 - t * t))


def fraction_map(kappa: float, dim: int, angles_deg, lams, n_samples: int, rng, problem_seed: int = 0) -> dict:
    """Fractions (angles × λ) of uniform z in the sublevel ellipsoid that improve the angle to Newton."""
    A = objectives.Quadratic.random(dim=dim, cond=kappa, mu=1.0, seed=problem_seed).A
    E, theta = angle_plane(A)
    lams = np.asarray(lams, float)
    frac = np.full((len(angles_deg), lams.size), np.nan)
    limit = np.full(len(angles_deg), np.nan)
    achieved = np.full(len(angles_deg), np.nan)
    for i, target in enumerate(angles_deg):
        if target > theta[-1]:
            continue
        e = E[min(int(np.searchsorted(theta, target)), len(theta) - 1)]
        e = e / np.linalg.norm(e)
        Ae = A @ e
        achieved[i] = np.degrees(np.arccos(np.clip(e @ Ae / np.linalg.norm(Ae), -1, 1)))
        W = sample_sublevel(A, e, n_samples, rng)                             # z − x, (n, d)
        we, wAe, ww = W @ e, W @ Ae, np.einsum("ij,ij->i", W, W)
        L = lams[:, None]
        norm_v = np.sqrt(np.maximum(Ae @ Ae - 2 * L * wAe + L * L * ww, 1e-300))
        cos_v = (e @ Ae - L * we) / norm_v                                     # ‖d_N‖ = ‖e‖ = 1
        cos_0 = (e @ Ae) / np.linalg.norm(Ae)
        frac[i] = np.mean(cos_v >= cos_0, axis=1)
        limit[i] = small_lambda_limit(A, e)
    k = np.round(np.nan_to_num(frac) * n_samples)
    lo, hi = clopper_pearson(k, n_samples)
    lo[np.isnan(frac)], hi[np.isnan(frac)] = np.nan, np.nan
    return {"kappa": kappa, "dim": dim, "theta_max": float(theta[-1]), "angles": list(angles_deg),
            "angles_achieved": achieved, "lams": lams, "fraction": frac, "ci_low": lo, "ci_high": hi,
            "limit_small_lambda": limit, "n_samples": n_samples}


def negative_curvature_share(dim: int, negative: int, radii, n_samples: int, rng, cond: float = 10.0,
                             problem_seed: int = 0) -> dict:
    """Indefinite quadratic: share of candidate leaders within radius R of x with (z−x)ᵀA(z−x) < 0."""
    q = objectives.Quadratic.indefinite(dim=dim, negative=negative, cond=cond, seed=problem_seed)
    A = q.A
    e = rng.standard_normal(dim)
    e /= np.linalg.norm(e)                       # x − x_s, unit length
    g = A @ e
    share, lo, hi, cand = [], [], [], []
    # As R → 0 the candidates fill the half-ball gᵀw < 0, and w ↦ −w keeps the curvature, so the share
    # tends to the share of all directions with wᵀAw < 0.
    U = uniform_ball(rng, n_samples, dim)
    for R in radii:
        W = R * uniform_ball(rng, n_samples, dim)
        curv = np.einsum("ij,jk,ik->i", W, A, W)
        candidate = W @ g + 0.5 * curv <= 0      # f(z) − f(x) = gᵀw + ½wᵀAw
        n_c = int(candidate.sum())
        k = int(np.sum(candidate & (curv < 0)))
        ci = clopper_pearson(k, max(n_c, 1))
        share.append(k / n_c if n_c else np.nan)
        lo.append(float(ci[0]) if n_c else np.nan)
        hi.append(float(ci[1]) if n_c else np.nan)
        cand.append(n_c / n_samples)
    lo_arr = np.array(lo)
    above = np.flatnonzero(np.nan_to_num(lo_arr) > 0.5)
    return {"dim": dim, "negative": negative, "cond": cond, "radii": list(map(float, radii)), "share": share,
            "ci_low": lo, "ci_high": hi, "candidate_fraction": cand,
            "small_R_limit": float(np.mean(np.einsum("ij,jk,ik->i", U, A, U) < 0)),
            "R_half": float(radii[above[0]]) if above.size else None}


def simulator_direction_error(rng, trials: int = 20) -> float:
    """Largest relative gap between the direction analysed here, −∇f(x) + λ(z − x), and the step the
    simulator's LSGD takes (theory form, leader z), (x⁺ − x)/η. The map describes LSGD only if it is ~0."""
    from lsgdsim import objectives, simulate
    from lsgdsim.algorithms import lsgd_theory
    worst = 0.0
    for _ in range(trials):
        q = objectives.Quadratic.random(dim=5, cond=10.0, seed=int(rng.integers(2**31)))
        x = q.minimizer + rng.standard_normal(5)
        e = x - q.minimizer
        z = x + sample_sublevel(q.A, e, 1, rng)[0]             # a candidate leader, f(z) ≤ f(x)
        eta, lam = 1e-3, float(rng.uniform(0.1, 10.0))
        res = simulate(q, lsgd_theory(eta, lam), workers=2, steps=1, x0=np.stack([z, x]), record_every=1)
        analysed = -q.grad(x[None, :])[0] + lam * (z - x)
        stepped = (res.x[1] - x) / eta
        worst = max(worst, float(np.linalg.norm(stepped - analysed) / np.linalg.norm(analysed)))
    return worst


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckResult:
    rng = np.random.default_rng([seed, 5])
    kappas = (10.0, 100.0) if quick else (10.0, 100.0, 1000.0)
    dims = (2, 20) if quick else (2, 10, 100)
    angles = (1, 5, 15, 30, 45, 60, 75, 85) if quick else (1, 2, 5, 10, 15, 20, 30, 40, 45, 50, 60, 70, 75, 80, 85)
    lams = np.geomspace(1e-4, 1e3, 8 if quick else 15)
    n = 2000 if quick else 20000
    maps = [fraction_map(k, d, angles, lams, n, rng, problem_seed=seed) for k in kappas for d in dims]

    holds_cells = fails_cells = feasible = 0
    small_ok, large_ok, worst_small, worst_large, limit_err = True, True, 1.0, 1.0, 0.0
    small_mc_holds = small_cells = 0
    min_limit = 1.0
    fail_examples = []
    for m in maps:
        ok = ~np.isnan(m["fraction"])
        feasible += int(ok.sum())
        holds = np.nan_to_num(m["ci_low"]) > 0.5
        fails = (np.nan_to_num(m["ci_high"], nan=1.0) < 0.5) & ok
        holds_cells += int(holds.sum())
        fails_cells += int(fails.sum())
        rows = ~np.isnan(m["fraction"][:, 0])
        col = m["fraction"][rows, 0]
        se = np.sqrt(np.maximum(col * (1 - col), 0.25 / m["n_samples"]) / m["n_samples"])
        consistent = np.abs(col - m["limit_small_lambda"][rows]) <= 4 * se + 0.005
        small_ok &= bool(np.all(m["limit_small_lambda"][rows] > 0.5) and np.all(consistent)
                         and not np.any(fails[rows, 0]))
        small_mc_holds += int(np.sum(holds[rows, 0]))
        small_cells += int(rows.sum())
        min_limit = min(min_limit, float(np.min(m["limit_small_lambda"][rows])))
        worst_small = min(worst_small, float(np.nanmin(m["fraction"][rows, 0])))
        big = rows & (np.nan_to_num(m["angles_achieved"]) >= LARGE_ANGLE * m["theta_max"])
        if big.any():
            large_ok &= bool(np.all(holds[big]))
            worst_large = min(worst_large, float(np.nanmin(m["fraction"][big])))
        limit_err = max(limit_err, float(np.nanmax(np.abs(m["fraction"][rows, 0] - m["limit_small_lambda"][rows]))))
        for i, j in zip(*np.nonzero(fails), strict=True):
            fail_examples.append((m["kappa"], m["dim"], float(m["angles_achieved"][i]), float(m["lams"][j]),
                                  float(m["fraction"][i, j])))
    sim_err = simulator_direction_error(rng)
    if sim_err > SIM_TOL:  # the map would describe some other step than LSGD's
        verdict = "fails"
    elif holds_cells == feasible:
        verdict = "holds"
    elif small_ok and large_ok:
        verdict = "holds under conditions"
    else:
        verdict = "fails"

    radii = np.geomspace(0.01, 100.0, 9 if quick else 17)
    indef_cfg = ((2, 1), (10, 1), (10, 5)) if quick else ((2, 1), (10, 1), (10, 5), (50, 1), (50, 25))
    indef = [negative_curvature_share(d, k, radii, n, rng, problem_seed=seed) for d, k in indef_cfg]

    fail_examples.sort(key=lambda r: r[4])
    crit = {}
    for m in maps:  # per (κ, d): the smallest angle at which half holds for every λ
        holds = np.nan_to_num(m["ci_low"]) > 0.5
        rows = [i for i in range(len(angles)) if not np.isnan(m["fraction"][i, 0]) and holds[i].all()]
        crit[f"kappa={m['kappa']:g},d={m['dim']}"] = {
            "theta_max_deg": m["theta_max"],
            "smallest_angle_all_lambda_hold_deg": float(m["angles_achieved"][rows[0]]) if rows else None,
            "largest_lambda_all_angles_hold": _largest_all_hold(m)}
    measured = {
        "simulator_direction_rel_error": sim_err,
        "cells_feasible": feasible, "cells_half_holds": holds_cells, "cells_half_fails": fails_cells,
        "small_lambda_condition_holds": small_ok, "min_fraction_at_smallest_lambda": worst_small,
        "min_exact_small_lambda_limit": min_limit,
        "smallest_lambda_cells_with_ci_above_half": f"{small_mc_holds}/{small_cells}",
        "large_angle_condition_holds": large_ok, "min_fraction_at_large_angles": worst_large,
        "max_abs_error_vs_small_lambda_limit": limit_err,
        "worst_failures (kappa, d, angle_deg, lambda/lambda_min, fraction)": fail_examples[:8],
        "per_problem": crit,
        "indefinite": indef,
    }
    expected = {"simulator_direction_rel_error": f"<= {SIM_TOL:g}", "half": 0.5,
                "small_lambda_limit": "1 − ½ I_{1−t²}((d+1)/2, ½) > ½ for θ > 0 (exact)",
                "monte_carlo_ci": "95% Clopper–Pearson", "large_angle": f"θ ≥ {LARGE_ANGLE}·θ_max(κ)"}
    summary = (f"Half holds in {holds_cells}/{feasible} (κ, d, θ, λ) cells and fails in {fails_cells}. "
               f"Small λ: the exact λ→0 limit exceeds ½ everywhere (min {min_limit:.3f}) and the sample at "
               f"λ/λ_min = {lams[0]:g} matches it to {limit_err:.3f} ({small_mc_holds}/{small_cells} cells "
               f"significantly above ½). Large angle "
               f"(θ ≥ ¾θ_max): {'every' if large_ok else 'not every'} λ holds (min {worst_large:.2f}).")
    if fail_examples:
        k, d, a, lam, fr = fail_examples[0]
        summary += (f" Failures: small angles with larger λ (worst {fr:.2f} at κ={k:g}, d={d}, θ={a:.0f}°, "
                    f"λ/λ_min={lam:.3g}).")
    setting = {"kappas": list(kappas), "dims": list(dims), "angles_deg": list(angles),
               "lambda_over_lambda_min": lams.tolist(), "samples_per_cell": n, "quadratic": "Quadratic.random, "
               "geometric spectrum, mu = 1", "x_minus_xstar": "unit vector in span(v_min, v_max)",
               "indefinite": {"configs (dim, negative)": [list(c) for c in indef_cfg], "cond": 10.0,
                              "R_over_dist_to_saddle": radii.tolist()}}
    figure = _figure(maps, indef, figure_dir)
    return CheckResult(
        name=NAME, claim=CLAIM,
        reading=("'Half' by volume of the sublevel ellipsoid (exact uniform sampling), angle to d_N = −A⁻¹∇f, λ the "
                 "theory pull in units of λ_min(A); holds/fails per cell by a 95% Clopper–Pearson interval. "
                 "Indefinite part: share of negative-curvature displacements among candidates in a ball of radius R."),
        setting=setting, measured=measured, expected=expected, verdict=verdict, summary=summary, figure=figure,
        details={"maps": [{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()} for m in maps]})


def _largest_all_hold(m):
    holds = np.nan_to_num(m["ci_low"]) > 0.5
    rows = ~np.isnan(m["fraction"][:, 0])
    cols = [j for j in range(len(m["lams"])) if holds[rows, j].all()]
    # the first failing column bounds the "small λ" regime of this problem
    good = 0
    while good < len(cols) and cols[good] == good:
        good += 1
    return float(m["lams"][good - 1]) if good else None


def _figure(maps, indef, figure_dir):
    if figure_dir is None:
        return None
    from matplotlib.colors import ListedColormap

    from lsgdsim import plotting
    kappas = sorted({m["kappa"] for m in maps})
    dims = sorted({m["dim"] for m in maps})
    ncols = max(len(dims), 3)
    fig, axes = plotting.subplots(len(kappas) + 1, ncols, width=3.4, height=2.6)
    for ax in axes[:-1, len(dims):].ravel():
        ax.axis("off")
    cmap = ListedColormap(plotting.plt.get_cmap("RdYlGn")(np.linspace(0, 1, 256))).with_extremes(bad="#dddddd")
    image = None
    for m in maps:
        ax = axes[kappas.index(m["kappa"]), dims.index(m["dim"])]
        lam = np.log10(m["lams"])
        image = ax.pcolormesh(np.arange(lam.size + 1) - 0.5, np.arange(len(m["angles"]) + 1) - 0.5,
                              np.ma.masked_invalid(m["fraction"]), cmap=cmap, vmin=0, vmax=1, shading="flat")
        holds = np.nan_to_num(m["ci_low"]) > 0.5
        fails = np.nan_to_num(m["ci_high"], nan=1.0) < 0.5
        jj, ii = np.meshgrid(np.arange(lam.size), np.arange(len(m["angles"])))
        ok = ~np.isnan(m["fraction"])
        ax.plot(jj[holds & ok], ii[holds & ok], "o", ms=2, color="k")
        ax.plot(jj[fails & ok], ii[fails & ok], "x", ms=3, color="k")
        ax.set_xticks(range(0, lam.size, 2), [f"{v:g}" for v in lam[::2]], fontsize=6)
        ax.set_yticks(range(len(m["angles"])), [str(a) for a in m["angles"]], fontsize=6)
        ax.set_title(f"κ={m['kappa']:g}, d={m['dim']} (θmax={m['theta_max']:.0f}°)", fontsize=8)
        ax.grid(False)
        if dims.index(m["dim"]) == 0:
            ax.set_ylabel("angle(−∇f, d_N) [deg]")
        if kappas.index(m["kappa"]) == len(kappas) - 1:
            ax.set_xlabel("log10 λ/λ_min  (• half holds, × fails)")
    ax = axes[-1, 0]
    for r in indef:
        ax.plot(r["radii"], r["share"], marker=".", label=f"d={r['dim']}, {r['negative']} neg.")
        ax.fill_between(r["radii"], r["ci_low"], r["ci_high"], alpha=0.2)
    ax.axhline(0.5, color="k", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("R / ‖x − x_s‖")
    ax.set_ylabel("neg.-curvature share")
    ax.set_title("indefinite: candidates in a ball", fontsize=8)
    ax.legend(fontsize=6)
    ax = axes[-1, 1]
    for r in indef:
        ax.plot(r["radii"], r["candidate_fraction"], marker=".")
    ax.set_xscale("log")
    ax.set_xlabel("R / ‖x − x_s‖")
    ax.set_ylabel("candidates / samples")
    ax.set_title("indefinite: share of ball with f(z) ≤ f(x)", fontsize=8)
    for ax in axes[-1, 2:]:
        ax.axis("off")
    cax = axes[-1, 2].inset_axes([0.05, 0.55, 0.9, 0.1])
    fig.colorbar(image, cax=cax, orientation="horizontal", label="fraction of candidate leaders improving the angle")
    plotting.save(fig, Path(figure_dir) / f"{NAME}.png")
    return f"figures/{NAME}.png"
