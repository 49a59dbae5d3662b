"""CuPy runs the same code on a GPU (skipped without CuPy and a CUDA device; CI has none)."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import algorithms as A
from lsgdsim import leaders as L
from lsgdsim import objectives as O
from lsgdsim import simulate

cupy = pytest.importorskip("cupy")
try:
    HAS_GPU = cupy.cuda.runtime.getDeviceCount() > 0
except Exception:  # CUDARuntimeError when no driver/device
    HAS_GPU = False
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not HAS_GPU, reason="no CUDA device")]

RULES = [A.LSGD(lr=0.01, pull=0.1, period=2, groups=2, global_pull=0.05), A.EASGD(lr=0.01, alpha=0.05, period=2),
         A.Downpour(lr=0.002, period=2), A.LSGD(lr=0.01, pull=0.1, leader=L.Window(4))]


@pytest.mark.parametrize("alg", RULES, ids=lambda a: a.name)
def test_cupy_matches_numpy_without_noise(alg):
    obj = O.Quadratic.random(dim=16, cond=20.0, seed=0)
    gpu = simulate(obj, alg, workers=8, steps=50, seed=0, backend="cupy")
    cpu = simulate(obj, alg, workers=8, steps=50, seed=0, backend="numpy")
    assert gpu.meta["backend"] == "cupy"
    np.testing.assert_allclose(gpu.x, cpu.x, rtol=1e-10, atol=1e-12)
    assert gpu.leaders.tolist() == cpu.leaders.tolist()


@pytest.mark.parametrize("name", ["rastrigin", "logistic", "matrix", "ring"])
def test_cupy_objectives_and_determinism(name):
    obj = O.make_objective(name, dim=2 if name in ("ring", "rastrigin") else None)
    kw = dict(workers=4, steps=30, seed=1, backend="cupy", grad_noise=0.1)
    if obj.is_finite_sum:
        kw["batch_size"] = 8
    a, b = simulate(obj, A.LSGD(lr=0.01, pull=0.1), **kw), simulate(obj, A.LSGD(lr=0.01, pull=0.1), **kw)
    assert a == b  # same seed, same backend: bit-identical


def test_cupy_float32():
    obj = O.Rastrigin(dim=64)
    res = simulate(obj, A.LSGD(lr=1e-3, pull=0.1), workers=32, steps=20, backend="cupy", dtype="float32",
                   grad_noise=0.1)
    assert np.isfinite(res.f).all()


def test_cupy_worker_blocks_replay_and_fused_rastrigin():
    """Worker-block streams on CuPy: one worker's row equals the vectorized draw's; the fused
    Rastrigin kernel equals the NumPy value and gradient."""
    from lsgdsim.backend import RandomStreams, resolve
    xp = resolve("cupy")
    shape = (6, 40000)  # two workers per block: three blocks
    full = RandomStreams(3, xp).normal("grad_noise", shape, scale=0.5)
    for i in (0, 3, 5):
        row = RandomStreams(3, xp).worker_normal("grad_noise", shape, i, scale=0.5)
        np.testing.assert_array_equal(cupy.asnumpy(row), cupy.asnumpy(full[i]))
    obj = O.Rastrigin(dim=300)
    X = obj.initial_point(4, np.random.default_rng(0))
    v, g = obj.value_and_grad(cupy.asarray(X))
    vn, gn = obj.value_and_grad(X)
    np.testing.assert_allclose(cupy.asnumpy(g), gn, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(cupy.asnumpy(v), vn, rtol=1e-12, atol=1e-9)


def test_cupy_threads_argument_is_harmless():
    obj = O.Rastrigin(dim=3000)
    runs = [simulate(obj, A.LSGD(lr=1e-3, pull=0.1), workers=64, steps=5, grad_noise=0.1, seed=0, backend="cupy",
                     threads=n) for n in (1, 2)]
    assert runs[0] == runs[1]
