"""Issue 10, the Python API: nothing lost, nothing silently ignored (one test per point of the issue).

Each test here fails on the code before the fix (checked against main); the CLI side is in
tests/test_reliability_cli.py, the output helpers in tests/test_reliability_outputs.py.
"""
from __future__ import annotations

import gzip
import io
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest
from oracle_traps import trap_oracle

from lsgdsim import DivergenceError, Result, simulate
from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim import objectives as O
from lsgdsim import schedules as S

QUAD = O.Quadratic.random(dim=5, cond=20.0, seed=1)


def trapped(at_call: int, action, base=QUAD):
    """A copy of ``base`` whose ``at_call``-th oracle call first runs ``action`` (raise, send a signal)."""
    return trap_oracle(O.Quadratic(A=base.A, b=base.b), at_call, action)


def ctrl_c():
    raise KeyboardInterrupt


def assert_consistent(res: Result, obj):
    """Every field refers to the step of the last record."""
    last = int(res.steps[-1])
    np.testing.assert_array_equal(obj.value(res.x), res.f[-1])          # f(res.x) == res.f[-1], bit for bit
    assert res.meta["gradient_evaluations"] == res.workers * last
    assert len(res.leaders) == len(res.leader_steps)
    assert res.leader_steps.size == 0 or res.leader_steps[-1] <= last


# -- point 2: a diverged run keeps what it had -----------------------------------------------------------
def test_diverged_run_returns_the_records_up_to_the_last_finite_step():
    obj = O.Quadratic.random(dim=5, cond=100.0, seed=0)
    alg = A.LSGD(lr=0.03, pull=0.1, period=3)   # η = 3/L > 2/L: unstable along the top eigenvector
    with pytest.raises(DivergenceError) as info:
        simulate(obj, alg, workers=4, steps=2000, record_every=10)
    res = simulate(obj, alg, workers=4, steps=2000, record_every=10, on_divergence="return")
    d = res.meta["diverged"]
    assert (d["step"], d["worker"]) == (info.value.step, info.value.worker) and not np.isfinite(d["value"])
    assert int(res.steps[-1]) == d["step"] - 1 and np.all(np.isfinite(res.x))
    assert res.steps[-2] % 10 == 0 and "interrupted" not in res.meta
    assert_consistent(res, obj)
    err = pickle.loads(pickle.dumps(info.value))                          # "raise" stays picklable
    assert (err.step, err.worker) == (info.value.step, info.value.worker)
    with pytest.raises(ValueError, match="on_divergence"):
        simulate(obj, alg, workers=4, steps=5, on_divergence="ignore")


# -- point 3: an interrupted run is consistent -------------------------------------------------------------
@pytest.mark.parametrize("alg", [A.LSGD(lr=0.01, pull=0.1, period=3, groups=2, global_pull=0.05, global_period=6),
                                 A.EASGD(lr=0.01, alpha=0.1, period=4)], ids=["lsgd", "easgd"])
def test_interrupted_run_records_the_state_at_the_interruption(alg):
    obj = trapped(138, ctrl_c)                     # the 138th oracle call evaluates step 137
    res = simulate(obj, alg, workers=4, steps=1000, record_every=50, grad_noise=0.1, on_interrupt="return")
    assert res.meta["interrupted"] and res.steps.tolist() == [0, 50, 100, 136]
    assert_consistent(res, obj)
    assert res.meta["communications"] == 136 // alg.period
    # The same run stopped after 136 steps has the same numbers: the partial result is that run.
    full = simulate(QUAD, alg, workers=4, steps=136, record_every=50, grad_noise=0.1)
    np.testing.assert_array_equal(full.x, res.x)
    np.testing.assert_array_equal(full.leaders, res.leaders)


def test_interrupt_in_a_record_and_a_second_interrupt_stay_consistent():
    seen = []

    def monitor(t, X, state, values):               # a Ctrl-C in every record from step 20 on
        seen.append(t)
        if t >= 20:
            raise KeyboardInterrupt
        return {"norm": np.linalg.norm(X, axis=1)}

    res = simulate(QUAD, A.LSGD(lr=0.01, pull=0.1), workers=3, steps=100, record_every=10, monitor=monitor,
                   on_interrupt="return")
    assert res.steps.tolist() == [0, 10] and res.monitor["norm"].shape == (2, 3)
    assert_consistent(res, QUAD)
    assert res.leader_steps.tolist() == list(range(1, 11))


# -- point 6 (API): an option a class or factory does not take is an error ---------------------------------
@pytest.mark.parametrize(("call", "name"), [
    (lambda: O.make_objective("ring", cond=5.0), "cond"),
    (lambda: O.make_objective("logistic", cond=5.0), "cond"),
    (lambda: O.make_objective("quadratic", rank=2, n_samples=10), "rank, n_samples"),
    (lambda: O.make_objective("rastrigin", seed=3), "seed"),
    (lambda: L.make_rule("exact", sigma=0.1), "sigma"),
    (lambda: L.make_rule("noisy", sigma=0.1, window=5), "window"),
])
def test_options_that_do_not_apply_are_errors(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_train_refuses_a_data_folder_it_would_ignore(tmp_path):
    from lsgdsim.nn import train
    with pytest.raises(ValueError, match="data_folder does not apply"):
        train("mlp", "digits", steps=1, data_folder=tmp_path)


# -- point 7 (API): every error is one line ---------------------------------------------------------------
def _saved(tmp_path) -> bytes:
    res = simulate(QUAD, A.LSGD(lr=0.01), workers=3, steps=30, seed=0)
    return res.save(tmp_path / "good.npz").read_bytes()


def _flip_in_data(raw: bytes) -> bytes:
    """Flip one bit inside the stored f array's compressed data (the zip's CRC must catch it)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo("f.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    out = bytearray(raw)
    out[start + info.compress_size // 2] ^= 0x04
    return bytes(out)


@pytest.mark.parametrize(("damage", "words"), [
    (lambda raw: b"", "empty"),
    (lambda raw: raw[: len(raw) // 2], "truncated"),
    (lambda raw: raw[:-30], "truncated"),
    (_flip_in_data, "corrupted"),
    (lambda raw: b"step,worker,f\n0,0,1.0\n", "not an lsgdsim result"),
    (lambda raw: b"\x93NUMPY\x01\x00" + raw[8:200], "not an lsgdsim result"),
])
def test_load_damaged_files_one_line_value_error(tmp_path, damage, words):
    path = tmp_path / "bad.npz"
    path.write_bytes(damage(_saved(tmp_path)))
    with pytest.raises(ValueError) as info:
        Result.load(path)
    msg = str(info.value)
    assert str(path) in msg and words in msg and "\n" not in msg and "allow_pickle" not in msg


def test_corrupt_gz_mnist_file_is_a_value_error(tmp_path):
    from lsgdsim.nn.data import read_idx
    good = gzip.compress(struct.pack(">HBBI", 0, 8, 1, 4) + bytes(4))
    bad = good[:10] + b"\xff" * 12 + good[22:]                      # a valid gzip header, broken deflate data
    (tmp_path / "t.gz").write_bytes(bad)
    with pytest.raises(ValueError, match=r"t\.gz \(a damaged or truncated \.gz file\)"):
        read_idx(tmp_path / "t.gz")


def test_a_run_that_would_not_fit_in_memory_is_refused_before_any_work(monkeypatch):
    obj = O.Quadratic.random(dim=5, seed=0)
    monkeypatch.setattr(obj, "value_and_grad", lambda X: pytest.fail("work before the memory check"))
    with pytest.raises(ValueError, match=r"needs about [\d.e+]+ GiB .* available"):
        simulate(obj, A.SGD(lr=0.01), workers=8, steps=10**13, record_every=1)
    from lsgdsim.validate import estimate_run_bytes
    assert estimate_run_bytes(8, 5, 1000, 1) > 1001 * 8 * 8 * 3  # at least f and both distances, float64


# -- point 8: fail fast at construction, accept NumPy scalars ----------------------------------------------
@pytest.mark.parametrize(("make", "name"), [
    (lambda: A.LSGD(lr=-0.1), "lr"), (lambda: A.SGD(lr=0.0), "lr"), (lambda: A.SGD(lr="fast"), "lr"),
    (lambda: A.LSGD(lr=0.1, pull=1.5), "pull"), (lambda: A.LSGD(lr=0.1, period=0), "period"),
    (lambda: A.LSGD(lr=0.1, period=2.0), "period"), (lambda: A.LSGD(lr=0.1, groups=0), "groups"),
    (lambda: A.LSGD(lr=0.1, global_period=0), "global_period"), (lambda: A.LSGD(lr=0.1, leader="best"), "leader"),
    (lambda: A.SGD(lr=0.1, momentum=1.0), "momentum"), (lambda: A.SGD(lr=0.1, nesterov=True), "nesterov"),
    (lambda: A.EASGD(lr=0.1, alpha=1.5), "alpha"), (lambda: A.EASGD(lr=0.1, beta=2.0), "beta"),
    (lambda: A.SGD(lr=np.array([[0.1]])), "lr"), (lambda: L.Noisy(-1.0), "sigma"), (lambda: L.Window(0), "window"),
    (lambda: L.Window(3, zero_init="yes"), "zero_init"), (lambda: S.Constant(float("nan")), "Constant"),
    (lambda: S.InverseTime("1", 1.0), "InverseTime a"), (lambda: S.StepDecay(0.1, factor="half"), "factor"),
])
def test_bad_values_fail_at_construction(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_worker_dependent_checks_stay_in_simulate():
    """Companion of the test above (true before the fix too): what depends on p is still checked."""
    for alg, name in ((A.LSGD(lr=0.1, groups=3), "groups"), (A.SGD(lr=np.array([0.1, 0.1])), "lr"),
                      (A.EASGD(lr=0.1, alpha=0.5), "beta")):
        with pytest.raises(ValueError, match=name):
            simulate(QUAD, alg, workers=4, steps=2)


def test_numpy_scalars_are_accepted_and_give_the_same_run():
    alg = A.LSGD(lr=np.float64(0.01), pull=np.float32(0.25), period=np.int64(4), groups=np.int64(2),
                 global_pull=np.float64(0.05), global_period=np.int64(8), momentum=np.float32(0.5),
                 nesterov=np.bool_(True), leader=L.Window(np.int64(3), np.float32(0.5)))
    ref = A.LSGD(lr=0.01, pull=float(np.float32(0.25)), period=4, groups=2, global_pull=0.05, global_period=8,
                 momentum=0.5, nesterov=True, leader=L.Window(3, float(np.float32(0.5))))
    assert alg == ref and json.loads(json.dumps(alg.describe())) == ref.describe()
    kw = dict(workers=np.int64(4), steps=np.int64(40), record_every=np.int64(7))
    a = simulate(QUAD, alg, grad_noise=np.float32(0.1), seed=np.int64(3), **kw)
    b = simulate(QUAD, ref, grad_noise=float(np.float32(0.1)), seed=3, workers=4, steps=40, record_every=7)
    assert a == b and a.meta["seed"] == 3 and isinstance(a.meta["workers"], int)
    assert S.StepDecay(np.float64(0.1), np.float32(0.5), np.int64(5)) == S.StepDecay(0.1, 0.5, 5)
    assert A.EASGD(lr=0.01, alpha=np.float64(0.1), beta=np.float32(0.5), period=np.int64(2)).beta == 0.5
    for lr in np.linspace(0.005, 0.02, 3):          # a sweep over a NumPy grid
        simulate(QUAD, A.LocalSGD(lr=lr, period=np.int64(2)), workers=2, steps=5)
