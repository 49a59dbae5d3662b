"""Threads over worker blocks (issue 12): bit-identical Results for any thread count."""
from __future__ import annotations

import os

import numpy as np
import pytest

from lsgdsim import algorithms as A
from lsgdsim import objectives as O
from lsgdsim import simulate
from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool, default_threads

CASES = [  # (objective, workers): several blocks each (p·d well above 2^16)
    (O.Rastrigin(dim=3000), 64),
    (O.Quadratic.random(dim=300, cond=10.0, seed=1), 500),
    (O.make_objective("ackley", dim=2000), 48),
]
RULES = [A.LSGD(lr=1e-3, pull=0.1, period=2), A.EASGD(lr=1e-3, period=2),
         A.LSGD(lr=1e-3, pull=0.1, groups=4, global_pull=0.05, momentum=0.5)]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("rule", RULES, ids=lambda a: a.name)
def test_results_bit_identical_for_1_2_4_threads(case, rule):
    obj, p = CASES[case]
    runs = [simulate(obj, rule, workers=p, steps=6, grad_noise=0.3, seed=4, record_every=2, threads=n)
            for n in (1, 2, 4)]
    for other in runs[1:]:
        assert other == runs[0]
        np.testing.assert_array_equal(other.x, runs[0].x)
        np.testing.assert_array_equal(other.f, runs[0].f)


@pytest.mark.parametrize("case", range(2))
def test_blocked_noisy_oracle_is_value_and_grad_plus_the_stream_draw(case):
    obj, p = CASES[case]
    xp = resolve("numpy")
    X = obj.initial_point(p, np.random.default_rng(0))
    ref_v, ref_g = obj.value_and_grad(X)
    ref_g = ref_g + RandomStreams(9, xp).normal("grad_noise", X.shape, scale=0.2)
    pool = WorkerPool(2)
    try:
        v, g = obj.noisy_value_and_grad(X, RandomStreams(9, xp, pool=pool), 0.2)
    finally:
        pool.close()
    np.testing.assert_allclose(v, ref_v, rtol=1e-13, atol=1e-9)  # BLAS on a block may round differently
    np.testing.assert_allclose(g, ref_g, rtol=1e-13, atol=1e-9)


ROW_BY_ROW = [O.make_objective(name, dim=d) for name, d in
              (("ackley", 700), ("styblinski-tang", 700), ("rosenbrock", 700), ("double-well", 700))] + [O.RingSinc()]


@pytest.mark.parametrize("obj", ROW_BY_ROW, ids=lambda o: o.name)
def test_an_objective_evaluated_by_row_blocks_treats_every_row_alone(obj):
    """A block oracle (``Objective._rows_into``, or a kernel with its bits) is the same bits only for an oracle
    whose rows do not depend on each other or on how many there are: each row alone must give the numbers
    it gives among the others."""
    assert obj._value_and_grad_into is not None and not obj._blocks_any_layout
    X = obj.initial_point(37, np.random.default_rng(2))
    vals, G = obj.value_and_grad(X)
    for i in (0, 5, 36):
        v, g = obj.value_and_grad(np.ascontiguousarray(X[i:i + 1]))
        np.testing.assert_array_equal(v, vals[i:i + 1])
        np.testing.assert_array_equal(g, G[i:i + 1])


@pytest.mark.parametrize("obj", ROW_BY_ROW, ids=lambda o: o.name)
@pytest.mark.parametrize("threads", [1, 2])
def test_row_blocks_give_the_whole_oracle_and_its_noise_bit_for_bit(obj, threads):
    xp = resolve("numpy")
    p = 3 * 2**16 // obj.dim + 5        # several worker blocks
    X = obj.initial_point(p, np.random.default_rng(0))
    want_v, want_g = obj.value_and_grad(X)
    want_g += RandomStreams(9, xp).normal("grad_noise", X.shape, scale=0.2)
    pool = WorkerPool(threads)
    try:
        v, g = obj.noisy_value_and_grad(X, RandomStreams(9, xp, pool=pool), 0.2)
    finally:
        pool.close()
    np.testing.assert_array_equal(v, want_v)
    np.testing.assert_array_equal(g, want_g)


@pytest.mark.parametrize("obj", ROW_BY_ROW[:4], ids=lambda o: o.name)
@pytest.mark.parametrize("rule", [A.LSGD(lr=1e-4, pull=0.1, period=2), A.LocalSGD(lr=1e-4, period=2)],
                         ids=lambda a: a.name)
def test_runs_by_row_blocks_equal_the_runs_evaluated_whole(obj, rule, monkeypatch):
    """The same Result as before the objective had its block oracle, whatever the rule leaves X's layout
    (local SGD's averaging leaves it in Fortran order: that X is still evaluated whole)."""
    kw = dict(workers=3 * 2**16 // obj.dim + 5, steps=5, grad_noise=0.1, seed=3, threads=2, record_every=2)
    blocked = simulate(obj, rule, **kw)
    monkeypatch.setattr(type(obj), "_value_and_grad_into", None)
    assert blocked == simulate(obj, rule, **kw)


def test_default_threads_and_bad_threads():
    assert default_threads(8, 10) == 1 and default_threads(512, 1000, on_host=False) == 1
    assert 1 <= default_threads(512, 1000) <= 2
    obj = O.Rastrigin(dim=2)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads"):
            simulate(obj, A.LSGD(lr=0.01), workers=2, steps=2, threads=bad)


def test_fused_rastrigin_terms_match_the_objective():
    """The elementwise terms that CuPy fuses into one kernel, evaluated on NumPy, give the objective."""
    from lsgdsim.objectives._fused import rastrigin_terms
    obj = O.Rastrigin(dim=50, A=7.0)
    X = obj.initial_point(6, np.random.default_rng(3))
    G, terms = rastrigin_terms(np, X, obj.A)
    v, g = obj.value_and_grad(X)
    np.testing.assert_allclose(G, g, rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(np.sum(terms, axis=1) + obj.A * obj.dim, v, rtol=1e-14, atol=1e-10)


@pytest.mark.parametrize("rule", [A.LSGD(lr=1e-3, pull=0.1, period=2, trigger="total"),
                                  A.EASGD(lr=1e-3, period=2, asynchronous=True)], ids=lambda a: a.name)
def test_clock_runs_bit_identical_for_1_and_2_threads(rule):
    """On the virtual clock the oracle is called on some rows at a time; those calls too are made by worker
    blocks whatever the thread count (a quadratic's product over one thread's whole row set rounds
    differently from the same rows by blocks)."""
    from lsgdsim.clock import Clock
    from lsgdsim.clock.compute import Lognormal
    obj = O.Quadratic.random(dim=700, cond=10.0, seed=2)     # 200 x 700: three worker blocks
    runs = [simulate(obj, rule, workers=200, steps=4, grad_noise=0.1, seed=3, threads=n,
                     clock=Clock(compute=Lognormal(0.01, 0.5))) for n in (1, 2)]
    np.testing.assert_array_equal(runs[1].x, runs[0].x)
    np.testing.assert_array_equal(runs[1].f, runs[0].f)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_records_column_mean_is_numpys_mean_bit_for_bit(dtype):
    from lsgdsim.execution.recording import _column_mean
    rng = np.random.default_rng(0)
    for p, d in ((1, 4), (3, 7), (512, 10), (100, 1000), (999, 33)):
        X = (rng.standard_normal((p, d)) * 10.0 ** rng.integers(-3, 4) + rng.standard_normal(d)).astype(dtype)
        got, want = _column_mean(resolve("numpy"), X), X.mean(axis=0, keepdims=True)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dim, workers", [(300, 16), (1000, 32), (1000, 512)])
def test_results_do_not_depend_on_the_blas_thread_count(dim, workers):
    """A product of more than 2^18 multiply-adds runs on several OpenBLAS threads, which round differently
    from one: a run holds BLAS at one thread, so that it equals the same run in a process pool or an MPI
    rank (one BLAS thread each) and on a machine with another number of cores."""
    from threadpoolctl import threadpool_info, threadpool_limits
    obj = O.Quadratic.random(dim=dim, cond=10.0, seed=0)

    def run():
        return simulate(obj, A.LSGD(lr=1e-3, pull=0.1, period=4), workers=workers, steps=5, grad_noise=0.1, seed=0)
    with threadpool_limits(2, user_api="blas"):
        if min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas") < 2:
            pytest.skip("BLAS does not run on two threads here (one core, or a build limited to one)")
        free = run()
    with threadpool_limits(1, user_api="blas"):
        one = run()
    np.testing.assert_array_equal(free.x, one.x)
    np.testing.assert_array_equal(free.f, one.f)


def test_blas_is_held_at_one_thread_until_the_last_run_in_any_thread_leaves():
    """A hold from another Python thread keeps BLAS at one thread after the first holder left; nested holds
    keep it until the outermost leaves, which gives back the thread count BLAS had."""
    import threading

    from threadpoolctl import ThreadpoolController

    from lsgdsim.parallel import BlasOneThread

    blas = ThreadpoolController().select(user_api="blas")
    before = [c.get_num_threads() for c in blas.lib_controllers]
    first, second = BlasOneThread(), BlasOneThread()
    entered, release = threading.Event(), threading.Event()

    def other():
        with second:
            entered.set()
            release.wait(5)
    try:
        with first:
            t = threading.Thread(target=other)
            t.start()
            entered.wait(5)
        assert all(c.get_num_threads() == 1 for c in blas.lib_controllers)   # the other run still holds it
    finally:
        release.set()
        t.join()
        for c, n in zip(blas.lib_controllers, before, strict=True):   # (OpenBLAS takes more threads only
            c.set_num_threads(n)                         # from the main thread: given back here)
    with first:
        with first:
            pass
        assert all(c.get_num_threads() == 1 for c in blas.lib_controllers)
    assert [c.get_num_threads() for c in blas.lib_controllers] == before


def test_the_nn_trainers_thread_count_is_the_blas_limit_from_outside_a_runs_hold():
    """simulate holds BLAS at one thread while it runs; the network trainer, which runs inside simulate,
    still takes its thread count from the limit the process set."""
    from lsgdsim.nn.layers import worker_threads
    from lsgdsim.parallel import BlasOneThread, blas_threads
    outside = blas_threads()
    x = np.empty(1)
    with BlasOneThread():
        assert blas_threads() == outside
        assert worker_threads.count(8, x, 2**20) == min(8, outside, len(os.sched_getaffinity(0)))


def test_an_interrupt_while_the_blas_hold_is_taken_leaves_the_thread_counts_as_they_were(monkeypatch):
    from lsgdsim import parallel

    class Library:
        def __init__(self, n, refuses=False):
            self.n, self.refuses = n, refuses

        def get_num_threads(self):
            return self.n

        def set_num_threads(self, n):
            if self.refuses and n == 1:
                raise KeyboardInterrupt
            self.n = n
    libs = [Library(2), Library(4, refuses=True), Library(3)]
    monkeypatch.setattr(parallel, "_BLAS_CONTROLLERS", libs)
    with pytest.raises(KeyboardInterrupt):
        with parallel.BlasOneThread():
            pass
    assert [lib.n for lib in libs] == [2, 4, 3] and parallel._BLAS_HOLDS == 0
    libs[1].refuses = False
    with parallel.BlasOneThread():
        assert [lib.n for lib in libs] == [1, 1, 1]
    assert [lib.n for lib in libs] == [2, 4, 3]


def test_a_negative_noise_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        RandomStreams(0, resolve("numpy")).normal("grad_noise", (4, 3), scale=-0.1)
