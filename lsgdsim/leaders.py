"""Leader selection rules: which worker is the leader at a communication.

A rule turns what the workers know about their losses into one score per worker; the leader is the
argmin (ties go to the lowest index, docs/design.md §3). Three rules, matching the paper's readings:

- :class:`Exact`: the true f(x_i) at step t − 1 (LGD / the deterministic theory);
- :class:`Noisy`: an unbiased estimate f(x_i) + σ_f·ξ_i, ξ_i ~ N(0, 1) drawn fresh at every
  communication (the stochastic-leader theorem, digest §3.3);
- :class:`Window`: the running mean of each worker's last ``size`` observed mini-batch losses, as in
  the authors' code (``AverageMeter``, digest §5.3). Observed losses are those the oracle returns at the
  pre-update parameters, plus optional N(0, σ²) noise when the oracle itself is exact.

Two *control* rules make a check able to fail when the leader is wrong (theory_checks use them as
controls, and ``lsgdsim check --leader worst`` installs one everywhere):

- :class:`Worst`: another rule's scores negated, so the worst worker by that rule leads;
- :class:`Random`: a leader drawn uniformly at random at each communication (stream "leader_choice").

Rules are pure: ``init`` makes a state, ``observe`` folds in one step's losses, ``scores`` reads it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import namespace
from .validate import check_bool, check_float, check_int, set_fields


class LeaderRule:
    """Base class for leader-selection rules."""

    observes_every_step = False  # Window needs every step's losses; the others only the comm steps

    def __post_init__(self):
        self.validate()  # fail at construction: nothing in a rule depends on the worker count

    def validate(self) -> None:
        """Raise ValueError naming a bad field (also normalises NumPy scalars to Python numbers)."""

    def init(self, workers: int, xp, dtype):
        return None

    def observe(self, state, losses, streams):
        return state

    def scores(self, state, exact_values, streams):
        """Scores (p,) at a communication; ``exact_values()`` gives f(x_i) at step t − 1 on demand."""
        raise NotImplementedError

    # A rule's state may hold one column per worker (the window's buffer); the clock's executor observes a
    # subset of workers at a time through these two (the default: the state holds nothing per worker).
    def take_rows(self, state, rows):
        """The part of ``state`` that ``observe`` needs for the workers ``rows`` (an int array)."""
        return state

    def put_rows(self, state, rows, part):
        """``state`` with the workers ``rows`` replaced by ``part`` (from :meth:`take_rows`, observed)."""
        return state

    def for_groups(self, groups: int) -> LeaderRule:
        """The rule as LSGD with ``groups`` groups uses it (a control that ranks within groups needs them)."""
        return self

    def describe(self) -> dict:
        return {"rule": type(self).__name__.lower(), **self.__dict__}


@dataclass(frozen=True)
class Exact(LeaderRule):
    """Leader = argmin of the exact objective values."""

    def scores(self, state, exact_values, streams):
        return exact_values()


@dataclass(frozen=True)
class Noisy(LeaderRule):
    """Leader = argmin of f(x_i) + sigma·ξ_i, fresh ξ ~ N(0, 1) per worker per communication."""

    sigma: float = 0.1

    def validate(self):
        set_fields(self, sigma=check_float(self.sigma, "leader noise sigma", 0.0))

    def scores(self, state, exact_values, streams):
        f = exact_values()
        if self.sigma == 0:
            return f
        return f + streams.normal("loss_noise", (f.shape[0],), scale=self.sigma)


@dataclass(frozen=True)
class Window(LeaderRule):
    """Leader = argmin of the mean of each worker's last ``size`` observed losses.

    The mean is over the slots filled so far (the authors' buffer is zero-initialised and so biased
    low for its first ``size − 1`` steps; ``zero_init=True`` reproduces that quirk). In lockstep every
    worker has filled as many slots, so ``zero_init`` only scales all scores alike and never changes
    which worker leads; it changes the leader only where workers have seen different numbers of losses
    (on the clock under Algorithm 1's total trigger or with unequal speeds).
    """

    size: int = 10
    sigma: float = 0.0
    zero_init: bool = False
    observes_every_step = True

    def validate(self):
        set_fields(self, size=check_int(self.size, "window size", 1),
                   sigma=check_float(self.sigma, "window loss noise sigma", 0.0),
                   zero_init=check_bool(self.zero_init, "window zero_init"))

    def init(self, workers, xp, dtype):
        return {"buffer": xp.zeros((self.size, workers), dtype=dtype), "count": 0}

    def observe(self, state, losses, streams):
        """Fold in one step's losses (p,). ``count`` is the number of losses each worker has seen: one int
        when every worker has seen as many (lockstep), or an int array (p,) on the clock."""
        if self.sigma > 0:
            losses = losses + streams.normal("loss_noise", (losses.shape[0],), scale=self.sigma)
        xp = namespace(losses)
        count = state["count"]
        slot = count % self.size if isinstance(count, int) else xp.asarray(count % self.size)[None, :]
        # Replace one row of the circular buffer (functional update keeps array-api-strict happy).
        rows = xp.arange(self.size)[:, None]
        buf = xp.where(rows == slot, losses[None, :], state["buffer"])
        return {"buffer": buf, "count": count + 1}

    def scores(self, state, exact_values, streams):
        xp = namespace(state["buffer"])
        count = state["count"]
        if self.zero_init:
            filled = self.size
        elif isinstance(count, int):
            filled = max(1, min(count, self.size))
        else:
            filled = xp.asarray(np.clip(count, 1, self.size), dtype=state["buffer"].dtype)
        return xp.sum(state["buffer"], axis=0) / filled

    def take_rows(self, state, rows):
        count = state["count"]
        count = np.full(len(rows), count) if isinstance(count, int) else count[rows]
        return {"buffer": state["buffer"][:, rows], "count": count}

    def put_rows(self, state, rows, part):
        p = state["buffer"].shape[1]
        count = state["count"]
        count = np.full(p, count) if isinstance(count, int) else count.copy()
        count[rows] = part["count"]
        buffer = state["buffer"].copy()
        buffer[:, rows] = part["buffer"]
        return {"buffer": buffer, "count": count}


class _Wrapping(LeaderRule):
    """A control built on another rule ``self.rule``: it observes and stores what that rule does and only
    changes the scores (Worst, MidRanked)."""

    rule: LeaderRule

    @property
    def observes_every_step(self) -> bool:  # type: ignore[override]
        return self.rule.observes_every_step

    def validate(self):
        if not isinstance(self.rule, LeaderRule):
            raise ValueError(f"{type(self).__name__} needs a leader rule to build on; got {self.rule!r}")
        self.rule.validate()

    def init(self, workers, xp, dtype):
        return self.rule.init(workers, xp, dtype)

    def observe(self, state, losses, streams):
        return self.rule.observe(state, losses, streams)

    def take_rows(self, state, rows):
        return self.rule.take_rows(state, rows)

    def put_rows(self, state, rows, part):
        return self.rule.put_rows(state, rows, part)


@dataclass(frozen=True)
class Worst(_Wrapping):
    """Control: the worker with the HIGHEST score of ``rule`` leads (its scores negated).

    With ``Worst(Exact())`` every pull goes toward the worst worker, the opposite of what LSGD is about;
    a check whose verdict survives it does not test anything the leader contributes.
    """

    rule: LeaderRule = Exact()

    def scores(self, state, exact_values, streams):
        return -self.rule.scores(state, exact_values, streams)

    def describe(self) -> dict:
        return {"rule": "worst", "of": self.rule.describe()}


@dataclass(frozen=True)
class Random(LeaderRule):
    """Control: a leader drawn uniformly at random among the workers at every communication.

    Scores are i.i.d. uniform draws (stream "leader_choice"), so the argmin is uniform over the workers
    (and over each group for multi-leader LSGD). It keeps everything of LSGD but the choice.
    """

    def init(self, workers, xp, dtype):
        return workers

    def scores(self, state, exact_values, streams):
        return streams.uniform("leader_choice", (state,))

    def describe(self) -> dict:
        return {"rule": "random"}


@dataclass(frozen=True)
class MidRanked(_Wrapping):
    """Control: a worker of middling rank leads: in each group of l workers, the one ranked ⌊l/2⌋ (0 = best)
    by ``rule``'s scores; with l ≥ 2 never the group's best (l = 2: its worst).

    Ranked within each group, so that groups that are independent runs (the checks' replica runs) each get
    their own mid-ranked leader; LSGD hands its ``groups`` over (:meth:`LeaderRule.for_groups`). The global
    leader (the argmin over all workers of these scores) is then the first group's mid-ranked worker. A
    leader no better than an ordinary worker: a check about the leader must fail with it.
    """

    rule: LeaderRule = Exact()
    groups: int = 1

    def validate(self):
        super().validate()
        set_fields(self, groups=check_int(self.groups, "mid-ranked groups", 1))

    def for_groups(self, groups: int) -> MidRanked:
        return self if groups == self.groups else MidRanked(self.rule, groups)

    def scores(self, state, exact_values, streams):
        s = self.rule.scores(state, exact_values, streams)
        xp = namespace(s)
        blocks = xp.reshape(s, (self.groups, -1))
        ranks = xp.argsort(xp.argsort(blocks, axis=1, stable=True), axis=1, stable=True)
        return xp.reshape(xp.abs(ranks - blocks.shape[1] // 2), (-1,))       # 0 at each group's mid rank

    def describe(self) -> dict:
        return {"rule": "midranked", "of": self.rule.describe(), "groups": self.groups}


RULES = {"exact": Exact, "noisy": Noisy, "window": Window}
CONTROLS = {"worst": Worst, "random": Random, "midranked": MidRanked}


def make_rule(name: str, sigma: float | None = None, window: int | None = None) -> LeaderRule:
    """Build a rule from CLI-style options: 'exact', 'noisy' (sigma), 'window' (window, sigma).

    An option the rule does not take is an error, not ignored: ``make_rule("exact", sigma=0.1)`` and
    ``make_rule("noisy", window=5)`` raise ValueError. Defaults: sigma 0 (noisy, window), window 10.
    """
    if name not in RULES:
        raise ValueError(f"leader must be one of {', '.join(RULES)}; got {name!r}")
    if name == "exact" and sigma is not None:
        raise ValueError("sigma does not apply to the exact leader rule (it uses the true f); use 'noisy' or 'window'")
    if name != "window" and window is not None:
        raise ValueError(f"window does not apply to the {name} leader rule; use 'window'")
    sigma = 0.0 if sigma is None else sigma
    if name == "exact":
        return Exact()
    return Noisy(sigma=sigma) if name == "noisy" else Window(10 if window is None else window, sigma)
