"""The compiled kernels (lsgdsim/kernels.py, numba) give NumPy's own bits, and are only used when they do."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsgdsim import algorithms as A
from lsgdsim import kernels, simulate
from lsgdsim import objectives as O
from lsgdsim.parallel import WorkerPool

numba = pytest.importorskip("numba")


def needs_rastrigin_kernel():
    """Rastrigin's kernel agrees with NumPy only where NumPy's float64 sin and cos are the C library's (as
    here); elsewhere its check turns it off — a property of the platform, not a fault: skip."""
    if kernels.kernel("rastrigin") is None:
        pytest.skip(f"Rastrigin's kernel is off on this platform: {kernels.status()}")


@pytest.fixture(autouse=True)
def kernels_allowed(monkeypatch):
    """These tests are about the kernels: a LSGDSIM_KERNELS=numpy in the caller's environment does not apply."""
    monkeypatch.delenv(kernels.ENV, raising=False)


@pytest.fixture
def any_size(monkeypatch):
    """The kernels on arrays of any size (a run leaves arrays under kernels.MIN_ELEMENTS to NumPy); the
    same setting for every example hypothesis draws, so a function-scoped fixture is fine there."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)


@pytest.fixture
def fresh(monkeypatch):
    """kernels decides once per process: forget that decision for the test, restore it afterwards."""
    monkeypatch.setattr(kernels, "_state", {})
    monkeypatch.delenv(kernels.ENV, raising=False)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def assert_same_bits(got, want):
    assert np.array_equal(bits(got), bits(want)), f"{np.count_nonzero(bits(got) != bits(want))} numbers differ"


def assert_same_pair(got, want):
    """Both arrays of a pair (values and gradients, or the two distance rows) with the same bits."""
    assert_same_bits(got[0], want[0])
    assert_same_bits(got[1], want[1])


@pytest.mark.parametrize("d", [*range(1, 40), 127, 128, 129, 135, 136, 255, 256, 257, 1000, 1031, 4096, 8193, 20011])
def test_distances_have_numpys_bits_for_every_row_length(d, any_size):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((6, d)) * rng.choice([1e-150, 1e-4, 1.0, 1e4, 1e150], size=(6, 1))
    X[0, : min(d, 5)] = -0.0
    a, c = X[2].copy(), X.mean(axis=0)
    got = kernels.row_distances(X, a, c)
    assert got is not None, "numba is installed: the distance kernel must pass its self-check here"
    want = kernels.numpy_row_norms(X, a), kernels.numpy_row_norms(X, c)
    assert_same_pair(got, want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=st.integers(1, 9), d=st.integers(1, 700), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e-200, 1e-8, 1.0, 3e7, 1e200]))
def test_distances_have_numpys_bits_on_any_array(p, d, seed, scale, any_size):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p, d)) * scale
    a, c = X[rng.integers(p)].copy(), rng.standard_normal(d) * scale
    with np.errstate(over="ignore"):   # squares of 1e200 overflow to inf: the same inf both ways
        got, want = kernels.row_distances(X, a, c), (kernels.numpy_row_norms(X, a), kernels.numpy_row_norms(X, c))
    assert_same_pair(got, want)


@settings(max_examples=40, deadline=None)
@given(p=st.integers(1, 7), d=st.integers(1, 600), seed=st.integers(0, 2**32 - 1),
       a=st.sampled_from([10.0, 0.5, 3.7]), width=st.sampled_from([1e-6, 1.0, 5.12, 1e3]))
def test_rastrigin_has_numpys_bits_on_any_array(p, d, seed, a, width):
    needs_rastrigin_kernel()
    X = np.random.default_rng(seed).uniform(-width, width, (p, d))
    vals, G, vals_want, G_want = np.empty(p), np.empty((p, d)), np.empty(p), np.empty((p, d))
    assert kernels.rastrigin_into(X, a, vals, G)
    kernels.numpy_rastrigin(X, a, vals_want, G_want)
    assert_same_bits(vals, vals_want)
    assert_same_bits(G, G_want)


@settings(max_examples=40, deadline=None)
@given(p=st.integers(1, 7), d=st.integers(1, 600), seed=st.integers(0, 2**32 - 1),
       width=st.sampled_from([1e-6, 1.0, 5.0, 1e3, 1e70]))
def test_styblinski_tang_has_numpys_bits_on_any_array(p, d, seed, width):
    X = np.random.default_rng(seed).uniform(-width, width, (p, d))
    vals, G = np.empty(p), np.empty((p, d))
    assert kernels.styblinski_tang_into(X, vals, G)
    with np.errstate(over="ignore", invalid="ignore"):
        want = kernels.styblinski_tang_terms(np, X)
    assert_same_bits(vals, want[0])
    assert_same_bits(G, want[1])


@settings(max_examples=40, deadline=None)
@given(p=st.integers(1, 7), d=st.integers(1, 600), seed=st.integers(0, 2**32 - 1),
       width=st.sampled_from([0.0, 1e-6, 1.0, 5.0, 1e3]),
       abc=st.sampled_from([(20.0, 0.2, 2 * np.pi), (3.0, 0.7, 1.3)]))
def test_ackley_has_numpys_bits_on_any_array(p, d, seed, width, abc):
    if kernels.kernel("ackley") is None:   # (it too needs NumPy's float64 sin and cos to be the C library's)
        pytest.skip(f"Ackley's kernel is off on this platform: {kernels.status()}")
    X = np.random.default_rng(seed).uniform(-width, width, (p, d))
    vals, G = np.empty(p), np.empty((p, d))
    assert kernels.ackley_into(X, *abc, vals, G)
    want = kernels.ackley_value_and_grad(np, X, *abc)
    assert_same_bits(vals, want[0])
    assert_same_bits(G, want[1])


def test_an_ackley_kernel_off_by_one_ulp_is_never_used(fresh, monkeypatch):
    real = kernels._compile()
    sums, grad = real["ackley"]

    def nudged_sums(X, G, c, sq, cs, *plan):
        sums(X, G, c, sq, cs, *plan)
        cs[0] = np.nextafter(cs[0], np.inf)

    monkeypatch.setattr(kernels, "_compile", lambda: {**real, "ackley": (nudged_sums, grad)})
    assert kernels.kernel("ackley") is None
    assert not kernels.ackley_into(np.ones((3, 4)), 20.0, 0.2, 1.0, np.empty(3), np.empty((3, 4)))


def test_a_styblinski_tang_kernel_off_by_one_ulp_is_never_used(fresh, monkeypatch):
    real = kernels._compile()

    def nudged(X, G, vals, *plan):
        real["styblinski_tang"](X, G, vals, *plan)
        G[-1, -1] = np.nextafter(G[-1, -1], np.inf)

    monkeypatch.setattr(kernels, "_compile", lambda: {**real, "styblinski_tang": nudged})
    assert kernels.kernel("styblinski_tang") is None
    X = np.ones((3, 4))
    assert not kernels.styblinski_tang_into(X, np.empty(3), np.empty((3, 4)))


def test_the_recorders_numpy_path_is_the_checked_expression(monkeypatch):
    """The self-check compares the distance kernel with kernels.numpy_row_norms: the Recorder's own NumPy path."""
    calls, real = [], kernels.numpy_row_norms
    monkeypatch.setattr(kernels, "numpy_row_norms", lambda *a: calls.append(1) or real(*a))
    simulate(O.Quadratic.random(dim=6, seed=0), A.LSGD(lr=0.05, pull=0.1, period=2), workers=4, steps=3, seed=0)
    assert len(calls) == 2 * 4, "two rows at each of the 4 records"


def test_rastrigins_numpy_path_is_its_value_and_gradient():
    """The expression the kernel is checked against is the objective's own (its one-block formula too)."""
    obj = O.Rastrigin(dim=300)
    X = np.random.default_rng(1).uniform(-5.12, 5.12, (9, 300))
    vals, G = np.empty(9), np.empty((9, 300))
    kernels.numpy_rastrigin(X, obj.A, vals, G)
    want_vals, want_G = obj.value_and_grad(X)
    assert_same_bits(vals, want_vals)
    assert_same_bits(G, want_G)


@pytest.fixture
def slabs(monkeypatch):
    """Records by column slabs whatever the sizes (a run takes them for large X of few rows only)."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(kernels, "SLABS_FROM_X_BYTES", 0)
    monkeypatch.setattr(kernels, "SLAB_MAX_BYTES", 2**60)


def numpy_record(X, best, center):
    c = kernels.numpy_column_mean(X) if center is None else center
    return kernels.numpy_row_norms(X, X[best]), kernels.numpy_row_norms(X, c)


@pytest.mark.parametrize("d", [129, 135, 136, 255, 257, 1000, 1031, 4099])
@pytest.mark.parametrize("p", [1, 2, 9, 40])
@pytest.mark.parametrize("held", [False, True], ids=["mean", "held center"])
def test_a_record_by_slabs_has_numpys_bits(d, p, held, slabs):
    rng = np.random.default_rng(d * 100 + p)
    X = rng.standard_normal((p, d)) * rng.choice([1e-150, 1e-4, 1.0, 1e4, 1e150], size=(p, 1))
    X[:, 1] = -0.0
    X[0, : min(d, 5)] = -0.0
    center = rng.standard_normal(d) if held else None
    best = int(rng.integers(p))
    with np.errstate(over="ignore"):
        got, want = kernels.record_distances(X, best, center), numpy_record(X, best, center)
    assert got is not None, "numba is installed: the record kernel must pass its self-check here"
    assert_same_pair(got, want)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=st.integers(1, 60), d=st.integers(2, 900), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e-200, 1e-8, 1.0, 3e7, 1e200]))
def test_a_record_has_numpys_bits_on_any_array(p, d, seed, scale, slabs):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((p, d)) * scale
    best = int(rng.integers(p))
    with np.errstate(over="ignore"):
        got, want = kernels.record_distances(X, best, None), numpy_record(X, best, None)
    assert_same_pair(got, want)


def test_the_record_takes_slabs_only_for_large_x_of_few_rows():
    assert kernels._by_slabs(100, 10**4) and kernels._by_slabs(512, 2048)
    assert not kernels._by_slabs(512, 1000)      # 3.9 MiB: still cached after the oracle
    assert kernels._by_slabs(1000, 1000)
    assert not kernels._by_slabs(1100, 10**4)    # a slab of 1100 rows outgrows L2
    assert not kernels._by_slabs(10**5, 128)     # one leaf: nothing to slab


def test_the_threads_split_slabs_without_changing_a_bit(slabs):
    X = np.random.default_rng(5).standard_normal((60, 3001))
    serial = kernels.record_distances(X, 7)
    pool = WorkerPool(2)
    try:
        threaded = kernels.record_distances(X, 7, None, pool.map)
    finally:
        pool.close()
    assert_same_pair(threaded, serial)


def test_a_record_kernel_whose_mean_adds_in_another_order_is_never_used(fresh, monkeypatch):
    """The record's check must be able to fail: a mean of the rows summed last row first is refused."""
    real = kernels._compile()
    leaves, combine = real["record"]

    def reversed_mean(X, best, c, mean, l0, l1, leaf_lo, leaf_n, SA, SC):
        if mean:
            for leaf in range(l0, l1):
                cols = slice(leaf_lo[leaf], leaf_lo[leaf] + leaf_n[leaf])
                c[cols] = np.add.reduce(X[::-1, cols], axis=0) / X.shape[0]
        leaves(X, best, c, False, l0, l1, leaf_lo, leaf_n, SA, SC)

    monkeypatch.setattr(kernels, "_compile", lambda: {**real, "record": (reversed_mean, combine)})
    assert kernels.kernel("record") is None
    assert "record" in kernels.status()
    assert kernels.kernel("distances") is not None


def test_the_threads_split_rows_without_changing_a_bit():
    X = np.random.default_rng(3).standard_normal((700, 500))
    a, c = X[7].copy(), X.mean(axis=0)
    serial = kernels.row_distances(X, a, c)
    pool = WorkerPool(2)
    try:
        threaded = kernels.row_distances(X, a, c, pool.map)
    finally:
        pool.close()
    assert_same_pair(threaded, serial)


def test_other_arrays_are_left_to_numpy(any_size):
    X = np.random.default_rng(0).standard_normal((5, 8))
    a = X[0].copy()
    assert kernels.row_distances(X.astype(np.float32), a.astype(np.float32), a.astype(np.float32)) is None
    assert kernels.row_distances(np.asfortranarray(X), a, a) is None
    assert kernels.row_distances(X, X[:, 0], a) is None            # a strided reference row
    assert not kernels.rastrigin_into(X.astype(np.float32), 10.0, np.empty(5, np.float32), np.empty((5, 8), np.float32))


def test_the_environment_switch_turns_the_kernels_off(fresh, any_size, monkeypatch):
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert kernels.available() == {} and kernels.status().startswith("numpy")
    X = np.ones((3, 4))
    assert kernels.row_distances(X, X[0], X[1]) is None
    assert not kernels.rastrigin_into(X, 10.0, np.empty(3), np.empty((3, 4)))


def test_a_kernel_that_rounds_differently_is_never_used(fresh, monkeypatch):
    """The self-check must be able to fail: a kernel summing in plain order (not NumPy's) is refused."""
    def sequential(X, a, c, lo, hi, out_a, out_c, *plan):
        for i in range(lo, hi):
            out_a[i] = np.sqrt(sum(float(v) for v in (X[i] - a) ** 2))
            out_c[i] = np.sqrt(sum(float(v) for v in (X[i] - c) ** 2))

    real = kernels._compile()
    monkeypatch.setattr(kernels, "_compile", lambda: {**real, "distances": sequential})
    assert kernels.kernel("distances") is None
    assert "distances" in kernels.status()        # named as the one that failed


def test_a_rastrigin_kernel_off_by_one_ulp_is_never_used(fresh, monkeypatch):
    real = kernels._compile()

    def nudged(X, G, vals, *args):
        real["rastrigin"](X, G, vals, *args)
        vals[-1] = np.nextafter(vals[-1], np.inf)

    monkeypatch.setattr(kernels, "_compile", lambda: {**real, "rastrigin": nudged})
    assert kernels.kernel("rastrigin") is None
    assert kernels.kernel("distances") is not None   # decided kernel by kernel


def test_a_small_run_does_not_load_numba(fresh, monkeypatch):
    """Under kernels.MIN_ELEMENTS the records keep NumPy's path: the kernels are not even looked up."""
    monkeypatch.setattr(kernels, "available", lambda: pytest.fail("a small run looked the kernels up"))
    simulate(O.Quadratic.random(dim=10, seed=0), A.LSGD(lr=0.05, pull=0.1, period=2), workers=512, steps=5, seed=0)


@pytest.mark.parametrize("error", [ImportError("No module named 'numba'"),
                                   RuntimeError("cannot cache function '_combine': no locator available")])
def test_without_a_working_numba_the_numpy_path_runs(error, fresh, monkeypatch):
    """No numba, or numba unable to load (a read-only install with nowhere to cache): NumPy's path, same numbers."""
    calls = []

    def broken():
        calls.append(1)
        raise error

    want = simulate(O.Rastrigin(dim=3000), A.LSGD(lr=1e-3, pull=0.1, period=2), workers=44, steps=4, seed=0)
    monkeypatch.setattr(kernels, "_state", {})
    monkeypatch.setattr(kernels, "_compile", broken)
    got = simulate(O.Rastrigin(dim=3000), A.LSGD(lr=1e-3, pull=0.1, period=2), workers=44, steps=4, seed=0)
    assert kernels.available() == {} and type(error).__name__ in kernels.status()
    assert len(calls) == 1, "tried once per process, not at every call"
    for key in ("f", "dist_to_leader", "x"):
        assert_same_bits(getattr(got, key), getattr(want, key))


def test_an_interrupt_while_numba_loads_is_not_retried(fresh, monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(kernels, "_compile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        kernels.available()
    assert kernels.available() == {} and "interrupted" in kernels.status()


def test_a_bad_environment_value_is_refused_before_the_run(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "fast")
    with pytest.raises(ValueError, match="LSGDSIM_KERNELS"):
        simulate(O.Quadratic.random(dim=6, seed=0), A.LSGD(lr=0.05, pull=0.1, period=2), workers=4, steps=5, seed=0)


def test_an_interrupted_run_leaves_no_pool_thread(monkeypatch):
    """The record that closes a stopped run computes its distances on the caller's thread: the run's pool
    is already shut, and no new one is started for it."""
    import threading

    real_step, seen = A.LSGD.step, []

    def step(self, X, state, inp):
        seen.append(inp.t)
        if inp.t == 3:
            raise KeyboardInterrupt
        return real_step(self, X, state, inp)

    monkeypatch.setattr(A.LSGD, "step", step)
    before = {t.name for t in threading.enumerate()}
    res = simulate(O.Quadratic.random(dim=1000, seed=0), A.LSGD(lr=1e-3, pull=0.1, period=2), workers=300, steps=9,
                   seed=0, threads=2, on_interrupt="return", record_every=5)  # step 2 is recorded at the stop
    assert res.meta.get("interrupted")
    assert {t.name for t in threading.enumerate() if t.is_alive()} - before == set()


CASES = [  # every one at least kernels.MIN_ELEMENTS = 2^17 numbers
    ("quadratic d=1000", O.Quadratic.random(dim=1000, cond=50.0, seed=0), A.LSGD(lr=1e-3, pull=0.1, period=4), 300),
    ("quadratic d=13", O.Quadratic.random(dim=13, cond=10.0, seed=0), A.LSGD(lr=1e-2, pull=0.1, period=4), 10_083),
    ("rastrigin", O.Rastrigin(dim=3000), A.LSGD(lr=1e-3, pull=0.1, period=4), 44),
    ("easgd center", O.Quadratic.random(dim=300, seed=1), A.EASGD(lr=1e-3, period=2), 437),
    ("styblinski-tang", O.StyblinskiTang(dim=3000), A.LSGD(lr=1e-4, pull=0.1, period=4), 44),
    ("ackley", O.Ackley(dim=3000), A.LSGD(lr=1e-3, pull=0.1, period=4), 44),
]
ORACLE_KERNELS = {O.Rastrigin: ("rastrigin", "rastrigin_into"), O.Ackley: ("ackley", "ackley_into"),
                  O.StyblinskiTang: ("styblinski_tang", "styblinski_tang_into")}


@pytest.mark.parametrize("name, obj, alg, p", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("slabs", [False, True], ids=["rows", "slabs"])
def test_a_run_records_the_same_bits_with_and_without_the_kernels(name, obj, alg, p, threads, slabs, fresh,
                                                                   monkeypatch):
    kw = dict(workers=p, steps=9, grad_noise=0.1, seed=4, threads=threads, record_every=2)
    if slabs:   # every record by column slabs where rows are longer than a leaf, whatever the sizes
        monkeypatch.setattr(kernels, "SLABS_FROM_X_BYTES", 0)
        monkeypatch.setattr(kernels, "SLAB_MAX_BYTES", 2**60)
    compiled, real = [], kernels.record_distances
    monkeypatch.setattr(kernels, "record_distances", lambda *a: compiled.append(real(*a)) or compiled[-1])
    oracle_kernel, into = ORACLE_KERNELS.get(type(obj), (None, None))
    oracle = []
    if into is not None:
        real_oracle = getattr(kernels, into)
        monkeypatch.setattr(kernels, into, lambda *a: oracle.append(real_oracle(*a)) or oracle[-1])
    fast = simulate(obj, alg, **kw)
    assert len(compiled) == 6 and all(c is not None for c in compiled), "every record took the compiled pass"
    if oracle_kernel is not None and kernels.kernel(oracle_kernel) is not None:
        assert oracle and all(oracle), "every oracle block took the compiled pass"
    monkeypatch.setenv(kernels.ENV, "numpy")
    slow = simulate(obj, alg, **kw)
    for key in ("f", "dist_to_leader", "dist_to_center", "x"):
        assert_same_bits(getattr(fast, key), getattr(slow, key))
