"""Plain per-worker reference loops: the test oracle for the vectorized simulator.

Every rule of docs/design.md §3 written the slow, obvious way: Python lists of 1-D NumPy vectors, one
worker at a time. It reads the algorithm object's hyperparameters but
none of its code. Randomness is replayed the way a process owning one worker would replay it: draw the
run's block (p, ...) from the same stream and keep row i.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim.backend import RandomStreams
from lsgdsim.schedules import Schedule


def hyper(value, t, i):
    """A hyperparameter's value for worker i at step t."""
    if isinstance(value, Schedule):
        return value(t)
    if isinstance(value, np.ndarray):
        return float(value[i])
    return float(value)


def nonzero(value, t):
    if isinstance(value, np.ndarray):
        return bool(np.any(value != 0))
    return hyper(value, t, 0) != 0


def argmin_first(values):
    best = 0
    for i, v in enumerate(values):
        if v < values[best]:
            best = i
    return best


def reference_run(objective, alg, workers, steps, x0, grad_noise=0.0, seed=0, per_worker_oracle=False):
    """Run ``alg`` worker by worker; returns dict(x=(p, d), leaders=[...], center=..., f=[f(x_T)]).

    ``per_worker_oracle=True`` makes every worker call the oracle on its own (1, d) parameters (the
    benchmark's baseline); by default the oracle sees the stacked workers (see below)."""
    p, d = workers, objective.dim
    streams = RandomStreams(seed, np, "float64")
    x = [np.array(x0[i], dtype=float) for i in range(p)]
    # The oracle is evaluated on the stacked workers, exactly as the simulator calls it, so that the
    # leader's argmin sees the same rounding (objectives are tested separately, row by row); everything
    # the update rule does is written per worker below.
    def oracle(xs):
        if per_worker_oracle:
            pairs = [objective.value_and_grad(v[None, :]) for v in xs]
            return [float(v[0]) for v, _ in pairs], [g[0] for _, g in pairs]
        vals, grads = objective.value_and_grad(np.stack(xs))
        return [float(v) for v in vals], [np.array(g) for g in grads]
    mom = alg.momentum
    vel = [np.zeros(d) for _ in range(p)]

    if isinstance(alg, (A.Downpour, A.AllReduceSGD)):
        s = np.mean(np.stack(x), axis=0)  # the server starts at the mean of x0
        x = [s.copy() for _ in range(p)]
        acc = [np.zeros(d) for _ in range(p)]
    if isinstance(alg, A.EASGD):
        center = np.mean(np.stack(x), axis=0)
        alpha = 0.9 / p if alg.alpha is None else alg.alpha
    window = {"buf": [[] for _ in range(p)]}
    leaders = []

    for t in range(1, steps + 1):
        losses, g = oracle(x)
        if grad_noise > 0:
            Z = streams.normal("grad_noise", (p, d))
            g = [g[i] + grad_noise * Z[i] for i in range(p)]
        if isinstance(alg, A.AllReduceSGD):
            gm = np.mean(np.stack(g), axis=0)
            g = [gm.copy() for _ in range(p)]
        # local step with momentum
        step = []
        for i in range(p):
            if mom > 0:
                vel[i] = mom * vel[i] + g[i]
                dirn = g[i] + mom * vel[i] if alg.nesterov else vel[i]
            else:
                dirn = g[i]
            step.append(hyper(alg.lr, t, i) * dirn)
        new = [x[i] - step[i] for i in range(p)]

        if isinstance(alg, A.LSGD):
            rule = alg.leader
            if isinstance(rule, L.Window):
                obs = list(losses)
                if rule.sigma > 0:
                    noise = streams.normal("loss_noise", (p,))
                    obs = [obs[i] + rule.sigma * noise[i] for i in range(p)]
                for i in range(p):
                    window["buf"][i] = (window["buf"][i] + [obs[i]])[-rule.size:]
            tau_g = alg.period if alg.global_period is None else alg.global_period
            local = t % alg.period == 0 and nonzero(alg.pull, t)
            glob = t % tau_g == 0 and nonzero(alg.global_pull, t)
            if local or glob:
                if isinstance(rule, L.Noisy):
                    noise = streams.normal("loss_noise", (p,)) if rule.sigma > 0 else np.zeros(p)
                    scores = [losses[i] + rule.sigma * noise[i] for i in range(p)]
                elif isinstance(rule, L.Window):
                    scores = [sum(b) / len(b) for b in window["buf"]]
                else:
                    scores = losses
                best = argmin_first(scores)
                leaders.append(best)
                size = p // alg.groups
                for i in range(p):
                    if local:
                        j = i // size
                        group_best = j * size + argmin_first(scores[j * size:(j + 1) * size])
                        new[i] = new[i] - hyper(alg.pull, t, i) * (x[i] - x[group_best])
                    if glob:
                        new[i] = new[i] - hyper(alg.global_pull, t, i) * (x[i] - x[best])
        elif isinstance(alg, A.EASGD):
            if t % alg.period == 0:
                mean_x = np.mean(np.stack(x), axis=0)
                pulled = [hyper(alpha, t, i) * (x[i] - center) for i in range(p)]
                new = [new[i] - pulled[i] for i in range(p)]
                if alg.beta is None:
                    total = np.zeros(d)
                    for i in range(p):
                        total = total + pulled[i]
                    center = center + total
                else:
                    center = center + alg.beta * (mean_x - center)
        elif isinstance(alg, A.LocalSGD):
            if t % alg.period == 0:
                m = np.mean(np.stack(new), axis=0)
                new = [m.copy() for _ in range(p)]
        elif isinstance(alg, A.Downpour):
            acc = [acc[i] + step[i] for i in range(p)]
            if t % alg.period == 0:
                total = np.zeros(d)
                for i in range(p):
                    total = total + acc[i]
                s = s - total
                acc = [np.zeros(d) for _ in range(p)]
                new = [s.copy() for _ in range(p)]
        x = new

    out = {"x": np.stack(x), "leaders": leaders, "f": [float(v) for v in objective.value(np.stack(x))]}
    if isinstance(alg, A.EASGD):
        out["center"] = center
    return out


def reference_async_round_robin(objective, alg, workers, steps, x0, grad_noise=0.0, seed=0,
                                order=None, elastic_on_post=False):
    """Asynchronous EASGD / DOWNPOUR on the virtual clock, equal compute times and a free network.

    Every worker takes its local steps at the same times; every ``period`` steps each worker exchanges
    with the server on its own, in rank order (the round-robin scheme of Zhang, Choromanska, LeCun 2015
    §4), reading the center (EASGD) or server (DOWNPOUR) as the previous worker's exchange left it:
        EASGD     e = α (x_i − c) with x_i before the step;  x_i ← x_i − η g_i − e;  c ← c + e
        DOWNPOUR  v_i ← v_i + η g_i;  s ← s − v_i;  x_i ← s;  v_i ← 0
    Momentum 0, scalar lr and alpha, EASGD without an explicit beta. Returns dict(x=(p, d), center=(d,)):
    the EASGD center or the DOWNPOUR server.

    The oracle sees the stacked workers (p, d) at every step, as in :func:`reference_run`. ``order``
    (default rank order) and
    ``elastic_on_post`` (the elastic term taken on the post-step x) are mutations for the tests that show
    the comparison can fail."""
    p, d = workers, objective.dim
    assert alg.momentum == 0, "the asynchronous reference covers momentum 0"
    streams = RandomStreams(seed, np, "float64")
    x = [np.array(x0[i], dtype=float) for i in range(p)]
    order = list(range(p)) if order is None else list(order)
    lr = float(alg.lr)
    downpour = isinstance(alg, A.Downpour)
    if downpour:
        server = np.mean(np.stack(x), axis=0)          # the server starts at the mean of x0 ...
        x = [server.copy() for _ in range(p)]          # ... and every worker starts at it
        acc = [np.zeros(d) for _ in range(p)]
    else:
        assert isinstance(alg, A.EASGD) and alg.beta is None
        center = np.mean(np.stack(x), axis=0)
        alpha = 0.9 / p if alg.alpha is None else float(alg.alpha)

    for t in range(1, steps + 1):
        _, grads = objective.value_and_grad(np.stack(x))
        g = [np.array(grads[i]) for i in range(p)]
        if grad_noise > 0:
            Z = streams.normal("grad_noise", (p, d))
            g = [g[i] + grad_noise * Z[i] for i in range(p)]
        new = []
        for i in range(p):                               # the local steps, all at the same time
            displacement = lr * g[i]
            new.append(x[i] - displacement)
            if downpour:
                acc[i] = acc[i] + displacement
        if t % alg.period == 0:
            for i in order:                              # the server serves one worker at a time
                if downpour:
                    server = server - acc[i]             # push v_i
                    new[i] = server.copy()               # pull s
                    acc[i] = np.zeros(d)
                else:
                    base = new[i] if elastic_on_post else x[i]
                    elastic = alpha * (base - center)    # e = α (x_i − c), c as the server holds it now
                    new[i] = new[i] - elastic
                    center = center + elastic
        x = new

    return {"x": np.stack(x), "center": server if downpour else center}


def reference_authors_run(objective, alg, workers, steps, x0, grad_noise=0.0, seed=0, proximal_first="global"):
    """LSGD as the authors ran it (paper-digest §5.3–5.4), one worker at a time, lockstep.

    Written from the digest, not from :mod:`lsgdsim.algorithms.lsgd_authors`: every step each worker
    takes a Nesterov SGD step from the loss and gradient at its pre-step parameters, pushes that loss into
    its circular zero-initialised window of ``alg.leader.size`` slots, then applies the per-step proximal
    pulls toward the stored leader copies, x ← (1 − p₂/τ_G) x + (p₂/τ_G) z̃_G and (several groups only)
    x ← (1 − p₁/τ) x + (p₁/τ) z̃_j, none before its copy exists. Every τ steps (groups > 1) each group's
    leader (first argmin of the window means within the group) is copied and pulled toward with c₁;
    every τ_G steps the leader of all workers, taken at its parameters as the local pull left them, is
    copied and pulled toward with c₂. Scalar hyperparameters. ``proximal_first="local"`` swaps the two
    proximal pulls: a mutation for the test that shows the comparison can fail.
    Returns dict(x=(p, d), leaders=[global leader per global round])."""
    p, d = workers, objective.dim
    streams = RandomStreams(seed, np, "float64")
    x = [np.array(x0[i], dtype=float) for i in range(p)]
    vel = [np.zeros(d) for _ in range(p)]
    size, groups = alg.leader.size, alg.groups
    window = [[0.0] * size for _ in range(p)]            # circular, zero-initialised (AverageMeter)
    tau = alg.period
    tau_g = tau if alg.global_period is None else alg.global_period
    lr, mom = float(alg.lr), alg.momentum
    c1, c2, p1, p2 = (float(v) for v in (alg.pull, alg.global_pull, alg.proximal, alg.global_proximal))
    local_copy, global_copy = [None] * p, None
    leaders = []

    def mix(v, target, c):
        return (1 - c) * v + c * target

    for t in range(1, steps + 1):
        vals, grads = objective.value_and_grad(np.stack(x))    # stacked, as in reference_run
        g = [np.array(grads[i]) for i in range(p)]
        if grad_noise > 0:
            Z = streams.normal("grad_noise", (p, d))
            g = [g[i] + grad_noise * Z[i] for i in range(p)]
        for i in range(p):
            window[i][(t - 1) % size] = float(vals[i])
            vel[i] = mom * vel[i] + g[i]
            x[i] = x[i] - lr * (g[i] + mom * vel[i])
            pulls = [("global", global_copy, p2 / tau_g), ("local", local_copy[i], p1 / tau)]
            if proximal_first == "local":
                pulls.reverse()
            for level, copy, c in pulls:
                if copy is not None and (level == "global" or groups > 1):
                    x[i] = mix(x[i], copy, c)
        scores = []
        for i in range(p):
            total = 0.0
            for v in window[i]:                            # the slots in buffer order
                total = total + v
            scores.append(total / size)
        if groups > 1 and t % tau == 0:
            width = p // groups
            heads = [j * width + argmin_first(scores[j * width:(j + 1) * width]) for j in range(groups)]
            received = [x[heads[i // width]].copy() for i in range(p)]
            for i in range(p):
                x[i] = mix(x[i], received[i], c1)
                local_copy[i] = received[i]
        if t % tau_g == 0:
            best = argmin_first(scores)
            leaders.append(best)
            global_copy = x[best].copy()
            x = [mix(x[i], global_copy, c2) for i in range(p)]
    return {"x": np.stack(x), "leaders": leaders}
