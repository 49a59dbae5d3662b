"""Reviewer 2 — Newton iterates are attracted to saddles (Dauphin et al. 2014): does the leader's pull slow escape?

Question. The newton-alignment check shows that leaders tilt the step toward Newton's direction; Newton's
method is attracted to saddle points. Does pulling toward the leader then slow the escape from a strict
saddle, or speed it? The paper does not say. Measured here, with gradient noise, on three strict saddles:
an indefinite quadratic (Quadratic.indefinite, d = 10, one negative eigenvalue, |eigenvalues| in [1, 10]),
the double well in 10-D at its origin (curvature −1 along x₁, +1 elsewhere, f = ¼) and symmetric matrix
factorization (n = 12, rank 2, every entry observed) at its declared saddle, the eigen-factor that drops
M's smallest eigenpair (f = ¼λ₂², one negative curvature and flat symmetry directions).

Reading. 8 workers start at the saddle plus independent perturbations of norm 1e-3; g = ∇f + σξ. A worker
has *escaped* at the first step where f ≤ f_saddle − Δ (Δ = 1 on the quadratic, which is unbounded below;
half the way down to the next stationary value on the others: ⅛ and ⅛λ₂²). Per seed the *group escape
time* is the step at which the last worker escapes, the *first escape time* the step of the first (the
leader's, for LSGD). Methods (τ = 1): SGD, LSGD with pull λ ∈ {0.01, 0.05, 0.2} per step (quick mode
{0.05, 0.2}), EASGD α ∈ {0.05, 0.2} (β = min(0.9, pα); quick mode 0.05). Independent LSGD runs of all seeds
are one multi-leader run (one group per seed, global pull 0), so they see exactly the noise of the SGD run
they are compared with (paired seeds); a worker that never escapes within the horizon counts as T + 1.
The ratio of a method is the median over seeds of its group escape time over SGD's.

Relation to newton-alignment. While the workers are near the saddle, every LSGD pull moves a non-leader
along w = x_leader − x_i. We report the share of these displacements with negative curvature, wᵀHw < 0
(H the Hessian at the saddle), and compare it, on the quadratic, with the share of *candidate* leaders
(uniform in a ball of the same relative radius R = ‖w‖/‖x_i − x_s‖, f(z) ≤ f(x)) with negative-curvature
displacement that the newton-alignment check reports (theory_checks._newton.negative_curvature_share). The
curvature of w does not depend on its sign, so we also report the share of *outward* pulls: those that
increase the worker's component along the negative-curvature eigenvectors (away from the saddle).

Leader dependence and controls. The speed-up (or slow-down) of the group escape is what the leader adds:
the leader itself takes plain SGD steps. The main setting (λ = 0.05) is repeated with a worst leader (pull
toward the highest f, the worker nearest the saddle value) and a random one; the worst leader drags the
workers back toward the saddle. Limit of the reading: a *flipped* pull (repulsion from the leader) speeds the
escape as well, since repulsion spreads the workers along the unstable directions; the speed-up shows that
the pull does not attract the workers to the saddle, not that attraction to the leader is needed for it.

The same pull toward a uniformly random worker is the verdict's reference, measured in every mode (and the
random control's runs when controls are on): per seed, d_s = log(T_random/T_rule) of the group escape times
(paired: same starts and noise), with its 95% t-interval over seeds and the seeds that interval needs to
exclude 0 (``precision`` in the record: n·(h/|mean|)², h the interval's half-width).

Verdict (computed). At the main λ, LSGD *speeds* escape on a landscape when its ratio ≤ SPEED = 0.9 and its
escape is significantly sooner than a random leader's (95% lower end of d > 0), and *slows* it when its
ratio ≥ SLOW = 1.25. "holds" (the pull never slows escape and speeds it): speeds on
every landscape at the main λ and slows nowhere for any λ; "holds under conditions": slows nowhere at the
main λ and speeds on at least one landscape (the summary says where not); "fails": otherwise.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lsgdsim import algorithms, leaders, objectives, simulate

from ._newton import negative_curvature_share
from ._stats import paired, precision, thin_note
from .controls import control_modes, leader_rule, reference, with_reference
from .progress import Progress
from .record import CheckRecord

NAME = "saddle-escape"
CLAIM = ("Pulling toward the leader does not slow the escape from a strict saddle (reviewer 2: Newton iterates "
         "are attracted to saddles): LSGD leaves no later than SGD.")
LEADER_DEPENDENT = True
CAPTION = ("Share escaped vs steps; escape times over SGD's vs λ; pulls along negative curvature.")

WORKERS = 8
START_RADIUS = 1e-3
SPEED, SLOW = 0.9, 1.25
MAIN = 0.05
PULLS, QUICK_PULLS = (0.01, 0.05, 0.2), (0.05, 0.2)
ALPHAS, QUICK_ALPHAS = (0.05, 0.2), (0.05,)
EASGD_BETA = 0.9
QUADRATIC = {"dim": 10, "negative": 1, "cond": 10.0, "problem_seed": 0}


@dataclass(frozen=True)
class Saddle:
    label: str
    make: Callable            # () -> (objective, saddle point (d,), saddle value, Hessian there (d, d))
    delta: float | None       # escape depth Δ; None: half the saddle value (down to f = 0)
    lr: float
    sigma: float
    steps: int                # horizon (quick mode: quick_steps)
    quick_steps: int


def _quadratic():
    q = objectives.Quadratic.indefinite(dim=QUADRATIC["dim"], negative=QUADRATIC["negative"], cond=QUADRATIC["cond"],
                                        seed=QUADRATIC["problem_seed"])
    sp = q.stationary_points[0]
    return q, sp.x, sp.value, q.A


def _double_well():
    obj = objectives.DoubleWell(dim=10)
    sp = next(s for s in obj.stationary_points if s.kind == "saddle")
    return obj, sp.x, sp.value, obj.hessian(sp.x)


def _matrix():
    obj = objectives.MatrixFactorization(n=12, rank=2, observed=1.0, seed=0)
    sp = min((s for s in obj.stationary_points if s.kind == "saddle"), key=lambda s: s.value)
    return obj, sp.x, sp.value, obj.hessian(sp.x)


SADDLES = (
    Saddle("indefinite quadratic", _quadratic, 1.0, 0.05, 0.05, 600, 300),
    Saddle("double well 10-D", _double_well, None, 0.1, 0.02, 600, 300),
    Saddle("matrix n=12 r=2", _matrix, None, 0.2, 0.002, 800, 400),
)


# -- runs ------------------------------------------------------------------------------------------
def starts(x_s, dim: int, seeds) -> np.ndarray:
    """(S·p, d) starting points: the saddle plus a perturbation of norm START_RADIUS per worker, seed by seed."""
    rows = []
    for s in seeds:
        u = np.random.default_rng([s, 7]).standard_normal((WORKERS, dim))
        rows.append(x_s + START_RADIUS * u / np.linalg.norm(u, axis=1, keepdims=True))
    return np.concatenate(rows)


def escape_times(f, threshold: float) -> np.ndarray:
    """(workers,) first record index with f ≤ threshold, or R (never) for f of shape (R, workers)."""
    below = f <= threshold
    return np.where(below.any(axis=0), below.argmax(axis=0), f.shape[0])


def _positions(t, X, state, values):
    return {"x": X}


def batched_run(obj, alg, x0, spec, steps, track: bool = False):
    """One run of all seeds at once (workers S·p, LSGD with one group per seed); f every step."""
    return simulate(obj, alg, workers=x0.shape[0], steps=steps, x0=x0, grad_noise=spec.sigma, seed=0,
                    record_every=1, monitor=_positions if track else None)


def pull_curvature(res, H, x_s, t_all) -> dict:
    """The pulls while each seed's group is still near the saddle (the steps before its group escaped).

    ``res``: a batched LSGD run with monitored positions (R, S·p, d) and local leaders (R − 1, S). For every
    non-leader and step: w = x_leader − x_i; negative curvature wᵀHw < 0; *outward*: w increases the worker's
    component in the negative-curvature eigenspace of H (it moves it away from the saddle along the escape
    directions); the relative radius ‖w‖/‖x_i − x_s‖."""
    X = res.monitor["x"][:-1]                                   # X_k, from which the leader of step k+1 is chosen
    S = t_all.shape[0]
    Xg = X.reshape(X.shape[0], S, WORKERS, -1)
    lead = res.local_leaders - np.arange(S) * WORKERS           # (C, S) index within the group
    W = np.take_along_axis(Xg, lead[:, :, None, None], axis=2) - Xg
    near = np.arange(X.shape[0])[:, None] < t_all[None, :]      # (C, S): before the group escaped
    mask = near[:, :, None] & (np.linalg.norm(W, axis=3) > 0)   # non-leaders only
    w, e = W[mask], (Xg - x_s)[mask]
    if not w.size:
        return {"pulls": 0, "negative_share": float("nan"), "outward_share": float("nan"),
                "median_relative_radius": float("nan")}
    ev, V = np.linalg.eigh(H)
    V_neg = V[:, ev < 0]
    outward = np.sum((e @ V_neg) * (w @ V_neg), axis=1) > 0
    radius = np.linalg.norm(w, axis=1) / np.maximum(np.linalg.norm(e, axis=1), 1e-300)
    return {"pulls": int(w.shape[0]), "negative_share": float(np.mean(np.einsum("ij,jk,ik->i", w, H, w) < 0)),
            "outward_share": float(np.mean(outward)), "median_relative_radius": float(np.median(radius))}


def group_times(res, threshold: float, S: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: group (last worker) and first escape times (S,), and the escaped share over time (R,)."""
    t = escape_times(res.f, threshold).reshape(S, WORKERS)
    R = res.f.shape[0]
    escaped = np.mean(np.arange(R)[:, None] >= t.reshape(-1)[None, :], axis=1)
    return t.max(axis=1), t.min(axis=1), escaped


def lsgd(lr, pull, groups, mode):
    return algorithms.LSGD(lr=lr, pull=pull, period=1, groups=groups, global_pull=0.0,
                           leader=leader_rule(leaders.Exact(), mode))


def _cell(t_all, t_first, sgd_all, sgd_first, horizon: int) -> dict:
    return {"ratio_all": float(np.median(t_all / sgd_all)), "ratio_first": float(np.median(t_first / sgd_first)),
            "t_all_median": float(np.median(t_all)), "t_first_median": float(np.median(t_first)),
            "never_escaped": int(np.sum(t_all > horizon))}


def easgd_times(obj, lr, alpha, x0, spec, steps, threshold, seeds):
    """EASGD, one run per seed (its center couples all workers of a run): group/first times (S,), escaped (R,)."""
    alg = algorithms.EASGD(lr=lr, alpha=alpha, beta=min(EASGD_BETA, WORKERS * alpha), period=1)
    out = []
    for k, s in enumerate(seeds):
        res = simulate(obj, alg, workers=WORKERS, steps=steps, x0=x0[k * WORKERS:(k + 1) * WORKERS],
                       grad_noise=spec.sigma, seed=s, record_every=1)
        out.append(group_times(res, threshold, 1))
    return (np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out]),
            np.mean([o[2] for o in out], axis=0))


def saddle_runs(spec: Saddle, quick: bool, seeds, leader, modes, rng, progress: Progress) -> tuple[dict, dict, list]:
    """Measured numbers of one saddle, its controls, and its escape curves [(name, escaped (R,))]."""
    obj, x_s, f_s, H = spec.make()
    delta = spec.delta if spec.delta is not None else 0.5 * f_s
    steps, S = (spec.quick_steps if quick else spec.steps), len(seeds)
    x0 = starts(x_s, obj.dim, seeds)
    threshold = f_s - delta
    sgd_all, sgd_first, curve = group_times(batched_run(obj, algorithms.SGD(lr=spec.lr), x0, spec, steps),
                                            threshold, S)
    progress.advance()
    curves = [("sgd", curve)]
    out = {"f_saddle": f_s, "delta": delta, "lr": spec.lr, "sigma": spec.sigma, "horizon": steps,
           "negative_curvatures": [float(v) for v in np.linalg.eigvalsh(H) if v < -1e-9],
           "sgd": _cell(sgd_all, sgd_first, sgd_all, sgd_first, steps), "lsgd": {}, "easgd": {}}

    times = {}                                                  # group times at the main λ, per leader mode

    def lsgd_cell(pull, mode, track):
        res = batched_run(obj, lsgd(spec.lr, pull, S, mode), x0, spec, steps, track=track)
        t_all, t_first, esc = group_times(res, threshold, S)
        progress.advance()
        cell = _cell(t_all, t_first, sgd_all, sgd_first, steps)
        if track:
            cell["pull_curvature"] = pull_curvature(res, H, x_s, t_all)
        if pull == MAIN:
            times[mode] = t_all
        return cell, esc

    for pull in (QUICK_PULLS if quick else PULLS):
        out["lsgd"][f"{pull:g}"], esc = lsgd_cell(pull, leader, pull == MAIN)
        curves.append((f"lsgd λ={pull:g}", esc))
    for alpha in (QUICK_ALPHAS if quick else ALPHAS):
        t_all, t_first, esc = easgd_times(obj, spec.lr, alpha, x0, spec, steps, threshold, seeds)
        progress.advance()
        out["easgd"][f"{alpha:g}"] = _cell(t_all, t_first, sgd_all, sgd_first, steps)
        curves.append((f"easgd α={alpha:g}", esc))
    ctrl = {}
    for mode in modes:
        ctrl[mode], esc = lsgd_cell(MAIN, mode, True)
        curves.append((f"{mode} leader", esc))
    if "random" not in times:                                   # the verdict's reference, in every mode
        lsgd_cell(MAIN, "random", False)
    out["over_random"] = over_random(times[leader], reference(leader, times[leader], times), spec.label)
    for mode in modes:
        ctrl[mode]["over_random"] = over_random(times[mode], times["random"], spec.label)
    if spec.make is _quadratic:
        radius = out["lsgd"][f"{MAIN:g}"]["pull_curvature"]["median_relative_radius"]
        ref = negative_curvature_share(H, [radius], 4000 if quick else 20000, rng)
        out["newton_candidates"] = {"relative_radius": radius, "negative_share": float(ref["share"][0]),
                                    "ci95": [float(ref["ci_low"][0]), float(ref["ci_high"][0])],
                                    "small_R_limit": ref["small_R_limit"]}
    return out, ctrl, curves


def over_random(t_rule, t_random, label: str) -> dict:
    """Paired over seeds, d_s = log(group escape time under a random leader / under ``t_rule``'s leader) (> 0:
    the rule's leader escapes sooner than the same pull toward a random worker): mean, 95% lower end, seeds
    that would separate, and :func:`~theory_checks._stats.precision` of the comparison with 0."""
    d = np.log(np.asarray(t_random, float) / np.asarray(t_rule, float))
    out = paired(d)
    interval = (out["lower"], 2 * out["mean"] - out["lower"])
    out["precision"] = precision(f"{label}: escape vs a random leader", d.size, out["mean"], interval, 0.0,
                                 needed=out["seeds_to_separate"])
    return out


# -- the check -------------------------------------------------------------------------------------
READING = ("8 noisy workers start 1e-3 from a strict saddle; escaped when f ≤ f_saddle − Δ. Ratio: "
           f"seed median of the last worker's escape time over SGD's (same start, noise); speeds if ≤ {SPEED}, slows "
           f"if ≥ {SLOW}; a speed-up counts only if sooner than a random leader (paired by seed, 95%).")


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    seeds = tuple(range(seed, seed + (6 if quick else 16)))
    modes = control_modes(leader, controls)
    n_pulls, n_alphas = len(QUICK_PULLS if quick else PULLS), len(QUICK_ALPHAS if quick else ALPHAS)
    progress.expect(len(SADDLES) * (1 + n_pulls + n_alphas + len(with_reference(modes, leader))))
    rng = np.random.default_rng([seed, 14])
    measured, ctrl, all_curves = {}, {m: {} for m in modes}, []
    for spec in SADDLES:
        out, c, curves = saddle_runs(spec, quick, seeds, leader, modes, rng, progress)
        measured[spec.label] = out
        for m in modes:
            ctrl[m][spec.label] = c[m]
        all_curves.append(curves)
    names = [n for n, _ in all_curves[0]]
    horizon = max(len(c[0][1]) for c in all_curves)
    escaped = np.full((len(SADDLES), len(names), horizon), np.nan)
    for li, curves in enumerate(all_curves):
        for ci, (_, esc) in enumerate(curves):
            escaped[li, ci, :len(esc)] = esc
    setting = {"workers": WORKERS, "seeds": list(seeds), "period": 1, "start_radius": START_RADIUS,
               "main_pull": MAIN, "pulls": list(QUICK_PULLS if quick else PULLS),
               "alphas": list(QUICK_ALPHAS if quick else ALPHAS), "easgd_beta": f"min({EASGD_BETA}, p·α)",
               "quadratic": QUADRATIC, "leader": leader or "exact",
               "saddles": [{"label": s.label, "lr": s.lr, "grad_noise": s.sigma,
                            "horizon": s.quick_steps if quick else s.steps} for s in SADDLES]}
    return CheckRecord(
        name=NAME, claim=CLAIM, reading=READING, setting=setting, measured={"saddles": measured},
        expected={"ratio_all": f"≤ {SPEED} (speeds) at λ = {MAIN}; never ≥ {SLOW} (slows)",
                  "pull_curvature": "free: compared with newton-alignment's candidate share"},
        controls={m: {"saddles": c} for m, c in ctrl.items()},
        arrays={"escaped": escaped}, details={"curves": names})


# -- judging and drawing (pure functions of the record) ---------------------------------------------
def _main(saddle: dict) -> dict:
    """The main-λ LSGD cell of one saddle (measured) or the control cell itself."""
    return saddle["lsgd"][f"{MAIN:g}"] if "lsgd" in saddle else saddle


def speeds(saddle: dict) -> bool:
    """The rule's leader speeds escape on this saddle: ratio ≤ SPEED and sooner than a random leader (95%)."""
    return _main(saddle)["ratio_all"] <= SPEED and saddle["over_random"]["lower"] > 0


def verdict(record: CheckRecord) -> str:
    saddles = record.measured["saddles"].values()
    main = [_main(s)["ratio_all"] for s in saddles]
    every = [c["ratio_all"] for s in saddles for c in s["lsgd"].values()]
    fast = [speeds(s) for s in saddles]
    if max(main) >= SLOW or not any(fast):
        return "fails"
    return "holds" if all(fast) and max(every) < SLOW else "holds under conditions"


def _span(values, fmt="{:.2f}") -> str:
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def _ratios(saddles: dict, key: str) -> str:
    return _span([_main(s)[key] for s in saddles.values()])


def _curvature(saddles: dict, key: str) -> str:
    return _span([_main(s).get("pull_curvature", {}).get(key, float("nan")) for s in saddles.values()], "{:.0%}")


def summary(record: CheckRecord) -> str:
    sad = record.measured["saddles"]
    quad = sad.get("indefinite quadratic", {})
    text = (f"LSGD (λ={MAIN:g}) escapes in {_ratios(sad, 'ratio_all')}× SGD's time (its leader "
            f"{_ratios(sad, 'ratio_first')}×); {_curvature(sad, 'outward_share')} of pulls point outward")
    if "newton_candidates" in quad:
        text += (f", {_main(quad)['pull_curvature']['negative_share']:.0%} along negative curvature (candidates: "
                 f"{quad['newton_candidates']['negative_share']:.0%})")
    text += "."
    fast = [label.split()[0] for label, x in sad.items() if speeds(x)]
    text += (f" Sooner than a random leader (log ratio {_span([x['over_random']['mean'] for x in sad.values()])}) "
             f"with its speed-up on {len(fast)}/{len(sad)} saddles{': ' + ', '.join(fast) if fast else ''}.")
    if "worst" in record.controls:
        text += f" Worst leader: {_ratios(record.controls['worst']['saddles'], 'ratio_all')}×."
    return text + thin_note([x["over_random"]["precision"] for x in sad.values()])


def _over(saddles: dict) -> str:
    return ", ".join(f"{x['over_random']['mean']:+.2f} [{x['over_random']['lower']:+.2f}]" for x in saddles.values())


def key_numbers(record: CheckRecord) -> list[dict]:
    sad, c = record.measured["saddles"], record.controls
    alpha = record.setting["alphas"][0]
    easgd = {label: s["easgd"][f"{alpha:g}"] for label, s in sad.items()}
    quad = sad.get("indefinite quadratic", {})
    newton = quad.get("newton_candidates")
    return [
        {"quantity": f"LSGD λ={MAIN:g}: group escape / SGD's", "measured": _ratios(sad, "ratio_all"),
         **{m: _ratios(c[m]["saddles"], "ratio_all") for m in c}, "expected": f"≤ {SPEED}; never ≥ {SLOW}"},
        {"quantity": "log(T random leader / T), mean [95% low]", "measured": _over(sad),
         **{m: _over(c[m]["saddles"]) for m in c}, "expected": "> 0 (95%)"},
        {"quantity": "first escape (LSGD: leader) / SGD's", "measured": _ratios(sad, "ratio_first"),
         **{m: _ratios(c[m]["saddles"], "ratio_first") for m in c}, "expected": "≈ 1 (plain SGD steps)"},
        {"quantity": f"EASGD α={alpha:g}: group / first escape", "measured":
         f"{_ratios(easgd, 'ratio_all')} / {_ratios(easgd, 'ratio_first')}", "expected": "free"},
        {"quantity": "pulls moving outward", "measured": _curvature(sad, "outward_share"),
         **{m: _curvature(c[m]["saddles"], "outward_share") for m in c}, "expected": "free (mechanism)"},
        {"quantity": "pulls along negative curvature", "measured": _curvature(sad, "negative_share"),
         **{m: _curvature(c[m]["saddles"], "negative_share") for m in c},
         "expected": (f"candidates (newton): {newton['negative_share']:.0%}" if newton else "free")},
    ]


def figure(record: CheckRecord):
    from lsgdsim import plotting
    sad = record.measured["saddles"]
    names, escaped = record.details["curves"], record.arrays["escaped"]
    # the escape curves, their legend, the ratio and curvature panels, and a row for the lower legends
    fig, gs = plotting.grid(4, 3, width=10.0, height=7.4, height_ratios=(1, 0.02, 1, 0.02))
    top = [plotting.panel(fig, gs[0, j]) for j in range(3)]
    bottom = [plotting.panel(fig, gs[2, j]) for j in range(3)]
    for li, label in enumerate(sad):
        ax = top[li]
        for ci, name in enumerate(names):
            curve = escaped[li, ci]
            ax.plot(np.arange(curve.size), curve, **_style(name, plotting), label=name if li == 0 else None)
        done = np.flatnonzero(np.all(np.nan_to_num(escaped[li], nan=1.0) >= 1.0, axis=0))   # every curve at 1
        ax.set(title=label, xlabel="steps", ylabel="share of workers escaped",
               xlim=(0, 1.1 * (done[0] if done.size else sad[label]["horizon"])))
    plotting.legend_row(fig, gs[1, :], *top[0].get_legend_handles_labels(), ncol=min(len(names), 8))
    _ratio_panel(bottom[0], record, "ratio_all", "group escape (last worker)\n/ SGD's", plotting)
    _ratio_panel(bottom[1], record, "ratio_first", "first worker's escape\n/ SGD's", plotting)
    _curvature_panel(bottom[2], record, plotting)
    # the two ratio panels share one legend (same markers and colours), the curvature panel has its own
    plotting.legend_row(fig, gs[3, :2], *bottom[0].get_legend_handles_labels(), ncol=3, columnspacing=1.2)
    plotting.legend_row(fig, gs[3, 2], *bottom[2].get_legend_handles_labels(), ncol=1)
    return fig


def _style(name: str, plotting) -> dict:
    if name.startswith("lsgd"):
        pulls = sorted(PULLS)
        lam = float(name.split("=")[1])
        return {"color": plotting.COLORS["lsgd"], "lw": 1.0 + 1.2 * pulls.index(lam) / max(1, len(pulls) - 1),
                "alpha": 0.5 + 0.5 * pulls.index(lam) / max(1, len(pulls) - 1)}
    if name.startswith("easgd"):
        return {"color": plotting.COLORS["easgd"], "ls": "-." if "0.2" in name else "-"}
    return {"color": plotting.COLORS.get(name, plotting.COLORS["sgd"]), "ls": "--" if "leader" in name else ":"}


def _ratio_panel(ax, record, key, title, plotting):
    """Median escape-time ratio vs λ (LSGD line per saddle), EASGD at x = α and the controls at λ = MAIN,
    both offset in x (×0.8, ×1.25) so that they do not hide each other."""
    from matplotlib.ticker import NullFormatter
    sad = record.measured["saddles"]
    pulls = record.setting["pulls"]
    for k, (label, s) in enumerate(sad.items()):
        mk = "osD"[k]
        ax.plot(pulls, [s["lsgd"][f"{p:g}"][key] for p in pulls], "-", marker=mk, color=plotting.COLORS["lsgd"],
                label=f"LSGD, {label}")
        for a in record.setting["alphas"]:
            ax.plot([0.8 * a], [s["easgd"][f"{a:g}"][key]], mk, color=plotting.COLORS["easgd"], mfc="none",
                    label="EASGD (x = 0.8α)" if k == 0 and a == record.setting["alphas"][0] else None)
        for m, c in record.controls.items():
            ax.plot([1.25 * MAIN], [c["saddles"][label][key]], mk, color=plotting.COLORS[f"{m} leader"],
                    label=f"{m} leader (x = 1.25λ)" if k == 0 else None)
    ax.axhline(1.0, color=plotting.COLORS["bound"], lw=0.8)
    ax.axhline(SLOW, color=plotting.COLORS["worst leader"], lw=0.6, ls=":")
    ax.set_xscale("log")
    ticks = sorted(set(pulls) | set(record.setting["alphas"]))      # plain numbers at the swept values
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(title=title, xlabel="pull λ per step (EASGD: α)", ylabel="median ratio over seeds")


def _curvature_panel(ax, record, plotting):
    sad = record.measured["saddles"]
    rows = {"lsgd": {k: _main(s).get("pull_curvature", {}) for k, s in sad.items()}}
    rows.update({f"{m} leader": {k: c["saddles"][k].get("pull_curvature", {}) for k in sad}
                 for m, c in record.controls.items()})
    width = 0.8 / (2 * len(rows))
    for j, key in enumerate(("negative_share", "outward_share")):
        for k, (name, vals) in enumerate(rows.items()):
            x = np.arange(len(sad)) + (j * len(rows) + k - len(rows) + 0.5) * width
            ax.bar(x, [v.get(key, np.nan) for v in vals.values()], width, color=plotting.COLORS[name],
                   hatch="//" if key == "outward_share" else None, edgecolor="white",
                   label=f"{name}: {'outward' if j else 'wᵀHw < 0'}")
    quad = sad.get("indefinite quadratic", {}).get("newton_candidates")
    if quad:
        ax.plot([-0.4, 0.4], [quad["negative_share"]] * 2, color=plotting.COLORS["bound"], lw=1.5,
                label="candidate leaders (newton)")
    ax.set_xticks(range(len(sad)), [label.split()[0] for label in sad])
    ax.set(title="pulls near the saddle", xlabel="saddle", ylabel="share of pulls", ylim=(0, 1.05))
