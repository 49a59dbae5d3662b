"""Claim 6 — curse of symmetry: averaging (EAGD) stalls on symmetric landscapes, the leader (LGD) does not.

Claim (abstract and poster figures, digest §4.1a–b, §3.5). On symmetric non-convex problems workers that
descend toward different symmetric copies of a solution average to a bad point: EAGD (deterministic EASGD)
gets stuck, LGD converges. Poster evidence: on the 2-D "heavily non-convex" problem (very likely
f = sin(r)/r, digest §4.1b [RECON]) EAGD's four workers end at ≈ −0.091 (second ring) and LGD's at
≈ −0.217 (best ring), starts (20, 11), (17, 8), (−15, −18), (−6, −4); on low-rank matrix completion EAGD
plateaus (1e-2 … 1) while LGD converges linearly (ranks 1, 10, 50, 100). The paper's step sizes, ρ, λ,
matrix sizes and sampling rates are NOT FOUND; the values below are our choices.

Reading tested. Deterministic gradients, 4 workers, pulls every step (τ = 1), exact leader, the simulator's
rules (DESIGN.md §3): LGD x_i ← x_i − η∇f(x_i) − λ(x_i − x_ℓ); EAGD x_i ← x_i − η∇f(x_i) − α(x_i − c),
c ← c + β(mean − c), β = pα (ρ = α/η). The same coefficient is used for λ and α.
- Ring (RingSinc, scale 1): η = 2 (ηL = 2/3), λ = α = 0.05, 600 steps (converged: 1000 steps give the same
  numbers). Starts: the poster's four points, and, per seed, 4 points uniform in the disk of radius 22.
  A run *succeeds* when its output is within RING_TOL = 0.005 of the best ring value −0.2172: LGD's
  output is the leader (best worker); EAGD gets credit if its center *or* its best worker is within the
  tolerance. Also reported: "basin" rates (value below −0.154, the midpoint to the second ring), and the
  share of LGD runs with *all* workers on the best ring (the poster's picture).
- Matrix completion (MatrixFactorization, f(U) = ¼‖P_Ω(UUᵀ − M)‖², n = 40, 70% of entries observed, a new
  problem and start per seed, the objective's default start N(0, 0.25/n) per worker): η = 0.5, λ = α =
  0.05, 800 steps (300 in quick mode, ranks 1 and 3 only). Success: output value ≤ 1e-8 (LGD leader; EAGD
  center or best worker). For the LGD runs that succeed, a linear-rate fit of log10 f_leader over the
  records with 1e-12 ≤ f ≤ 1e-2·f_0 (rate per iteration, R²).
- Full mode also sweeps the common pull coefficient (ring 0.02–0.2, matrix 0.01–0.1): the gap depends on it,
  and on the rank (with λ = α = 0.05, rank 10 EAGD mostly converges).

Verdict (computed). A configuration (problem, rank, pull) shows the curse when the 95% Wilson lower bound
of LGD's success rate exceeds the upper bound of EAGD's; it shows *no* curse when EAGD succeeds in at
least half of the runs and the intervals overlap. "holds": the curse shows on both problems in the main
setting (ranks pooled) and in no configuration is it absent; "holds under conditions": it shows in the
main setting on at least one problem but is absent in some configuration (or shows on one problem
only); "fails": it shows on neither. Quick mode adds one strong-coupling probe (rank 3, λ = α = 0.1).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lsgdsim import algorithms, objectives, simulate

from .record import CheckResult

NAME = "curse-of-symmetry"
CLAIM = ("On symmetric non-convex landscapes (sin(r)/r in 2-D, low-rank matrix completion) averaging (EAGD) stalls "
         "at worse points while LGD converges to the best ring / the solution (linearly on matrix completion).")

WORKERS = 4
POSTER_STARTS = np.array([[20.0, 11.0], [17.0, 8.0], [-15.0, -18.0], [-6.0, -4.0]])
RING = {"lr": 2.0, "pull": 0.05, "steps": 600, "start_radius": 22.0}
RING_TOL = 0.005
MATRIX = {"n": 40, "observed": 0.7, "lr": 0.5, "pull": 0.05, "steps": 800}
MATRIX_TOL = 1e-8


def wilson(k, n, z=1.96):
    """95% Wilson score interval for k successes in n trials."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (float(max(0.0, mid - half)), float(min(1.0, mid + half)))


def _rate(flags):
    flags = np.asarray(flags, bool)
    return {"rate": float(flags.mean()) if flags.size else float("nan"), "k": int(flags.sum()), "n": int(flags.size),
            "ci95": wilson(int(flags.sum()), int(flags.size))}


def _track(t, X, state, values):
    out = {"x": X}
    if "center" in state:
        out["center"] = state["center"]
    return out


def _pair(obj, x0, lr, pull, steps, record_every):
    """One LGD and one EAGD run from the same start; the EAGD center's value is appended."""
    lgd = simulate(obj, algorithms.LSGD(lr=lr, pull=pull, period=1), workers=WORKERS, steps=steps, x0=x0,
                   record_every=record_every, monitor=_track if record_every == 1 else None)
    eagd = simulate(obj, algorithms.EASGD(lr=lr, alpha=pull, period=1), workers=WORKERS, steps=steps, x0=x0,
                    record_every=record_every, monitor=_track if record_every == 1 else None)
    center_f = float(np.asarray(obj.value(eagd.center[None, :]))[0])
    return lgd, eagd, center_f


# -- the ring sin(r)/r -----------------------------------------------------------------------------
def ring_start(seed: int, radius: float = RING["start_radius"]) -> np.ndarray:
    rng = np.random.default_rng([seed, 6])
    r = radius * np.sqrt(rng.random(WORKERS))
    a = 2 * np.pi * rng.random(WORKERS)
    return np.c_[r * np.cos(a), r * np.sin(a)]


def ring_outcomes(x0, lr=RING["lr"], pull=RING["pull"], steps=RING["steps"]) -> dict:
    """Final values of one LGD/EAGD pair on the ring from x0 (4, 2)."""
    obj = objectives.RingSinc()
    lgd, eagd, center_f = _pair(obj, x0, lr, pull, steps, steps)
    return {"lgd_f": lgd.final_f.tolist(), "eagd_f": eagd.final_f.tolist(), "eagd_center_f": center_f}


def ring_success(seeds, lr=RING["lr"], pull=RING["pull"], steps=RING["steps"]) -> dict:
    best = objectives.RingSinc().ring_values[0]
    basin = 0.5 * (best + objectives.RingSinc().ring_values[2])
    outs = [ring_outcomes(ring_start(s), lr, pull, steps) for s in seeds]
    lgd = np.array([o["lgd_f"] for o in outs])
    eagd = np.array([o["eagd_f"] for o in outs])
    center = np.array([o["eagd_center_f"] for o in outs])
    near = lambda v: np.abs(v - best) <= RING_TOL   # noqa: E731
    return {"pull": pull, "seeds": len(seeds),
            "lgd_leader": _rate(near(lgd.min(1))), "lgd_all_workers": _rate(np.all(near(lgd), axis=1)),
            "eagd_center": _rate(near(center)), "eagd_best_worker": _rate(near(eagd.min(1))),
            "eagd_either": _rate(near(center) | near(eagd.min(1))),
            "basin": {"lgd_leader": float(np.mean(lgd.min(1) < basin)),
                      "eagd_center": float(np.mean(center < basin)),
                      "eagd_best_worker": float(np.mean(eagd.min(1) < basin))}}


# -- matrix completion -----------------------------------------------------------------------------
def linear_rate(steps, f, lo=1e-12, hi_rel=1e-2):
    """Fit log10 f = a + b·t on records with lo ≤ f ≤ hi_rel·f_0; (rate 10^b per iteration, R²) or Nones."""
    f = np.asarray(f, float)
    sel = (f >= lo) & (f <= hi_rel * f[0])
    if sel.sum() < 4:
        return None, None
    t, y = np.asarray(steps, float)[sel], np.log10(f[sel])
    b, a = np.polyfit(t, y, 1)
    resid = y - (a + b * t)
    r2 = 1 - resid.var() / y.var() if y.var() > 0 else 1.0
    return float(10 ** b), float(r2)


def matrix_runs(rank: int, seeds, lr=MATRIX["lr"], pull=MATRIX["pull"], steps=MATRIX["steps"], curves=False) -> dict:
    lead_f, center_f, worker_f, rates, r2s, center_dist, curve = [], [], [], [], [], [], None
    for s in seeds:
        obj = objectives.MatrixFactorization(n=MATRIX["n"], rank=rank, observed=MATRIX["observed"], seed=s)
        x0 = obj.initial_point(WORKERS, np.random.default_rng([s, 7]))
        lgd, eagd, cf = _pair(obj, x0, lr, pull, steps, 5)
        lead_f.append(float(lgd.final_f.min()))
        center_f.append(cf)
        worker_f.append(float(eagd.final_f.min()))
        rate, r2 = linear_rate(lgd.steps, lgd.best_f) if lead_f[-1] <= MATRIX_TOL else (None, None)
        rates.append(rate)   # fitted on the runs that converge only
        r2s.append(r2)
        center_dist.append(float(obj.distance_to_solution(eagd.center[None, :])[0]
                                 / np.linalg.norm(obj.factor)))
        if curves and curve is None:
            curve = {"steps": lgd.steps.tolist(), "lgd_leader": lgd.best_f.tolist(),
                     "eagd_workers_best": eagd.best_f.tolist()}
    lead_f, center_f, worker_f = map(np.array, (lead_f, center_f, worker_f))
    ok_rates = [r for r in rates if r is not None]
    ok_r2 = [r for r in r2s if r is not None]
    failed = (center_f > MATRIX_TOL) & (worker_f > MATRIX_TOL)
    return {"rank": rank, "pull": pull, "seeds": len(seeds),
            "lgd_leader": _rate(lead_f <= MATRIX_TOL), "eagd_center": _rate(center_f <= MATRIX_TOL),
            "eagd_best_worker": _rate(worker_f <= MATRIX_TOL),
            "eagd_either": _rate((center_f <= MATRIX_TOL) | (worker_f <= MATRIX_TOL)),
            "lgd_final_f_median": float(np.median(lead_f)), "lgd_final_f_max": float(lead_f.max()),
            "eagd_plateau_center_f_median": float(np.median(center_f[failed])) if failed.any() else None,
            "eagd_plateau_best_worker_f_median": float(np.median(worker_f[failed])) if failed.any() else None,
            "eagd_center_rel_dist_to_solutions_median": float(np.median(np.array(center_dist)[failed]))
            if failed.any() else None,
            "lgd_linear_rate_median": float(np.median(ok_rates)) if ok_rates else None,
            "lgd_linear_fit_r2_min": float(min(ok_r2)) if ok_r2 else None,
            "lgd_linear_fit_r2_median": float(np.median(ok_r2)) if ok_r2 else None,
            "lgd_linear_fits": len(ok_rates), "curve": curve}


def _significant(a: dict, b: dict) -> bool:
    return a["ci95"][0] > b["ci95"][1]


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckResult:
    n_ring = 20 if quick else 80
    n_mat = 10 if quick else 24
    ranks = (1, 3) if quick else (1, 3, 10)
    ring_pulls = () if quick else (0.02, 0.1, 0.2)
    # (rank, pull) pairs beyond the main setting; quick mode keeps one strong-coupling probe
    mat_sweep = ((3, 0.1),) if quick else tuple((r, c) for c in (0.01, 0.1) for r in ranks)
    mat_steps = 300 if quick else MATRIX["steps"]

    obj = objectives.RingSinc()
    poster_lgd, poster_eagd, poster_center = _pair(obj, POSTER_STARTS, RING["lr"], RING["pull"], RING["steps"], 1)
    ring = ring_success(range(seed, seed + n_ring))
    sweep_ring = [ring_success(range(seed, seed + n_ring), pull=c) for c in ring_pulls]
    mats = [matrix_runs(r, range(seed, seed + n_mat), steps=mat_steps, curves=True) for r in ranks]
    sweep_mat = [matrix_runs(r, range(seed, seed + n_mat), pull=c, steps=mat_steps) for r, c in mat_sweep]

    mat_lgd, mat_eagd = _pooled(mats, "lgd_leader"), _pooled(mats, "eagd_either")
    ring_gap = _significant(ring["lgd_leader"], ring["eagd_either"])
    mat_gap = _significant(mat_lgd, mat_eagd)
    configs = ([("ring", RING["pull"], ring)] + [("ring", r["pull"], r) for r in sweep_ring]
               + [(f"matrix rank {m['rank']}", m["pull"], m) for m in [*mats, *sweep_mat]])
    per_config = [{"problem": name, "pull": pull, "lgd": r["lgd_leader"]["rate"], "eagd": r["eagd_either"]["rate"],
                   "curse_observed": _significant(r["lgd_leader"], r["eagd_either"]),
                   "curse_absent": bool(r["eagd_either"]["rate"] >= 0.5
                                        and not _significant(r["lgd_leader"], r["eagd_either"]))}
                  for name, pull, r in configs]
    absent = [c for c in per_config if c["curse_absent"]]
    if not (ring_gap or mat_gap):
        verdict = "fails"
    elif ring_gap and mat_gap and not absent:
        verdict = "holds"
    else:
        verdict = "holds under conditions"

    poster = {"lgd_final_f": poster_lgd.final_f.tolist(), "eagd_final_f": poster_eagd.final_f.tolist(),
              "eagd_center_f": poster_center, "eagd_center": poster_eagd.center.tolist()}
    measured = {
        "ring_poster_start": poster, "ring": ring, "ring_pull_sweep": sweep_ring,
        "matrix": [{k: v for k, v in m.items() if k != "curve"} for m in mats],
        "matrix_pooled": {"lgd_leader": mat_lgd, "eagd_either": mat_eagd}, "matrix_sweep": sweep_mat,
        "significant_gap_main_setting": {"ring": ring_gap, "matrix": mat_gap},
        "per_configuration": per_config,
    }
    expected = {"poster_ring": {"lgd_workers": -0.217, "eagd_workers": -0.091},
                "poster_matrix": "EAGD plateaus at 1e-2 … 1 (ranks 1–100), LGD linear to ≤ 1e-7",
                "curse_observed": "Wilson 95% lower(LGD) > upper(EAGD)",
                "curse_absent": "EAGD succeeds in ≥ half of the runs and the gap is not significant"}
    rates = ", ".join(f"r={m['rank']} {m['lgd_leader']['rate']:.2f} vs {m['eagd_either']['rate']:.2f}" for m in mats)
    summary = (f"Ring (poster starts): LGD workers end at {np.round(poster_lgd.final_f, 3).tolist()}, EAGD workers "
               f"at {np.round(poster_eagd.final_f, 3).tolist()} with center {poster_center:.3f}; random starts: "
               f"LGD leader on the best ring {ring['lgd_leader']['rate']:.2f} vs EAGD center/best worker "
               f"{ring['eagd_either']['rate']:.2f} (EAGD's best worker is in the best basin in "
               f"{ring['basin']['eagd_best_worker']:.2f} but held off the ring). Matrix completion, LGD vs EAGD: "
               f"{rates}; LGD linear, median rate/iter "
               f"{np.nanmedian([m['lgd_linear_rate_median'] or np.nan for m in mats]):.3f}.")
    if absent:
        summary += " No curse (LGD vs EAGD) where " + "; ".join(
            f"{c['problem']} λ=α={c['pull']:g} ({c['lgd']:.2f} vs {c['eagd']:.2f})" for c in absent) + "."
    setting = {"workers": WORKERS, "ring": {**RING, "tol": RING_TOL, "poster_starts": POSTER_STARTS.tolist(),
                                            "random_start": "uniform in the disk of radius 22", "seeds": n_ring,
                                            "pull_sweep": list(ring_pulls)},
               "matrix": {**MATRIX, "steps": mat_steps, "ranks": list(ranks), "seeds": n_mat, "tol": MATRIX_TOL,
                          "sweep (rank, pull)": [list(c) for c in mat_sweep]},
               "eagd": "alpha = pull, beta = p·alpha (rho = alpha/lr)", "period": 1, "grad_noise": 0}
    figure = _figure(poster_lgd, poster_eagd, mats, ring, figure_dir)
    return CheckResult(
        name=NAME, claim=CLAIM,
        reading=("Deterministic LGD vs EAGD with the same coefficient λ = α, 4 workers, τ = 1; success = output (LGD "
                 "leader; EAGD center or best worker) within tolerance of the best ring / of f = 0; curse observed "
                 "when the 95% Wilson intervals separate, absent when EAGD succeeds in at least half of the runs."),
        setting=setting, measured=measured, expected=expected, verdict=verdict, summary=summary, figure=figure,
        details={"matrix_curves": [m["curve"] for m in mats]})


def _pooled(rows, key):
    k, n = sum(r[key]["k"] for r in rows), sum(r[key]["n"] for r in rows)
    return {"rate": k / n, "k": k, "n": n, "ci95": wilson(k, n)}


def _figure(lgd, eagd, mats, ring, figure_dir):
    if figure_dir is None:
        return None
    from lsgdsim import plotting
    obj = objectives.RingSinc()
    fig, axes = plotting.subplots(2, 3, width=3.9, height=3.2)
    g = np.linspace(-25, 25, 301)
    GX, GY = np.meshgrid(g, g)
    F = np.asarray(obj.value(np.c_[GX.ravel(), GY.ravel()])).reshape(GX.shape)
    colors = plotting.plt.get_cmap("tab10").colors
    for col, (res, label) in enumerate(((eagd, "EAGD"), (lgd, "LGD"))):
        ax = axes[0, col]
        ax.contour(GX, GY, F, levels=np.sort(np.r_[obj.ring_values[:4], 0.5]), colors="#aaaaaa", linewidths=0.6)
        path = res.monitor["x"]                             # (R, p, 2)
        for i in range(WORKERS):
            ax.plot(path[:, i, 0], path[:, i, 1], color=colors[i], lw=1)
            ax.plot(path[0, i, 0], path[0, i, 1], "o", color=colors[i], ms=4)
            ax.plot(path[-1, i, 0], path[-1, i, 1], "*", color=colors[i], ms=7)
        if "center" in res.monitor:
            c = res.monitor["center"]
            ax.plot(c[:, 0], c[:, 1], "k--", lw=1, label="center")
            ax.plot(c[-1, 0], c[-1, 1], "kX", ms=7)
            ax.legend(loc="lower right")
        ax.set_aspect("equal")
        ax.set_title(f"{label} on sin(r)/r (poster starts)")
        ax = axes[1, col]
        for i in range(WORKERS):
            ax.plot(res.steps, res.f[:, i], color=colors[i], lw=1, label=f"worker {i + 1}")
        if "center" in res.monitor:
            ax.plot(res.steps, np.asarray(obj.value(res.monitor["center"])), "k--", lw=1, label="center")
        for v in obj.ring_values[:4]:
            ax.axhline(v, color="#aaaaaa", lw=0.6, ls=":")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, res.steps[-1])
        ax.set_ylim(-0.25, 0.2)
        ax.set_xlabel("iteration")
        ax.set_ylabel("f per worker")
        ax.set_title(f"{label}: final {np.round(res.final_f, 3).tolist()}", fontsize=8)
        ax.legend(fontsize=6)
    ax = axes[0, 2]
    for k, m in enumerate(mats):
        cur = m["curve"]
        ax.plot(cur["steps"], np.maximum(cur["lgd_leader"], 1e-30), color=colors[k], lw=1.2,
                label=f"LGD leader, rank {m['rank']}")
        ax.plot(cur["steps"], cur["eagd_workers_best"], color=colors[k], lw=1.2, ls="--",
                label=f"EAGD best worker, rank {m['rank']}")
    ax.set_yscale("log")
    ax.set_ylim(1e-16, None)
    ax.set_xlabel("iteration")
    ax.set_ylabel("F(X)")
    ax.set_title("matrix completion (first seed)")
    ax.legend(fontsize=6)
    ax = axes[1, 2]
    labels = ["ring"] + [f"matrix r={m['rank']}" for m in mats]
    lgd_r = [ring["lgd_leader"]] + [m["lgd_leader"] for m in mats]
    eagd_r = [ring["eagd_either"]] + [m["eagd_either"] for m in mats]
    x = np.arange(len(labels))
    for off, rows, name, color in ((-0.18, lgd_r, "LGD", plotting.COLORS["lsgd"]),
                                   (0.18, eagd_r, "EAGD", plotting.COLORS["easgd"])):
        vals = np.array([r["rate"] for r in rows])
        err = np.array([[r["rate"] - r["ci95"][0], r["ci95"][1] - r["rate"]] for r in rows]).T
        ax.bar(x + off, vals, width=0.34, color=color, yerr=err, capsize=2, label=name)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("success rate (95% CI)")
    ax.set_title("success over seeds")
    ax.legend(loc="upper center", ncol=2)
    plotting.save(fig, Path(figure_dir) / f"{NAME}.png")
    return f"figures/{NAME}.png"
