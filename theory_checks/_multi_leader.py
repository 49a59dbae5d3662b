"""Measurements of the multi-leader check (theory_checks/multi_leader.py).

- :func:`one_step_groups`: the one-step theorem per group, with the local leader, and with both pulls;
- :func:`budget_rows`: O(1/t) constants of multi-leader LSGD against single-leader LSGD at the same
  number of floats communicated, and against the same groups without the global pull;
- :func:`landscape_rates`: success on the sin(r)/r ring and on matrix completion (the curse-of-symmetry
  settings, theory_checks/symmetry.py).

Replicas. A multi-leader run with a global pull cannot be one group of a bigger run (its global leader
is the best of *its* p workers), so its replicas are separate runs, one seed each. Runs without a
global pull (single-leader LSGD; the groups with λ_G = 0) use the replica trick of ``_convex``
(independent groups of one run), which is exact.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, simulate
from lsgdsim.schedules import InverseTime

from . import symmetry
from ._convex import constant_boot, derive_seed, group_gaps, replica_lsgd, slope_fit
from .progress import Progress

WORKERS = 8
LOCAL_PERIOD, GLOBAL_PERIOD = 2, 4     # τ, τ_G (the authors' launch script has τ_G = 2τ)
FIRST_PULL = 0.4                       # λ = λ_G chosen so that the first pull η_1·λ is 0.4
SINGLE_PERIODS = (1, 2, 4)             # single-leader LSGD periods whose floats bracket the multi-leader runs
NOISE = 0.5                            # quadratic: gradient noise per coordinate
SLACK = 1.1                            # "no worse": C_multi / C_single(matched) ≤ 1.1
RECORDS = 250                          # records per run (each costs f at every worker)


def multi_lsgd(lr, pull, size: int, rule, global_pull=None, workers: int = WORKERS, local_period=LOCAL_PERIOD,
               global_period=GLOBAL_PERIOD) -> algorithms.LSGD:
    """Multi-leader LSGD on groups of ``size`` workers: local pull (λ, τ), global pull (λ_G = λ unless given, τ_G)."""
    return algorithms.LSGD(lr=lr, pull=pull, period=local_period, groups=workers // size,
                           global_pull=pull if global_pull is None else global_pull, global_period=global_period,
                           leader=rule)


# -- problems --------------------------------------------------------------------------------------
def problems(seed: int, names=("quadratic", "logistic")) -> dict:
    """name -> obj, common start x0 (d,), schedule a, b (η_t = a/(b + t), a·m = 2), theory λ, noise kwargs."""
    out = {}
    if "quadratic" in names:
        q = objectives.Quadratic.random(dim=10, cond=10.0, mu=1.0, seed=derive_seed(seed, 301) % 2**31)
        u = np.random.default_rng(derive_seed(seed, 302)).standard_normal(q.dim)
        out["quadratic"] = {"obj": q, "x0": q.minimizer + 3.0 * u / np.linalg.norm(u), "kw": {"grad_noise": NOISE}}
    if "logistic" in names:
        lg = objectives.LogisticRegression(n_samples=500, dim=10, reg=0.1, seed=derive_seed(seed, 303) % 10_000)
        u = np.random.default_rng(derive_seed(seed, 304)).standard_normal(lg.dim)
        out["logistic"] = {"obj": lg, "x0": lg.minimizer + 3.0 * u / np.sqrt(lg.dim), "kw": {"batch_size": 8}}
    for pr in out.values():
        a = 2.0 / pr["obj"].mu
        pr.update(a=a, b=a * pr["obj"].L, lam=FIRST_PULL * (a * pr["obj"].L + 1) / a)
    return out


# -- one step per group (quadratic, exact expectation) ----------------------------------------------
def trajectory_states(pr, size, rule, K, T, seed) -> np.ndarray:
    """(K, p, d) worker states at K log-spaced steps of a multi-leader run from spread starts."""
    obj = pr["obj"]
    x0 = pr["x0"] + 3.0 * np.random.default_rng(derive_seed(seed, 310)).standard_normal((WORKERS, obj.dim)) \
        / np.sqrt(obj.dim)
    alg = multi_lsgd(InverseTime(pr["a"], pr["b"]), InverseTime(pr["a"] * pr["lam"], pr["b"]), size, rule)
    res = simulate(obj, alg, workers=WORKERS, steps=T, x0=x0, seed=seed, record_every=1,
                   monitor=lambda t, X, state, values: {"x": X}, **pr["kw"])
    pick = np.unique(np.geomspace(1, T, K).astype(int))
    return res.monitor["x"][pick]


def eta_bound(m: float, M: float, lam: float) -> float:
    """The one-step theorem's sufficient step η_B = min{1/(2M), m/(2Mλ)} (theory_checks/one_step.py)."""
    return min(1.0 / (2 * M), m / (2 * M * lam))


def one_step_rows(pr, states, size, rule) -> dict:
    """Per worker of every state, exact E f(x⁺) − f* of one noiseless simulator step plus the noise term
    (η²/2)·s²·tr(A), for SGD, the local pull alone and both pulls; η = η_B(λ + λ_G), theory-form pulls ηλ.

    Returns arrays (K·p,): group, f(x) − f*, D_local / D_both = SGD bound − E f(x⁺) + f* (the realized
    decrease below the SGD bound), P_local = ηλ(f(x) − f(z_group)) (P_local_both: with the group leaders of
    the both-pulls step, the same unless the rule is random), P_global = ηλ_G(f(x) − f(z)), and
    over_sgd = E f(x_SGD⁺) − E f(x⁺) for the local pull (the decrease over the SGD step itself)."""
    obj, lam = pr["obj"], pr["lam"]
    K, p, d = states.shape
    eta = eta_bound(obj.mu, obj.L, 2 * lam)
    noise = 0.5 * eta * eta * NOISE ** 2 * float(np.trace(obj.A))
    X = states.reshape(K * p, d)
    gap = np.asarray(obj.value(X)) - obj.fmin
    step = lambda alg, Y, w: simulate(obj, alg, workers=w, steps=1, x0=Y, record_every=1)  # noqa: E731
    sgd = step(algorithms.SGD(lr=eta), X, K * p).final_f - obj.fmin + noise
    local = step(replica_lsgd(eta, eta * lam, K * p // size, leader=rule), X, K * p)
    both, glob, local_both = [], [], []
    for k in range(K):       # the global leader is the best of one state's p workers: one run per state
        res = step(multi_lsgd(eta, eta * lam, size, rule, local_period=1, global_period=1), states[k], p)
        both.append(res.final_f - obj.fmin + noise)
        glob.append(np.full(p, res.leaders[0] + k * p))
        local_both.append(np.repeat(res.local_leaders[0], size) + k * p)   # its own (a random rule redraws)
    z_local = np.repeat(local.local_leaders[0], size)
    z_both = np.concatenate(local_both)
    bound = (1 - obj.mu * eta) * gap + 0.5 * eta * eta * obj.L * NOISE ** 2 * d
    e_local = local.final_f - obj.fmin + noise
    return {"group": (np.arange(K * p) // size) % (p // size), "gap": gap, "D_local": bound - e_local,
            "D_both": bound - np.concatenate(both), "P_local": eta * lam * (gap - gap[z_local]),
            "P_local_both": eta * lam * (gap - gap[z_both]),
            "P_global": eta * lam * (gap - gap[np.concatenate(glob)]), "over_sgd": sgd - e_local,
            "scale": bound + e_local, "eta": np.full(K * p, eta)}


def group_stats(rows: dict, tol: float = 1e-9) -> dict:
    """Per group: share of workers whose local leader is at least as good (P_local ≥ 0), the smallest
    slack D_local − P_local (relative), means; and the same for both pulls (D_both vs P_local + P_global)."""
    out = []
    for j in np.unique(rows["group"]):
        s = rows["group"] == j
        slack = (rows["D_local"][s] - rows["P_local"][s]) / rows["scale"][s]
        out.append({"group": int(j), "pairs": int(s.sum()), "leader_not_worse": float(np.mean(rows["P_local"][s] >= 0)),
                    "min_rel_slack": float(slack.min()), "mean_D": float(rows["D_local"][s].mean()),
                    "mean_P": float(rows["P_local"][s].mean()),
                    "over_sgd_over_P": float(rows["over_sgd"][s].mean() / rows["P_local"][s].mean())
                    if rows["P_local"][s].mean() != 0 else None})
    pred = rows["P_local_both"] + rows["P_global"]
    both = (rows["D_both"] - pred) / rows["scale"]
    return {"groups": out, "holds_per_group": [bool(g["leader_not_worse"] == 1 and g["min_rel_slack"] >= -tol)
                                               for g in out],
            "both_pulls": {"not_worse": float(np.mean(pred >= 0)), "min_rel_slack": float(both.min()),
                           "mean_global_added": float((rows["D_both"] - rows["D_local"]).mean()),
                           "mean_P_global": float(rows["P_global"].mean()),
                           "holds": bool(np.all(pred >= 0) and both.min() >= -tol)}}


def one_step_groups(pr, sizes, rule, K, T, seed) -> tuple[dict, dict]:
    """({l: group_stats}, {l: one_step_rows}) for each group size l, states from that size's own trajectory."""
    rows = {size: one_step_rows(pr, trajectory_states(pr, size, rule, K, T, derive_seed(seed, size)), size, rule)
            for size in sizes}
    return {size: group_stats(r) for size, r in rows.items()}, rows


# -- O(1/t) constants at matched communication ------------------------------------------------------
def _replicas(pr, alg, S, T, seed, groups_per_replica=1):
    """(steps, mean-worker gaps (S, R), floats per step per replica) of S replicas run as groups of one run."""
    obj = pr["obj"]
    res = simulate(obj, alg, workers=S * WORKERS, steps=T, x0=np.broadcast_to(pr["x0"], (S * WORKERS, obj.dim)),
                   seed=seed, record_every=max(1, T // RECORDS), **pr["kw"])
    return res.steps, group_gaps(res.f, obj.fmin, S)[1], res.meta["floats_communicated"] / (S * T)


def _separate(pr, alg, S, T, seed):
    """The same for S separate runs (seeds derived from ``seed``)."""
    obj, rows = pr["obj"], []
    for k in range(S):
        res = simulate(obj, alg, workers=WORKERS, steps=T, x0=pr["x0"], seed=derive_seed(seed, k),
                       record_every=max(1, T // RECORDS), **pr["kw"])
        rows.append(group_gaps(res.f, obj.fmin, 1)[1][0])
    return res.steps, np.array(rows), res.meta["floats_communicated"] / T


def budget_curves(pr, sizes, rule, S, S_multi, T, seed, progress: Progress) -> dict:
    """name -> (steps, gaps (seeds, R), floats per step): single-leader LSGD at SINGLE_PERIODS, multi-leader
    with and without the global pull per group size, SGD."""
    lr, pull = InverseTime(pr["a"], pr["b"]), InverseTime(pr["a"] * pr["lam"], pr["b"])
    out = {"sgd": _replicas(pr, algorithms.SGD(lr=lr), S, T, derive_seed(seed, 1))}
    for tau in SINGLE_PERIODS:
        out[f"single_{tau}"] = _replicas(pr, replica_lsgd(lr, pull, S, period=tau, leader=rule), S, T,
                                         derive_seed(seed, 2, tau))
        progress.advance()
    for size in sizes:
        n = WORKERS // size
        out[f"nolead_{size}"] = _replicas(pr, algorithms.LSGD(lr=lr, pull=pull, period=LOCAL_PERIOD, groups=S * n,
                                                              global_pull=0.0, leader=rule), S, T,
                                          derive_seed(seed, 3, size))
        out[f"multi_{size}"] = _separate(pr, multi_lsgd(lr, pull, size, rule), S_multi, T, derive_seed(seed, 4, size))
        progress.advance()
    return out


def _interp_single(floats: float, single_floats: np.ndarray, single_C: np.ndarray) -> np.ndarray:
    """Single-leader C at ``floats`` floats/step: linear in log floats between the bracketing periods
    (clamped at the ends). single_C: (periods, draws)."""
    order = np.argsort(single_floats)
    lf = np.log(single_floats[order])
    x = np.clip(np.log(floats), lf[0], lf[-1])
    return np.array([np.interp(x, lf, col) for col in single_C[order].T])


def budget_rows(curves: dict, sizes, b: float, rng, n_boot: int = 400) -> dict:
    """Slopes and constants per configuration; for each group size the ratio C_multi / C_single at the
    multi-leader run's floats per step, and C_multi / C_multi(λ_G = 0), with 95% bootstrap intervals."""
    boot = {k: constant_boot(st, g, rng, n_boot=n_boot) for k, (st, g, _) in curves.items()}
    fit = {k: slope_fit(st, g, rng, shift=b, n_boot=n_boot) for k, (st, g, _) in curves.items()}
    rows = {k: {"slope": fit[k]["slope"], "ci": fit[k]["ci"], "C": fit[k]["C"], "floats_per_step": curves[k][2],
                "seeds": fit[k]["seeds"]} for k in curves}
    sf = np.array([curves[f"single_{t}"][2] for t in SINGLE_PERIODS])
    sc_point = np.array([[rows[f"single_{t}"]["C"]] for t in SINGLE_PERIODS])
    sc_boot = np.array([boot[f"single_{t}"] for t in SINGLE_PERIODS])
    q = lambda a: [float(v) for v in np.quantile(a, [0.025, 0.975])]   # noqa: E731
    for size in sizes:
        fm = curves[f"multi_{size}"][2]
        matched = float(_interp_single(fm, sf, sc_point)[0])
        rows[f"multi_{size}"] |= {
            "matched_single_C": matched, "inside_single_range": bool(sf.min() <= fm <= sf.max()),
            "ratio_to_single": rows[f"multi_{size}"]["C"] / matched,
            "ratio_to_single_ci": q(boot[f"multi_{size}"] / _interp_single(fm, sf, sc_boot)),
            "ratio_to_no_global": rows[f"multi_{size}"]["C"] / rows[f"nolead_{size}"]["C"],
            "ratio_to_no_global_ci": q(boot[f"multi_{size}"] / boot[f"nolead_{size}"])}
    return rows


# -- symmetric landscapes (deterministic, p = 4, two groups of 2) ----------------------------------
def _landscape_algs(lr, pull, rule, replicas: int = 1) -> dict:
    """Single-leader LGD (``replicas`` independent copies as groups of one run) and multi-leader LGD."""
    return {"single": replica_lsgd(lr, pull, replicas, leader=rule),
            "multi": multi_lsgd(lr, pull, 2, rule, workers=symmetry.WORKERS, local_period=1)}


def starts_to_separate(p1: float, p2: float, z: float = 1.96, cap: int = 100_000) -> int:
    """The number of starts n per rule at which two success rates p1, p2 (as measured) would have 95%
    intervals (normal approximation) that no longer overlap: n = ⌈(z(√(p1(1−p1)) + √(p2(1−p2))) / |p1 − p2|)²⌉;
    ``cap`` when they are equal."""
    gap = abs(p1 - p2)
    if gap == 0:
        return cap
    return min(cap, int(np.ceil((z * (np.sqrt(p1 * (1 - p1)) + np.sqrt(p2 * (1 - p2))) / gap) ** 2)))


def ring_flags(seeds, rule) -> tuple[np.ndarray, np.ndarray]:
    """Whether single- and multi-leader LGD's best worker reach the best ring from each seed's start.
    Deterministic runs, so the single-leader runs of all seeds are the replica groups of one run."""
    ring, p = symmetry.RING, symmetry.WORKERS
    obj = objectives.RingSinc()
    near = lambda f: np.abs(np.asarray(f) - obj.ring_values[0]) <= symmetry.RING_TOL   # noqa: E731
    starts = [symmetry.ring_start(s) for s in seeds]
    algs = _landscape_algs(ring["lr"], ring["pull"], rule, replicas=len(starts))
    single = simulate(obj, algs["single"], workers=p * len(starts), steps=ring["steps"], x0=np.concatenate(starts),
                      record_every=ring["steps"]).final_f.reshape(len(starts), p).min(axis=1)
    multi = [simulate(obj, algs["multi"], workers=p, steps=ring["steps"], x0=x0, record_every=ring["steps"])
             .final_f.min() for x0 in starts]
    return near(single), near(multi)


def ring_rates(first: int, pilot: int, cap: int, rule) -> dict:
    """The ring's success rates from as many starts as separate the two rules: ``pilot`` starts first, then,
    while the rates so far need more starts to separate (:func:`starts_to_separate`), more, up to ``cap`` in
    all. The record keeps the computation: the pilot's rates, each step's starts needed, the starts used."""
    single, multi = ring_flags(range(first, first + pilot), rule)
    needs = [starts_to_separate(single.mean(), multi.mean())]
    while needs[-1] > len(single) < cap:
        more = ring_flags(range(first + len(single), first + min(needs[-1], cap)), rule)
        single, multi = np.concatenate([single, more[0]]), np.concatenate([multi, more[1]])
        needs.append(starts_to_separate(single.mean(), multi.mean()))
    return {"single": symmetry._rate(single), "multi": symmetry._rate(multi),
            "sample_size": {"pilot": pilot, "pilot_rates": [float(single[:pilot].mean()), float(multi[:pilot].mean())],
                            "starts_needed": needs, "starts_used": len(single), "cap": cap,
                            "too_thin": bool(needs[-1] > len(single))}}


def landscape_rates(ring_seeds, mat_seeds, ranks, mat_steps, rule, progress: Progress, ring_cap: int = 0) -> dict:
    """Success rates (Wilson 95%) of single- and multi-leader LGD: ring (best worker within RING_TOL of the
    best ring; :func:`ring_rates`, ``ring_seeds`` the pilot, up to ``ring_cap`` starts) and matrix completion
    per rank (best worker's f ≤ MATRIX_TOL); symmetry.py's settings."""
    mat, p = symmetry.MATRIX, symmetry.WORKERS
    out = {"ring": ring_rates(ring_seeds.start, len(ring_seeds), max(ring_cap, len(ring_seeds)), rule)}
    progress.advance()
    for rank in ranks:
        flags = {}
        for s in mat_seeds:     # a new problem per seed: one run per seed and rule
            mobj = objectives.MatrixFactorization(n=mat["n"], rank=rank, observed=mat["observed"], seed=s)
            x0 = mobj.initial_point(p, np.random.default_rng([s, 7]))
            for name, alg in _landscape_algs(mat["lr"], mat["pull"], rule).items():
                res = simulate(mobj, alg, workers=p, steps=mat_steps, x0=x0, record_every=mat_steps)
                flags.setdefault(name, []).append(res.final_f.min() <= symmetry.MATRIX_TOL)
        out[f"matrix rank {rank}"] = {k: symmetry._rate(v) for k, v in flags.items()}
        progress.advance()
    return out
