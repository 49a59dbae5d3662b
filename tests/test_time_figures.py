"""The time figures: the breakdown figure's cheap runs have the training runs' timing, exactly."""
from __future__ import annotations

import numpy as np
import pytest

from figures import cluster_time, time_breakdown
from figures.timed import algorithm, step_cap, timed_run
from lsgdsim.clock.clusters import cluster_clock


@pytest.mark.parametrize("method", ["lsgd-authors", "easgd", "allreduce"])
def test_the_schedule_only_run_has_the_training_runs_breakdown(method):
    """A run's timing depends on the clock, the pattern and the seed, not on the numbers: the 2-D quadratic
    replay of ``time-breakdown`` gives the digits-network run of ``cluster-time`` the same time split."""
    cfg = cluster_time.config(quick=True)
    budget, lr = cfg["budget"]["4"], cfg["lr"][method]
    run = timed_run(algorithm(method, lr), 4, cluster_clock("paper", 4), budget, 3, "mlp", 3)
    replay = time_breakdown.schedule_run("paper", method, 4, budget, 3, lr)
    for part in ("compute", "communicate", "wait"):
        assert np.array_equal(run[part], np.asarray(replay.breakdown[part], float)), part
    assert np.array_equal(run["worker_steps"], np.asarray(replay.worker_steps[-1], float))


def test_a_different_seed_changes_the_timing():
    """The comparison above can fail: the compute-time draws follow the seed."""
    budget = cluster_time.config(quick=True)["budget"]["4"]
    a = time_breakdown.schedule_run("paper", "lsgd-authors", 4, budget, 3, 0.05)
    b = time_breakdown.schedule_run("paper", "lsgd-authors", 4, budget, 4, 0.05)
    assert not np.array_equal(a.breakdown["wait"], b.breakdown["wait"])


def test_the_step_cap_is_never_reached_before_the_budget():
    clock = cluster_clock("paper", 16)
    res = time_breakdown.schedule_run("paper", "lsgd", 16, 0.2, 0, 0.05)
    assert res.sim_time[-1] == pytest.approx(0.2, abs=2 * clock.compute.median)
    assert res.worker_steps[-1].max() < step_cap(clock, 0.2)
