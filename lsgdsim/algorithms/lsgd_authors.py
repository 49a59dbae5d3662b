"""LSGD as the authors ran it (yunfei-teng/LSGD, codes/worker_stoc_optim.py and worker_dist_optim.py;
digest §5.3–5.4), beside the synchronous theory form of :mod:`.lsgd`.

Where the two differ: the pull acts after the local step, toward the leader's parameters after its own
step; the two levels are applied one after the other (the global leader's parameters already pulled
toward its group's leader); pulls are convex combinations, mix(x, z, c) = (1 − c)·x + c·z, as the code
computes them; and after every local step two *proximal* pulls toward the leader copies stored at the
last communication. With η the learning rate, Nesterov momentum μ, c₁, c₂ the pulls, p₁, p₂ the proximal
strengths, τ = ``period`` (l_comm) and τ_G = ``global_period`` (g_comm), each step t of worker i is

    v ← μ v + g;   x ← x − η (g + μ v)                           local step (Nesterov), g at x
    x ← mix(x, z̃_G, p₂/τ_G)                                      toward the stored global leader copy
    x ← mix(x, z̃_j, p₁/τ)        (groups > 1)                    toward the stored copy of its group's leader
    at comm(τ), groups > 1:   z̃_j ← x_{ℓ_j};  x ← mix(x, z̃_j, c₁)     ℓ_j: its group's leader
    at comm(τ_G):             z̃_G ← x_ℓ;      x ← mix(x, z̃_G, c₂)     ℓ: the leader of all workers

with every right-hand side at the parameters the previous line left, the leaders chosen from each
worker's window of its last ``size`` mini-batch losses (zero-initialised, as the code's AverageMeter),
and no proximal pull toward a copy before its first communication. With one group (``groups=1``) only the
global leader is used, as in the code's HEAD (c₂ every τ_G; τ_G defaults to τ). The trigger is Algorithm
1's (a round when the total of local steps reaches a multiple of p·τ); in lockstep it is every τ steps.
Defaults are the authors' (train.sh, options.py): c₁ = c₂ = 0.1, p₁ = p₂ = 0.1, a window of 10, Nesterov
momentum 0.9.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..backend import namespace
from ..clock.network import Op
from ..leaders import LeaderRule, Window
from ..validate import set_fields
from .base import StepInput
from .lsgd import LSGD
from .state import AuthorsState


def mix(x, target, c):
    """The authors' convex combination (1 − c)·x + c·target (their pulls, written as they compute them)."""
    return (1 - c) * x + c * target


@dataclass(frozen=True, kw_only=True)
class LSGDAuthors(LSGD):
    """LSGD as the authors ran it; see the module docstring for the exact update."""

    pull: Any = 0.1
    global_pull: Any = 0.1
    proximal: Any = 0.1
    global_proximal: Any = 0.1
    leader: LeaderRule = field(default_factory=lambda: Window(10, zero_init=True))
    momentum: float = 0.9
    nesterov: bool = True
    trigger: str = "total"

    name = "lsgd-authors"
    # the leader rule a spec or the CLI gives when they name none (and a flat "window" keeps zero_init)
    flat_leader: ClassVar[dict] = {"rule": "window", "size": 10, "zero_init": True}
    state_type = AuthorsState

    def _hypers(self, workers):
        return {**super()._hypers(workers), "proximal": (self.proximal, 0.0, 1.0, False),
                "global_proximal": (self.global_proximal, 0.0, 1.0, False)}

    def validate_config(self):
        if self.order is None:
            set_fields(self, order="after")
        super().validate_config()
        if self.order != "after":
            raise ValueError("order must be 'after' for lsgd-authors: the authors pull after the local step")

    def _implicit(self):
        return {}

    @property
    def _local(self) -> bool:
        return self.groups > 1

    # -- the seam ----------------------------------------------------------------------------------
    def communications(self):
        return {**({"local": self.period} if self._local else {}), "global": self._global_period}

    def local_update(self, X, state, inp: StepInput):
        X, state = super().local_update(X, state, inp)
        hyper, t = state.hyper, inp.t
        if state.global_copy is not None:
            X = mix(X, state.global_copy, hyper["global_proximal"].at(t) / self._global_period)
        if self._local and state.local_copy is not None:
            X = mix(X, state.local_copy, hyper["proximal"].at(t) / self.period)
        return X, state

    def communicate(self, X, X_new, state, due, inp: StepInput):
        t, hyper, comm_ = inp.t, state.hyper, inp.comm
        local, glob = "local" in due, "global" in due
        scores = self.leader.scores(state.leader_state, inp.exact_values, inp.streams)
        best, local_best = comm_.min_loc(scores, self.groups if local else 1, local_only=local and not glob)
        events = {"leader": best}
        if local:
            received = comm_.broadcast_groups(X_new, local_best)
            X_new = mix(X_new, received, hyper["pull"].at(t))
            state = state.update(local_copy=received + namespace(received).zeros_like(X_new))
            events["local_leaders"] = local_best
        if glob:
            received = comm_.broadcast(X_new, best)               # the leader's parameters after the local pull
            X_new = mix(X_new, received, hyper["global_pull"].at(t))
            state = state.update(global_copy=received)
        return X_new, state.update(leader=best), events

    def round_ops(self, due, workers, nbytes):
        group = workers // self.groups if self._local else None
        ops = [Op("minloc", group=group if "global" not in due else None)]
        if "local" in due:
            ops.append(Op("broadcast", nbytes, group=group))
        if "global" in due:
            ops.append(Op("broadcast", nbytes))
        return ops

    def _silent(self, name, t, state):
        return False              # a round also stores the leader copies, whatever its pull

    def active_communications(self, state):
        return self.communications()


def lsgd_authors(lr: float = 0.01, **kw) -> LSGDAuthors:
    """LSGD as the authors ran it, with their defaults (module docstring); keywords override them."""
    return LSGDAuthors(lr=lr, **kw)
