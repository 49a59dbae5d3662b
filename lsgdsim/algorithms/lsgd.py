"""Leader SGD (Teng et al. 2019), single- and multi-leader, synchronous form (DESIGN.md §3).

Single leader (groups = 1):
    ℓ = argmin_i s_i;   x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_ℓ)
Multi-leader, n groups of l = p/n contiguous workers (worker i in group ⌊i/l⌋):
    ℓ_j = argmin over group j, ℓ = argmin over all;
    x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_{ℓ_j}) − λ_G·comm(τ_G)·(x_i − x_ℓ)
All right-hand sides use step t − 1 values; s_i are the leader rule's scores (exact f(x_i) by default).
The leader itself takes a plain (S)GD step: its pull term is x_ℓ − x_ℓ = 0. With λ = η·λ_theory and
τ = 1 this is exactly the theory form x⁺ = x − η(g + λ_theory(x − z)) (digest §2.1).

Communication model (floats over links): the p scores are gathered, then each leader's d-vector is
broadcast to the other members of its group (local: n·(l − 1)·d) or to all (global: (p − 1)·d).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backend import namespace, take_row
from ..leaders import Exact, LeaderRule
from ..validate import check_float, check_int, set_fields
from .base import NO_EVENTS, Periodic, StepInput, check_period, comm


@dataclass(frozen=True, kw_only=True)
class LSGD(Periodic):
    """Leader (stochastic) gradient descent; see the module docstring for the exact rule."""

    pull: Any = 0.1
    groups: int = 1
    global_pull: Any = 0.0
    global_period: int | None = None
    leader: LeaderRule = field(default_factory=Exact)

    name = "lsgd"

    def _hypers(self, workers):
        return {**super()._hypers(workers), "pull": (self.pull, 0.0, 1.0, False),
                "global_pull": (self.global_pull, 0.0, 1.0, False)}

    def validate_config(self):
        super().validate_config()
        if self.global_period is not None:
            set_fields(self, global_period=check_period(self.global_period, "global_period"))
        set_fields(self, groups=check_int(self.groups, "groups", 1))
        if not isinstance(self.leader, LeaderRule):
            raise ValueError(f"leader must be a leaders.LeaderRule (Exact, Noisy, Window); got {self.leader!r}")
        self.leader.validate()

    def validate(self, workers, dim):
        super().validate(workers, dim)
        if workers % self.groups:
            raise ValueError(f"groups must divide workers: {self.groups} groups do not divide {workers} workers")

    @property
    def _global_period(self) -> int:
        return self.period if self.global_period is None else self.global_period

    def init(self, X, ctx):
        X, state = super().init(X, ctx)
        state["leader_state"] = self.leader.init(ctx.workers, ctx.xp, ctx.dtype)
        return X, state

    def step(self, X, state, inp: StepInput):
        t = inp.t
        hyper = state["hyper"]
        if self.leader.observes_every_step:
            state = {**state, "leader_state": self.leader.observe(state["leader_state"], inp.losses, inp.streams)}
        local = comm(t, self.period) and not hyper["pull"].is_zero(t)
        glob = comm(t, self._global_period) and not hyper["global_pull"].is_zero(t)
        X_new, state = self.local_step(X, state, inp)
        if not (local or glob):
            return X_new, state, NO_EVENTS

        xp = namespace(X)
        p, d = X.shape
        scores = self.leader.scores(state["leader_state"], inp.exact_values, inp.streams)
        best = xp.argmin(scores)                       # ties → lowest index
        events = {"leader": best, "floats": p}
        if local:
            if self.groups == 1:
                gap = X - take_row(X, best)
                gap *= hyper["pull"].at(t)                    # gap is ours: scale in place
                X_new = X_new - gap
                events["floats"] += (p - 1) * d
            else:
                n, size = self.groups, p // self.groups
                local_best = xp.argmin(xp.reshape(scores, (n, size)), axis=1) + xp.arange(n) * size
                leaders = xp.take(X, local_best, axis=0)                        # (n, d)
                gap = xp.reshape(xp.reshape(X, (n, size, d)) - leaders[:, None, :], (p, d))
                gap *= hyper["pull"].at(t)
                X_new = X_new - gap
                events["local_leaders"] = local_best
                events["floats"] += n * (size - 1) * d
        if glob:
            gap = X - take_row(X, best)
            gap *= hyper["global_pull"].at(t)
            X_new = X_new - gap
            events["floats"] += (p - 1) * d
        return X_new, {**state, "leader": best}, events


def lsgd_theory(lr: float, pull_theory: float, **kw) -> LSGD:
    """LSGD in the theory's form x⁺ = x − η(g + λ(x − z)): algorithmic pull = η·λ, period 1."""
    lr = check_float(lr, "lr", 0.0, lo_open=True)
    pull_theory = check_float(pull_theory, "pull_theory", 0.0)
    return LSGD(lr=lr, pull=lr * pull_theory, period=1, **kw)
