"""Leader controls: the same check run with a random or a worst leader, to show what the right leader adds.

A check about LSGD must be able to fail when the leader is wrong. Every check whose claim involves the
leader builds the leader rule of its LSGD runs with :func:`leader_rule`, so that

- ``measure(leader="worst")`` installs :class:`lsgdsim.leaders.Worst` (the rule's scores negated: the
  worst worker leads) in every LSGD run of the check, and its verdict must then be *fails*;
- ``measure(leader="random")`` installs :class:`lsgdsim.leaders.Random` (a uniformly random leader);
- ``measure(leader="mid")`` installs :class:`lsgdsim.leaders.MidRanked` (the rule's mid-ranked worker of
  each group leads: no better than an ordinary worker); with either, the verdict must be *fails* too;
- ``measure(controls=True)`` (the default) also measures the LSGD-specific quantities under both
  controls in the same setting and stores them in ``record.controls``.
"""
from __future__ import annotations

from lsgdsim import leaders

MODES = ("random", "worst")                 # the controls every check measures beside the right leader
INSTALLABLE = (*MODES, "mid")              # the leaders a check can be run with instead of the right one


def check_mode(mode: str | None) -> str | None:
    """``mode`` if it is None or one of INSTALLABLE; ``ValueError`` naming ``leader`` otherwise."""
    if mode is not None and mode not in INSTALLABLE:
        raise ValueError(f"leader must be one of {', '.join(INSTALLABLE)} (or omitted for the right leader); "
                         f"got {mode!r}")
    return mode


def leader_rule(rule: leaders.LeaderRule | None = None, mode: str | None = None) -> leaders.LeaderRule:
    """The rule an LSGD run of a check uses: ``rule`` (default exact), or its control under ``mode``."""
    rule = leaders.Exact() if rule is None else rule
    check_mode(mode)
    if mode == "worst":
        return leaders.Worst(rule)
    if mode == "random":
        return leaders.Random()
    if mode == "mid":
        return leaders.MidRanked(rule)
    return rule


def control_modes(leader: str | None, controls: bool) -> tuple[str, ...]:
    """The control modes a check should also measure: both, unless a control is installed or they are off."""
    return MODES if (controls and leader is None) else ()


def with_reference(modes: tuple[str, ...], leader: str | None) -> tuple[str, ...]:
    """The leader modes a check runs beside its main runs: its controls, plus the random-leader reference
    every leader-dependent verdict compares the rule's leader with (measured in every mode, so that a random
    or mid-ranked leader installed fails). Not repeated when the installed leader is itself random: the main
    runs are then the reference (see :func:`reference`)."""
    return modes if "random" in modes or leader == "random" else (*modes, "random")


def reference(leader: str | None, main, by_mode: dict):
    """The random-leader reference: the main runs when the installed leader is random, else the runs of the
    "random" mode in ``by_mode`` (a control or the reference :func:`with_reference` added)."""
    return main if leader == "random" else by_mode["random"]
