"""Per-worker replay of the run's random streams (lsgdsim.execution.rowstreams): worker i's n-th draw is row
i of lockstep's n-th (p, ...) draw, whatever order the workers draw in."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.execution.rowstreams import RowStreams

XP = resolve("numpy")


def lockstep_draws(p, d, n, name="grad_noise", kind="normal"):
    streams = RandomStreams(5, XP)
    if kind == "normal":
        return [streams.normal(name, (p, d), scale=0.3) for _ in range(n)]
    return [streams.integers(name, 50, (p, d)) for _ in range(n)]


@pytest.mark.parametrize("p, d", [(6, 4), (40, 5000)], ids=["one block", "blocks of 14 workers"])
@pytest.mark.parametrize("cache", [64 * 2**20, 1], ids=["cached", "made again"])
def test_any_order_of_draws_gives_each_worker_its_lockstep_rows(p, d, cache):
    n = 6
    truth = lockstep_draws(p, d, n)
    rs = RowStreams(RandomStreams(5, XP), p, cache_bytes=cache)
    rng = np.random.default_rng(0)
    counts = np.zeros(p, dtype=int)
    while counts.min() < n:      # random subsets of the workers that still have draws to make
        rows = np.flatnonzero((rng.random(p) < 0.4) & (counts < n))
        if not rows.size:
            continue
        got = rs.view(rows).normal("grad_noise", (rows.size, d), scale=0.3)
        for j, i in enumerate(rows):
            assert np.array_equal(got[j], truth[counts[i]][i]), (i, counts[i])
        counts[rows] += 1
    assert not rs.saved and not rs.cache            # everything consumed is forgotten


def test_all_workers_at_the_same_count_is_the_lockstep_call_itself():
    p, d = 8, 3
    truth = lockstep_draws(p, d, 3, name="batch", kind="integers")
    rs = RowStreams(RandomStreams(5, XP), p)
    for k in range(3):
        assert rs.aligned("batch")
        assert np.array_equal(rs.view(np.arange(p)).integers("batch", 50, (p, d)), truth[k])
    assert not rs.saved


def test_a_stream_drawn_with_two_block_layouts_is_refused():
    rs = RowStreams(RandomStreams(0, XP), 40)
    rs.view(np.arange(3)).normal("dropout", (3, 5000))
    with pytest.raises(ValueError, match="rows of different sizes"):
        rs.view(np.arange(3)).normal("dropout", (3, 10))
    with pytest.raises(ValueError, match="first axis"):
        rs.view(np.arange(3)).normal("grad_noise", (4, 10))
