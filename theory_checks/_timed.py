"""What the two checks in simulated time share: the noisy quadratic, its clock, paired log-ratios.

Both checks run the comm-period check's noisy quadratic (d = 20, κ = 20, Gaussian gradient noise σ = 2,
η = 0.2/L; :mod:`theory_checks.comm_period`) on a virtual clock whose local step takes the paper
cluster's CNN7 step (4.0 ms at batch 128 on a GTX 1080, :mod:`lsgdsim.clock.clusters`) with lognormal
jitter, and whose every message is priced at CNN7's 1.41 MB: the quadratic says how the algorithm
optimizes, the clock says what each of its steps and rounds would cost on the paper's hardware.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import objectives, simulate
from lsgdsim.clock import Clock
from lsgdsim.clock.clusters import CLUSTERS, JITTER, cnn7, fastest_step
from lsgdsim.clock.compute import Lognormal
from lsgdsim.clock.network import Network

from ._stats import mean_ci, seeds_to_separate

STEP = CLUSTERS["paper"].step_seconds(cnn7())     # 4.0 ms: one local step of CNN7 on a GTX 1080
MODEL_BYTES = cnn7().nbytes()                     # 1.41 MB: one message (a row of the state)
LATENCY = 50e-6                                   # per message, an Ethernet figure (as the paper cluster's)
NOISE, LR_TIMES_L = 2.0, 0.2


def quadratic(seed: int):
    """The check's problem for ``seed``: (objective, η)."""
    q = objectives.Quadratic.random(dim=20, cond=20.0, seed=seed)
    return q, LR_TIMES_L / q.L


def flat_clock(bandwidth: float, latency: float = LATENCY) -> Clock:
    """A clock of one flat network of ``bandwidth`` bytes/s and the paper cluster's step."""
    return Clock(compute=Lognormal(median=STEP, sigma=JITTER), network=Network(latency=latency, bandwidth=bandwidth),
                 model_bytes=MODEL_BYTES)


def timed(objective, algorithm, workers: int, clock: Clock, budget: float, seed: int, record_every: int = 4):
    """``algorithm`` on ``objective`` until ``budget`` simulated seconds (a step cap no worker reaches)."""
    fastest = fastest_step(clock)
    return simulate(objective, algorithm, workers=workers, steps=int(1.05 * budget / fastest) + 2, grad_noise=NOISE,
                    seed=seed, clock=clock, time_budget=budget, record_every=record_every)


def paired_log_ratio(num, den) -> dict:
    """mean_s log(num_s / den_s) with its 95% t-interval (lower, upper); positive: ``num`` larger."""
    with np.errstate(divide="ignore", invalid="ignore"):     # never arrived: inf, both never: nan
        v = np.log(np.asarray(num, float)) - np.log(np.asarray(den, float))
        m, half = mean_ci(v)
    if not np.isfinite(half):                  # one seed, or a run that never got there (inf): no interval
        return {"mean": m, "lower": m if np.isinf(m) else -np.inf, "upper": m if np.isinf(m) else np.inf}
    return {"mean": m, "lower": m - half, "upper": m + half}


def leader_part(random_gaps, gaps) -> dict:
    """The leader's part pooled over settings: per seed the mean over the settings (rows) of
    log(random / leader), its 95% interval, and the seeds that would separate it from 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_seed = np.mean(np.log(np.asarray(random_gaps, float)) - np.log(np.asarray(gaps, float)), axis=0)
    return {**paired_log_ratio(np.exp(per_seed), np.ones_like(per_seed)),
            "seeds_to_separate": seeds_to_separate(per_seed)}


def ratio_text(r: dict) -> str:
    """'×1.32 [1.10, 1.58]': a paired log-ratio as a factor with its interval."""
    if np.isnan(r["mean"]):
        return "— (neither got there on some seed)"
    if np.isinf(r["mean"]):
        return f"×{'∞' if r['mean'] > 0 else '0'} (one of the two never got there on some seed)"
    return f"×{np.exp(r['mean']):.2f} [{np.exp(r['lower']):.2f}, {np.exp(r['upper']):.2f}]"
