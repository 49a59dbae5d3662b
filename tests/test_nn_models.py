"""Sequential models over flat W (p, D), the network objective, a PyTorch oracle and a training run."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim.backend import RandomStreams
from lsgdsim.nn import (
    Conv2D,
    Dataset,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    NetworkObjective,
    ReLU,
    Sequential,
    cnn,
    load_digits,
    mlp,
    shard,
)

EPS = 1e-6


def tiny_cnn(classes=3):
    return Sequential([Conv2D(2, 3, "same"), ReLU(), MaxPool2D(), Conv2D(3, 2, "valid"), ReLU(),
                       Flatten(), Dense(4), Dropout(0.5), Dense(classes)], (1, 5, 5))


def tiny_data(model, n_train=12, n_test=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = model.input_shape
    return Dataset("tiny", rng.random((n_train, *shape)), rng.integers(0, classes, n_train),
                   rng.random((n_test, *shape)), rng.integers(0, classes, n_test), classes)


def fixed_draw(seed):
    """Dropout draws that repeat on every call (so central differences see one fixed mask)."""
    return lambda shape: np.random.default_rng(seed).random(shape)


# -- layout ----------------------------------------------------------------------------------------
def test_layout_is_contiguous_and_views_share_memory():
    model = cnn((1, 8, 8))
    assert model.dim == sum(s.size for s in model.layout)
    ends = [s.offset + s.size for s in model.layout]
    assert [s.offset for s in model.layout] == [0, *ends[:-1]]
    W = model.init(3, np.random.default_rng(0))
    params = model.unflatten(W)
    assert params[0]["W"].shape == (3, 16, 1, 3, 3) and params[9]["W"].shape == (3, 128, 64)
    assert all(np.shares_memory(a, W) for d in params for a in d.values())
    np.testing.assert_array_equal(model.flatten(params), W)
    assert model.output_shape == (10,)
    with pytest.raises(ValueError, match="W must have shape"):
        model.unflatten(W[:, :-1])
    with pytest.raises(ValueError, match="x must have shape"):
        model.forward(W, np.zeros((2, 4, 1, 8, 8)))


def test_factories_follow_cnn7_shapes():
    c7 = cnn((1, 28, 28))
    assert [r["output_shape"] for r in c7.describe()][:9] == [
        [64, 24, 24], [64, 24, 24], [64, 12, 12], [128, 8, 8], [128, 8, 8], [128, 4, 4],
        [64, 2, 2], [64, 2, 2], [256]]                      # flatten(256) as in the paper
    assert c7.describe()[9]["params"] == 256 * 256 + 256
    assert not any(isinstance(layer, ReLU) for layer in c7.layers[9:])  # no ReLU between the linears
    assert cnn((3, 32, 32)).shapes[9] == (576,)
    small = cnn((1, 8, 8))
    assert isinstance(small.layers[10], Dropout) and small.dim == 22954
    m = mlp(64, hidden=(32, 16), classes=5)
    assert m.dim == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 5 + 5
    with pytest.raises(ValueError, match="variant"):
        cnn((1, 8, 8), variant="vgg")


# -- gradients -------------------------------------------------------------------------------------
def test_model_flat_gradient_matches_central_differences():
    model = tiny_cnn()
    rng = np.random.default_rng(1)
    W = model.init(2, rng)
    W += 0.1 * rng.standard_normal(W.shape)  # biases away from zero
    x = rng.random((2, 3, 1, 5, 5))
    y = rng.integers(0, 3, (2, 3))
    draw = fixed_draw(5)
    _, G = model.loss_and_grad(W, x, y, train=True, rng=draw)
    assert G.shape == W.shape
    num = np.zeros_like(W)
    for j in range(model.dim):
        old = W[:, j].copy()
        W[:, j] = old + EPS
        fp = model.loss_and_grad(W, x, y, train=True, rng=draw)[0]
        W[:, j] = old - EPS
        fm = model.loss_and_grad(W, x, y, train=True, rng=draw)[0]
        W[:, j] = old
        num[:, j] = (fp - fm) / (2 * EPS)   # rows are independent workers: one sweep serves all
    np.testing.assert_allclose(G, num, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("factory", [lambda: tiny_cnn(), lambda: cnn((1, 8, 8)), lambda: mlp(10, (7, 5), 3)])
def test_vectorized_equals_per_worker(factory):
    model = factory()
    p, B = 4, 5
    rng = np.random.default_rng(2)
    W = model.init(p, rng)
    x = rng.random((p, B, *model.input_shape))
    y = rng.integers(0, model.output_shape[0], (p, B))
    u = rng.random((p, B, 64))

    def draw_rows(rows):
        return lambda shape: u[rows, :, :shape[-1]]

    loss, G = model.loss_and_grad(W, x, y, train=True, rng=draw_rows(slice(None)))
    for i in range(p):
        li, gi = model.loss_and_grad(W[i:i + 1], x[i:i + 1], y[i:i + 1], train=True,
                                     rng=draw_rows(slice(i, i + 1)))
        np.testing.assert_allclose(loss[i:i + 1], li, rtol=1e-12, atol=0)
        np.testing.assert_allclose(G[i:i + 1], gi, rtol=1e-12, atol=1e-15)
    # a batch shared by all workers broadcasts: same as repeating it
    shared = model.loss_and_grad(W, x[0], y[0])
    repeated = model.loss_and_grad(W, np.repeat(x[:1], p, 0), np.repeat(y[:1], p, 0))
    np.testing.assert_allclose(shared[0], repeated[0], rtol=1e-12)
    np.testing.assert_allclose(shared[1], repeated[1], rtol=1e-12, atol=1e-15)


def test_float32_follows_w_and_agrees_with_float64():
    model = cnn((1, 8, 8))
    rng = np.random.default_rng(3)
    W = model.init(3, rng)
    x = rng.random((3, 8, 1, 8, 8))
    y = rng.integers(0, 10, (3, 8))
    l64, g64 = model.loss_and_grad(W, x, y)
    l32, g32 = model.loss_and_grad(W.astype(np.float32), x, y)
    assert l32.dtype == np.float32 and g32.dtype == np.float32
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5 * np.abs(g64).max())


# -- the objective ---------------------------------------------------------------------------------
def test_objective_contract_and_weight_decay_gradient():
    model = tiny_cnn()
    data = tiny_data(model)
    obj = NetworkObjective(model, data, weight_decay=0.05)
    assert obj.dim == model.dim and obj.n_samples == 12 and obj.is_finite_sum
    rng = np.random.default_rng(4)
    X = obj.initial_point(3, rng)
    assert X.shape == (3, model.dim) and X.dtype == np.float64
    idx = rng.integers(0, 12, (3, 4))
    streams = RandomStreams(0, np)
    v, G = obj.batch_value_and_grad(X, idx, streams=streams)
    v2, G2 = obj.batch_value_and_grad(X, idx, streams=RandomStreams(0, np))
    np.testing.assert_array_equal(v, v2)            # same seed: the same dropout masks
    np.testing.assert_array_equal(G, G2)
    v_off, G_off = obj.batch_value_and_grad(X, idx)  # no streams: no dropout
    assert not np.allclose(G, G_off)
    loss, g = model.loss_and_grad(X, data.x_train[idx], data.y_train[idx])
    np.testing.assert_allclose(v_off, loss + 0.025 * np.sum(X**2, axis=1), rtol=1e-12)
    np.testing.assert_allclose(G_off, g + 0.05 * X, rtol=1e-12, atol=1e-15)
    # full-set value: the mean over all samples in eval mode, whatever the chunk size
    full = obj.value_and_grad(X)
    all_idx = np.tile(np.arange(12), (3, 1))
    ref = obj.batch_value_and_grad(X, all_idx)
    chunked = NetworkObjective(model, data, weight_decay=0.05, eval_batch=5).value_and_grad(X)
    for a, b in ((full, ref), (full, chunked)):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="idx"):
        obj.batch_value_and_grad(X, idx[:2])


def test_objective_evaluation_and_validation():
    model = mlp(25, (6,), 3)
    data = tiny_data(tiny_cnn())  # (1, 5, 5) images reshape to the MLP's 25 inputs
    obj = NetworkObjective(model, data, shards=shard(12, 2, "disjoint"))
    X = obj.initial_point(2, np.random.default_rng(0))
    pred = obj.predict(X)
    assert pred.shape == (2, 6)
    acc = obj.accuracy(X, "test")
    np.testing.assert_allclose(acc, np.mean(pred == data.y_test, axis=1))
    assert obj.logits(X, "train").shape == (2, 12, 3)
    idx = obj.draw_batch(5, np.random.default_rng(1))
    assert idx.shape == (2, 5) and set(idx[0]).isdisjoint(idx[1])
    with pytest.raises(ValueError, match="split"):
        obj.accuracy(X, "valid")
    with pytest.raises(ValueError, match="weight_decay"):
        NetworkObjective(model, data, weight_decay=-1.0)
    with pytest.raises(ValueError, match="do not fit"):
        NetworkObjective(mlp(24, (6,), 3), data)
    with pytest.raises(ValueError, match="classes"):
        NetworkObjective(mlp(25, (6,), 4), data)


# -- PyTorch oracle --------------------------------------------------------------------------------
def torch_replica(torch, model, w_row, masks):
    """The same network in torch.nn, weights copied from one row of W, dropout masks replayed."""
    nn = torch.nn

    class Mask(nn.Module):
        def __init__(self, mask):
            super().__init__()
            self.mask = torch.from_numpy(mask)

        def forward(self, h):
            return h * self.mask

    params = model.unflatten(w_row[None])
    mods, masks = [], list(masks)
    shape = model.input_shape
    for layer, prm in zip(model.layers, params, strict=True):
        if isinstance(layer, Conv2D):
            mod = nn.Conv2d(shape[0], layer.filters, (layer.kh, layer.kw), padding=layer.padding,
                            dtype=torch.float64)
            mod.weight.data.copy_(torch.from_numpy(prm["W"][0]))
            mod.bias.data.copy_(torch.from_numpy(prm["b"][0]))
        elif isinstance(layer, Dense):
            mod = nn.Linear(shape[0], layer.units, dtype=torch.float64)
            mod.weight.data.copy_(torch.from_numpy(prm["W"][0].T))
            mod.bias.data.copy_(torch.from_numpy(prm["b"][0]))
        elif isinstance(layer, Dropout):
            mod = Mask(masks.pop(0))
        else:
            mod = {ReLU: nn.ReLU, MaxPool2D: lambda: nn.MaxPool2d(2), Flatten: nn.Flatten}[type(layer)]()
        mods.append(mod)
        shape = layer.output_shape(shape)
    return nn.Sequential(*mods)


def torch_flat(torch, model, tmodel, attr):
    """A torch model's parameters (or their .grad) laid out as one row of our flat W."""
    out = np.empty(model.dim)
    tparams = [m for m in tmodel if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    layer_ids = sorted({s.layer for s in model.layout})
    for slot in model.layout:
        tm = tparams[layer_ids.index(slot.layer)]
        t = getattr(tm.weight if slot.name == "W" else tm.bias, attr) if attr else (
            tm.weight if slot.name == "W" else tm.bias)
        a = t.detach().numpy()
        if isinstance(tm, torch.nn.Linear) and slot.name == "W":
            a = a.T
        out[slot.offset:slot.offset + slot.size] = a.ravel()
    return out


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_matches_pytorch_loss_gradients_and_sgd_step(kind):
    torch = pytest.importorskip("torch")
    data = load_digits()
    model = cnn((1, 8, 8)) if kind == "cnn" else mlp(64, (32,), 10)
    wd, lr, p, b = 1e-4, 0.1, 2, 16
    obj = NetworkObjective(model, data, weight_decay=wd)
    rng = np.random.default_rng(11)
    X = obj.initial_point(p, rng)
    idx = rng.integers(0, data.n_train, (p, b))
    values, G = obj.batch_value_and_grad(X, idx, streams=RandomStreams(5, np))
    # replay the dropout draws: the same stream, the same block shape
    u = RandomStreams(5, np).uniform("dropout", (p, b, 64)) if kind == "cnn" else None
    X_next = X - lr * G
    for i in range(p):
        masks = [] if u is None else [(u[i] >= 0.5) / 0.5]
        tmodel = torch_replica(torch, model, X[i], masks)
        xb = torch.from_numpy(data.x_train[idx[i]].astype(np.float64).reshape(b, *model.input_shape))
        ce = torch.nn.functional.cross_entropy(tmodel(xb), torch.from_numpy(data.y_train[idx[i]]))
        decay = 0.5 * wd * sum((t**2).sum() for t in tmodel.parameters())
        np.testing.assert_allclose(values[i], (ce + decay).item(), rtol=1e-10)
        opt = torch.optim.SGD(tmodel.parameters(), lr=lr, weight_decay=wd)
        opt.zero_grad()
        ce.backward()
        np.testing.assert_allclose(G[i] - wd * X[i], torch_flat(torch, model, tmodel, "grad"),
                                   rtol=1e-6, atol=1e-12)
        opt.step()
        np.testing.assert_allclose(X_next[i], torch_flat(torch, model, tmodel, None), rtol=1e-10, atol=1e-13)


# -- training --------------------------------------------------------------------------------------
def test_minibatch_sgd_trains_the_mlp_on_digits():
    data = load_digits()
    obj = NetworkObjective(mlp(64, (64,), 10), data)
    rng = np.random.default_rng(0)
    X = obj.initial_point(2, rng).astype(np.float32)
    for _ in range(400):
        idx = obj.draw_batch(32, rng, workers=2)
        _, G = obj.batch_value_and_grad(X, idx)
        X -= np.float32(0.1) * G
    acc = obj.accuracy(X)
    assert X.dtype == np.float32
    assert np.all(acc > 0.9), acc


def test_minibatch_sgd_trains_the_cnn_with_dropout_on_digits():
    data = load_digits()
    obj = NetworkObjective(cnn(data.input_shape), data)
    rng = np.random.default_rng(0)
    streams = RandomStreams(0, np, "float32")
    X = obj.initial_point(2, rng).astype(np.float32)
    for _ in range(300):
        _, G = obj.batch_value_and_grad(X, obj.draw_batch(32, rng, workers=2), streams=streams)
        X -= np.float32(0.05) * G
    acc = obj.accuracy(X)
    assert np.all(acc > 0.9), acc
