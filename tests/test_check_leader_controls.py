"""Every check about the leader fails when the leader is no better than an ordinary worker.

Beside the worst leader (each check's own test), two leaders that are not wrong, just not the rule's:
a random worker (``leader="random"``) and the worker of middle rank in each group and replica run
(``leader="mid"``, :class:`lsgdsim.leaders.MidRanked`). A check whose verdict survives them cannot tell
the rule's leader from any worker. Four checks test these two in their own files, with more detail.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import theory_checks
from lsgdsim import algorithms, leaders, objectives, simulate
from theory_checks.pipeline import run_check

OWN_TESTS = {"period-rate": "test_check_period_rate.py", "leader-or-average": "test_check_leader_or_average.py",
             "communication-efficiency": "test_check_communication_efficiency.py",
             "stragglers": "test_check_stragglers.py"}
DEPENDENT = [n for n in theory_checks.CHECKS if theory_checks.load(n).LEADER_DEPENDENT]


@pytest.mark.parametrize("leader", ["random", "mid"])
@pytest.mark.parametrize("name", [n for n in DEPENDENT if n not in OWN_TESTS])
def test_a_leader_no_better_than_an_ordinary_worker_fails_the_check(name, leader):
    rec = run_check(name, quick=True, leader=leader, controls=False)
    assert rec.verdict == "fails", rec.summary
    assert rec.meta["leader"] == leader


def test_the_checks_tested_elsewhere_are_tested_there():
    for name, file in OWN_TESTS.items():
        text = (Path(__file__).parent / file).read_text()
        assert name in DEPENDENT and '"random"' in text and '"mid"' in text


def test_the_mid_ranked_leader_is_ranked_within_each_group():
    q = objectives.Quadratic.random(dim=4, cond=10.0, seed=0)
    alg = algorithms.LSGD(lr=0.05, pull=0.2, groups=2, global_pull=0.0, leader=leaders.MidRanked())
    res = simulate(q, alg, workers=8, steps=6, seed=1, record_every=1)
    assert alg.leader.groups == 2                               # LSGD hands its groups to the rule
    f = res.f[:-1]                                              # the leader is chosen from f at step t − 1
    for t, group_leaders in enumerate(res.local_leaders):
        for j, lead in enumerate(group_leaders):
            rows = f[t, 4 * j:4 * j + 4]
            assert lead == 4 * j + int(np.argsort(rows, stable=True)[2])       # rank ⌊4/2⌋ = 2 within its group
