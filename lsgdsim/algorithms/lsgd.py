"""Leader SGD (Teng et al. 2019), single- and multi-leader (docs/design.md §3; Algorithm 1, digest §2.4).

Single leader (groups = 1):
    ℓ = argmin_i s_i;   x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_ℓ)
Multi-leader, n groups of l = p/n contiguous workers (worker i in group ⌊i/l⌋):
    ℓ_j = argmin over group j, ℓ = argmin over all;
    x_i ← x_i − η g_i − λ·comm(τ)·(x_i − x_{ℓ_j}) − λ_G·comm(τ_G)·(x_i − x_ℓ)
All right-hand sides use step t − 1 values; s_i are the leader rule's scores (exact f(x_i) by default).
The leader itself takes a plain (S)GD step: its pull term is x_ℓ − x_ℓ = 0. With λ = η·λ_theory and
τ = 1 this is exactly the theory form x⁺ = x − η(g + λ_theory(x − z)) (digest §2.1).

``order="after"`` (Algorithm 1's order) pulls the parameters after the local step toward the leader's
parameters after its local step: with x⁺_i = x_i − η g_i,
    x_i ← x⁺_i − λ·comm(τ)·(x⁺_i − x⁺_{ℓ_j}) − λ_G·comm(τ_G)·(x⁺_i − x⁺_ℓ)
The leader is still chosen from each worker's latest loss estimate (the scores above: for the exact
rule f at the parameters the step's gradient was taken at, as the authors' code takes the loss from the
step's forward pass).

``trigger`` says when a round happens: ``"own"`` every τ (τ_G) of each worker's own steps, the
synchronous form (on the virtual clock, a barrier: fast workers wait); ``"total"`` Algorithm 1's
trigger, when the total number of local steps over all p workers reaches a multiple of p·τ (p·τ_G), so
fast workers do more local steps between rounds (on the clock; in lockstep every worker does τ steps
between rounds and the two triggers coincide). ``trigger="total"`` pulls after the local step unless
``order`` says otherwise.

Communication model (floats over links): one min-loc gathers the p scores at the coordinator (p
floats) and returns the winning ranks, then each leader's d-vector is broadcast to the other members
of its group (a sub-group broadcast, local: n·(l − 1)·d) or to all (global: (p − 1)·d).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..clock.network import Op
from ..leaders import Exact, LeaderRule
from ..validate import check_choice, check_float, check_int, set_fields
from .base import Periodic, StepInput, check_period
from .state import LeaderState

TRIGGERS = ("own", "total")
ORDERS = ("before", "after")
_STRENGTH = {"local": "pull", "global": "global_pull"}


@dataclass(frozen=True, kw_only=True)
class LSGD(Periodic):
    """Leader (stochastic) gradient descent; see the module docstring for the exact rule."""

    pull: Any = 0.1
    groups: int = 1
    global_pull: Any = 0.0
    global_period: int | None = None
    leader: LeaderRule = field(default_factory=Exact)
    trigger: str = "own"
    order: str | None = None

    name = "lsgd"
    state_type = LeaderState

    def _hypers(self, workers):
        return {**super()._hypers(workers), "pull": (self.pull, 0.0, 1.0, False),
                "global_pull": (self.global_pull, 0.0, 1.0, False)}

    def validate_config(self):
        super().validate_config()
        if self.global_period is not None:
            set_fields(self, global_period=check_period(self.global_period, "global_period"))
        set_fields(self, groups=check_int(self.groups, "groups", 1),
                   trigger=check_choice(self.trigger, "trigger", TRIGGERS))
        order = ("after" if self.trigger == "total" else "before") if self.order is None else self.order
        set_fields(self, order=check_choice(order, "order", ORDERS))
        if not isinstance(self.leader, LeaderRule):
            raise ValueError(f"leader must be a leaders.LeaderRule (Exact, Noisy, Window); got {self.leader!r}")
        self.leader.validate()
        set_fields(self, leader=self.leader.for_groups(self.groups))   # a control ranking within groups

    def _implicit(self):
        return {"trigger": "own", "order": "after" if self.trigger == "total" else "before"}

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

    # -- the seam ----------------------------------------------------------------------------------
    def communications(self):
        return {"local": self.period, "global": self._global_period}

    def _silent(self, name, t, state):
        return state.hyper[_STRENGTH[name]].is_zero(t)

    def active_communications(self, state):
        return {name: tau for name, tau in self.communications().items()
                if not state.hyper[_STRENGTH[name]].identically_zero}

    def local_update(self, X, state, inp: StepInput):
        if self.leader.observes_every_step:
            state = state.update(leader_state=self.leader.observe(state.leader_state, inp.losses, inp.streams))
        return self.local_step(X, state, inp)

    def communicate(self, X, X_new, state, due, inp: StepInput):
        t, hyper, comm_ = inp.t, state.hyper, inp.comm
        local, glob = "local" in due, "global" in due
        scores = self.leader.scores(state.leader_state, inp.exact_values, inp.streams)
        grouped = local and self.groups > 1
        best, local_best = comm_.min_loc(scores, self.groups if grouped else 1, local_only=grouped and not glob)
        events = {"leader": best}
        pulled = X if self.order == "before" else X_new      # the parameters the pull is defined on
        if local:
            received = comm_.broadcast_groups(pulled, local_best) if grouped else comm_.broadcast(pulled, best)
            X_new = _pull(pulled, X_new, received, hyper["pull"].at(t))
            if grouped:
                events["local_leaders"] = local_best
        if glob:
            X_new = _pull(pulled, X_new, comm_.broadcast(pulled, best), hyper["global_pull"].at(t))
        return X_new, state.update(leader=best), events

    def round_ops(self, due, workers, nbytes):
        group = workers // self.groups if self.groups > 1 else None
        ops = [Op("minloc", group=group if "global" not in due else None)]   # ties → lowest rank
        if "local" in due:
            ops.append(Op("broadcast", nbytes, group=group))
        if "global" in due:
            ops.append(Op("broadcast", nbytes))
        return ops

    def take_rows(self, state, rows):
        part = super().take_rows(state, rows)
        return part.update(leader_state=self.leader.take_rows(state.leader_state, rows))

    def put_rows(self, state, rows, part):
        state = super().put_rows(state, rows, part)
        return state.update(leader_state=self.leader.put_rows(state.leader_state, rows, part.leader_state))


def _pull(pulled, X_new, leaders, pull):
    """X_new − λ (x − x_ℓ), x the pulled parameters: ``leaders`` is the leader row each worker received
    ((1, d) or (p, d))."""
    gap = pulled - leaders
    gap *= pull                    # gap is ours: scale in place
    return X_new - gap


def lsgd_theory(lr: float, pull_theory: float, **kw) -> LSGD:
    """LSGD in the theory's form x⁺ = x − η(g + λ(x − z)): algorithmic pull = η·λ, period 1."""
    lr = check_float(lr, "lr", 0.0, lo_open=True)
    pull_theory = check_float(pull_theory, "pull_theory", 0.0)
    return LSGD(lr=lr, pull=lr * pull_theory, period=1, **kw)
