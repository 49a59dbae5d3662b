"""Claim 4 — the leader of L(S)GD sits at a stationary point of f; EASGD's workers and center need not.

Theorem (poster, digest §3.4, "likely Theorem 4"). Let Ω_i be the set of worker tuples (x^1..x^p) on
which worker i is the unique best, f(x^i) < f(x^j) for j ≠ i. If a point of Ω_i is a stationary point
of the LSGD objective L = Σ_j f(x^j) + (λ/2)‖x^j − x^{i}‖², then ∇f(x^i) = 0. The poster adds that
E(A)SGD lacks this property (digest §3.5, [RECON] double-well example).

Assumptions: one smooth f shared by all workers (the poster's form; per-worker f^i NOT FOUND),
deterministic gradients (LGD), exact leader selection, pull every step (τ = 1).

Two readings are tested, because the supplement's definition of "stationary point" was not recovered:

(A) *Fixed point of the update map with the leader's identity held fixed on Ω_i* — the map
    x_j ← x_j − η∇f(x_j) − λ(x_j − x_ℓ) of the simulator (docs/design.md §3). The leader's own row is a
    plain gradient step, so a fixed point needs ∇f(x_ℓ) = 0. Measured: LGD is run to a fixed point
    (residual ‖T(X) − X‖/η ≤ 1e-8, T one step of ``simulate``) on the double well, Rastrigin, the
    sin(r)/r rings and Styblinski–Tang, several seeds and worker counts, with a weak pull so that the
    non-leaders stay in other basins; ‖∇f‖ of the leader is compared with the non-leaders'.
(B) *Zero of the full gradient of L on Ω_i* (the leader coordinate differentiated through the
    penalties). Fails: f(x) = sin(πx)/π + 0.1(3x² − 2x³), x = (0, 1), λ = 1 [RECON, digest §3.4] has
    both partials of L equal to zero, worker 1 the unique leader and f'(0) = 1. Checked analytically,
    by central differences, and with the simulator (one LSGD step moves the leader, not the other
    worker). A second, stronger example is constructed here: a quintic with a strict *local minimum*
    of L on Ω_1 at (0, 1) and f'(leader) = 1, so even "local minimum" does not rescue reading B.

EASGD contrast: with α = ηρ and β = pα the simulator's EASGD map has exactly the fixed points of the
EASGD objective, ∇f(x^i) = −ρ(x^i − x̃) and x̃ = mean_i x^i (digest §1.1). On the double well
f(x) = (x² − 1)²/4 from a symmetric start the run ends at (∓√(1 − ρ), center 0): worker gradients
∓ρ√(1 − ρ) ≠ 0 and the center on the local *maximum* (its gradient is zero there, but f''(0) = −1);
from an asymmetric 3-worker start the center's gradient is non-zero as well.

Side result (details): "pulls never increase the spread max_i ‖x_i − x_ℓ‖" (deterministic quadratic,
λ ≤ 1) is false when the leader changes; a 1-D counterexample is verified with the simulator. What
holds, for η ≤ (2 − λ)/L: every pairwise distance contracts by max_k |1 − λ − ηa_k| ≤ 1, so the
diameter never grows and the spread to the *same* leader index never grows (tests/test_checks_nonconvex.py).

Leader dependence and controls. Reading A is about the leader: the best worker (lowest f, the one that
defines Ω_i) must be stationary at a fixed point. The same LGD runs are repeated with a worst leader
(``leaders.Worst``: every pull goes toward the worst worker) and a random one; the gradient is always
measured at the BEST worker, whoever the rule pulled toward. With the worst leader the best worker is
pulled toward a worse point and cannot be stationary unless every worker has merged into one point;
with a random leader the pulls change target every step and runs do not settle. Reading B and the EASGD
contrast do not involve the choice of leader (the record shows them once).

Sample size. Nothing here is a mean with a sampling interval: gradients are exact, so each run's fixed
point and the gradient at its best worker are judged exactly, and the thresholds below count these runs (the
record's ``setting.sample_size`` says so); the starts only have to cover the landscapes' basins.

Reading A holds when (i) at least 90% of the runs reach a fixed point inside Ω (the best worker unique
up to workers merged with it, ‖x_j − x_best‖ ≤ 1e-6), (ii) at every such fixed point ‖∇f(best)‖ ≤ 1e-6,
and (iii) at least half of them are informative (some non-leader has not merged with the best worker;
a fully merged fixed point is a plain stationary point and says nothing about the leader).

Verdict (computed): "holds" if (A) and (B) both hold with EASGD moving its stationary points; "holds
under conditions" if exactly one reading holds; "fails" if neither.
"""
from __future__ import annotations

import math

import numpy as np

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.backend import namespace
from lsgdsim.leaders import LeaderRule
from lsgdsim.objectives.base import Objective

from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "stationary-points"
CLAIM = ("On Ω_i (worker i the unique best) a stationary point of the LSGD objective has ∇f(leader) = 0; "
         "EASGD's stationary points can have ∇f ≠ 0 at every worker and at the center.")

LEADER_DEPENDENT = True
CAPTION = ("‖∇f‖ at LGD fixed points (best worker, non-leaders, worst leader); EASGD limits; B's "
           "counterexample.")

FIXED_TOL = 1e-8        # a run is at a fixed point when max_j ‖T(X)_j − X_j‖/η ≤ this
LEADER_TOL = 1e-6       # reading A holds when every fixed point found has ‖∇f(leader)‖ ≤ this
MOVED_TOL = 1e-3        # a gradient this large is "non-zero" (EASGD workers, reading-B leader)
COLLAPSED = 1e-6        # a non-leader this close to the leader has merged with it
REACHED = 0.9           # reading A needs a fixed point inside Ω in at least this share of the runs
INFORMATIVE = 0.5       # ... and at least this share of them with a non-leader apart from the best worker
ASYM_RHO, ASYM_START = 0.2, (-0.8, -0.6, 0.7)   # EASGD: two workers in the left well, one in the right

# (label, factory, lr η, pull λ): λ/η small enough that non-leaders can rest in other basins.
LANDSCAPES = (
    ("double-well 2-D", lambda: objectives.DoubleWell(dim=2), 0.1, 0.01),
    ("rastrigin 2-D", lambda: objectives.Rastrigin(dim=2), 0.002, 0.002),
    ("ring sin(r)/r", lambda: objectives.RingSinc(), 2.0, 0.01),
    ("styblinski-tang 3-D", lambda: objectives.StyblinskiTang(dim=3), 0.01, 0.002),
)


# -- reading A: LGD fixed points -------------------------------------------------------------------
def fixed_point_residual(obj, alg, X) -> np.ndarray:
    """(p,) ‖T(X)_j − X_j‖ / η, with T one deterministic step of ``simulate`` (the gradient mapping)."""
    step = simulate(obj, alg, workers=X.shape[0], steps=1, x0=X, record_every=1)
    return np.linalg.norm(step.x - X, axis=1) / float(alg.lr)


def run_to_fixed_point(obj, alg, x0, max_steps=6000, chunk=500):
    """Iterate the simulator in chunks (the exact-leader, τ = 1 rule is stateless, so restarts are exact)
    until the fixed-point residual is below FIXED_TOL; returns (X, residual (p,), steps)."""
    X, done = np.asarray(x0, float), 0
    while True:
        res = simulate(obj, alg, workers=X.shape[0], steps=chunk, x0=X, record_every=chunk)
        X, done = res.x, done + chunk
        resid = fixed_point_residual(obj, alg, X)
        if resid.max() <= FIXED_TOL or done >= max_steps:
            return X, resid, done


def fixed_point_row(obj, X, resid) -> dict:
    """Gradients at the end of a run: the BEST worker (lowest f) against the non-leaders apart from it."""
    vals, grads = (np.asarray(a) for a in obj.value_and_grad(X))
    best = int(np.argmin(vals))
    gnorm = np.linalg.norm(grads, axis=1)
    others = np.delete(np.arange(X.shape[0]), best)
    apart = others[np.linalg.norm(X[others] - X[best], axis=1) > COLLAPSED]
    # Ω up to merging: every worker as good as the best (to rounding) has merged with it.
    ties = others[vals[others] <= vals[best] + 1e-12 * (1 + abs(vals[best]))]
    in_omega = bool(np.all(np.isin(ties, apart, invert=True)))
    converged = bool(resid.max() <= FIXED_TOL)
    return {"converged": converged, "in_omega": in_omega, "residual": float(resid.max()),
            "leader_grad": float(gnorm[best]), "nonleader_grads": gnorm[apart].tolist(),
            "collapsed_nonleaders": int(len(others) - len(apart))}


def lgd_fixed_points(landscapes=LANDSCAPES, workers=(4,), seeds=(0, 1, 2), max_steps=6000,
                     rule: LeaderRule | None = None, progress: Progress | None = None) -> list[dict]:
    """One row per (landscape, p, seed): best-worker and non-leader gradient norms at the end of an LGD run
    whose leader rule is ``rule`` (exact by default)."""
    progress = progress or Progress()
    progress.expect(len(landscapes) * len(workers) * len(seeds))
    rows = []
    for label, factory, lr, pull in landscapes:
        obj = factory()
        alg = algorithms.LSGD(lr=lr, pull=pull, period=1, leader=rule or leader_rule())
        for p in workers:
            for s in seeds:
                x0 = obj.initial_point(p, np.random.default_rng([s, p, 4]))
                X, resid, steps = run_to_fixed_point(obj, alg, x0, max_steps=max_steps)
                rows.append({"landscape": label, "workers": p, "seed": s, "steps": steps,
                             **fixed_point_row(obj, X, resid)})
                progress.advance()
    return rows


def reading_a_stats(rows) -> dict:
    """Reading A's numbers from run rows: fixed points in Ω, the largest best-worker gradient there."""
    fixed = [r for r in rows if r["converged"] and r["in_omega"]]
    informative = [r for r in fixed if r["nonleader_grads"]]
    nonleader = np.array([g for r in fixed for g in r["nonleader_grads"]])
    return {"runs": len(rows), "fixed_points_in_omega": len(fixed), "informative_fixed_points": len(informative),
            "reached_share": len(fixed) / max(1, len(rows)),
            "informative_share": len(informative) / max(1, len(fixed)),
            "max_leader_grad": max((r["leader_grad"] for r in fixed), default=math.inf),
            "nonleader_grad_median": float(np.median(nonleader)) if nonleader.size else None,
            "nonleader_grad_max": float(nonleader.max()) if nonleader.size else None,
            "nonleader_share_above_1e-3": float(np.mean(nonleader >= MOVED_TOL)) if nonleader.size else None}


def reading_a_holds(stats: dict) -> bool:
    return bool(stats["reached_share"] >= REACHED and stats["max_leader_grad"] <= LEADER_TOL
                and stats["informative_share"] >= INFORMATIVE)


# -- EASGD on the double well ----------------------------------------------------------------------
def double_well_grad(x):
    return x ** 3 - x


def easgd_double_well(rho: float, x0, lr: float = 0.1, steps: int = 4000) -> dict:
    """EASGD (α = ηρ, β = pα) on the 1-D double well from x0 (p,); the limit vs the stationarity equations."""
    x0 = np.asarray(x0, float).reshape(-1, 1)
    p = x0.shape[0]
    res = simulate(objectives.DoubleWell(dim=1), algorithms.EASGD(lr=lr, alpha=lr * rho, period=1),
                   workers=p, steps=steps, x0=x0, record_every=steps)
    x, c = res.x[:, 0], float(res.center[0])
    g = double_well_grad(x)
    return {"rho": rho, "x0": x0[:, 0].tolist(), "workers_final": x.tolist(), "center_final": c,
            "worker_grads": g.tolist(), "center_grad": float(double_well_grad(c)),
            "center_curvature": 3 * c * c - 1,
            "residual_worker_eq": float(np.max(np.abs(g + rho * (x - c)))),   # ∇f(x^i) + ρ(x^i − x̃)
            "residual_center_eq": abs(c - float(np.mean(x)))}                   # x̃ − mean_i x^i


# -- reading B: zeros of the full gradient of L ----------------------------------------------------
class _Curve1D(Objective):
    """A 1-D objective from a value/derivative pair (for the counterexamples; NumPy only)."""

    def __init__(self, name, fun, der):
        self.name, self.dim, self._f, self._d = name, 1, fun, der

    def value_and_grad(self, X):
        xp = namespace(X)
        x = X[:, 0]
        return xp.asarray(self._f(x)), xp.asarray(self._d(x))[:, None]


def _sine_cubic():
    f = lambda x: np.sin(np.pi * x) / np.pi + 0.1 * (3 * x ** 2 - 2 * x ** 3)   # noqa: E731
    d1 = lambda x: np.cos(np.pi * x) + 0.6 * x - 0.6 * x ** 2                   # noqa: E731
    d2 = lambda x: -np.pi * np.sin(np.pi * x) + 0.6 - 1.2 * x                    # noqa: E731
    return f, d1, d2


def _quintic():
    """f with f(0)=0, f'(0)=1, f''(0)=1, f(1)=0.1, f'(1)=−1, f''(1)=1 (makes (0, 1) a strict local min of L)."""
    rows = [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 2, 0, 0, 0],
            [1, 1, 1, 1, 1, 1], [0, 1, 2, 3, 4, 5], [0, 0, 2, 6, 12, 20]]
    c = np.linalg.solve(np.array(rows, float), np.array([0.0, 1.0, 1.0, 0.1, -1.0, 1.0]))
    poly = np.polynomial.Polynomial(c)
    return poly, poly.deriv(1), poly.deriv(2), c


def penalized_counterexample(f, d1, d2, lam=1.0, x=(0.0, 1.0), lr=0.01) -> dict:
    """L(x1, x2) = f(x1) + f(x2) + (λ/2)(x2 − x1)² on Ω_1: partials, Hessian and one simulator step."""
    x1, x2 = x
    L = lambda a, b: f(a) + f(b) + 0.5 * lam * (b - a) ** 2   # noqa: E731
    h = 1e-5
    fd = [(L(x1 + h, x2) - L(x1 - h, x2)) / (2 * h), (L(x1, x2 + h) - L(x1, x2 - h)) / (2 * h)]
    partials = [d1(x1) - lam * (x2 - x1), d1(x2) + lam * (x2 - x1)]
    hess = np.array([[d2(x1) + lam, -lam], [-lam, d2(x2) + lam]])
    # The same point under reading A: one LSGD step with algorithmic pull η·λ (theory form, digest §2.1).
    step = simulate(_Curve1D("counterexample", f, d1), algorithms.lsgd_theory(lr, lam), workers=2, steps=1,
                    x0=np.array([[x1], [x2]]), record_every=1)
    moved = (step.x[:, 0] - np.array(x)) / lr
    return {"x": list(x), "lambda": lam, "f": [float(f(x1)), float(f(x2))],
            "unique_leader": bool(f(x1) < f(x2)), "leader_grad": float(d1(x1)),
            "partials_analytic": [float(v) for v in partials], "partials_central_diff": [float(v) for v in fd],
            "hessian_L_eigenvalues": np.linalg.eigvalsh(hess).tolist(),
            "simulator_step_over_lr": moved.tolist()}


def spread_counterexample() -> dict:
    """f = ½x², η = λ = 0.1 (ηL = 0.1): one LGD step raises max_i |x_i − x_leader| when the leader changes."""
    obj = objectives.Quadratic(A=np.array([[1.0]]))
    x0 = np.array([[1.0], [-1.05], [2.0]])
    res = simulate(obj, algorithms.LSGD(lr=0.1, pull=0.1, period=1), workers=3, steps=1, x0=x0, record_every=1)
    x1 = res.x
    f0, f1 = obj.value(x0), obj.value(x1)
    l0, l1 = int(np.argmin(f0)), int(np.argmin(f1))
    spread = lambda X, lead: float(np.max(np.abs(X[:, 0] - X[lead, 0])))   # noqa: E731
    diam = lambda X: float(np.ptp(X[:, 0]))                                 # noqa: E731
    return {"objective": "f(x) = x²/2 (L = 1)", "lr": 0.1, "pull": 0.1, "x0": x0[:, 0].tolist(),
            "x1": x1[:, 0].tolist(), "leader_before": l0, "leader_after": l1,
            "spread_before": spread(x0, l0), "spread_after": spread(x1, l1),
            "spread_after_same_index": spread(x1, l0), "diameter_before": diam(x0), "diameter_after": diam(x1)}


# -- the check -------------------------------------------------------------------------------------
READING = (f"(A) LGD-map fixed point (τ = 1, exact leader held on Ω_i) in Ω in ≥ {REACHED:.0%} of runs, "
           f"best worker's ‖∇f‖ ≤ {LEADER_TOL:g}; (B) ∇L = 0, L = Σ f(x^j) + (λ/2)‖x^j − x^i‖², on Ω_i. "
           "EASGD (α = ηρ, β = pα): limit vs its stationarity equations.")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    seeds = tuple(range(seed, seed + (2 if quick else 5)))
    workers = (4,) if quick else (2, 4, 8)
    max_steps = 6000 if quick else 12000

    def lgd(mode):
        return lgd_fixed_points(workers=workers, seeds=seeds, max_steps=max_steps, rule=leader_rule(mode=mode),
                                progress=progress)

    rows = lgd(leader)
    control_rows = {mode: lgd(mode) for mode in control_modes(leader, controls)}

    rhos = (0.2, 0.5) if quick else (0.1, 0.3, 0.5, 0.8)
    sym = [easgd_double_well(rho, [-0.5, 0.5]) for rho in rhos]
    asym = easgd_double_well(ASYM_RHO, ASYM_START)
    closed = [abs(abs(e["workers_final"][1]) - math.sqrt(1 - e["rho"])) for e in sym]
    easgd_moves = bool(
        min(min(abs(g) for g in e["worker_grads"]) for e in sym) >= MOVED_TOL
        and max(closed) <= 1e-8 and all(e["center_curvature"] < 0 for e in sym)
        and min(abs(g) for g in asym["worker_grads"] + [asym["center_grad"]]) >= MOVED_TOL
        and max(e["residual_worker_eq"] for e in [*sym, asym]) <= 1e-8)

    sc = penalized_counterexample(*_sine_cubic())
    poly, dp1, dp2, coeffs = _quintic()
    lm = penalized_counterexample(poly, dp1, dp2)

    def refutes(cx):  # a zero of ∇L on Ω_1 whose leader has a non-zero gradient
        return bool(cx["unique_leader"] and max(map(abs, cx["partials_analytic"])) <= 1e-12
                    and max(map(abs, cx["partials_central_diff"])) <= 1e-6 and abs(cx["leader_grad"]) >= MOVED_TOL)

    stats = reading_a_stats(rows)
    measured = {
        "reading_A": stats,
        "per_landscape": {lab: reading_a_stats([r for r in rows if r["landscape"] == lab]) for lab, *_ in LANDSCAPES},
        "easgd_symmetric": [{k: e[k] for k in ("rho", "workers_final", "center_final", "worker_grads",
                                               "center_grad", "center_curvature", "residual_worker_eq",
                                               "residual_center_eq")} for e in sym],
        "easgd_asymmetric": asym, "easgd_closed_form_error_max": max(closed),
        "easgd_moves_stationary_points": easgd_moves,
        "counterexample_reading_B": {**sc, "refutes": refutes(sc)},
        "counterexample_local_min_of_L": {**lm, "coefficients": coeffs.tolist(),
                                          "refutes_at_strict_local_min": refutes(lm)
                                          and min(lm["hessian_L_eigenvalues"]) > 0},
    }
    expected = {
        "reading_A": f"fixed point in Ω in ≥ {REACHED:.0%} of runs, each with ‖∇f(best)‖ ≤ {LEADER_TOL:g}, "
                     f"≥ {INFORMATIVE:.0%} of them informative",
        "reading_B": "∇L = 0 on Ω_i implies ∇f(leader) = 0 (refuted if a zero of ∇L has |f'(leader)| ≥ 1e-3)",
        "easgd_symmetric": "workers ∓√(1−ρ), |∇f(worker)| = ρ√(1−ρ), center 0 with f''(0) = −1",
    }
    setting = {"lgd": [{"landscape": lab, "lr": lr, "pull": pull, "pull_over_lr": pull / lr}
                       for lab, _, lr, pull in LANDSCAPES],
               "workers": list(workers), "seeds": list(seeds), "max_steps": max_steps, "period": 1, "grad_noise": 0,
               "leader": leader or "exact",
               "sample_size": ("not a sampled mean: gradients are exact, every run's fixed point and ∇f(best) are "
                               "judged exactly, and the shares counted are of these runs"),
               "easgd": {"objective": "double well (x²−1)²/4, 1-D", "lr": 0.1, "alpha": "lr·ρ", "beta": "p·α",
                         "rhos": list(rhos), "symmetric_start": [-0.5, 0.5], "asymmetric_start": list(ASYM_START),
                         "asymmetric_rho": ASYM_RHO}}
    return CheckRecord(
        name=NAME, claim=CLAIM, reading=READING, setting=setting, measured=measured, expected=expected,
        controls={mode: {"reading_A": reading_a_stats(r)} for mode, r in control_rows.items()},
        details={"lgd_rows": rows, "control_rows": control_rows, "spread_counterexample": spread_counterexample()})


def verdict(record: CheckRecord) -> str:
    m = record.measured
    easgd = m["easgd_moves_stationary_points"]
    claim_a = reading_a_holds(m["reading_A"]) and easgd
    claim_b = (not m["counterexample_reading_B"]["refutes"]) and easgd
    return "holds" if claim_a and claim_b else "holds under conditions" if claim_a or claim_b else "fails"


def summary(record: CheckRecord) -> str:
    m, a = record.measured, record.measured["reading_A"]
    sc, sym = m["counterexample_reading_B"], m["easgd_symmetric"][0]
    part_a = (f"(A) {'holds' if reading_a_holds(a) else 'fails'}: {a['fixed_points_in_omega']}/{a['runs']} runs at "
              f"a fixed point in Ω, ‖∇f(best)‖ ≤ {a['max_leader_grad']:.0e}.")
    part_b = f"(B) fails: ∇L = 0 with f'(leader) = {sc['leader_grad']:.0f}." if sc["refutes"] else "(B) holds."
    return (f"{part_a} {part_b} EASGD workers keep |∇f| = {sym['rho'] * math.sqrt(1 - sym['rho']):.3f} "
            f"(ρ = {sym['rho']}).")


def _fmt_a(stats: dict) -> str:
    return f"{stats['fixed_points_in_omega']}/{stats['runs']}, max ‖∇f‖ {stats['max_leader_grad']:.1e}"


def key_numbers(record: CheckRecord) -> list[dict]:
    m, c = record.measured, record.controls
    ctrl = {mode: _fmt_a(c[mode]["reading_A"]) for mode in c}
    asym, sc = m["easgd_asymmetric"], m["counterexample_reading_B"]
    return [
        {"quantity": "(A) fixed points in Ω, best worker's ‖∇f‖", "measured": _fmt_a(m["reading_A"]), **ctrl,
         "expected": f"≥ {REACHED:.0%} of runs, ≤ {LEADER_TOL:g}"},
        {"quantity": "(A) non-leaders' ‖∇f‖ (median)",
         "measured": f"{m['reading_A']['nonleader_grad_median'] or 0:.2g}",
         "expected": "free"},
        {"quantity": "(B) f'(leader) at a zero of ∇L", "measured": f"{sc['leader_grad']:.3f}", "expected": "0"},
        {"quantity": "EASGD worker |∇f|, symmetric start", "measured": ", ".join(
            f"{min(abs(g) for g in e['worker_grads']):.3f} (ρ={e['rho']})" for e in m["easgd_symmetric"]),
         "expected": "ρ√(1−ρ) ≠ 0"},
        {"quantity": "EASGD center |∇f|, asymmetric start", "measured": f"{abs(asym['center_grad']):.3f}",
         "expected": "≠ 0"},
    ]


def figure(record: CheckRecord):
    from lsgdsim import plotting
    return plotting.row_with_legends([lambda ax, f=f: f(ax, record, plotting)
                                      for f in (_panel_reading_a, _panel_easgd, _panel_reading_b)],
                                     height=5.0, ncols=(2, 2, 1), fontsize=7.5, columnspacing=1.0)


def _panel_reading_a(ax, record, plotting):
    labels = [lab for lab, *_ in LANDSCAPES]
    worst_rows = record.details.get("control_rows", {}).get("worst", [])
    for k, lab in enumerate(labels):
        sel = [r for r in record.details["lgd_rows"] if r["landscape"] == lab and r["converged"] and r["in_omega"]]
        lead = np.maximum([r["leader_grad"] for r in sel], 1e-18)
        other = np.maximum([g for r in sel for g in r["nonleader_grads"]], 1e-18)
        bad = np.maximum([r["leader_grad"] for r in worst_rows if r["landscape"] == lab], 1e-18)
        ax.scatter(np.full(lead.size, k - 0.2), lead, s=14, color=plotting.COLORS["lsgd"],
                   label="best worker" if k == 0 else None)
        ax.scatter(np.full(other.size, k), other, s=14, marker="x", color=plotting.SETTING_COLORS[1],
                   label="non-leaders (not merged)" if k == 0 else None)
        ax.scatter(np.full(bad.size, k + 0.2), bad, s=14, marker="^", color=plotting.COLORS["worst leader"],
                   label="best worker, worst leader" if k == 0 and worst_rows else None)
    asym = record.measured["easgd_asymmetric"]          # EASGD's limit on the double well: ∇f ≠ 0 everywhere
    k = len(labels)
    ax.scatter(np.full(len(asym["worker_grads"]), k - 0.1), np.abs(asym["worker_grads"]), s=18, marker="s",
               color=plotting.COLORS["easgd"], label="EASGD workers")
    ax.scatter([k + 0.1], [abs(asym["center_grad"])], s=60, marker="*", color=plotting.COLORS["easgd"],
               label="EASGD center")
    ax.axhline(LEADER_TOL, color="k", lw=0.7, ls=":")
    ax.set_yscale("log")
    ax.set_xticks(range(k + 1), [*labels, "EASGD double well"], fontsize=7.5,
                  rotation=40, ha="right", rotation_mode="anchor")
    ax.set_xlabel("landscape")
    ax.set_ylabel("‖∇f‖ at the end of the run")
    ax.set_title("(A) LGD's leader: ∇f = 0\nEASGD: ∇f ≠ 0")


def _panel_easgd(ax, record, plotting):
    sym, asym = record.measured["easgd_symmetric"], record.measured["easgd_asymmetric"]
    xs = np.linspace(-1.5, 1.5, 300)
    ax.plot(xs, (xs ** 2 - 1) ** 2 / 4, color="k", lw=1)
    for e, mk in zip(sym, "osd^", strict=False):
        w = np.array(e["workers_final"])
        ax.plot(w, (w ** 2 - 1) ** 2 / 4, mk, color=plotting.COLORS["easgd"], ms=5, label=f"workers, ρ={e['rho']}")
    w = np.array(asym["workers_final"])
    asym_color = plotting.SETTING_COLORS[0]              # EASGD with asymmetric coupling: a setting, not a method
    ax.plot(w, (w ** 2 - 1) ** 2 / 4, "v", color=asym_color, ms=6, label=f"asym. workers, ρ={ASYM_RHO}")
    c = asym["center_final"]
    ax.plot([c], [(c ** 2 - 1) ** 2 / 4], "*", color=asym_color, ms=10, label="asym. center")
    ax.plot([0], [0.25], "*", color=plotting.COLORS["easgd"], ms=10, label="sym. center (max)")
    ax.set(title="EASGD limits\non the double well", xlabel="x", ylabel="f(x) = (x² − 1)²/4")


def _panel_reading_b(ax, record, plotting):
    sc = record.measured["counterexample_reading_B"]
    f, d1, _ = _sine_cubic()
    xs = np.linspace(-0.4, 1.4, 300)
    ax.plot(xs, f(xs), color="k", lw=1, label="f(x) = sin(πx)/π + 0.1(3x² − 2x³)")
    ax.plot(xs, f(0) + d1(0) * xs, ":", color=plotting.COLORS["lsgd"], lw=1, label="slope f'(0) = 1")
    ax.plot([0, 1], [f(0), f(1)], "o", color=plotting.COLORS["lsgd"])
    ax.annotate("leader x¹=0", (0, f(0)), textcoords="offset points", xytext=(4, -12), fontsize=7)
    ax.annotate("x²=1", (1, f(1)), textcoords="offset points", xytext=(-10, 6), fontsize=7)
    ax.set_ylim(-0.35, 0.5)
    ax.set(title=f"(B) ∇L = 0 but\nf'(leader) = {sc['leader_grad']:.0f}", xlabel="x", ylabel="f(x)")
