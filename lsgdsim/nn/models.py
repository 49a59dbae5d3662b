"""Sequential networks over one flat parameter array W (p, D): every worker's model in one array.

The distributed algorithms of the simulator update (p, d) arrays; a network's parameters are one such
array, and each layer sees reshaped views of column slices of W. ``Sequential.layout`` records where
each parameter lives (offset, per-worker shape); the backward pass writes every gradient into one flat
(p, D) array with the same layout.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..backend import namespace
from .init import initialize
from .layers import Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, ParamSpec, ReLU, worker_threads
from .losses import softmax_cross_entropy


@dataclass(frozen=True)
class Slot:
    """Where one parameter lives in the flat vector: columns [offset, offset + size) of W."""

    layer: int
    spec: ParamSpec
    offset: int

    @property
    def size(self) -> int:
        return self.spec.size

    @property
    def shape(self) -> tuple[int, ...]:
        return self.spec.shape

    @property
    def name(self) -> str:
        return self.spec.name


class Sequential:
    """A chain of layers on per-sample inputs of shape ``input_shape``, parameters flat in W (p, D).

    ``forward(W, x)`` takes x (p, B, *input_shape), or (1, B, *input_shape) / (B, *input_shape) when
    every worker sees the same samples, and returns logits (p, B, classes). ``backward`` returns the
    flat gradient (p, D) in W's layout and dtype.
    """

    def __init__(self, layers, input_shape):
        self.layers: tuple[Layer, ...] = tuple(layers)
        if not self.layers:
            raise ValueError("layers must not be empty")
        self.input_shape = tuple(int(s) for s in input_shape)
        shape, offset, slots, shapes = self.input_shape, 0, [], [self.input_shape]
        for i, layer in enumerate(self.layers):
            for spec in layer.param_specs(shape):
                slots.append(Slot(i, spec, offset))
                offset += spec.size
            shape = layer.output_shape(shape)
            shapes.append(tuple(shape))
        self.layout: tuple[Slot, ...] = tuple(slots)
        self.shapes: tuple[tuple[int, ...], ...] = tuple(shapes)  # per-sample shape before each layer
        self.output_shape = tuple(shape)
        self.dim = offset

    # -- parameters --------------------------------------------------------------------------------
    def init(self, p: int, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        """Initial W (p, D) as NumPy: each parameter drawn in layout order as a (p, ...) block."""
        W = np.empty((p, self.dim), dtype=dtype)
        for slot in self.layout:
            W[:, slot.offset:slot.offset + slot.size] = initialize(slot.spec, p, rng, dtype).reshape(p, -1)
        return W

    def unflatten(self, W) -> list[dict]:
        """Per layer, a dict name -> view (p, *shape) of the columns of W (p, D); no copies."""
        if W.ndim != 2 or W.shape[1] != self.dim:
            raise ValueError(f"W must have shape (p, {self.dim}); got {tuple(W.shape)}")
        p = W.shape[0]
        params: list[dict] = [{} for _ in self.layers]
        for slot in self.layout:
            params[slot.layer][slot.name] = W[:, slot.offset:slot.offset + slot.size].reshape(p, *slot.shape)
        return params

    def flatten(self, params: list[dict]):
        """Inverse of :meth:`unflatten`: per-layer dicts of (p, *shape) arrays -> W (p, D)."""
        first = next(a for d in params for a in d.values())
        xp = namespace(first)
        W = xp.empty((first.shape[0], self.dim), dtype=first.dtype)
        for slot in self.layout:
            W[:, slot.offset:slot.offset + slot.size] = xp.reshape(params[slot.layer][slot.name],
                                                                   (first.shape[0], slot.size))
        return W

    # -- passes ------------------------------------------------------------------------------------
    def forward(self, W, x, train: bool = False, rng=None):
        """Logits (p, B, classes) and the caches for :meth:`backward`.

        ``train`` turns dropout on; ``rng`` is its uniform draw (see :class:`~lsgdsim.nn.layers.Dropout`).
        """
        if x.ndim == len(self.input_shape) + 1:
            x = x[None]
        if tuple(x.shape[2:]) != self.input_shape or x.shape[0] not in (1, W.shape[0]):
            raise ValueError(f"x must have shape ({W.shape[0]} or 1, B, *{self.input_shape}); "
                             f"got {tuple(x.shape)}")
        if x.dtype != W.dtype:
            x = namespace(x).astype(x, W.dtype)
        params = self.unflatten(W)
        caches = []
        for layer, prm in zip(self.layers, params, strict=True):
            x, cache = layer.forward(prm, x, train=train, rng=rng)
            caches.append(cache)
        return x, caches

    def backward(self, W, caches, dlogits):
        """Flat gradient (p, D) of Σ(logits · dlogits) with respect to W, from :meth:`forward`'s caches."""
        xp = namespace(W)
        params = self.unflatten(W)
        G = xp.empty(W.shape, dtype=W.dtype)
        p = W.shape[0]
        by_layer: dict[int, list[Slot]] = {}
        for slot in self.layout:
            by_layer.setdefault(slot.layer, []).append(slot)
        dy = dlogits
        first = min(by_layer) if by_layer else 0
        for i in range(len(self.layers) - 1, first - 1, -1):
            dy, dparams = self.layers[i].backward(params[i], caches[i], dy, need_dx=i > first)
            for slot in by_layer.get(i, ()):
                # a column block of G split into (p, *shape) is a view: one copy, in any layout
                G[:, slot.offset:slot.offset + slot.size].reshape(p, *slot.shape)[...] = dparams[slot.name]
        return G

    def loss_and_grad(self, W, x, labels, train: bool = False, rng=None):
        """Mean cross-entropy per worker (p,) and its flat gradient (p, D) on one batch.

        With more than one thread allowed (see :class:`~lsgdsim.nn.layers.WorkerThreads`), fixed
        chunks of workers run in parallel; dropout masks are still cut from one (p, ...) draw per call.
        """
        if x.ndim == len(self.input_shape) + 1:
            x = x[None]
        p = W.shape[0]
        n = worker_threads.count(p, W, p * x.shape[1] * sum(int(np.prod(s)) for s in self.shapes))
        draws = _SharedDraws(rng, p) if n > 1 and rng is not None else None

        def chunk(lo, hi):
            rows = (lambda a: a if a.shape[0] != p else a[lo:hi]) if n > 1 else (lambda a: a)
            logits, caches = self.forward(rows(W), rows(x), train=train, rng=draws.rows(lo, hi) if draws else rng)
            loss, dlogits = softmax_cross_entropy(logits, rows(labels) if labels.ndim == 2 else labels)
            return loss, self.backward(rows(W), caches, dlogits)

        parts = worker_threads.map(chunk, p, n)
        if n == 1:
            return parts[0]
        return np.concatenate([lo for lo, _ in parts]), np.concatenate([g for _, g in parts])

    def logits(self, W, x):
        """Eval-mode logits (p, B, classes)."""
        return self.forward(W, x, train=False)[0]

    # -- description -------------------------------------------------------------------------------
    def describe(self) -> list[dict]:
        """One record per layer: its repr, per-sample output shape and parameter count per worker."""
        counts = [0] * len(self.layers)
        for slot in self.layout:
            counts[slot.layer] += slot.size
        return [{"layer": repr(layer), "output_shape": list(self.shapes[i + 1]), "params": counts[i]}
                for i, layer in enumerate(self.layers)]

    def __repr__(self) -> str:
        rows = [f"  {r['layer']:<44} -> {tuple(r['output_shape'])!s:<16} {r['params']:>8}"
                for r in self.describe()]
        return "\n".join([f"Sequential(input_shape={self.input_shape}, D={self.dim})", *rows])


class _SharedDraws:
    """Dropout draws shared by worker chunks: the k-th call of any chunk is the k-th full (p, ...) draw
    of ``rng`` (made once, in call order, under a lock), sliced to the chunk's workers."""

    def __init__(self, rng, p: int):
        self.rng, self.p, self.lock, self.full = rng, p, threading.Lock(), []

    def rows(self, lo: int, hi: int):
        calls = [0]

        def draw(shape):
            k, calls[0] = calls[0], calls[0] + 1
            with self.lock:
                if k == len(self.full):
                    shape = (self.p, *shape[1:])
                    self.full.append(self.rng(shape) if callable(self.rng) else self.rng.random(shape))
            return self.full[k][lo:hi]
        return draw


def mlp(input_dim: int, hidden=(64,), classes: int = 10) -> Sequential:
    """Multi-layer perceptron: [Dense(h) (He init) → ReLU] for each h in ``hidden`` → Dense(classes).

    The output layer uses Glorot initialization. Inputs are flat vectors (input_dim,).
    """
    layers: list[Layer] = []
    for h in hidden:
        layers += [Dense(h, init="he"), ReLU()]
    layers.append(Dense(classes, init="glorot"))
    return Sequential(layers, (int(input_dim),))


def cnn(input_shape, classes: int = 10, variant: str = "auto", dropout: float = 0.5) -> Sequential:
    """The paper's CNN7 (Teng et al. 2019, code ``models.py``), or a small version for tiny images.

    ``variant='cnn7'`` (for 28x28 inputs, the paper's crops; 'valid' convolutions)::

        conv5x5(64)-ReLU-maxpool2 → conv5x5(128)-ReLU-maxpool2 → conv3x3(64)-ReLU
        → flatten → Dense(256) → Dropout(0.5) → Dense(classes)

    On 28x28 the flatten has 64·2·2 = 256 features, as in the paper; other sizes get what they give
    (32x32 CIFAR: 64·3·3 = 576).

    ``variant='small'`` (for 8x8 digits; 'same' convolutions)::

        conv3x3(16)-ReLU-maxpool2 → conv3x3(32)-ReLU-maxpool2 → conv3x3(32)-ReLU
        → flatten → Dense(64) → Dropout(0.5) → Dense(classes)

    Both keep CNN7's shape: no ReLU between the two dense layers. ``'auto'`` picks 'cnn7' when the
    image side is at least 20 pixels, else 'small'. Layers followed by ReLU use He initialization,
    the two dense layers Glorot. ``input_shape`` is (C, H, W).
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W); got {input_shape}")
    if variant == "auto":
        variant = "cnn7" if min(input_shape[1:]) >= 20 else "small"
    if variant == "cnn7":
        convs, pad, hidden = ((64, 5), (128, 5), (64, 3)), "valid", 256
    elif variant == "small":
        convs, pad, hidden = ((16, 3), (32, 3), (32, 3)), "same", 64
    else:
        raise ValueError(f"variant must be 'auto', 'cnn7' or 'small'; got {variant!r}")
    (k1, s1), (k2, s2), (k3, s3) = convs
    layers = [Conv2D(k1, s1, pad), ReLU(), MaxPool2D(),
              Conv2D(k2, s2, pad), ReLU(), MaxPool2D(),
              Conv2D(k3, s3, pad), ReLU(),
              Flatten(), Dense(hidden, init="glorot"), Dropout(dropout), Dense(classes, init="glorot")]
    return Sequential(layers, input_shape)
