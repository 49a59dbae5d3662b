"""Typed, immutable rule state: one frozen dataclass per rule family, replaced (never mutated) each step.

Every state has ``hyper`` (name -> :class:`~lsgdsim.schedules.Hyper`) and ``velocity`` (the (p, d)
momentum buffers, None without momentum), and answers two questions the run loop and the trainer ask:

- :meth:`State.held_center`: the point the rule keeps besides the workers, (d,), or None:
  the EASGD center c, the DOWNPOUR server s; None for SGD, all-reduce SGD, LocalSGD and LSGD.
  This is ``Result.center``.
- :meth:`State.consensus`: the rule's answer, (1, d): the EASGD center, the DOWNPOUR server, the
  LSGD leader x_ℓ (of the last communication; the worker mean before any), and the worker mean for
  LocalSGD, SGD and all-reduce SGD.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ..backend import namespace, take_row


@dataclass(frozen=True)
class State:
    """What every rule keeps: hyperparameters on the run's backend and optional momentum buffers."""

    hyper: dict
    velocity: Any = None            # (p, d) momentum buffers, or None (momentum = 0)

    def held_center(self):
        """The point the rule keeps besides the workers (d,), or None (see the module docstring)."""
        return None

    def consensus(self, X):
        """The rule's single answer (1, d) given the workers X (p, d)."""
        center = self.held_center()
        if center is not None:
            return center[None, :]
        return namespace(X).mean(X, axis=0, keepdims=True)

    def update(self, **changes):
        """A copy with ``changes`` (the state is frozen; a subclass keeps its own fields)."""
        return replace(self, **changes)

    # -- the per-worker part (the clock's executor advances a subset of workers at a time) ------------
    per_worker: ClassVar[tuple[str, ...]] = ("velocity",)   # fields with one row per worker (p, ...)

    def take_rows(self, rows):
        """This state for the workers ``rows`` (an int array): their rows of the per-worker fields and
        of per-worker hyperparameters; the shared fields (center, server, leader) as they are."""
        changes = {name: getattr(self, name)[rows] for name in self.per_worker if getattr(self, name) is not None}
        return replace(self, hyper={k: h.take(rows) for k, h in self.hyper.items()}, **changes)

    def put_rows(self, rows, part) -> State:
        """Write the per-worker fields of ``part`` (a :meth:`take_rows` state, advanced) back into rows
        ``rows``, in place: for an executor's own state only (a rule never modifies its input)."""
        for name in self.per_worker:
            full = getattr(self, name)
            if full is not None:
                full[rows] = getattr(part, name)
        return self


@dataclass(frozen=True)
class CenterState(State):
    """EASGD: the elastic center c (d,)."""

    center: Any = None

    def held_center(self):
        return self.center


@dataclass(frozen=True)
class ServerState(State):
    """DOWNPOUR: the server s (d,) and each worker's accumulated displacement since its last push (p, d)."""

    server: Any = None
    accumulated: Any = None
    per_worker: ClassVar[tuple[str, ...]] = ("velocity", "accumulated")

    def held_center(self):
        return self.server


@dataclass(frozen=True)
class LeaderState(State):
    """LSGD: the leader rule's own state and the leader of the last communication (0-d index or None)."""

    leader_state: Any = None
    leader: Any = None

    def consensus(self, X):
        if self.leader is None:
            return super().consensus(X)
        return take_row(X, self.leader)


@dataclass(frozen=True)
class AuthorsState(LeaderState):
    """LSGD as the authors ran it: also the leader copies stored at the last communications, each worker's
    copy of its group leader (p, d) and the global leader's (1, d) (None before the first)."""

    local_copy: Any = None
    global_copy: Any = None
    per_worker: ClassVar[tuple[str, ...]] = ("velocity", "local_copy")
