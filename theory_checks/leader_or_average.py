"""Reviewer 2 — why is the average of the workers evaluated rather than the leader?

Question. The paper (and the authors' code) reports the test error of the average of the LSGD workers;
reviewer 2 asks why not the leader. Measured here: the final error of four candidate outputs of the same
runs — the LSGD *leader* (the worker the rule chose at the last communication), the *average* of the LSGD
workers, the *EASGD center* (a separate EASGD run from the same start), and the *best single worker* (an
oracle on the digits: chosen with the test data) — and the mean worker, over seeds and τ.

Problems. (1) The digits trainer (lsgdsim.nn.train: the MLP, 4 workers, batch 32, momentum 0.9, the
authors' leader rule = lowest mean of the last 10 mini-batch losses, pull 0.1, learning rate 0.05 with a
step decay); error = test error. Disjoint data shards (the trainer's default, each worker draws from its own
shard, as a DistributedSampler does) and, in full mode, shared data. (2) Synthetic objectives, 8 workers,
the same window rule on the observed losses (mini-batch losses for logistic regression, exact f otherwise),
pull 0.1; error = f − f*: a noisy convex quadratic (d = 20, κ = 10, σ = 1), logistic regression (mini-batches
of 8), Rastrigin 2-D (σ = 1) and the ring sin(r)/r. τ ∈ {1, 4, 16} (quick mode: τ = 4, MLP for 100 steps,
2 seeds). The synthetic LSGD runs of all seeds are one multi-leader run (one group per seed, global pull 0).

Reading. Per setting (problem, τ), from paired differences over seeds (medians): the leader is *no worse
than the average* when median(e_leader − e_average) ≤ tol, and *the choice adds something* when
median(e_leader − e_best alone) ≤ tol, where "best alone" is the best of the same workers trained alone from
the same start (SGD, no communication), chosen by its final training loss — so the leader is as good as
the best single model one could have picked without LSGD; tol = one test image on the digits (1/360),
1e-9 + 1% of the compared error on the synthetic objectives. The leader is the better output in a setting
when both hold. Also reported: the best worker of the LSGD run (an oracle by test error on the digits), the
mean worker, and how much of the run one worker led ("sticky").

Leader dependence and controls. Everything about the leader is leader-dependent; the average, the center
and the best worker are reported beside it. Where any single worker beats the average (between the valleys
of a multi-valley landscape, or once the group has gathered in one valley), a leader picked at random is a
better output than the average too, so being the better output says nothing about the rule. Hence, in
every mode (controls off, or a control installed, too), every setting's LSGD runs are repeated with a random
leader (same seeds and starts): the random-leader reference of the verdict. With controls on, they are also
repeated with a worst leader (the highest window loss leads, and is evaluated); the random control is then
the reference itself, and with the random leader installed the installed run is. Both controls are judged
against the installed run's leader-free baselines. The worst leader shows what the second test adds: on a
multi-valley landscape any single worker beats the average, so the first test alone cannot tell it from the
right one, but led by the worst worker the group settles in a worse valley than the best worker alone.

Verdict (computed). A setting *counts for the leader* when the leader is the better output there (Reading)
and *beats a random leader*: the paired differences over seeds d_s = e_leader(random leader, seed s) −
e_leader(the installed leader, seed s), the errors of the evaluated leader in the two runs, have a 95%
t-interval (two-sided) whose lower end is > 0. "holds" (evaluating the leader is at least as good as the
average, thanks to the rule) if every setting counts, digits included; "holds under conditions" if some
synthetic setting counts (the summary says which); "fails" if none. With the random leader installed d_s = 0
and the check fails. The digits settings can deny "holds" but not grant "holds under conditions": their 360
test images separate the outputs by a few images (1 image = 0.28%), within which a worst leader too can look
"no worse" by chance; the synthetic errors are exact (f − f*). Few seeds make the interval wide (quick mode:
4, t₃ = 3.18): a margin that favours the rule on every seed may still not count.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lsgdsim import algorithms, leaders, objectives, simulate
from lsgdsim.nn.train import train
from lsgdsim.schedules import StepDecay

from ._stats import paired
from .controls import control_modes, leader_rule
from .progress import Progress
from .record import CheckRecord

NAME = "leader-or-average"
CLAIM = ("Evaluating the LSGD leader is at least as good as evaluating the average of the workers (reviewer 2: "
         "why report the average?).")
LEADER_DEPENDENT = True
CAPTION = ("Each output's error (leader, controls, EASGD center, best worker alone, LSGD workers) over the "
           "average's.")

PULL, WINDOW = 0.1, 10
OUTPUTS = ("leader", "average", "easgd_center", "best_worker", "mean_worker", "best_alone")
BASELINES = ("easgd_center", "best_alone")      # leader-free: measured once per setting, in the installed run
DIGITS = {"model": "mlp", "workers": 4, "batch_size": 32, "lr": 0.05, "momentum": 0.9}
DIGITS_TOL = 1.0 / 360          # one test image
REL_TOL, ABS_TOL = 0.01, 1e-9    # synthetic objectives
WORKERS = 8


@dataclass(frozen=True)
class Synthetic:
    label: str
    make: Callable
    lr: float
    sigma: float
    batch: int | None
    steps: int
    quick_steps: int


SYNTHETIC = (
    Synthetic("quadratic κ=10 σ=1", lambda: objectives.Quadratic.random(dim=20, cond=10.0, seed=0), 0.05, 1.0,
              None, 400, 300),
    Synthetic("logistic batch 8", lambda: objectives.LogisticRegression(n_samples=500, dim=10, seed=0), 0.2, 0.0,
              8, 400, 300),
    Synthetic("rastrigin 2-D σ=1", lambda: objectives.Rastrigin(dim=2), 0.002, 1.0, None, 600, 400),
    Synthetic("ring σ=0.01", lambda: objectives.RingSinc(), 2.0, 0.01, None, 600, 400),
)


# -- the digits trainer ----------------------------------------------------------------------------
def digits_errors(tau: int, seed: int, steps: int, shards: str, mode: str | None, easgd: bool) -> dict:
    """Final test errors of one LSGD training run (leader, average, best and mean worker); with ``easgd`` also
    the center of an EASGD run and the best of the workers trained alone (SGD, no communication; best by final
    training loss) from the same start. ``sticky``: the largest share of communications one worker led."""
    def lr(n):
        return StepDecay(DIGITS["lr"], 0.1, every=max(1, int(0.9 * n)))

    def lsgd(n):
        return algorithms.LSGD(lr=lr(n), pull=PULL, period=tau, momentum=DIGITS["momentum"],
                               leader=leader_rule(leaders.Window(WINDOW), mode))

    def run(alg):
        return train(DIGITS["model"], "digits", algorithm=alg, workers=DIGITS["workers"], steps=steps,
                     batch_size=DIGITS["batch_size"], shards=shards, seed=seed, evaluations=1)

    res = run(lsgd)
    acc = np.asarray(res.monitor["test_accuracy"], dtype=float)[-1]
    out = {"leader": 1 - float(np.asarray(res.monitor["leader_test_accuracy"])[-1]),
           "average": 1 - float(np.asarray(res.monitor["center_test_accuracy"])[-1]),
           "best_worker": 1 - float(acc.max()), "mean_worker": 1 - float(acc.mean()),
           "sticky": float(res.leader_share().max())}
    if easgd:
        center = run(lambda n: algorithms.EASGD(lr=lr(n), alpha=0.9 / DIGITS["workers"], period=tau,
                                                momentum=DIGITS["momentum"]))
        out["easgd_center"] = 1 - float(np.asarray(center.monitor["center_test_accuracy"])[-1])
        lone = run(lambda n: algorithms.SGD(lr=lr(n), momentum=DIGITS["momentum"]))
        lone_acc = np.asarray(lone.monitor["test_accuracy"], dtype=float)[-1]
        out["best_alone"] = 1 - float(lone_acc[int(np.argmin(lone.f[-1]))])
    return out


# -- synthetic objectives --------------------------------------------------------------------------
def synthetic_errors(spec: Synthetic, tau: int, seeds, steps: int, mode: str | None, easgd: bool) -> list[dict]:
    """Final f − f* per seed of the four outputs; the LSGD runs of all seeds as one run, one group per seed."""
    obj = spec.make()
    S = len(seeds)
    x0 = np.concatenate([obj.initial_point(WORKERS, np.random.default_rng([s, 11])) for s in seeds])
    alg = algorithms.LSGD(lr=spec.lr, pull=PULL, period=tau, groups=S, global_pull=0.0,
                          leader=leader_rule(leaders.Window(WINDOW), mode))
    res = simulate(obj, alg, workers=S * WORKERS, steps=steps, x0=x0, grad_noise=spec.sigma, batch_size=spec.batch,
                   seed=seeds[0], record_every=steps)
    X = res.x.reshape(S, WORKERS, -1)
    f = (obj.value(res.x) - obj.fmin).reshape(S, WORKERS)
    lead = res.local_leaders[-1] - np.arange(S) * WORKERS
    avg = obj.value(X.mean(axis=1)) - obj.fmin
    led = res.local_leaders - np.arange(S) * WORKERS             # (communications, S) leader within its group
    rows = [{"leader": float(f[k, lead[k]]), "average": float(avg[k]), "best_worker": float(f[k].min()),
             "mean_worker": float(f[k].mean()), "sticky": float(np.mean(led[:, k] == lead[k]))} for k in range(S)]
    if easgd:
        lone = simulate(obj, algorithms.SGD(lr=spec.lr), workers=S * WORKERS, steps=steps, x0=x0,
                        grad_noise=spec.sigma, batch_size=spec.batch, seed=seeds[0], record_every=steps)
        alone = (obj.value(lone.x) - obj.fmin).reshape(S, WORKERS).min(axis=1)
        for k, s in enumerate(seeds):
            rows[k]["best_alone"] = float(alone[k])
            e = simulate(obj, algorithms.EASGD(lr=spec.lr, alpha=PULL, beta=min(0.9, WORKERS * PULL), period=tau),
                         workers=WORKERS, steps=steps, x0=x0[k * WORKERS:(k + 1) * WORKERS], grad_noise=spec.sigma,
                         batch_size=spec.batch, seed=s, record_every=steps)
            rows[k]["easgd_center"] = float(obj.value(e.center[None, :])[0] - obj.fmin)
    return rows


# -- judging a setting -----------------------------------------------------------------------------
def compare(rows: list[dict], tol: Callable[[float], float], baseline: dict | None = None) -> dict:
    """Medians over seeds of every output's error, and the two paired tests of the module docstring.

    ``baseline``: the leader-free numbers (EASGD center, best worker alone) by seed, when ``rows`` are a control
    run that did not measure them."""
    if baseline is not None:
        rows = [{**b, **r} for r, b in zip(rows, baseline, strict=True)]
    med = {k: float(np.median([r[k] for r in rows])) for k in OUTPUTS if k in rows[0]}
    d_avg = float(np.median([r["leader"] - r["average"] for r in rows]))
    d_alone = float(np.median([r["leader"] - r["best_alone"] for r in rows]))
    no_worse = d_avg <= tol(med["average"])
    adds = d_alone <= tol(med["best_alone"])
    spread = med["mean_worker"] - med["best_worker"]
    return {"errors": med, "leader_minus_average": d_avg, "leader_minus_best_alone": d_alone,
            "leader_place": (med["leader"] - med["best_worker"]) / spread if spread > 0 else 0.0,
            "sticky": float(np.median([r["sticky"] for r in rows])), "no_worse_than_average": bool(no_worse),
            "choice_adds": bool(adds), "leader_better_output": bool(no_worse and adds), "seeds": len(rows)}


def over_random(rows: list[dict], reference: list[dict]) -> dict:
    """The verdict's second condition: d_s = e_leader(random leader) − e_leader(``rows``) paired by seed, their
    mean and the lower end of its 95% t-interval (−inf without an interval); *beats random* if that end is > 0."""
    d = paired([q["leader"] - r["leader"] for r, q in zip(rows, reference, strict=True)])
    return {"random_leader": float(np.median([q["leader"] for q in reference])), "over_random": d["mean"],
            "over_random_lower": d["lower"], "beats_random": bool(d["lower"] > 0),
            "seeds_to_separate": d["seeds_to_separate"]}


def judge_setting(problem: str, tau: int, runs: dict, reference: str, tol: Callable[[float], float]) -> dict:
    """Every leader's row of one setting: ``runs`` = {leader: rows by seed}, the installed leader first (its
    rows carry the leader-free baselines); ``runs[reference]`` are the random leader's rows. A setting counts
    for a leader (``leader_wins``) when it is the better output there and beats random."""
    base = [{k: r[k] for k in BASELINES} for r in next(iter(runs.values()))]
    out = {}
    for mode, rows in runs.items():
        row = {"problem": problem, "tau": tau, **compare(rows, tol, base), **over_random(rows, runs[reference])}
        out[mode] = {**row, "leader_wins": row["leader_better_output"] and row["beats_random"]}
    return out


def _digits_tol(err: float) -> float:
    return DIGITS_TOL


def _synthetic_tol(err: float) -> float:
    return ABS_TOL + REL_TOL * abs(err)


def _digit_runs(tau: int, shards: str, seeds, steps: int) -> Callable:
    """(mode, easgd) -> the rows of one digits setting under that leader, one per seed."""
    return lambda mode, easgd: [digits_errors(tau, s, steps, shards, mode, easgd) for s in seeds]


def _synthetic_runs(spec: Synthetic, tau: int, seeds, quick: bool) -> Callable:
    """(mode, easgd) -> the rows of one synthetic setting under that leader, one per seed."""
    return lambda mode, easgd: synthetic_errors(spec, tau, seeds, spec.quick_steps if quick else spec.steps, mode,
                                                easgd)


# -- the check -------------------------------------------------------------------------------------
READING = ("Final test error (digits) or f − f* of the LSGD leader, average, EASGD center, best worker. The leader "
           "wins a setting if no worse than the average and the best worker alone (paired medians, tol. 1 image / "
           "1%), and beats a random leader (95% CI).")


def _plan(quick: bool, seed: int) -> tuple[list[tuple], dict]:
    """The settings as (problem, τ, tolerance, run), with run(mode, easgd) -> rows by seed; and their description."""
    taus = (4,) if quick else (1, 4, 16)
    digit_seeds = tuple(range(seed, seed + (2 if quick else 3)))
    syn_seeds = tuple(range(seed, seed + (4 if quick else 8)))
    steps = 100 if quick else 300
    digit_cases = [("disjoint", t) for t in taus] + ([] if quick else [("shared", 4)])
    cases = [(f"digits {DIGITS['model']} ({shards})", tau, _digits_tol, _digit_runs(tau, shards, digit_seeds, steps))
             for shards, tau in digit_cases]
    cases += [(spec.label, tau, _synthetic_tol, _synthetic_runs(spec, tau, syn_seeds, quick))
              for spec in SYNTHETIC for tau in taus]
    setting = {"digits": {**DIGITS, "steps": steps, "seeds": list(digit_seeds), "pull": PULL, "window": WINDOW,
                          "lr_schedule": "StepDecay(0.05, 0.1) at 90% of the run", "easgd_alpha": "0.9/p",
                          "cases": [list(c) for c in digit_cases]},
               "synthetic": [{"label": s.label, "lr": s.lr, "grad_noise": s.sigma, "batch_size": s.batch,
                              "steps": s.quick_steps if quick else s.steps} for s in SYNTHETIC],
               "synthetic_seeds": list(syn_seeds), "synthetic_workers": WORKERS, "taus": list(taus),
               "pull": PULL, "leader_rule": f"window({WINDOW})", "random_reference": "LSGD, random leader, same seeds"}
    return cases, setting


def _run_leaders(run: Callable, order: list, installed: str | None, progress: Progress) -> dict:
    """{leader: rows by seed} of one setting, in ``order``; the installed leader's run measures the baselines."""
    runs = {}
    for mode in order:
        runs[mode] = run(mode, mode == installed)
        progress.advance()
    return runs


def measure(quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
            progress: Progress | None = None) -> CheckRecord:
    progress = progress or Progress()
    modes = control_modes(leader, controls)
    order = list(dict.fromkeys([leader, *modes, "random"]))        # the random-leader reference in every mode
    cases, setting = _plan(quick, seed)
    progress.expect(len(cases) * len(order))
    judged = [judge_setting(problem, tau, _run_leaders(run, order, leader, progress), "random", tol)
              for problem, tau, tol, run in cases]
    return CheckRecord(
        name=NAME, claim=CLAIM, reading=READING, setting={**setting, "leader": leader or "right"},
        measured={"settings": [j[leader] for j in judged]},
        expected={"leader_better_output": "median(e_leader − e_average) ≤ tol and median(e_leader − e_best_alone) "
                                          "≤ tol",
                  "beats_random": "95% t-interval of mean_s(e_leader,random − e_leader) has its lower end > 0",
                  "tolerance": {"digits": DIGITS_TOL, "synthetic": f"{ABS_TOL:g} + {REL_TOL:g}·error"}},
        controls={m: {"settings": [j[m] for j in judged]} for m in modes})


# -- judging and drawing (pure functions of the record) ---------------------------------------------
def _count(rows: list[dict], key: str = "leader_wins") -> int:
    return sum(bool(r[key]) for r in rows)


def verdict(record: CheckRecord) -> str:
    rows = record.measured["settings"]
    synthetic = [r for r in rows if not r["problem"].startswith("digits")]
    return "holds" if _count(rows) == len(rows) else "holds under conditions" if _count(synthetic) else "fails"


def _where(rows: list[dict], key: str = "leader_wins") -> str:
    """The problems where ``key`` holds (default: where the setting counts for the leader), with their τ."""
    by: dict = {}
    for r in rows:
        if r[key]:
            name = r["problem"].split()[0] + (" shared" if "shared" in r["problem"] else "")
            by.setdefault(name, []).append(str(r["tau"]))
    return ", ".join(f"{p} (τ {'/'.join(t)})" for p, t in by.items()) or "nowhere"


def _leader_text(rows: list[dict]) -> str:
    """Where the leader is the better output, and where it also beats a random leader (with the margins)."""
    better, wins = _count(rows, "leader_better_output"), _count(rows)
    text = f"Leader is the better output in {better}/{len(rows)} settings: {_where(rows, 'leader_better_output')}"
    if better:
        text += (f"; beats a random leader in {wins}/{better}" + (f": {_where(rows)}" if wins else "")
                 + f" (e_random − e_leader where better, mean [95% low end]: {_margins(rows)})" + _thin(rows))
    return text + "."


def summary(record: CheckRecord) -> str:
    rows = record.measured["settings"]
    dig = [r for r in rows if r["problem"].startswith("digits")]
    text = _leader_text(rows)
    if dig:
        e = dig[0]["errors"]
        text += (f" Digits τ={dig[0]['tau']}: leader {e['leader']:.1%}, average {e['average']:.1%}, "
                 f"EASGD {e.get('easgd_center', float('nan')):.1%}.")
    if "worst" in record.controls:
        worst = record.controls["worst"]["settings"]
        syn = [r for r in worst if not r["problem"].startswith("digits")]
        text += f" Worst leader: {_count(worst)}/{len(worst)} ({_count(syn)}/{len(syn)} synthetic)."
    return text


def key_numbers(record: CheckRecord) -> list[dict]:
    rows, c = record.measured["settings"], record.controls
    dig = [r for r in rows if r["problem"].startswith("digits")]
    syn = [r for r in rows if not r["problem"].startswith("digits")]

    def frac(rs, key):
        return f"{_count(rs, key)}/{len(rs)}"

    def errs(r):
        e = r["errors"]
        return f"{e['leader']:.1%} / {e['average']:.1%} / {e.get('easgd_center', float('nan')):.1%}"

    out = [{"quantity": "settings where the leader is better", "measured": frac(rows, "leader_better_output"),
            **{m: frac(c[m]["settings"], "leader_better_output") for m in c}, "expected": f"{len(rows)}/{len(rows)}"},
           {"quantity": "leader no worse than best worker alone", "measured": frac(rows, "choice_adds"),
            **{m: frac(c[m]["settings"], "choice_adds") for m in c}, "expected": "all (the choice adds)"}]
    if dig:
        out.append({"quantity": f"digits τ={dig[0]['tau']}: leader/average/EASGD", "measured": errs(dig[0]),
                    **{m: f"{c[m]['settings'][0]['errors']['leader']:.1%} (leader)" for m in c},
                    "expected": "test error, median"})
        lo, hi = min(r["sticky"] for r in dig), max(r["sticky"] for r in dig)
        out.append({"quantity": "digits: share of run led by one worker",
                    "measured": f"{lo:.0%}" if f"{lo:.0%}" == f"{hi:.0%}" else f"{lo:.0%}–{hi:.0%}",
                    "expected": "free"})
    if syn:
        ratio = [r["errors"]["leader"] / max(r["errors"]["average"], 1e-300) for r in syn]
        out.append({"quantity": "synthetic: f_leader / f_average (f − f*)",
                    "measured": f"{min(ratio):.2g} … {max(ratio):.2g}", "expected": "≤ 1 where the leader is better"})
    return out[:5]


def _thin(rows: list[dict]) -> str:
    """' (4 seeds; about 9 would separate)' when the leader is the better output somewhere, beats a random one
    nowhere, and more seeds would separate the two (the margins too thin for this many seeds)."""
    better = [r for r in rows if r["leader_better_output"]]
    need = min((r["seeds_to_separate"] for r in better), default=0)
    if any(r["beats_random"] for r in better) or not 0 < need < 10_000 or need <= better[0]["seeds"]:
        return ""
    return f" ({better[0]['seeds']} seeds; about {need} would separate)"


def _margins(rows: list[dict]) -> str:
    """'+3.8 [-0.19], …': the margin over a random leader (mean [95% low end]) in each setting where the leader
    is the better output, in the order of the settings."""
    better = [r for r in rows if r["leader_better_output"]]
    return ", ".join(f"{r['over_random']:+.2g} [{r['over_random_lower']:+.2g}]" for r in better)


SHORT = {"digits": "dig.", "quadratic": "quad", "logistic": "logit", "rastrigin": "rast", "ring": "ring"}
FLOOR = 1e-6                    # errors below this count as converged (ratios of two of them mean nothing)


DSJ_SHR = "problem, τ (dsj / shr: digits, disjoint / shared shards)"


def _short(row) -> str:
    name = SHORT.get(row["problem"].split()[0], row["problem"][:5])
    if name == "dig.":                  # digits: disjoint or shared shards (the x label says so)
        name = "shr" if "shared" in row["problem"] else "dsj"
    return f"{name}\nτ={row['tau']}"


def figure(record: CheckRecord):
    from lsgdsim import plotting
    rows, c = record.measured["settings"], record.controls
    fig, gs = plotting.grid(2, 2, width=10.0, height=4.6, width_ratios=[2.6, 1], height_ratios=[1, 0.02])
    ax = plotting.panel(fig, gs[0, 0])
    x = np.arange(len(rows))
    # methods in their colours; the other outputs of an LSGD run (not methods) in black and a setting blue
    marks = [("leader", plotting.COLORS["lsgd"], "o", 8), ("best_alone", plotting.COLORS["sgd"], "s", 6),
             ("easgd_center", plotting.COLORS["easgd"], "^", 6), ("best_worker", "k", "_", 12),
             ("mean_worker", plotting.SETTING_COLORS[1], "x", 6)]
    names = {"leader": "LSGD leader", "best_alone": "best worker alone (SGD)", "easgd_center": "EASGD center",
             "best_worker": "best LSGD worker (oracle)", "mean_worker": "mean LSGD worker"}

    def ratio(err, avg):
        return max(err, FLOOR) / max(avg, FLOOR)

    for key, color, mk, size in marks:
        ax.plot(x, [ratio(r["errors"][key], r["errors"]["average"]) for r in rows], mk, color=color, ms=size,
                label=names[key])
    for m in c:
        ax.plot(x + 0.2, [ratio(r["errors"]["leader"], r["errors"]["average"]) for r in c[m]["settings"]], "o",
                color=plotting.COLORS[f"{m} leader"], ms=6, mfc="none", label=f"{m} leader (its own average)")
    if "random" not in c:                                   # the verdict's random-leader reference
        ax.plot(x + 0.2, [ratio(r["random_leader"], r["errors"]["average"]) for r in rows], "s",
                color=plotting.COLORS["random leader"], ms=5, mfc="none", label="random leader (reference)")
    ax.axhline(1.0, color=plotting.COLORS["bound"], lw=0.8, label="the LSGD average")
    ax.set_yscale("log")
    ax.set_xticks(x, [_short(r) for r in rows], fontsize=7)
    ax.set(title="error of each output / error of the LSGD average", xlabel=DSJ_SHR,
           ylabel=f"ratio (errors floored at {FLOOR:g})")
    plotting.legend_row(fig, gs[1, 0], *ax.get_legend_handles_labels(), ncol=3, fontsize=7)
    ax = plotting.panel(fig, gs[0, 1])
    _digits_panel(ax, [r for r in rows if r["problem"].startswith("digits")], plotting)
    plotting.legend_row(fig, gs[1, 1], *ax.get_legend_handles_labels(), ncol=2, fontsize=7)
    return fig


def _digits_panel(ax, rows, plotting):
    C = plotting.COLORS
    keys = [("leader", C["lsgd"], "leader"), ("average", plotting.SETTING_COLORS[1], "average"),
            ("easgd_center", C["easgd"], "EASGD center"), ("best_alone", C["sgd"], "best alone (SGD)"),
            ("best_worker", "k", "best worker (oracle)")]
    width = 0.8 / len(keys)
    for k, (key, color, label) in enumerate(keys):
        ax.bar(np.arange(len(rows)) + (k - (len(keys) - 1) / 2) * width, [100 * r["errors"][key] for r in rows],
               width, color=color, label=label)
    ax.set_xticks(range(len(rows)), [_short(r) for r in rows], fontsize=7)
    ax.set(title="digits (MLP): test error", ylabel="test error (%)")

