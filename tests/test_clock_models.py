"""The virtual clock's models in isolation: the keyed generator, compute-time models, the α–β network."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from lsgdsim.clock import compute as C
from lsgdsim.clock import keyed as K
from lsgdsim.clock import network as N

# -- keyed generator -----------------------------------------------------------------------------------
MASK = 2**64 - 1
GAMMA = 0x9E3779B97F4A7C15


def _mix_int(x: int) -> int:
    """SplitMix64 finaliser in Python integers, the reference for the NumPy version."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _hash_int(seed: int, stream: int, worker: int, step: int) -> int:
    h = _mix_int((seed + GAMMA) & MASK)
    h = _mix_int(h ^ ((stream + 3 * GAMMA) & MASK))
    h = _mix_int(h ^ ((worker + 5 * GAMMA) & MASK))
    return _mix_int(h ^ ((step + 7 * GAMMA) & MASK))


def test_keyed_bits_match_the_documented_chain():
    workers = np.array([0, 3, 7])
    steps = np.array([[1, 2], [5, 6], [2**40, 0]])
    for seed, stream in ((0, K.COMPUTE_STREAM), (2**64 - 1, 0), (12345, 7)):
        got = K.keyed_bits(seed, stream, workers, steps)
        want = [[_hash_int(seed, stream, int(w), int(s)) for s in row] for w, row in zip(workers, steps, strict=True)]
        assert got.dtype == np.uint64 and got.shape == (3, 2)
        assert got.tolist() == want


def test_keyed_bits_are_deterministic_and_independent_of_the_batch():
    workers = np.arange(10)
    steps = np.arange(1, 51)[None, :] + np.zeros((10, 1), dtype=np.int64)
    big = K.keyed_bits(5, K.COMPUTE_STREAM, workers, steps)
    np.testing.assert_array_equal(big, K.keyed_bits(5, K.COMPUTE_STREAM, workers, steps))
    assert K.keyed_bits(5, K.COMPUTE_STREAM, [3], [[17]])[0, 0] == big[3, 16]  # alone
    sub = K.keyed_bits(5, K.COMPUTE_STREAM, np.array([7, 2]), np.array([[10, 40], [1, 50]]))
    np.testing.assert_array_equal(sub, [[big[7, 9], big[7, 39]], [big[2, 0], big[2, 49]]])
    col = K.keyed_bits(5, K.COMPUTE_STREAM, workers, np.full((10, 1), 8))  # (n, 1) steps
    np.testing.assert_array_equal(col[:, 0], big[:, 7])
    row = K.keyed_bits(5, K.COMPUTE_STREAM, workers, np.arange(1, 51)[None, :])  # (1, K) steps
    np.testing.assert_array_equal(row, big)


@pytest.mark.parametrize("other", [(6, K.COMPUTE_STREAM), (5, K.COMPUTE_STREAM + 1), (5, 0)])
def test_keyed_bits_differ_across_seeds_and_streams(other):
    workers, steps = np.arange(20), np.arange(1, 101)[None, :]
    a = K.keyed_bits(5, K.COMPUTE_STREAM, workers, steps)
    b = K.keyed_bits(*other, workers, steps)
    assert not np.any(a == b)
    assert len(np.unique(a)) == a.size  # no collisions across workers and steps either


def test_keyed_bits_are_balanced():
    bits = K.keyed_bits(1, 2, np.arange(100), np.arange(1, 1001)[None, :])
    ones = np.array([((bits >> np.uint64(b)) & np.uint64(1)).mean() for b in range(64)])
    np.testing.assert_allclose(ones, 0.5, atol=0.005)  # sd of each mean 0.0016


def test_uniforms_are_strictly_inside_the_unit_interval():
    edge = K.bits_to_uniform(np.array([0, 2**64 - 1], dtype=np.uint64))
    assert 0.0 < edge[0] < 1e-15 and 1 - 1e-15 < edge[1] < 1.0
    u = K.keyed_uniform(3, K.COMPUTE_STREAM, np.arange(200), np.arange(1, 1001)[None, :])
    assert u.shape == (200, 1000) and u.dtype == np.float64
    assert np.all((u > 0) & (u < 1))
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3


def test_normals_have_the_standard_moments_and_distribution():
    z = K.keyed_normal(0, K.COMPUTE_STREAM, np.arange(1000), np.arange(1, 1001)[None, :])
    assert z.shape == (1000, 1000)
    assert abs(z.mean()) < 5e-3 and abs(z.var() - 1) < 1e-2  # sds 1e-3 and 1.4e-3
    sample = z.ravel()[: 2 * 10**5]
    assert stats.kstest(sample, "norm").pvalue > 1e-3
    assert stats.kstest(sample + 0.05, "norm").pvalue < 1e-10  # the test can fail


def test_keyed_draws_emit_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in (0, 1, 2**63, 2**64 - 1):
            K.keyed_bits(seed, 2**64 - 1, np.arange(5), np.full((5, 3), 2**63 - 1))
            K.keyed_normal(seed, 0, np.arange(5), np.arange(3)[None, :])
            K.keyed_uniform(np.uint64(seed), np.int64(3), [0], [[0]])


@pytest.mark.parametrize("call, match", [
    (lambda: K.keyed_bits(-1, 0, [0], [[1]]), "seed"),
    (lambda: K.keyed_bits(0, 2**64, [0], [[1]]), "stream"),
    (lambda: K.keyed_bits(0, 0, [-1], [[1]]), "workers"),
    (lambda: K.keyed_bits(0, 0, [[0]], [[1]]), "workers"),
    (lambda: K.keyed_bits(0, 0, [0.5], [[1]]), "workers"),
    (lambda: K.keyed_bits(0, 0, [0], [1]), "steps"),
    (lambda: K.keyed_bits(0, 0, [0, 1, 2], np.ones((2, 4), dtype=int)), "steps"),
])
def test_keyed_bits_reject_bad_keys(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- compute models ------------------------------------------------------------------------------------
def _many(model, workers=10, steps=10**4, seed=0):
    return model.durations(seed, np.arange(workers), np.zeros(workers, dtype=np.int64), steps)


def test_constant_scalar_and_per_worker():
    d = C.Constant(0.25).durations(0, np.array([0, 5]), np.array([0, 9]), 3)
    np.testing.assert_array_equal(d, np.full((2, 3), 0.25))
    model = C.Constant([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(model.durations(4, np.array([2, 0]), np.array([1, 1]), 2), [[0.3, 0.3], [0.1, 0.1]])
    np.testing.assert_array_equal(model.mean(3), [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(C.Constant(2.0).mean(4), [2.0] * 4)


def test_lognormal_median_and_log_spread():
    model = C.Lognormal([1.0, 3.0], 0.4)
    d = _many(model, workers=2, steps=10**5)
    np.testing.assert_allclose(np.median(d, axis=1), [1.0, 3.0], rtol=0.02)
    np.testing.assert_allclose(np.log(d).std(axis=1), 0.4, rtol=0.02)
    np.testing.assert_allclose(model.mean(2), np.array([1.0, 3.0]) * math.exp(0.08))
    np.testing.assert_allclose(d.mean(axis=1), model.mean(2), rtol=0.01)
    np.testing.assert_array_equal(_many(C.Lognormal(2.0, 0.0), steps=5), 2.0)  # sigma 0: constant


def test_pareto_minimum_and_tail_index():
    model = C.Pareto(0.5, 3.0)
    d = _many(model, workers=10, steps=10**4)
    assert d.min() >= 0.5
    shape_ml = d.size / np.log(d / 0.5).sum()  # maximum likelihood (Hill) estimate of the shape
    assert abs(shape_ml - 3.0) < 0.05  # sd 3/sqrt(1e5) ≈ 0.0095
    np.testing.assert_allclose(model.mean(2), [0.75, 0.75])
    np.testing.assert_allclose(d.mean(), 0.75, rtol=0.01)
    per_worker = C.Pareto([1.0, 2.0], 1.5).durations(0, np.arange(2), np.zeros(2, dtype=int), 1000)
    assert per_worker[0].min() >= 1.0 and per_worker[1].min() >= 2.0
    assert np.all(np.isinf(C.Pareto(1.0, 1.0).mean(3)))


def test_trace_lookup_and_exhaustion():
    times = np.arange(1.0, 13.0).reshape(3, 4)
    model = C.Trace(times)
    np.testing.assert_array_equal(model.durations(0, np.array([2, 0]), np.array([1, 0]), 3),
                                  [[10.0, 11.0, 12.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(model.mean(3), [2.5, 6.5, 10.5])
    with pytest.raises(ValueError, match="compute trace has 4 steps per worker; worker 1 needs step 5"):
        model.durations(0, np.array([0, 1]), np.array([0, 2]), 3)
    with pytest.raises(ValueError, match="3 workers; got worker 3"):
        model.durations(0, np.array([3]), np.array([0]), 1)
    assert model == C.Trace(times.tolist()) and hash(model) == hash(C.Trace(times.copy()))
    assert model != C.Trace(times + 1) and model != C.Constant(1.0)
    times[0, 0] = 99.0  # the model holds its own copy ...
    assert model.times[0, 0] == 1.0
    with pytest.raises(ValueError):  # ... read-only
        model.times[0, 0] = 5.0


@pytest.mark.parametrize("model", [C.Constant([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), C.Lognormal(1.0, 0.7),
                                   C.Pareto([1, 2, 3, 4, 5, 6], 1.2), C.Trace(np.random.default_rng(0).uniform(
                                       0.5, 1.5, (6, 40)))])
def test_durations_are_a_function_of_seed_worker_and_step(model):
    big = model.durations(9, np.arange(6), np.zeros(6, dtype=np.int64), 30)
    assert big.shape == (6, 30) and big.dtype == np.float64
    sub = model.durations(9, np.array([4, 1, 4]), np.array([5, 10, 0]), 3)
    np.testing.assert_array_equal(sub, [big[4, 5:8], big[1, 10:13], big[4, 0:3]])
    assert model.durations(9, np.array([2]), np.array([7]), 1)[0, 0] == big[2, 7]
    assert model.durations(9, np.arange(6), np.zeros(6, dtype=int), 0).shape == (6, 0)
    if not isinstance(model, (C.Constant, C.Trace)):
        assert not np.any(model.durations(10, np.arange(6), np.zeros(6, dtype=int), 30) == big)


def test_lognormal_and_pareto_share_the_compute_stream():
    z = K.keyed_normal(3, K.COMPUTE_STREAM, np.arange(2), np.arange(1, 6)[None, :])
    np.testing.assert_allclose(C.Lognormal(2.0, 0.5).durations(3, np.arange(2), np.zeros(2, dtype=int), 5),
                               2.0 * np.exp(0.5 * z))
    u = K.keyed_uniform(3, K.COMPUTE_STREAM, np.arange(2), np.arange(1, 6)[None, :])
    np.testing.assert_allclose(C.Pareto(2.0, 4.0).durations(3, np.arange(2), np.zeros(2, dtype=int), 5),
                               2.0 * u**-0.25)


@pytest.mark.parametrize("call, match", [
    (lambda: C.Constant(0.0), "Constant seconds must be a finite number > 0"),
    (lambda: C.Constant(-1), "Constant seconds"),
    (lambda: C.Constant(math.inf), "Constant seconds"),
    (lambda: C.Constant([0.1, math.nan]), "every entry of Constant seconds"),
    (lambda: C.Constant([[0.1]]), r"Constant seconds as a sequence must have shape \(workers,\)"),
    (lambda: C.Constant([]), "Constant seconds"),
    (lambda: C.Constant("fast"), "Constant seconds"),
    (lambda: C.Lognormal(-1, 0.1), "Lognormal median must be a finite number > 0; got -1"),
    (lambda: C.Lognormal(1.0, -0.1), "Lognormal sigma must be a finite number >= 0"),
    (lambda: C.Lognormal(1.0, math.nan), "Lognormal sigma"),
    (lambda: C.Pareto(0.0, 2.0), "Pareto minimum"),
    (lambda: C.Pareto(1.0, 0.0), "Pareto shape must be a finite number > 0"),
    (lambda: C.Pareto(1.0, -2.0), "Pareto shape"),
    (lambda: C.Trace(np.ones(4)), "Trace times must be a non-empty 2-D array"),
    (lambda: C.Trace(np.ones((2, 0))), "Trace times must be a non-empty 2-D array"),
    (lambda: C.Trace([[1.0, 0.0]]), "every entry of Trace times"),
    (lambda: C.Trace([[1.0, math.inf]]), "every entry of Trace times"),
    (lambda: C.Constant([0.1, 0.2]).validate(3), "Constant seconds has 2 entries"),
    (lambda: C.Pareto([1.0, 2.0], 2.0).validate(1), "Pareto minimum has 2 entries"),
    (lambda: C.Trace(np.ones((2, 3))).validate(3), "Trace times has 2 rows"),
    (lambda: C.Constant(1.0).validate(0), "workers"),
    (lambda: C.Constant([0.1, 0.2]).durations(0, np.array([2]), np.array([0]), 1), "2 workers; got worker 2"),
    (lambda: C.Constant(1.0).durations(-1, np.array([0]), np.array([0]), 1), "seed"),
    (lambda: C.Constant(1.0).durations(0, np.array([0]), np.array([0]), -1), "count"),
    (lambda: C.Constant(1.0).durations(0, np.array([0, 1]), np.array([0]), 1), "first must have the shape"),
    (lambda: C.Constant(1.0).durations(0, np.array([-1]), np.array([0]), 1), "workers"),
    (lambda: C.Constant(1.0).durations(0, np.array([0]), np.array([0.5]), 1), "first"),
    (lambda: C.compute_from_description({"model": "gamma", "shape": 2}), "compute model must be one of"),
    (lambda: C.compute_from_description({"model": "constant", "secs": 1.0}), "unknown"),
    (lambda: C.compute_from_description({"model": "lognormal", "median": 1.0}), "missing"),
    (lambda: N.Network(-1e-6, 1e9), "Network latency must be a finite number >= 0"),
    (lambda: N.Network(0.0, 0.0), "Network bandwidth must be a finite number > 0"),
    (lambda: N.Network(0.0, -math.inf), "Network bandwidth"),
    (lambda: N.Network(math.nan), "Network latency"),
    (lambda: N.TwoLevel(0, 4, N.Network(), N.Network()), "TwoLevel nodes"),
    (lambda: N.TwoLevel(2, 0, N.Network(), N.Network()), "TwoLevel per_node"),
    (lambda: N.TwoLevel(2, 2, {"network": "flat"}, N.Network()), "TwoLevel intra must be a Network"),
    (lambda: N.TwoLevel(4, 4, N.Network(), N.Network()).validate(12), "TwoLevel nodes x per_node"),
    (lambda: N.Op("reduce_scatter", 8), "Op kind must be one of"),
    (lambda: N.Op("allreduce", -8), "Op nbytes"),
    (lambda: N.Op("broadcast", 8, group=0), "Op group"),
    (lambda: N.Op("server_gather", 8, group=2), "Op group applies to"),
    (lambda: N.Op("exchange", 8), "Op worker is required"),
    (lambda: N.Op("minloc", worker=1), "Op worker"),
    (lambda: N.Network().cost(N.Op("broadcast", 8, group=5), 4), "Op group must divide workers"),
    (lambda: N.TwoLevel(4, 4, N.Network(), N.Network()).cost(N.Op("allreduce", 8, group=12), 16), "Op group"),
    (lambda: N.Network().cost(N.Op("exchange", 8, worker=4), 4), "Op worker must be < workers"),
    (lambda: N.Network().allreduce(0, 8), "ranks"),
    (lambda: N.Network().ptp(-1), "nbytes"),
    (lambda: N.network_from_description({"network": "torus"}), "network must be one of"),
    (lambda: N.network_from_description({"network": "flat", "latency": 0.0, "alpha": 1.0}), "takes keys"),
])
def test_bad_input_is_refused_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- networks ------------------------------------------------------------------------------------------
FLAT = N.Network(latency=1e-5, bandwidth=1e9, algorithms="textbook")        # the formulas, pinned
INTRA, INTER = N.Network(1e-6, 1e10, "textbook"), N.Network(5e-5, 1.25e9, "textbook")
TWO = N.TwoLevel(4, 4, INTRA, INTER)
NB = 4000  # bytes: n/β = 4e-6 s flat, 4e-7 s intra, 3.2e-6 s inter


@pytest.mark.parametrize("p, allreduce, tree, gather, minloc", [
    (1, 0.0, 0.0, 0.0, 0.0),
    (2, 2.4e-5, 1.4e-5, 1.4e-5, 2.0016e-5),                 # 2α + n/β; α + n/β; α + n/β; 2α + 16/β
    (3, 4.5333333333e-5, 2.8e-5, 2.8e-5, 4.0021333333e-5),  # 4α + (4/3)n/β; 2(α + n/β); 2(α + n/β)
    (16, 3.075e-4, 5.6e-5, 2.1e-4, 3.0003e-4),              # 30α + (15/8)n/β; 4(α + n/β); 15(α + n/β)
])
def test_flat_costs_are_the_textbook_formulas(p, allreduce, tree, gather, minloc):
    assert FLAT.ptp(NB) == pytest.approx(1.4e-5, rel=1e-12)
    for got, want in ((FLAT.allreduce(p, NB), allreduce), (FLAT.broadcast(p, NB), tree), (FLAT.reduce(p, NB), tree),
                      (FLAT.gather(p, NB), gather), (FLAT.scatter(p, NB), gather), (FLAT.minloc(p), minloc)):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-18)
    assert FLAT.cost(N.Op("allreduce", NB), p) == pytest.approx(allreduce, rel=1e-9, abs=1e-18)
    assert FLAT.cost(N.Op("broadcast", NB), p) == pytest.approx(tree, rel=1e-9, abs=1e-18)
    assert FLAT.cost(N.Op("minloc", NB), p) == pytest.approx(minloc, rel=1e-9, abs=1e-18)  # nbytes ignored


def test_flat_ops_for_the_server_and_groups():
    assert FLAT.cost(N.Op("server_gather", NB), 16) == pytest.approx(16 * 1.4e-5)  # gather over 17 ranks
    assert FLAT.cost(N.Op("server_scatter", NB), 3) == pytest.approx(3 * 1.4e-5)
    assert FLAT.cost(N.Op("exchange", NB, worker=2), 3) == pytest.approx(2.8e-5)
    assert FLAT.cost(N.Op("allreduce", NB, group=2), 16) == pytest.approx(2.4e-5)
    assert FLAT.cost(N.Op("broadcast", NB, group=4), 16) == pytest.approx(2.8e-5)
    assert N.Network().is_free and not FLAT.is_free and not N.Network(0.0, 1e9).is_free
    assert N.Network().cost(N.Op("allreduce", 10**9), 64) == 0.0


def test_two_level_costs_over_all_workers():
    # allreduce: intra.reduce(4) 2·1.4e-6 + inter.allreduce(4) 6·5e-5 + 1.5·3.2e-6 + intra.broadcast(4) 2.8e-6
    assert TWO.allreduce(NB) == pytest.approx(3.104e-4, rel=1e-9)
    assert TWO.cost(N.Op("allreduce", NB), 16) == pytest.approx(3.104e-4, rel=1e-9)
    # broadcast: inter.broadcast(4) 2·5.32e-5 + intra.broadcast(4) 2.8e-6
    assert TWO.cost(N.Op("broadcast", NB), 16) == pytest.approx(1.092e-4, rel=1e-9)
    # minloc: 2·2·(1e-6 + 1.6e-9) + 6·5e-5 + 1.5·1.28e-8
    assert TWO.cost(N.Op("minloc"), 16) == pytest.approx(3.040256e-4, rel=1e-9)
    assert TWO.minloc() == TWO.cost(N.Op("minloc"), 16)
    # server: 4 workers through intra links, 12 through inter ones
    assert TWO.cost(N.Op("server_gather", NB), 16) == pytest.approx(4 * 1.4e-6 + 12 * 5.32e-5, rel=1e-9)
    assert TWO.cost(N.Op("server_scatter", NB), 16) == pytest.approx(6.44e-4, rel=1e-9)
    assert TWO.cost(N.Op("exchange", NB, worker=3), 16) == pytest.approx(2.8e-6, rel=1e-9)  # node 0
    assert TWO.cost(N.Op("exchange", NB, worker=4), 16) == pytest.approx(1.064e-4, rel=1e-9)  # node 1
    assert TWO.workers == 16 and not TWO.is_free
    with pytest.raises(ValueError, match="TwoLevel nodes x per_node"):
        TWO.cost(N.Op("minloc"), 8)


@pytest.mark.parametrize("group, allreduce, broadcast", [
    (1, 0.0, 0.0),
    (2, 2.4e-6, 1.4e-6),        # inside a node: intra ring 2α + n/β; intra tree α + n/β
    (4, 6.6e-6, 2.8e-6),        # one whole node: 6α + 1.5 n/β; 2(α + n/β)
    (8, 1.088e-4, 5.6e-5),      # two nodes: 2.8e-6 + (2·5e-5 + 3.2e-6) + 2.8e-6; 5.32e-5 + 2.8e-6
    (16, 3.104e-4, 1.092e-4),   # all four nodes
])
def test_two_level_groups_inside_and_across_nodes(group, allreduce, broadcast):
    assert TWO.cost(N.Op("allreduce", NB, group=group), 16) == pytest.approx(allreduce, rel=1e-9, abs=1e-18)
    assert TWO.cost(N.Op("broadcast", NB, group=group), 16) == pytest.approx(broadcast, rel=1e-9, abs=1e-18)


@pytest.mark.parametrize("nodes, per_node, group", [(3, 4, 6), (4, 6, 4), (4, 6, 8), (2, 3, 2)])
def test_two_level_misaligned_group_is_refused(nodes, per_node, group):
    net = N.TwoLevel(nodes, per_node, INTRA, INTER)
    for kind in ("allreduce", "broadcast", "minloc"):
        with pytest.raises(ValueError, match=f"a group of {group} workers must lie in one node or span whole nodes"):
            net.cost(N.Op(kind, NB, group=group), nodes * per_node)


def test_two_level_degenerate_shapes_are_flat_networks():
    one_node = N.TwoLevel(1, 8, INTRA, INTER)  # everything inside one node: the intra ring and tree
    assert one_node.cost(N.Op("allreduce", NB), 8) == pytest.approx(INTRA.allreduce(8, NB))
    assert one_node.cost(N.Op("broadcast", NB), 8) == pytest.approx(INTRA.broadcast(8, NB))
    one_per_node = N.TwoLevel(8, 1, INTRA, INTER)  # one worker a node: the inter network alone
    assert one_per_node.cost(N.Op("allreduce", NB), 8) == pytest.approx(INTER.allreduce(8, NB))
    assert one_per_node.cost(N.Op("broadcast", NB, group=4), 8) == pytest.approx(INTER.broadcast(4, NB))
    same = N.TwoLevel(4, 4, FLAT, FLAT)
    assert same.cost(N.Op("server_gather", NB), 16) == pytest.approx(FLAT.cost(N.Op("server_gather", NB), 16))


# -- descriptions --------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [C.Constant(0.5), C.Constant([0.1, 0.2]), C.Lognormal(1.0, 0.3),
                                   C.Lognormal([1.0, 2.0], 0.0), C.Pareto(0.2, 1.5), C.Pareto([0.2, 0.4], 3.0),
                                   C.Trace([[1.0, 2.0], [3.0, 4.5]])])
def test_compute_description_round_trip(model):
    d = json.loads(json.dumps(model.describe()))
    assert d["model"] == model.name and C.COMPUTE_MODELS[d["model"]] is type(model)
    again = C.compute_from_description(d)
    assert again == model and hash(again) == hash(model)
    np.testing.assert_array_equal(again.durations(1, np.arange(2), np.zeros(2, dtype=int), 2),
                                  model.durations(1, np.arange(2), np.zeros(2, dtype=int), 2))


@pytest.mark.parametrize("net", [N.Network(), FLAT, N.Network(2e-6), TWO,
                                 N.TwoLevel(2, 8, N.Network(), N.Network(1e-5, 1e9))])
def test_network_description_round_trip(net):
    d = json.loads(json.dumps(net.describe()))
    assert net.describe() == d
    assert N.network_from_description(d) == net


def test_network_descriptions_read_inf_bandwidth():
    assert N.Network().describe() == {"network": "flat", "latency": 0.0, "bandwidth": "inf", "algorithms": "tuned"}
    assert N.network_from_description({"network": "flat", "latency": 1e-6, "bandwidth": 5e9}) == N.Network(1e-6, 5e9)
    assert N.network_from_description({"network": "flat", "bandwidth": math.inf}) == N.Network()
    assert TWO.describe()["inter"] == {"network": "flat", "latency": 5e-5, "bandwidth": 1.25e9,
                                       "algorithms": "textbook"}


@pytest.mark.parametrize("p", [1, 2, 3, 8, 16])
@pytest.mark.parametrize("n", [16, 4_000, 4_000_000])
def test_tuned_collectives_cost_the_cheaper_of_their_two_algorithms(p, n):
    a, b = 5e-5, 1.25e9
    tuned = N.Network(a, b)
    ring = 2 * (p - 1) * a + 2 * (p - 1) / p * n / b
    tree = math.ceil(math.log2(p)) * (a + n / b)
    scatter_allgather = 0.0 if p == 1 else (math.ceil(math.log2(p)) + p - 1) * a + 2 * (p - 1) / p * n / b
    assert tuned.ring_allreduce(p, n) == pytest.approx(ring, abs=1e-15)
    assert tuned.tree(p, n) == pytest.approx(tree, abs=1e-15)
    assert tuned.scatter_allgather(p, n) == pytest.approx(scatter_allgather, abs=1e-15)
    assert tuned.allreduce(p, n) == pytest.approx(min(ring, tree), abs=1e-15)
    assert tuned.broadcast(p, n) == pytest.approx(min(tree, scatter_allgather), abs=1e-15)
    assert tuned.minloc(p) == pytest.approx(min(2 * (p - 1) * a + 2 * (p - 1) / p * 16 / b,
                                                math.ceil(math.log2(p)) * (a + 16 / b)), abs=1e-15)


def test_tuned_pricing_picks_by_size_as_mpi_does():
    tuned, textbook = N.Network(5e-5, 1.25e9), N.Network(5e-5, 1.25e9, "textbook")
    # a long broadcast to 16 workers: scatter + allgather, no dearer than a ring all-reduce of it
    assert tuned.broadcast(16, 4 * 10**6) < textbook.broadcast(16, 4 * 10**6)
    assert tuned.broadcast(16, 4 * 10**6) <= tuned.allreduce(16, 4 * 10**6) * 1.01
    assert textbook.broadcast(16, 4 * 10**6) > 1.7 * textbook.allreduce(16, 4 * 10**6)   # the textbook artefact
    # a short all-reduce (a min-loc): recursive doubling, 4 latencies instead of 30
    assert tuned.minloc(16) == pytest.approx(4 * (5e-5 + 16 / 1.25e9))
    assert textbook.minloc(16) > 7 * tuned.minloc(16)
    with pytest.raises(ValueError, match="Network algorithms"):
        N.Network(algorithms="fastest")
