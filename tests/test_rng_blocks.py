"""Worker-block random streams (issue 12): one worker's rows replayed at the cost of its block."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool, block_bounds, block_rows

xp = resolve("numpy")


def _old_scheme(seed, stream_id):
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream_id,))))


def test_block_rows_from_row_size_only():
    assert block_rows(10) == 6554 and block_rows(1000) == 66 and block_rows(10**5) == 1 and block_rows(0) == 2**16
    assert block_bounds(5, 30000) == [(0, 3), (3, 5)]
    assert all(b[1] - b[0] == block_rows(77) for b in block_bounds(1000, 77)[:-1])


def test_one_block_is_the_old_single_generator_stream():
    s = RandomStreams(11, xp)
    z = s.normal("grad_noise", (512, 10), scale=0.3)
    np.testing.assert_array_equal(z, _old_scheme(11, 0).normal(0.0, 0.3, (512, 10)))
    u = s.uniform("batch", (64, 8))
    np.testing.assert_array_equal(u, _old_scheme(11, 2).random((64, 8)))


def test_many_blocks_differ_from_the_old_stream_and_between_blocks():
    z = RandomStreams(0, xp).normal("grad_noise", (4, 2**16))  # B = 1: four blocks of one worker
    old = _old_scheme(0, 0).standard_normal((4, 2**16))
    np.testing.assert_array_equal(z[0], old[0])  # block 0 is still the old stream
    assert not np.array_equal(z[1], old[1])
    assert abs(np.corrcoef(z[1], z[2])[0, 1]) < 0.02


@pytest.mark.parametrize("shape", [(7, 3), (300, 1000), (5, 40000), (3, 10**5), (9, 7000, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_worker_rows_equal_rows_of_the_vectorized_draw(shape, dtype):
    full = RandomStreams(5, xp, dtype)
    draws = [full.normal("grad_noise", shape, scale=0.7) for _ in range(2)]
    uniforms = full.uniform("dropout", shape)
    ints = full.integers("batch", 1000, shape)
    for i in sorted({0, 1, shape[0] // 2, shape[0] - 1}):
        one = RandomStreams(5, xp, dtype)  # a process that owns worker i only
        for z in draws:
            np.testing.assert_array_equal(one.worker_normal("grad_noise", shape, i, scale=0.7), z[i])
        np.testing.assert_array_equal(one.worker_uniform("dropout", shape, i), uniforms[i])
        np.testing.assert_array_equal(one.worker_integers("batch", 1000, shape, i), ints[i])


def test_worker_draw_costs_its_block_only():
    s = RandomStreams(0, xp)
    s.worker_normal("grad_noise", (512, 10**5), 300)
    assert list(s._gens) == [("grad_noise", 300)]  # one generator made, one row drawn
    with pytest.raises(ValueError, match="worker"):
        s.worker_normal("grad_noise", (4, 3), 4)


@pytest.mark.parametrize("threads", [2, 4])
def test_draws_do_not_depend_on_the_thread_count(threads):
    pool = WorkerPool(threads)
    try:
        for shape in [(100, 10), (64, 5000), (6, 10**5)]:
            a, b = RandomStreams(2, xp), RandomStreams(2, xp, pool=pool)
            for _ in range(2):
                np.testing.assert_array_equal(a.normal("grad_noise", shape, 0.1), b.normal("grad_noise", shape, 0.1))
                np.testing.assert_array_equal(a.integers("batch", 50, shape), b.integers("batch", 50, shape))
    finally:
        pool.close()
