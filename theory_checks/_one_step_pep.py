"""One-step check, whole-class part: the worst case of one LSGD step over all m-strongly convex M-smooth f (PEPit).

Performance estimation (PEP, Drori–Teboulle; Taylor–Hendrickx–Glineur interpolation) turns "the worst
function of the class" into a small SDP. For one step x⁺ = x − η(∇f(x) + λ(x − z)) we solve

    W(η) = max  f(x⁺) − f* − (1 − mη)(f(x) − f*) + ηλ(f(x) − f(z))
           over f ∈ F_{m,M} (PEPit's SmoothStronglyConvexFunction), x, z
           subject to f(z) ≤ f(x) (z a valid leader) and f(x) − f* ≤ 1 (the problem is homogeneous),

so W(η) ≥ 0 (x = z = x*) and the one-step inequality holds for the whole class at η iff W(η) = 0. PEPit
returns the dual value, an upper bound certified up to the solver's accuracy.

Noise: σ = 0 is the binding case. For any f in the class, unbiased ξ with E‖ξ‖² ≤ σ² and the
noiseless point x̄⁺, smoothness gives E f(x̄⁺ − ηξ) ≤ f(x̄⁺) − η⟨∇f(x̄⁺), Eξ⟩ + (M/2)η²E‖ξ‖² ≤ f(x̄⁺) +
η²Mσ²/2, which the right-hand side pays exactly; so the noiseless inequality implies the noisy one for
every σ. Conversely ξ = 0 (σ = 0) is allowed, so a noiseless violation is a violation. Hence the largest
η for the whole class (any noise) is the largest η with W(η) = 0, found here by bisection.

Solver: cvxpy with Clarabel (interior point; gap and feasibility tolerances 1e-8), SCS (eps 1e-9) if
Clarabel is missing; both are recorded. W(η) ≤ VALUE_TOL = 1e-6 counts as 0 (100× the solver tolerance;
the normalization f(x) − f* ≤ 1 makes W relative). Past η*, W rises like ≈ s·(η/η* − 1) with s of order
1–10 (the record keeps W at 1.001·η* to show it), so VALUE_TOL moves the threshold by ≲ 1e-6 relative;
the bisection stops at a relative bracket of REL_TOL = 1e-5; agreement with η* is judged at AGREE_TOL =
1e-4 relative. PEPit and cvxpy are the optional ``pep`` extra: without them :func:`available` is False
and the check records that the part was skipped.
"""
from __future__ import annotations

import importlib.util
import math
import warnings

VALUE_TOL = 1e-6
REL_TOL = 1e-5
AGREE_TOL = 1e-4
# (m, M, λ): condition numbers 2–100, λ from 0.1m to 50m (both branches of η_B = min{1/(2M), m/(2Mλ)}).
GRID = ((1.0, 10.0, 5.0), (1.0, 2.0, 0.1), (1.0, 10.0, 1.0), (0.1, 10.0, 1.0), (1.0, 100.0, 50.0),
        (1.0, 4.0, 0.5), (0.5, 1.0, 2.0), (1.0, 30.0, 0.1))
QUICK_GRID = GRID[:1]


def available() -> bool:
    """Whether PEPit and cvxpy are importable (the optional ``pep`` extra)."""
    return all(importlib.util.find_spec(p) is not None for p in ("PEPit", "cvxpy"))


def solver_options() -> dict:
    """The SDP solver cvxpy is asked to use and its tolerances (Clarabel if installed, else SCS)."""
    import cvxpy as cp
    if "CLARABEL" in cp.installed_solvers():
        return {"solver": "CLARABEL", "tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8}
    return {"solver": "SCS", "eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}


def worst_case(m: float, M: float, lam: float, eta: float, options: dict | None = None) -> tuple[float, str]:
    """(W(η), solver status) for one LSGD step over F_{m,M}; see the module docstring."""
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction
    problem = PEP()
    f = problem.declare_function(SmoothStronglyConvexFunction, mu=m, L=M)
    xs = f.stationary_point()
    fs = f(xs)
    x, z = problem.set_initial_point(), problem.set_initial_point()
    gx, fx = f.oracle(x)
    fz = f(z)
    problem.add_constraint(fz <= fx)                       # z is a valid leader
    problem.set_initial_condition(fx - fs <= 1)
    f_plus = f(x - eta * (gx + lam * (x - z)))
    problem.set_performance_metric(f_plus - fs - (1 - m * eta) * (fx - fs) + eta * lam * (fx - fz))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # cvxpy's "may be inaccurate": the status is recorded
        value = problem.solve(verbose=0, **(options or solver_options()))
    status = str(problem.wrapper.prob.status)
    return float(value), status


def largest_eta(m: float, M: float, lam: float, options: dict | None = None) -> dict:
    """Bisection (geometric) for the largest η with W(η) ≤ VALUE_TOL, started from η = 2/M (no formula used).

    Returns η_PEP, the bracket, the number of SDP solves, the statuses seen, and W just around η*.
    """
    from ._one_step_exact import eta_bound, eta_star
    options = options or solver_options()
    statuses = set()
    solves = 0

    def holds(eta):
        nonlocal solves
        value, status = worst_case(m, M, lam, eta, options)
        statuses.add(status)
        solves += 1
        return value <= VALUE_TOL

    hi = 2.0 / M
    while holds(hi):                                       # 2/M already beyond the threshold for every class
        hi *= 2
    lo = hi / 2
    while not holds(lo):
        hi, lo = lo, lo / 2
    while hi / lo - 1 > REL_TOL:
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    es, eb = eta_star(m, M, lam), eta_bound(m, M, lam)
    w_below = worst_case(m, M, lam, es * (1 - 1e-3), options)[0]
    w_above = worst_case(m, M, lam, es * (1 + 1e-3), options)[0]
    return {"m": m, "M": M, "lam": lam, "eta_pep": lo, "bracket": [lo, hi], "eta_star": es, "eta_bound": eb,
            "pep_over_star": lo / es, "agrees": abs(lo / es - 1) <= AGREE_TOL, "below_bound": lo < eb * (1 - AGREE_TOL),
            "W_at_0.999_star": w_below, "W_at_1.001_star": w_above, "solves": solves + 2,
            "statuses": sorted(statuses)}


def study(quick: bool, progress=None) -> dict:
    """PEPit on the grid (one case in quick mode); ``{"available": False}`` when the extra is missing."""
    if not available():
        return {"available": False, "reason": "PEPit/cvxpy not installed (pip install 'lsgdsim[pep]')"}
    from importlib.metadata import version
    grid = QUICK_GRID if quick else GRID
    options = solver_options()
    cases = []
    for m, M, lam in grid:
        cases.append(largest_eta(m, M, lam, options))
        if progress is not None:
            progress.advance()
    return {"available": True, "cases": cases, "solver": options, "value_tol": VALUE_TOL, "rel_tol": REL_TOL,
            "agree_tol": AGREE_TOL, "versions": {"pepit": version("pepit"), "cvxpy": version("cvxpy")},
            "all_agree": all(c["agrees"] for c in cases), "any_below_bound": any(c["below_bound"] for c in cases),
            "max_rel_diff": max(abs(c["pep_over_star"] - 1) for c in cases)}
