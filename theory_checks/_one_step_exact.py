"""One-step check, exact part: closed forms of the one-step inequality on quadratics and the step-size analysis.

Everything here is exact arithmetic on f = ½xᵀAx − bᵀx (no simulator): the two sides of
E f(x⁺) − f* ≤ (1 − mη)(f(x) − f*) − ηλ(f(x) − f(z)) + η²Mσ²/2 for rows of x and leaders z, the
coefficients c₁, c₂ of RHS − LHS = −ηc₁ − η²c₂, the derived condition η_B, the exact threshold η*, the
adversarial pair attaining it, the documented EXAMPLES, and the study over random quadratics
(theory_checks/one_step.py states the analysis).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import objectives

REL_TOL = 1e-10          # exact evaluations: slack ≥ −REL_TOL·scale counts as holding
ETA_FRACTIONS = (0.01, 0.1, 0.5, 1.0)

# Documented examples (kept, never deleted): each is re-evaluated by the check and the tests.
# "expect" is the documented outcome: "holds" (slack ≥ 0 up to rounding) or "violated".
EXAMPLES = [
    {"name": "exact threshold is sharp (2-D, κ = 10, λ = 5, η = η*)",
     "eigs": [1.0, 10.0], "lam": 5.0, "eta_over": ("star", 1.0), "pair": "adversarial",
     "noise": "worst", "sigma2": 1.0, "expect": "holds"},
    {"name": "just beyond the exact threshold (2-D, κ = 10, λ = 5, η = 1.05·η*): a step-size condition is needed",
     "eigs": [1.0, 10.0], "lam": 5.0, "eta_over": ("star", 1.05), "pair": "adversarial",
     "noise": "worst", "sigma2": 1.0, "expect": "violated"},
    {"name": "the reading 'η ≤ 1/M' (ignoring λ) is not sufficient: κ = 10, λ = 8 (simulator pull ηλ = 0.8), "
             "η = 1/M > η* = 0.075",
     "eigs": [1.0, 10.0], "lam": 8.0, "eta_over": ("inv_M", 1.0), "pair": "adversarial",
     "noise": "worst", "sigma2": 1.0, "expect": "violated"},
    {"name": "derived condition binds via m/(2Mλ) (κ = 100, λ = 50m, η = η_B), adversarial pair",
     "eigs": [1.0, 100.0], "lam": 50.0, "eta_over": ("bound", 1.0), "pair": "adversarial",
     "noise": "worst", "sigma2": 1.0, "expect": "holds"},
]


# -- closed forms on quadratics --------------------------------------------------------------------
def eta_bound(m: float, M: float, lam: float) -> float:
    """The derived sufficient condition η_B = min{1/(2M), m/(2Mλ)} (digest §3.1 [RECON])."""
    return min(1.0 / (2 * M), m / (2 * M * lam)) if lam > 0 else 1.0 / (2 * M)


def eta_star(m: float, M: float, lam: float) -> float:
    """Exact largest η for which the inequality holds for every x, z (worst-case noise covariance)."""
    return 1.0 / (lam + M * M / (2 * M - m))


def noise_trace(A: np.ndarray, M: float, sigma2: float, noise: str) -> float:
    """tr(AΣ) for the noise model with total variance σ²: isotropic (σ²/d)I or worst-case σ²v_Mv_Mᵀ."""
    if noise == "iso":
        return sigma2 * float(np.trace(A)) / A.shape[0]
    if noise == "worst":
        return sigma2 * M
    raise ValueError(f"noise must be 'iso' or 'worst'; got {noise!r}")


def make_sides(A, b, xs, X, Z):
    """sides(eta, lam, m, M, sigma2, noise) → (LHS, RHS, scale) of the inequality for rows of X, Z (n, d).

    LHS = E f(x⁺) − f*, evaluated directly: the gap f − f* = ½(y − x*)ᵀA(y − x*) at
    x̄⁺ = x − η(∇f(x) + λ(x − z)), ∇f(x) = Ax − b, plus (η²/2)tr(AΣ); no algebra shared with the
    threshold formulas. ``scale`` is the sum of the magnitudes of all terms (rounding errors are
    relative to it). Gaps are taken relative to x* to avoid cancellation against f*. The η-independent
    parts (gradients, f(x), f(z)) are computed once.
    """
    def gap(Y):
        Y = Y - xs
        return 0.5 * np.einsum("nd,nd->n", Y, Y @ A)

    G = X @ A - b
    fx, fz = gap(X), gap(Z)
    pull_dir = X - Z

    def sides(eta, lam, m, M, sigma2, noise):
        det = gap(X - eta * (G + lam * pull_dir))
        noise_lhs = 0.5 * eta * eta * noise_trace(A, M, sigma2, noise)
        noise_rhs = 0.5 * eta * eta * M * sigma2
        lhs = det + noise_lhs
        rhs = (1 - m * eta) * fx - eta * lam * (fx - fz) + noise_rhs
        scale = det + noise_lhs + fx + eta * lam * (fx + fz) + noise_rhs
        return lhs, rhs, scale

    return sides


def sides(A, b, xs, X, Z, eta, lam, m, M, sigma2, noise):
    """(LHS, RHS, scale) at one η; see :func:`make_sides`."""
    return make_sides(A, b, xs, X, Z)(eta, lam, m, M, sigma2, noise)


def coefficients(A, E, D, lam, m, M, sigma2, noise):
    """c₁, c₂ with RHS − LHS = −η c₁ − η² c₂ (E = x − x*, D = x − z, rows)."""
    G = E @ A
    U = G + lam * D
    F = 0.5 * np.einsum("nd,nd->n", E, G)
    delta = np.einsum("nd,nd->n", G, D) - 0.5 * np.einsum("nd,nd->n", D @ A, D)   # f(x) − f(z)
    c1 = -np.einsum("nd,nd->n", U, G) + m * F + lam * delta
    c2 = 0.5 * np.einsum("nd,nd->n", U @ A, U) + 0.5 * (noise_trace(A, M, sigma2, noise) - M * sigma2)
    return c1, c2


def max_eta(c1, c2):
    """Per-sample largest η with RHS ≥ LHS: −c₁/c₂ (inf when c₂ ≤ 0)."""
    with np.errstate(divide="ignore"):
        return np.where(c2 > 0, -c1 / np.where(c2 > 0, c2, 1.0), np.inf)


def adversarial_pair(A: np.ndarray, m: float, M: float) -> tuple[np.ndarray, np.ndarray]:
    """(x − x*, x − z) attaining η*: both along the top eigenvector v_M."""
    V = np.linalg.eigh(A)[1]
    v = V[:, -1]
    return v / (M - m / 2), 2 * v / M


def sample_pairs(A, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n random (x − x*, x − z) rows with f(z) ≤ f(x): random x; z on a random descent ray or special."""
    d = A.shape[0]
    V = np.linalg.eigh(A)[1]
    # x − x* with random (log-uniform) weights on the eigendirections, random overall scale.
    coef = rng.standard_normal((n, d)) * 10 ** rng.uniform(-3, 0, (n, d))
    E = (coef @ V.T) * 10 ** rng.uniform(-1, 1, (n, 1))
    G = E @ A
    U = rng.standard_normal((n, d))
    U = U / np.linalg.norm(U, axis=1, keepdims=True)
    k = n // 8
    U[:k] = -G[:k] / np.linalg.norm(G[:k], axis=1, keepdims=True)      # steepest-descent ray
    gu = np.einsum("nd,nd->n", G, U)
    U = np.where(gu[:, None] > 0, -U, U)                               # make u a descent direction
    gu = -np.abs(gu)
    rho = rng.uniform(0, 1, n) * (-2 * gu / np.einsum("nd,nd->n", U @ A, U))   # f(x + ρu) ≤ f(x)
    D = -rho[:, None] * U                                               # x − z = −ρu
    D[k:2 * k] = E[k:2 * k]                                             # z = x*
    D[2 * k:3 * k] = 0.0                                                # z = x (no pull)
    return E, D


def random_problem(rng: np.random.Generator, quick: bool) -> dict:
    dims = [1, 2, 3, 5, 10, 20] + ([] if quick else [50, 100])
    d = int(rng.choice(dims))
    cond = float(10 ** rng.uniform(0, 4))
    mu = float(10 ** rng.uniform(-2, 2))
    spectrum = str(rng.choice(["geometric", "linear", "uniform"]))
    obj = objectives.Quadratic.random(dim=d, cond=cond, mu=mu, spectrum=spectrum,
                                      seed=int(rng.integers(2**31)))
    lam = mu * float(10 ** rng.uniform(-2, 3))
    return {"obj": obj, "d": d, "cond": cond, "m": obj.mu, "M": obj.L, "lam": lam, "spectrum": spectrum}


def bisect_max_eta(ok, hi: float, iters: int = 80) -> float:
    """Largest η in [0, hi] with ok(η) (ok monotone: true on an interval [0, η_max])."""
    lo = 0.0
    if ok(hi):
        return hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def evaluate_example(ex: dict) -> dict:
    """Re-evaluate a documented example: slack RHS − LHS (exact) and whether it matches ``expect``."""
    eigs = np.asarray(ex["eigs"], dtype=float)
    A, m, M, lam = np.diag(eigs), float(eigs.min()), float(eigs.max()), float(ex["lam"])
    kind, factor = ex["eta_over"]
    base = {"star": eta_star(m, M, lam), "bound": eta_bound(m, M, lam), "inv_M": 1.0 / M}[kind]
    eta = factor * base
    if ex["pair"] == "adversarial":
        E, D = adversarial_pair(A, m, M)
    else:
        E, D = np.asarray(ex["pair"][0], float), np.asarray(ex["pair"][1], float)
    b = np.zeros(len(eigs))
    lhs, rhs, scale = sides(A, b, np.zeros(len(eigs)), E[None], (E - D)[None], eta, lam, m, M,
                            float(ex["sigma2"]), ex["noise"])
    slack = float(rhs[0] - lhs[0])
    scale = float(scale[0])
    outcome = "holds" if slack >= -REL_TOL * scale else "violated"
    return {"name": ex["name"], "eta": eta, "slack": slack, "relative_slack": slack / scale,
            "outcome": outcome, "expect": ex["expect"], "as_documented": outcome == ex["expect"]}


# -- quadratics: exact study -----------------------------------------------------------------------
def quadratic_study(n_problems: int, n_samples: int, rng: np.random.Generator, quick: bool) -> dict:
    rows = []
    inside_viol = {"worst": 0, "iso": 0}
    inside_total = 0
    worst_inside = None
    curves = []
    eta_grid = np.geomspace(0.01, 100.0, 41)
    for k in range(n_problems):
        pr = random_problem(rng, quick)
        obj = pr["obj"]
        A, b, xs, m, M, lam = obj.A, obj.b, obj.minimizer, pr["m"], pr["M"], pr["lam"]
        E, D = sample_pairs(A, n_samples, rng)
        sigma2 = float(10 ** rng.uniform(-2, 2)) * float(np.mean(np.sum((E @ A) ** 2, axis=1)))
        ea, da = adversarial_pair(A, m, M)
        scale_adv = np.sqrt(np.mean(np.sum(E * E, axis=1))) / np.linalg.norm(ea)
        E_all, D_all = np.vstack([E, scale_adv * ea]), np.vstack([D, scale_adv * da])
        X, Z = xs + E_all, xs + E_all - D_all
        eb, es = eta_bound(m, M, lam), eta_star(m, M, lam)

        side_fn = make_sides(A, b, xs, X, Z)

        def slack(eta, noise, side_fn=side_fn, m=m, M=M, lam=lam, sigma2=sigma2):
            lhs, rhs, scale = side_fn(eta, lam, m, M, sigma2, noise)
            return rhs - lhs, REL_TOL * scale

        for frac in ETA_FRACTIONS:
            for noise in ("worst", "iso"):
                s, tol = slack(frac * eb, noise)
                bad = s < -tol
                inside_viol[noise] += int(bad.sum())
                if bad.any():
                    i = int(np.argmin(s + tol))
                    worst_inside = {"problem": k, "eta_over_bound": frac, "noise": noise, "slack": float(s[i]),
                                    "x_minus_xstar": E_all[i].tolist(), "x_minus_z": D_all[i].tolist(),
                                    "lam": lam, "eigs": obj.eigenvalues.tolist()}
        inside_total += 2 * len(ETA_FRACTIONS) * len(E_all)
        # Largest η: bisection on the direct evaluation (all samples incl. the adversarial pair).
        def ok(eta, slack=slack):
            s, tol = slack(eta, "worst")
            return bool(np.all(s >= -tol))
        eta_bis = bisect_max_eta(ok, 4.0 * es, iters=48)
        c1, c2 = coefficients(A, E, D, lam, m, M, sigma2, "worst")
        eta_emp = float(np.min(max_eta(c1, c2)))                       # random samples only
        c1i, c2i = coefficients(A, E, D, lam, m, M, sigma2, "iso")
        eta_emp_iso = float(np.min(max_eta(c1i, c2i)))
        beyond = {}
        for f in (1.05, 2.0):
            s_, tol_ = slack(f * es, "worst")
            beyond[f] = bool(np.any(s_ < -tol_))
        rows.append({"d": pr["d"], "cond": pr["cond"], "m": m, "M": M, "lam": lam, "spectrum": pr["spectrum"],
                     "sigma2": sigma2, "eta_bound": eb, "eta_star": es, "eta_bisect": eta_bis,
                     "eta_emp_random": eta_emp, "eta_emp_random_iso": eta_emp_iso,
                     "c1_max": float(c1.max()), "fails_at_1.05_star": beyond[1.05], "fails_at_2_star": beyond[2.0]})
        if k < 10:
            gap = 0.5 * np.einsum("nd,nd->n", E_all, E_all @ A)
            curves.append(np.array([np.min(slack(g * eb, "worst")[0] / gap) for g in eta_grid]))
    return {"rows": rows, "inside_viol": inside_viol, "inside_total": inside_total, "worst_inside": worst_inside,
            "curves": curves, "eta_grid": eta_grid}

