"""Geometry of the newton-alignment check: candidate leaders, the angle to Newton's step, the worst x.

f(z) = ½(z − x*)ᵀA(z − x*), e = x − x* (unit length: every fraction here is scale-free), g = Ae,
Newton direction d_N = −A⁻¹g = −e, step direction v = −g + λw with w = z − x. A candidate z improves
the angle when angle(d_N, v) ≤ angle(d_N, −g) = θ, i.e. cos(e, Ae − λw) ≥ cos θ.

Everything is computed in A's eigenbasis, A = diag(a) (a (d,), ascending, λ_min = a[0]): a rotation
moves e, A and the uniform samples together, and the uniform ball is rotation invariant, so every
fraction is exact in distribution. With U (n, d) uniform in the unit ball, the three candidate sets are

    "sublevel"  z uniform in S(x) = {z : f(z) ≤ f(x)}:  w = c·a^{-1/2}∘u − e,  c² = eᵀAe   (the claim)
    "mirror"    z' = 2x − z for z uniform in S(x):      w' = −w                 (worst-leader control)
    "ball"      z uniform in the ball of radius ‖x − x*‖ around x: w = ‖e‖·u    (random-leader control)

Every mirrored z' is worse than x: f(x − w) − f(x) = −gᵀw + ½wᵀAw ≥ wᵀAw ≥ 0 for w ∈ S(x) − x, and the
mirror has the volume and the distances to x of S(x); only the side of x it lies on differs.
"""
from __future__ import annotations

import numpy as np
from scipy import special, stats

CANDIDATES = ("sublevel", "mirror", "ball")


def uniform_ball(rng, n: int, d: int) -> np.ndarray:
    """(n, d) points uniform in the unit ball of R^d."""
    u = rng.standard_normal((n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u * rng.random((n, 1)) ** (1.0 / d)


def sample_sublevel(A: np.ndarray, e: np.ndarray, n: int, rng) -> np.ndarray:
    """(n, d) displacements w = z − x, z uniform in {z : f(z) ≤ f(x)} for f = ½(z − x*)ᵀA(z − x*), e = x − x*.

    Exact for any symmetric positive definite A (d, d): z = x* + c·A^{-1/2}u with u uniform in the unit ball
    and c² = eᵀAe (a linear image of a uniform ball is uniform in the image ellipsoid)."""
    ev, V = np.linalg.eigh(A)
    A_inv_half = (V / np.sqrt(ev)) @ V.T
    c = np.sqrt(e @ A @ e)
    return c * uniform_ball(rng, n, A.shape[0]) @ A_inv_half - e


def clopper_pearson(k, n, level=0.95):
    """Exact binomial confidence interval(s) for k successes out of n (arrays allowed)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    a = (1 - level) / 2
    lo = np.where(k > 0, stats.beta.ppf(a, np.maximum(k, 1e-12), n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, np.maximum(n - k, 1e-12)), 1.0)
    return lo, hi


# -- angles ----------------------------------------------------------------------------------------
def angle_deg(a: np.ndarray, E: np.ndarray) -> np.ndarray:
    """(k,) angle θ between −∇f and d_N in degrees at x − x* = rows of E (k, d), A = diag(a)."""
    AE = E * a
    cos = np.sum(E * AE, axis=1) / (np.linalg.norm(E, axis=1) * np.linalg.norm(AE, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def theta_max_deg(a: np.ndarray) -> float:
    """Largest angle over all x, arccos(2√κ/(1 + κ)) (Kantorovich), reached in the plane of v_min, v_max."""
    kappa = a[-1] / a[0]
    return float(np.degrees(np.arccos(min(1.0, 2 * np.sqrt(kappa) / (1 + kappa)))))


def plane_direction(a: np.ndarray, psi) -> np.ndarray:
    """(k, d) unit directions cos ψ·v_min + sin ψ·v_max (eigenbasis: v_min = e_1, v_max = e_d)."""
    psi = np.atleast_1d(np.asarray(psi, float))
    E = np.zeros((psi.size, a.size))
    E[:, 0] += np.cos(psi)
    E[:, -1] += np.sin(psi)
    return E


def widest_direction(a: np.ndarray) -> np.ndarray:
    """(d,) the in-plane direction with angle θ_max: tan ψ = (a_min/a_max)^{1/2}."""
    return plane_direction(a, np.arctan(np.sqrt(a[0] / a[-1])))[0]


def along_chord(a: np.ndarray, E: np.ndarray, target: float, iters: int = 50) -> np.ndarray:
    """(k, d) unit directions at angle ``target`` (deg), one per row of E: the row moves along the chord toward
    v_min (angle 0) if its angle is above the target, else toward the widest direction (angle θ_max), to a
    crossing of the target found by bisection (the angle is continuous along the chord)."""
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    above = angle_deg(a, E) > target
    goal = np.where(above[:, None], plane_direction(a, 0.0), widest_direction(a)[None, :])
    lo, hi = np.zeros(len(E)), np.ones(len(E))
    for _ in range(iters):      # invariant: the angle at lo is on E's side of the target, at hi on the goal's
        mid = (lo + hi) / 2
        same_side = (angle_deg(a, (1 - mid[:, None]) * E + mid[:, None] * goal) > target) == above
        lo, hi = np.where(same_side, mid, lo), np.where(same_side, hi, mid)
    P = (1 - hi[:, None]) * E + hi[:, None] * goal
    return P / np.linalg.norm(P, axis=1, keepdims=True)


def retract(a: np.ndarray, E: np.ndarray, target: float, iters: int = 25, tol: float = 1e-9) -> np.ndarray:
    """(k, d) the rows of E moved onto the angle ``target`` (deg) by the smallest step this finds: Newton steps
    on the unit sphere along the tangent gradient of cos θ(e) = eᵀAe/(‖Ae‖) (rows that do not converge to
    within ``tol`` degrees fall back to :func:`along_chord`). Keeps a perturbed direction near the original."""
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    goal = np.cos(np.radians(target))
    for _ in range(iters):
        AE = E * a
        nAE = np.linalg.norm(AE, axis=1, keepdims=True)
        h = np.sum(E * AE, axis=1, keepdims=True) / nAE
        grad = 2 * AE / nAE - h * E - h * AE * a / nAE ** 2
        grad -= np.sum(grad * E, axis=1, keepdims=True) * E            # tangent to the sphere
        step = (h - goal) / np.maximum(np.sum(grad * grad, axis=1, keepdims=True), 1e-300)
        E = E - step * grad
        E /= np.linalg.norm(E, axis=1, keepdims=True)
    bad = np.abs(angle_deg(a, E) - target) > tol
    if bad.any():
        E[bad] = along_chord(a, E[bad], target)
    return E


def plane_at_angle(a: np.ndarray, target: float) -> np.ndarray:
    """(d,) the in-plane direction (ψ ≤ ψ at θ_max) with angle ``target`` (deg); needs target ≤ θ_max."""
    return along_chord(a, plane_direction(a, 0.0), target)[0]


def random_at_angle(a: np.ndarray, target: float, k: int, rng) -> np.ndarray:
    """(k, d) directions at angle ``target``: u uniform on the sphere, moved to the angle by :func:`along_chord`."""
    return along_chord(a, rng.standard_normal((k, a.size)), target)


# -- fractions -------------------------------------------------------------------------------------
def fractions(a: np.ndarray, E: np.ndarray, lams, U: np.ndarray, kind: str = "sublevel",
              chunk: int = 64) -> np.ndarray:
    """(k, L) fraction of the candidates (``kind``, module docstring) that improve the angle to Newton's
    direction, at x − x* = rows of E (k, d, unit) and pulls ``lams`` (L,) > 0, from the ball sample U (n, d).

    With v = Ae − λw, the angle improves iff eᵀv ≥ cos θ·‖v‖ (‖e‖ = 1), i.e. eᵀAe − λwᵀe ≥ 0 and
    (eᵀAe − λwᵀe)² ≥ cos²θ·(‖Ae‖² − 2λwᵀAe + λ²wᵀw). As cos θ = eᵀAe/‖Ae‖ the second is λ(B + Cλ) ≥ 0 with
    B = 2(cos²θ·wᵀAe − eᵀAe·wᵀe), C = (wᵀe)² − cos²θ·wᵀw, so each candidate improves the angle on an interval
    of λ; only three products per sample (wᵀe, wᵀAe, wᵀw) are needed."""
    if kind not in CANDIDATES:
        raise ValueError(f"kind must be one of {', '.join(CANDIDATES)}; got {kind!r}")
    lams = np.asarray(lams, float)
    s, root = 1 / np.sqrt(a), np.sqrt(a)
    uu_s = np.einsum("ij,ij->i", U * s, U * s)[:, None]
    uu = np.einsum("ij,ij->i", U, U)[:, None]
    out = np.empty((len(E), lams.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, len(E), chunk):
            F = E[start:start + chunk]
            AF = F * a
            eAe = np.sum(F * AF, axis=1)[None, :]
            if kind == "ball":
                we, wAe, ww = U @ F.T, U @ AF.T, uu
            else:
                c = np.sqrt(eAe)
                p1, p2 = U @ (F * s).T, U @ (F * root).T
                we, wAe, ww = c * p1 - 1.0, c * p2 - eAe, eAe * uu_s - 2 * c * p1 + 1.0
                if kind == "mirror":
                    we, wAe = -we, -wAe
            cos2 = eAe ** 2 / np.sum(AF * AF, axis=1)[None, :]
            B, C = 2 * (cos2 * wAe - eAe * we), we * we - cos2 * ww
            root_bc = -B / C
            lo = np.where(C > 0, np.maximum(root_bc, 0.0), np.where((C == 0) & (B < 0), np.inf, 0.0))
            hi = np.minimum(np.where(we > 0, eAe / we, np.inf), np.where(C < 0, root_bc, np.inf))
            inside = (lo[:, None, :] <= lams[None, :, None]) & (lams[None, :, None] <= hi[:, None, :])
            out[start:start + chunk] = np.mean(inside, axis=0).T
    return out


def small_lambda_limit(a: np.ndarray, E: np.ndarray, kind: str = "sublevel") -> np.ndarray:
    """(k,) exact λ → 0 limit of the fraction at x − x* = rows of E (derived in newton.py's docstring).

    Sublevel: 1 − ½ I_{1−t²}((d+1)/2, ½) with t = ‖e‖ sin²θ/(c‖A^{-1/2}q‖), q = d̂_N − cos θ·ĝ₋ (ĝ₋ = −g/‖g‖);
    mirror: one minus that (w → −w flips the first-order condition ⟨w, q⟩ > 0); ball: exactly ½."""
    if kind == "ball":
        return np.full(len(E), 0.5)
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    AE = E * a
    nAE = np.linalg.norm(AE, axis=1, keepdims=True)
    cos = np.sum(E * AE, axis=1, keepdims=True) / nAE
    q = -E + cos * AE / nAE
    c = np.sqrt(np.sum(E * AE, axis=1))
    t = (1 - cos[:, 0] ** 2) / (c * np.linalg.norm(q / np.sqrt(a), axis=1))
    limit = np.where(t >= 1, 1.0, 1 - 0.5 * special.betainc((a.size + 1) / 2, 0.5, np.clip(1 - t * t, 0, 1)))
    return limit if kind == "sublevel" else 1 - limit


def limit_lower_bound(a: np.ndarray, theta: float) -> float:
    """A lower bound on the sublevel λ → 0 limit at EVERY x with angle ``theta`` (deg): t ≥ sin θ/√κ."""
    t2 = np.sin(np.radians(theta)) ** 2 * a[0] / a[-1]
    return float(1 - 0.5 * special.betainc((a.size + 1) / 2, 0.5, 1 - t2))


# -- the worst x at a given angle -----------------------------------------------------------------
def worst_at_angle(objective, a: np.ndarray, target: float, starts: np.ndarray, rng, steps: int = 10,
                   per_step: int = 4, sigma: tuple[float, float] = (0.4, 0.04)):
    """Derivative-free search, per column, for the direction at angle ``target`` minimising ``objective``.

    ``objective(E)`` maps directions (k, d) to scores (k, C) (one column per λ, say). Every column keeps its
    best direction so far (initially the best of ``starts``, (k0, d)); at each of ``steps`` steps each best
    direction gets ``per_step`` Gaussian perturbations of norm ≈ σ (σ decreasing geometrically from
    sigma[0] to sigma[1]), retracted onto the angle by :func:`retract`; all of them are scored for every
    column, and a column moves to any candidate that scores strictly lower. Returns (best (C, d), score (C,)).
    """
    starts = retract(a, starts, target)
    scores = objective(starts)
    pick = np.argmin(scores, axis=0)
    best, best_score = starts[pick], scores[pick, np.arange(scores.shape[1])]
    for sig in np.geomspace(sigma[0], sigma[1], steps):
        noise = rng.standard_normal((len(best), per_step, a.size)) * (sig / np.sqrt(a.size))
        cand = retract(a, (best[:, None, :] + noise).reshape(-1, a.size), target)
        sc = objective(cand)
        j = np.argmin(sc, axis=0)
        better = sc[j, np.arange(sc.shape[1])] < best_score
        best[better], best_score[better] = cand[j[better]], sc[j[better], np.flatnonzero(better)]
    return best, best_score


# -- the maps of one problem ---------------------------------------------------------------------
def problem_maps(a, angles, lams, kinds, sz: dict, rng) -> dict:
    """Maps of one spectrum ``a`` (d,) over ``angles`` (T,, deg) × ``lams`` (L,): for every candidate kind the
    fraction (T, L) with x in plane and the median/minimum over ``sz["random_dirs"]`` random x, the in-plane
    λ → 0 limit (T,); for kinds[0] (the judged kind) the worst x found per cell, re-measured on fresh samples
    ("space_fraction", (T, L)), and the minimum of the limit over x (T,). Infeasible angles are NaN.
    ``sz``: n, n_search, random_dirs, steps, per_step (newton.SIZES)."""
    d, T, L = a.size, len(angles), len(lams)
    U, U_search, U_fresh = (uniform_ball(rng, n, d) for n in (sz["n"], sz["n_search"], sz["n"]))
    nan = lambda *shape: np.full(shape, np.nan)   # noqa: E731
    out = {"achieved": nan(T), "limit_lower_bound": nan(T), "space_fraction": nan(T, L),
           "space_limit_min": nan(T), "space_limit_at_worst": nan(T)}
    for kind in kinds:
        out |= {f"{kind}_plane": nan(T, L), f"{kind}_plane_limit": nan(T), f"{kind}_random_median": nan(T, L),
                f"{kind}_random_min": nan(T, L)}
    main = kinds[0]
    for i, theta in enumerate(angles):
        if theta > theta_max_deg(a):
            continue
        plane = plane_at_angle(a, theta)[None, :]
        rand = random_at_angle(a, theta, sz["random_dirs"], rng)
        out["achieved"][i] = angle_deg(a, plane)[0]
        out["limit_lower_bound"][i] = limit_lower_bound(a, theta)
        for kind in kinds:
            out[f"{kind}_plane"][i] = fractions(a, plane, lams, U, kind)[0]
            out[f"{kind}_plane_limit"][i] = small_lambda_limit(a, plane, kind)[0]
            fr = fractions(a, rand, lams, U, kind)
            out[f"{kind}_random_median"][i], out[f"{kind}_random_min"][i] = np.median(fr, axis=0), fr.min(axis=0)
        starts = np.vstack([plane, rand])
        worst, _ = worst_at_angle(lambda E: fractions(a, E, lams, U_search, main), a, theta, starts, rng,
                                  steps=sz["steps"], per_step=sz["per_step"])
        out["space_fraction"][i] = np.diagonal(fractions(a, worst, lams, U_fresh, main))
        out["space_limit_at_worst"][i] = small_lambda_limit(a, worst[:1], main)[0]
        _, lim = worst_at_angle(lambda E: small_lambda_limit(a, E, main)[:, None], a, theta, starts, rng,
                                steps=sz["steps"], per_step=sz["per_step"])
        out["space_limit_min"][i] = lim[0]
    return out


# -- indefinite quadratics (descriptive) -----------------------------------------------------------
def negative_curvature_share(A: np.ndarray, radii, n_samples: int, rng) -> dict:
    """Indefinite A (d, d), x = x_s + a random unit vector: among the candidate leaders z uniform in the
    ball of radius R around x with f(z) ≤ f(x), the share with negative curvature (z−x)ᵀA(z−x) < 0.

    Returns arrays over ``radii`` (R,): share, its 95% Clopper–Pearson interval, and the fraction of the ball
    that is a candidate; plus the R → 0 limit (the share of all directions with negative curvature: the
    candidates fill the half-ball gᵀw < 0, and w ↦ −w keeps the curvature) and the smallest R whose lower
    bound exceeds ½ (None if none)."""
    dim = A.shape[0]
    e = rng.standard_normal(dim)
    e /= np.linalg.norm(e)                       # x − x_s, unit length
    g = A @ e
    share, lo, hi, cand = (np.full(len(radii), np.nan) for _ in range(4))
    U = uniform_ball(rng, n_samples, dim)
    for i, R in enumerate(radii):
        W = R * uniform_ball(rng, n_samples, dim)
        curv = np.einsum("ij,jk,ik->i", W, A, W)
        candidate = W @ g + 0.5 * curv <= 0      # f(z) − f(x) = gᵀw + ½wᵀAw
        n_c = int(candidate.sum())
        cand[i] = n_c / n_samples
        if n_c:
            k = int(np.sum(candidate & (curv < 0)))
            share[i] = k / n_c
            lo[i], hi[i] = (float(v) for v in clopper_pearson(k, n_c))
    above = np.flatnonzero(np.nan_to_num(lo) > 0.5)
    return {"share": share, "ci_low": lo, "ci_high": hi, "candidate_fraction": cand,
            "small_R_limit": float(np.mean(np.einsum("ij,jk,ik->i", U, A, U) < 0)),
            "R_half": float(radii[above[0]]) if above.size else None}

