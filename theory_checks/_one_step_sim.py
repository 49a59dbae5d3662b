"""One-step check, simulator part: one simulated LSGD step against the closed form, and the leader's extra decrease.

- :func:`simulate_one_step` / :func:`simulator_agreement`: replicas of x and a leader z placed as the
  best worker, one step of the simulator's theory-form LSGD against the closed form (quadratics);
- :func:`logistic_study`: the one-step inequality by Monte Carlo on logistic regression;
- :func:`extra_decrease_quadratic` / :func:`extra_decrease_logistic`: p workers, the leader chosen by the
  simulator's leader rule, and per worker the realized extra decrease over SGD,
  Δ = E f(x⁺_SGD) − E f(x⁺_LSGD), against the theorem's term T = ηλ(f(x) − f(z)) for the leader z
  actually chosen, with the band of :func:`extra_decrease_band`.

Every LSGD run takes its leader rule from the caller (``rule``), so that a control leader reaches it.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.algorithms import lsgd_theory
from lsgdsim.leaders import Exact, LeaderRule

from ._convex import derive_seed, replica_lsgd
from ._one_step_exact import eta_bound

Z_CI = 3.0               # Monte Carlo: mean ± 3 SE
Z_SIM = 5.0              # simulator vs closed form: |z| below this
DET_TOL = 1e-9           # simulator vs closed form, noiseless: relative error below this
WORKERS = 8              # workers of the extra-decrease study

make_lsgd = lsgd_theory  # the simulator's theory-form LSGD; tests monkeypatch it with mutants


# -- one step toward a held leader -------------------------------------------------------------------
def simulate_one_step(obj, x, z, eta, lam, reps, s, seed, factory=None, return_x=False, rule=None):
    """f(x⁺) (and x⁺ with ``return_x``) of ``reps`` replicas of x after one simulated LSGD step.

    Worker 0 holds z, the leader when ``rule`` is the exact one (f(z) < f(x)); a control rule may pick
    another worker, and then the step is not the one toward z (the comparisons built on it say so)."""
    factory = make_lsgd if factory is None else factory
    X0 = np.vstack([z[None, :], np.broadcast_to(x, (reps, x.shape[0]))])
    res = simulate(obj, factory(eta, lam, leader=rule or Exact()), workers=reps + 1, steps=1, x0=X0,
                   grad_noise=float(s), seed=seed)
    return (res.f[-1, 1:], res.x[1:]) if return_x else res.f[-1, 1:]


def simulator_agreement(rng: np.random.Generator, reps: int, seed: int, factory=None, rule=None) -> dict:
    """Noiseless step: relative error vs closed form; noisy: z-score of the replica mean vs E f(x⁺)."""
    det_err, zs, misread = [], [], []
    for j, (d, cond) in enumerate([(5, 10.0), (20, 100.0), (50, 30.0)]):
        obj = objectives.Quadratic.random(dim=d, cond=cond, seed=derive_seed(seed, 11, j))
        A, b, xs, m, M = obj.A, obj.b, obj.minimizer, obj.mu, obj.L
        e = rng.standard_normal(d)
        x = xs + e / np.linalg.norm(e)
        z = x + rng.uniform(0.3, 0.9) * (xs - x)                           # f(z) ≤ f(x) by convexity
        lam = float(rng.uniform(0.2, 1.0))
        for frac in (1.0, 3.0):
            eta = frac * eta_bound(m, M, lam)
            xbar = x - eta * (A @ x - b + lam * (x - z))
            f_closed = float(0.5 * xbar @ A @ xbar - b @ xbar)
            f_sim, x_sim = simulate_one_step(obj, x, z, eta, lam, 1, 0.0, derive_seed(seed, 12, j), factory,
                                             return_x=True, rule=rule)
            det_err.append(max(abs(f_sim[0] - f_closed) / max(abs(f_closed), 1e-12),
                               np.linalg.norm(x_sim[0] - xbar) / np.linalg.norm(x - xbar)))
            s = 0.5 / np.sqrt(d)
            fp = simulate_one_step(obj, x, z, eta, lam, reps, s, derive_seed(seed, 13, j, int(frac)), factory,
                                   rule=rule)
            expect = f_closed + 0.5 * eta * eta * s * s * float(np.trace(A))
            zs.append(float((fp.mean() - expect) / (fp.std(ddof=1) / np.sqrt(reps))))
            # The algorithm's pull without η (a misreading of the theorem) is a different step.
            if factory is None and lam <= 1:
                alt = simulate(obj, algorithms.LSGD(lr=eta, pull=lam, period=1), workers=2, steps=1,
                               x0=np.vstack([z, x]), seed=0).x[1]
                misread.append(np.linalg.norm(alt - xbar) / np.linalg.norm(x - xbar))   # relative to the step
    ok = max(det_err) < DET_TOL and max(abs(v) for v in zs) < Z_SIM
    return {"ok": bool(ok), "det_rel_err_max": float(max(det_err)), "z_scores": zs,
            "misread_pull_rel_err_min": float(min(misread)) if misread else None}


def logistic_study(reps: int, seed: int, quick: bool, rule=None) -> dict:
    """The one-step inequality on logistic regression by Monte Carlo (mean ± 3 SE), held leader z."""
    obj = objectives.LogisticRegression(n_samples=200, dim=5, reg=0.05, seed=derive_seed(seed, 21) % 10_000)
    m, M, ws, fs = obj.mu, obj.L, obj.minimizer, obj.fmin
    rng = np.random.default_rng(derive_seed(seed, 22))
    x = ws + 2.0 * rng.standard_normal(obj.dim)
    s = 0.3
    sigma2 = obj.dim * s * s
    out = []
    fx = float(obj.value(x[None])[0])
    fracs = (0.25, 1.0, 4.0, 16.0, 64.0) if quick else (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
    for lam in (0.5 * m, 20 * m):
        for theta in (0.3, 0.8):
            z = x + theta * (ws - x)
            fz = float(obj.value(z[None])[0])
            eb = eta_bound(m, M, lam)
            for fr in fracs:
                eta = fr * eb
                if eta * lam > 1:
                    continue
                fp = simulate_one_step(obj, x, z, eta, lam, reps, s,
                                       derive_seed(seed, 23, int(fr * 100), int(theta * 10), int(lam * 1e4)),
                                       rule=rule)
                mean, se = float(fp.mean() - fs), float(fp.std(ddof=1) / np.sqrt(reps))
                rhs = (1 - m * eta) * (fx - fs) - eta * lam * (fx - fz) + 0.5 * eta * eta * M * sigma2
                out.append({"lam": lam, "theta": theta, "eta_over_bound": fr, "eta": eta, "lhs_mean": mean,
                            "lhs_se": se, "rhs": rhs, "holds": mean + Z_CI * se <= rhs,
                            "violated": mean - Z_CI * se > rhs})
    return {"m": m, "M": M, "fx_gap": fx - fs, "s": s, "sigma2_total": sigma2, "rows": out}


# -- the leader's extra decrease -------------------------------------------------------------------
def extra_decrease_band(eta, lam, m, M, G, D, T, sigma2=0.0):
    """Bounds on Δ = E f(x⁺_SGD) − E f(x⁺_LSGD) valid for EVERY m-strongly convex M-smooth f and any z.

    G = ∇f(x), D = x − z (rows), T = ηλ(f(x) − f(z)); σ² the total gradient-noise variance. With y the
    SGD point and w = y − ηλD the LSGD point (same noise), convexity gives ηλ⟨∇f(w), D⟩ ≤ f(y) − f(w) ≤
    ηλ⟨∇f(y), D⟩; M-Lipschitz gradients move ⟨∇f(·), D⟩ from ⟨∇f(x), D⟩ by at most M‖· − x‖‖D‖ (in
    expectation ≤ Mη√(‖∇f(x) (+ λD)‖² + σ²)‖D‖), and strong convexity / smoothness put ⟨∇f(x), D⟩ within
    [f(x) − f(z) + (m/2)‖D‖², f(x) − f(z) + (M/2)‖D‖²]. So the realized extra decrease is the theorem's term
    T up to curvature terms of order ηλM‖D‖² and η²λM‖∇f‖‖D‖:

        T + ηλ[(m/2)‖D‖² − ηM√(‖G + λD‖² + σ²)‖D‖]  ≤  Δ  ≤  T + ηλ[(M/2)‖D‖² + ηM√(‖G‖² + σ²)‖D‖].
    """
    nd = np.linalg.norm(D, axis=-1)
    ng = np.sqrt(np.sum((G + lam * D) ** 2, axis=-1) + sigma2)
    ng0 = np.sqrt(np.sum(G * G, axis=-1) + sigma2)
    lo = T + eta * lam * (0.5 * m * nd * nd - eta * M * ng * nd)
    hi = T + eta * lam * (0.5 * M * nd * nd + eta * M * ng0 * nd)
    return lo, hi


def leader_configs(n: int, rng: np.random.Generator) -> list[dict]:
    """n random quadratic settings: p = WORKERS workers spread over a decade of distances from x*, η ≤ η_B."""
    out = []
    for _ in range(n):
        d = int(rng.choice([2, 5, 10, 20]))
        obj = objectives.Quadratic.random(dim=d, cond=float(10 ** rng.uniform(0, 3)),
                                          mu=float(10 ** rng.uniform(-1, 1)), seed=int(rng.integers(2**31)))
        lam = obj.mu * float(10 ** rng.uniform(-1, 2))
        eta = float(rng.choice([0.25, 1.0])) * eta_bound(obj.mu, obj.L, lam)
        U = rng.standard_normal((WORKERS, d))
        X = obj.minimizer + U / np.linalg.norm(U, axis=1, keepdims=True) * 10 ** rng.uniform(-0.5, 0.5, (WORKERS, 1))
        out.append({"obj": obj, "lam": lam, "eta": eta, "X": X})
    return out


# Arrays of the extra-decrease studies (one entry per worker and setting): T, Δ, the band, the leader mask,
# the setting index and ``norm`` = ηλ(f(x) − f*), the scale on which the figure compares workers.
def _check_rows(delta, se, T, lo, hi, leader_mask, tol) -> dict:
    """Per-worker judgement (non-leaders): the theorem's hypothesis T ≥ 0, Δ in the band, Δ ≥ 0.

    A negative Δ is excused only where the band itself allows it for a valid leader (T ≥ 0 and the
    second-order remainder exceeding T: a near-tie with the leader)."""
    other = ~leader_mask
    up, down = delta + Z_CI * se + tol, delta - Z_CI * se - tol
    hyp_bad = other & (T < -tol)
    band_bad = (up < lo) | (down > hi)
    neg_bad = other & (up < 0) & ~((T >= -tol) & (up >= lo))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(other & (T > tol), delta / T, np.nan)
    return {"workers": int(other.sum()), "hypothesis_violations": int(hyp_bad.sum()),
            "band_violations": int(band_bad.sum()), "negative_extra_decrease": int(neg_bad.sum()),
            "share_negative": float(np.mean(delta[other] < 0)) if other.any() else 0.0,
            "realized_over_predicted_min": float(np.nanmin(ratio)) if np.isfinite(ratio).any() else None,
            "realized_over_predicted_median": float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else None}


def extra_decrease_quadratic(configs: list[dict], rule: LeaderRule, seed: int) -> dict:
    """Realized vs predicted extra decrease on quadratics (exact expectation; see one_step's docstring)."""
    rows = {k: [] for k in ("T", "delta", "lo", "hi", "leader", "config", "tol", "norm")}
    rel_err, totals = [], []
    for k, c in enumerate(configs):
        obj, eta, lam, X = c["obj"], c["eta"], c["lam"], c["X"]
        A, xs, m, M = obj.A, obj.minimizer, obj.mu, obj.L

        def gap(Y, A=A, xs=xs):                          # f − f* from x*, without cancellation against f*
            return 0.5 * np.einsum("nd,nd->n", Y - xs, (Y - xs) @ A)

        sgd = simulate(obj, algorithms.SGD(lr=eta), workers=len(X), steps=1, x0=X, seed=derive_seed(seed, 31, k))
        lsgd = simulate(obj, make_lsgd(eta, lam, leader=rule), workers=len(X), steps=1, x0=X,
                        seed=derive_seed(seed, 31, k))
        lead = int(lsgd.leaders[0])
        G, D = (X - xs) @ A, X - X[lead]
        T = eta * lam * (gap(X) - gap(X[lead][None]))
        y = X - eta * G
        closed = gap(y) - gap(y - eta * lam * D)
        delta = sgd.f[-1] - lsgd.f[-1]                   # E-difference: the noise term η²tr(AΣ)/2 cancels exactly
        scale = eta * lam * (gap(X) + M * np.sum(D * D, axis=1)) + 1e-14 * np.abs(sgd.f[-1])
        rel_err.append(float(np.max(np.abs(delta - closed) / scale)))
        lo, hi = extra_decrease_band(eta, lam, m, M, G, D, T)
        # Rounding: f is recorded with f* included (cancellation ~1e-16·|f|), T from gaps (~1e-16·ηλ·gap).
        tol = 1e-9 * (np.abs(T) + hi - lo) + 1e-12 * eta * lam * gap(X).max() + 1e-13 * np.abs(sgd.f[-1])
        for key, val in (("T", T), ("delta", delta), ("lo", lo), ("hi", hi), ("tol", tol), ("norm", eta * lam * gap(X)),
                         ("leader", np.arange(len(X)) == lead), ("config", np.full(len(X), k))):
            rows[key].append(val)
        totals.append(float(delta.sum()))
    arr = {k: np.concatenate(v) for k, v in rows.items()}
    stats = _check_rows(arr["delta"], 0.0, arr["T"], arr["lo"], arr["hi"], arr["leader"], arr.pop("tol"))
    stats |= {"configs": len(configs), "simulator_vs_closed_rel_err_max": max(rel_err),
              "share_configs_total_positive": float(np.mean(np.array(totals) > 0))}
    return {"stats": stats, "arrays": arr}


def extra_decrease_logistic(rule: LeaderRule, seed: int, reps: int) -> dict:
    """Realized vs predicted extra decrease on logistic regression: paired Monte Carlo over ``reps`` replicas.

    ``reps`` groups of p workers (LSGD: one group each, its leader chosen by ``rule``) and SGD with the
    same seed, so both see the same gradient noise; Δ and T are averaged over the replicas (with a random
    leader T differs per replica), Δ with its standard error."""
    obj = objectives.LogisticRegression(n_samples=200, dim=5, reg=0.05, seed=derive_seed(seed, 21) % 10_000)
    m, M, ws = obj.mu, obj.L, obj.minimizer
    rng = np.random.default_rng(derive_seed(seed, 41))
    s = 0.3
    out = {k: [] for k in ("T", "T_min", "delta", "se", "lo", "hi", "leader", "config", "norm")}
    for k, lam in enumerate((0.5 * m, 20 * m)):
        eta = eta_bound(m, M, lam)
        U = rng.standard_normal((WORKERS, obj.dim))
        X = ws + U / np.linalg.norm(U, axis=1, keepdims=True) * 10 ** rng.uniform(0, 0.7, (WORKERS, 1))
        kw = {"workers": reps * WORKERS, "steps": 1, "x0": np.tile(X, (reps, 1)), "grad_noise": s,
              "seed": derive_seed(seed, 42, k)}
        lsgd = simulate(obj, replica_lsgd(eta, eta * lam, reps, leader=rule), **kw)
        sgd = simulate(obj, algorithms.SGD(lr=eta), **kw)
        lead = np.asarray(lsgd.local_leaders[0]) - np.arange(reps) * WORKERS        # (reps,) index within a group
        fx, G = (np.asarray(v) for v in obj.value_and_grad(X))
        D = X[None, :, :] - X[lead][:, None, :]                                       # (reps, p, d)
        T = eta * lam * (fx[None, :] - fx[lead][:, None])                             # (reps, p)
        lo, hi = extra_decrease_band(eta, lam, m, M, G[None], D, T, sigma2=obj.dim * s * s)
        dl = (sgd.f[-1] - lsgd.f[-1]).reshape(reps, WORKERS)
        for key, val in (("T", T.mean(axis=0)), ("T_min", T.min(axis=0)), ("delta", dl.mean(axis=0)),
                         ("se", dl.std(axis=0, ddof=1) / np.sqrt(reps)), ("lo", lo.mean(axis=0)),
                         ("hi", hi.mean(axis=0)), ("leader", np.bincount(lead, minlength=WORKERS) == reps),
                         ("config", np.full(WORKERS, k)), ("norm", eta * lam * (fx - obj.fmin))):
            out[key].append(val)
    arr = {k: np.concatenate(v) for k, v in out.items()}
    tol = 1e-9 * (np.abs(arr["T"]) + arr["hi"] - arr["lo"])
    stats = _check_rows(arr["delta"], arr["se"], arr["T"], arr["lo"], arr["hi"], arr["leader"], tol)
    # The hypothesis f(z) ≤ f(x) must hold in every replica (a random leader varies between them).
    stats["hypothesis_violations"] = int(np.sum(~arr["leader"] & (arr["T_min"] < -tol)))
    stats |= {"configs": 2, "replicas": reps, "grad_noise_per_coord": s}
    return {"stats": stats, "arrays": arr}
