"""Layers, losses and initializers of lsgdsim.nn: every backward pass against central differences."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsgdsim.nn import (
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ParamSpec,
    ReLU,
    accuracy,
    glorot_uniform,
    he_normal,
    initialize,
    softmax_cross_entropy,
)

SETTINGS = settings(max_examples=15, deadline=None)
EPS = 1e-6


def numerical_grad(f, a: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of ``a`` (modified in place)."""
    g = np.zeros_like(a)
    flat = a.reshape(-1)
    assert np.shares_memory(flat, a)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        fp = f()
        flat[k] = old - eps
        fm = f()
        flat[k] = old
        g.reshape(-1)[k] = (fp - fm) / (2 * eps)
    return g


def make_params(layer, in_shape, p, rng):
    return {s.name: rng.standard_normal((p, *s.shape)) for s in layer.param_specs(in_shape)}


def check_layer(layer, x, params, rng, train=False, draw=None, atol=1e-7):
    """Backward of L = Σ y·R against central differences, for x and every parameter."""
    y, cache = layer.forward(params, x, train=train, rng=draw)
    R = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(layer.forward(params, x, train=train, rng=draw)[0] * R))

    dx, dparams = layer.backward(params, cache, R)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-6, atol=atol)
    assert set(dparams) == set(params)
    for name, a in params.items():
        assert dparams[name].shape == a.shape
        np.testing.assert_allclose(dparams[name], numerical_grad(loss, a), rtol=1e-6, atol=atol)
    return y


@SETTINGS
@given(p=st.integers(1, 3), B=st.integers(1, 3), n_in=st.integers(1, 5), units=st.integers(1, 4),
       seed=st.integers(0, 2**31))
def test_dense_gradients(p, B, n_in, units, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(units)
    params = make_params(layer, (n_in,), p, rng)
    x = rng.standard_normal((p, B, n_in))
    y = check_layer(layer, x, params, rng)
    np.testing.assert_allclose(y, np.einsum("pbi,pio->pbo", x, params["W"]) + params["b"][:, None], rtol=1e-12)


@SETTINGS
@given(p=st.integers(1, 2), B=st.integers(1, 2), C=st.integers(1, 3), K=st.integers(1, 3),
       H=st.integers(2, 5), W=st.integers(2, 5), kh=st.integers(1, 3), kw=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2**31))
def test_conv2d_gradients_and_definition(p, B, C, K, H, W, kh, kw, padding, seed):
    if padding == "valid" and (kh > H or kw > W):
        kh, kw = min(kh, H), min(kw, W)
    rng = np.random.default_rng(seed)
    layer = Conv2D(K, (kh, kw), padding)
    params = make_params(layer, (C, H, W), p, rng)
    x = rng.standard_normal((p, B, C, H, W))
    y = check_layer(layer, x, params, rng)
    # definition: y[k, i, j] = b[k] + Σ_{c, u, v} xpad[c, i + u, j + v] · w[k, c, u, v]
    t, bot, left, r = layer.pads
    xpad = np.pad(x, ((0, 0), (0, 0), (0, 0), (t, bot), (left, r)))
    Ho, Wo = layer.output_shape((C, H, W))[1:]
    ref = np.zeros((p, B, K, Ho, Wo)) + params["b"][:, None, :, None, None]
    for u in range(kh):
        for v in range(kw):
            ref += np.einsum("pbchw,pkc->pbkhw", xpad[..., u:u + Ho, v:v + Wo], params["W"][..., u, v])
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    if padding == "same":
        assert y.shape[-2:] == (H, W)


def test_conv2d_shared_input_broadcasts_over_workers():
    rng = np.random.default_rng(0)
    layer = Conv2D(3, 3, "same")
    params = make_params(layer, (2, 5, 5), 4, rng)
    x1 = rng.standard_normal((1, 3, 2, 5, 5))
    xp = np.repeat(x1, 4, axis=0)
    y1, c1 = layer.forward(params, x1)
    yp, cp = layer.forward(params, xp)
    np.testing.assert_allclose(y1, yp, rtol=1e-12)
    dy = rng.standard_normal(yp.shape)
    _, g1 = layer.backward(params, c1, dy, need_dx=False)
    _, gp = layer.backward(params, cp, dy, need_dx=False)
    for name in gp:
        np.testing.assert_allclose(g1[name], gp[name], rtol=1e-12)


def test_conv2d_caches_survive_later_calls():
    """Reused scratch buffers must not leak between calls: backward of an older cache stays exact."""
    rng = np.random.default_rng(1)
    layer = Conv2D(4, 3, "same")
    params = make_params(layer, (4, 5, 5), 2, rng)
    x1, x2 = rng.standard_normal((2, 2, 2, 4, 5, 5))
    y1, c1 = layer.forward(params, x1)
    dy = rng.standard_normal(y1.shape)
    ref = layer.backward(params, c1, dy)
    y2, c2 = layer.forward(params, x2)       # same shapes: the same scratch buffers
    layer.backward(params, c2, dy)
    again = layer.backward(params, c1, dy)
    np.testing.assert_array_equal(again[0], ref[0])
    np.testing.assert_array_equal(again[1]["W"], ref[1]["W"])
    np.testing.assert_array_equal(layer.forward(params, x1)[0], y1)
    assert not np.allclose(y1, y2)


@SETTINGS
@given(p=st.integers(1, 2), B=st.integers(1, 2), C=st.integers(1, 3), H=st.integers(2, 7),
       W=st.integers(2, 7), seed=st.integers(0, 2**31))
def test_maxpool_gradients(p, B, C, H, W, seed):
    rng = np.random.default_rng(seed)
    # distinct values 0.01 apart, so a 1e-6 perturbation never changes a window's maximum
    x = rng.permutation(p * B * C * H * W).reshape(p, B, C, H, W) * 0.01
    y = check_layer(MaxPool2D(), x, {}, rng)
    Ho, Wo = H // 2, W // 2
    ref = x[..., :2 * Ho, :2 * Wo].reshape(p, B, C, Ho, 2, Wo, 2).max(axis=(4, 6))
    np.testing.assert_array_equal(y, ref)


def test_maxpool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 1, 2, 4))
    x[0, 0, 0, 1, 3] = x[0, 0, 0, 0, 3] = 1.0  # second window: tie between (0, 3) and (1, 3)
    y, cache = MaxPool2D().forward({}, x)
    dx, _ = MaxPool2D().backward({}, cache, np.array([2.0, 3.0]).reshape(1, 1, 1, 1, 2))
    expect = np.zeros_like(x)
    expect[0, 0, 0, 0, 0] = 2.0  # all-zero window: the first entry
    expect[0, 0, 0, 0, 3] = 3.0
    np.testing.assert_array_equal(dx, expect)
    np.testing.assert_array_equal(y.ravel(), [0.0, 1.0])


@SETTINGS
@given(p=st.integers(1, 3), B=st.integers(1, 3), n=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_relu_and_flatten_gradients(p, B, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((p, B, n))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    y = check_layer(ReLU(), x, {}, rng)
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    x4 = rng.standard_normal((p, B, 2, n, 3))
    y4 = check_layer(Flatten(), x4, {}, rng)
    np.testing.assert_array_equal(y4, x4.reshape(p, B, -1))


@SETTINGS
@given(p=st.integers(1, 3), B=st.integers(1, 3), n=st.integers(1, 6),
       rate=st.sampled_from([0.0, 0.25, 0.5, 0.9]), seed=st.integers(0, 2**31))
def test_dropout_gradients_and_mask(p, B, n, rate, seed):
    rng = np.random.default_rng(seed)
    u = rng.random((p, B, n))

    def draw(shape):
        assert shape == u.shape
        return u

    layer = Dropout(rate)
    x = rng.standard_normal((p, B, n))
    y = check_layer(layer, x, {}, rng, train=True, draw=draw)
    np.testing.assert_allclose(y, np.where(u >= rate, x / (1 - rate), 0.0), rtol=1e-12)
    np.testing.assert_array_equal(layer.forward({}, x, train=False, rng=draw)[0], x)   # eval: identity
    np.testing.assert_array_equal(layer.forward({}, x, train=True, rng=None)[0], x)    # no rng: off


def test_dropout_accepts_a_generator_and_keeps_the_mean():
    x = np.ones((2, 500, 100))
    y, _ = Dropout(0.5).forward({}, x, train=True, rng=np.random.default_rng(3))
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.01
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_layer_argument_validation():
    with pytest.raises(ValueError, match="padding"):
        Conv2D(4, 3, "full")
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="does not fit"):
        Conv2D(4, 5).output_shape((1, 3, 3))
    with pytest.raises(ValueError, match="flat"):
        Dense(3).output_shape((1, 2, 2))


# -- losses ----------------------------------------------------------------------------------------
@SETTINGS
@given(p=st.integers(1, 3), B=st.integers(1, 4), K=st.integers(2, 5), shared=st.booleans(),
       seed=st.integers(0, 2**31))
def test_softmax_cross_entropy_value_and_gradient(p, B, K, shared, seed):
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((p, B, K))
    labels = rng.integers(0, K, (B,) if shared else (p, B))
    loss, dlogits = softmax_cross_entropy(logits, labels)
    lab = np.broadcast_to(labels, (p, B))
    naive = -np.mean(np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))[
        np.arange(p)[:, None], np.arange(B)[None, :], lab], axis=1)
    np.testing.assert_allclose(loss, naive, rtol=1e-12)
    num = numerical_grad(lambda: float(softmax_cross_entropy(logits, labels)[0].sum()), logits)
    np.testing.assert_allclose(dlogits, num, rtol=1e-6, atol=1e-8)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([[0, 2]]))
    np.testing.assert_allclose(loss, [1e4 / 2])
    assert np.all(np.isfinite(dlogits))
    f32 = softmax_cross_entropy(logits.astype(np.float32), np.array([[0, 2]]))
    assert f32[0].dtype == np.float32 and f32[1].dtype == np.float32


def test_accuracy_counts_argmax_hits_per_worker():
    logits = np.array([[[0, 1.0], [2, 0]], [[1, 0.0], [1, 0]]])
    np.testing.assert_allclose(accuracy(logits, np.array([1, 0])), [1.0, 0.5])


# -- initializers ----------------------------------------------------------------------------------
def test_he_and_glorot_statistics():
    rng = np.random.default_rng(0)
    w = he_normal(rng, 3, (200, 300), fan_in=50)
    assert w.shape == (3, 200, 300)
    assert abs(w.std() / np.sqrt(2 / 50) - 1) < 0.01 and abs(w.mean()) < 0.01 * w.std()
    g = glorot_uniform(rng, 2, (100, 100), fan_in=30, fan_out=70, dtype=np.float32)
    limit = np.sqrt(6 / 100)
    assert g.dtype == np.float32 and g.max() <= limit and g.min() >= -limit
    assert abs(g.std() / (limit / np.sqrt(3)) - 1) < 0.02
    z = initialize(ParamSpec("b", (4,), "zeros"), 2, rng)
    np.testing.assert_array_equal(z, np.zeros((2, 4)))


def test_init_block_rows_are_the_workers():
    spec = ParamSpec("W", (3, 4), "he", fan_in=3)
    block = initialize(spec, 5, np.random.default_rng(7))
    ref = np.sqrt(2 / 3) * np.random.default_rng(7).standard_normal((5, 3, 4))
    np.testing.assert_array_equal(block, ref)
    assert not np.allclose(block[0], block[1])
