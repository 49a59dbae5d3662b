"""Theory checks: one module per claim of the LSGD paper (and per question it leaves open).

Every check module defines

    NAME, CLAIM                  its id and the claim in words
    LEADER_DEPENDENT             True when the claim is about what the leader adds (then a worst leader
                                 installed with ``leader="worst"`` must make the verdict *fails*)
    measure(quick=False, seed=0, leader=None, controls=True, progress=None) -> CheckRecord
    verdict(record) -> str       one of VERDICTS, a pure function of the record
    summary(record) -> str       one or two plain sentences, a pure function of the record
    key_numbers(record) -> list  rows {"quantity", "measured", ["random", "worst"], "expected"} for the report
    figure(record) -> Figure     drawn from the record alone (never simulates); CAPTION says what it shows

and its docstring states the theorem, the exact reading tested, its assumptions and its source
(PEPit-style). ``CHECKS`` lists them in report order; modules are imported only when run.
:func:`theory_checks.pipeline.run_check` chains the four steps for one check.
"""
from __future__ import annotations

import importlib

from .record import VERDICTS, CheckRecord, CheckResult

CHECKS: dict[str, str] = {}


def register(name: str, module: str) -> None:
    CHECKS[name] = module


def load(name: str):
    """The module of check ``name``; ValueError naming ``only`` if unknown."""
    if name not in CHECKS:
        raise ValueError(f"--only must be one of {', '.join(CHECKS)}; got {name!r}")
    return importlib.import_module(CHECKS[name])


# Report order: the paper's claims (docs/design.md §1, 1–6), then the reviewers' questions.
for _name, _module in [
    ("one-step", "one_step"),                   # claim 1: one-step improvement over SGD
    ("rate", "rate"),                           # claim 2: O(1/t) with η_t = Θ(1/t)
    ("stochastic-leader", "stochastic_leader"), # claim 3: cost of a noisy leader choice
    ("stationary-points", "stationary"),        # claim 4: LSGD keeps stationary points, EASGD moves them
    ("newton-alignment", "newton"),             # claim 5: leaders bring the step closer to Newton's
    ("curse-of-symmetry", "symmetry"),          # claim 6: averaging stalls on symmetric landscapes
    ("leader-stickiness", "stickiness"),        # reviewer 1: does one worker stay the leader?
    ("comm-period", "comm_period"),             # reviewer 2: effect of τ at equal gradient budget
    ("iteration-complexity", "complexity"),     # reviewer 2: LSGD vs EASGD vs SGD vs LocalSGD
    ("multi-leader", "multi_leader"),           # the paper's experiments: local + global leaders
    ("period-rate", "period_rate"),             # reviewer 2: the rate and its constant as functions of τ
    ("same-valley", "same_valley"),             # reviewers 1/2: one valley, or stranded in averaged ones?
    ("saddle-escape", "saddle_escape"),         # reviewer 2: does the leader's pull slow escape from saddles?
    ("leader-or-average", "leader_or_average"), # reviewer 2: evaluate the leader or the average?
    ("communication-efficiency", "communication_efficiency"),  # claim (iv): equal wall-clock time, fast to slow
    ("stragglers", "stragglers"),               # Algorithm 1's total trigger under heavy-tailed step times
]:
    register(_name, f"theory_checks.{_module}")

__all__ = ["CHECKS", "VERDICTS", "CheckRecord", "CheckResult", "load", "register"]
