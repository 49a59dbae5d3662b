"""Leader SGD (Teng et al. 2019), single- and multi-leader, synchronous form (DESIGN.md §3).

Single leader (groups = 1):
    ℓ = argmin_i s_i;   x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_ℓ)
Multi-leader, n groups of l = p/n contiguous workers (worker i in group ⌊i/l⌋):
    ℓ_j = argmin over group j, ℓ = argmin over all;
    x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_{ℓ_j}) − λ_G·comm(τ_G)·(x_i − x_ℓ)
All right-hand sides use step t − 1 values; s_i are the leader rule's scores (exact f(x_i) by default).
The leader itself takes a plain (S)GD step: its pull term is x_ℓ − x_ℓ = 0. With λ = η·λ_theory and
τ = 1 this is exactly the theory form x⁺ = x − η(g + λ_theory(x − z)) (digest §2.1).

Communication model (floats over links): one min-loc gathers the p scores at the coordinator (p
floats) and returns the winning ranks, then each leader's d-vector is broadcast to the other members
of its group (a sub-group broadcast, local: n·(l − 1)·d) or to all (global: (p − 1)·d).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..leaders import Exact, LeaderRule
from ..validate import check_float, check_int, set_fields
from .base import NO_EVENTS, Periodic, StepInput, check_period, comm
from .state import LeaderState


@dataclass(frozen=True, kw_only=True)
class LSGD(Periodic):
    """Leader (stochastic) gradient descent; see the module docstring for the exact rule."""

    pull: Any = 0.1
    groups: int = 1
    global_pull: Any = 0.0
    global_period: int | None = None
    leader: LeaderRule = field(default_factory=Exact)

    name = "lsgd"
    state_type = LeaderState

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
        return X, state.update(leader_state=self.leader.init(ctx.workers, ctx.xp, ctx.dtype))

    def step(self, X, state, inp: StepInput):
        t, hyper, comm_ = inp.t, state.hyper, inp.comm
        if self.leader.observes_every_step:
            state = state.update(leader_state=self.leader.observe(state.leader_state, inp.losses, inp.streams))
        local = comm(t, self.period) and not hyper["pull"].is_zero(t)
        glob = comm(t, self._global_period) and not hyper["global_pull"].is_zero(t)
        X_new, state = self.local_step(X, state, inp)
        if not (local or glob):
            return X_new, state, NO_EVENTS

        scores = self.leader.scores(state.leader_state, inp.exact_values, inp.streams)
        grouped = local and self.groups > 1
        best, local_best = comm_.min_loc(scores, self.groups if grouped else 1)   # ties → lowest rank
        events = {"leader": best}
        if local:
            received = comm_.broadcast_groups(X, local_best) if grouped else comm_.broadcast(X, best)
            X_new = _pull(X, X_new, received, hyper["pull"].at(t))
            if grouped:
                events["local_leaders"] = local_best
        if glob:
            X_new = _pull(X, X_new, comm_.broadcast(X, best), hyper["global_pull"].at(t))
        return X_new, state.update(leader=best), events


def _pull(X, X_new, leaders, pull):
    """X_new − λ (X − x_ℓ): ``leaders`` is the leader row each worker received ((1, d) or (p, d))."""
    gap = X - leaders
    gap *= pull                    # gap is ours: scale in place
    return X_new - gap


def lsgd_theory(lr: float, pull_theory: float, **kw) -> LSGD:
    """LSGD in the theory's form x⁺ = x − η(g + λ(x − z)): algorithmic pull = η·λ, period 1."""
    lr = check_float(lr, "lr", 0.0, lo_open=True)
    pull_theory = check_float(pull_theory, "pull_theory", 0.0)
    return LSGD(lr=lr, pull=lr * pull_theory, period=1, **kw)
