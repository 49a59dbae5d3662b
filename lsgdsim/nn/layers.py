"""Layers whose parameters carry a leading worker axis: one batched matmul serves every worker.

Activations have shape (p, B, *sample_shape): p workers, B samples each. A first-layer input may
have a leading axis of 1 instead of p (every worker sees the same samples); it broadcasts.

Every layer implements the same small interface (numpy-ml style, hand-written backward passes):

- ``output_shape(in_shape)``: per-sample output shape for a per-sample input shape;
- ``param_specs(in_shape)``: the per-worker parameter shapes (with fans, for initialization);
- ``forward(params, x, train=False, rng=None) -> (y, cache)``; ``params`` maps a parameter name to an
  array (p, *shape) (a view into the flat (p, D) weights, see :mod:`lsgdsim.nn.models`);
- ``backward(params, cache, dy, need_dx=True) -> (dx, dparams)``; ``dx`` is None when not needed.

Images are NCHW per worker, (p, B, C, H, W), and convolution weights are (p, K, C, kh, kw), as in
PyTorch. Convolutions are im2col over strided views followed by one batched matmul over the worker
axis; their outputs are NCHW views of channels-last memory, which the next layer's strided views
read without a copy. Array code takes its module from its inputs, so it runs on NumPy and CuPy alike.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from array_api_compat import is_cupy_array

from ..parallel import BlasOneThread, blas_threads

INITS = ("he", "glorot", "zeros")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a layer, per worker: ``shape``, initializer name and fans (for He/Glorot)."""

    name: str
    shape: tuple[int, ...]
    init: str
    fan_in: int = 1
    fan_out: int = 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _module(x):
    """NumPy or CuPy, whichever owns ``x`` (stride tricks are outside the array API)."""
    if is_cupy_array(x):
        import cupy
        return cupy
    return np


def _as_strided(x, shape, strides):
    return _module(x).lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


class _Scratch(threading.local):
    """Per-thread reusable host buffers for temporaries that never leave a layer call.

    Fresh multi-megabyte arrays are page-faulted in on every step (glibc hands them back to the OS);
    reusing the padding and im2col buffers removes most of that cost. An LRU bounded in bytes keeps
    the retained memory small; CuPy has its own memory pool and does not use this.
    """

    max_bytes = 256 * 2**20

    def __init__(self):
        self.buffers: OrderedDict = OrderedDict()
        self.nbytes = 0

    def get(self, role: str, shape: tuple[int, ...], dtype, zero: bool = False):
        key = (role, tuple(shape), np.dtype(dtype).str)
        buf = self.buffers.pop(key, None)
        if buf is None:
            buf = (np.zeros if zero else np.empty)(shape, dtype=dtype)
            if buf.nbytes > self.max_bytes:
                return buf
            self.nbytes += buf.nbytes
            while self.nbytes > self.max_bytes:
                self.nbytes -= self.buffers.popitem(last=False)[1].nbytes
        self.buffers[key] = buf
        return buf


_scratch = _Scratch()


class WorkerThreads:
    """Runs a function on fixed chunks of the worker axis in a small thread pool (host arrays only).

    The thread count is ``threads`` when set, else the BLAS limit (threadpoolctl's view of OpenBLAS,
    so ``threadpool_limits`` and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS apply) capped by the CPU
    affinity. One thread, CuPy arrays or less than ``min_work`` elements of work run as one chunk on
    the caller's thread. Chunk boundaries depend only on p and the thread count, so results do not
    depend on scheduling; BLAS is held to one thread while the chunks run (NumPy releases the GIL in
    matmul, copies and ufuncs).
    """

    threads: int | None = None  # explicit setting; None: follow the BLAS limit
    min_work = 2**19  # elements of activations per step: the 8x8 CNN at p >= 8

    def __init__(self):
        self.pool, self.pool_size = None, 0
        self.blas_guard = BlasOneThread()

    def count(self, p: int, x, work: int) -> int:
        """Threads for ``work`` elements over p workers whose arrays are like ``x``."""
        if p < 2 or work < self.min_work or not isinstance(x, np.ndarray):
            return 1
        if self.threads is not None:
            return max(1, min(p, int(self.threads)))
        n = blas_threads()   # (as set outside a run's hold: simulate holds BLAS at one thread while it runs)
        return max(1, min(p, n, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))

    def map(self, fn, p: int, n: int) -> list:
        """``[fn(lo, hi) for each chunk]`` over n contiguous chunks [lo, hi) of range(p), in order."""
        chunks = list(pairwise(p * i // n for i in range(n + 1)))
        if n == 1:
            return [fn(*chunks[0])]
        if self.pool is None or self.pool_size < n - 1:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
            self.pool, self.pool_size = ThreadPoolExecutor(n - 1, thread_name_prefix="lsgdsim-nn"), n - 1
        with self.blas_guard:  # the simulator's mechanism (lsgdsim.parallel): BLAS at one thread meanwhile
            futures = [self.pool.submit(fn, lo, hi) for lo, hi in chunks[1:]]
            return [fn(*chunks[0])] + [f.result() for f in futures]


worker_threads = WorkerThreads()


def _pad_hw(x, top: int, bottom: int, left: int, right: int, reuse: bool = False, role: str = "pad"):
    """Zero-pad the last two axes of (a, B, C, H, W); the padded copy has channels-last memory.

    ``reuse``: write into a per-thread buffer whose border stays zero (for results that are
    consumed before the call returns).
    """
    if top == bottom == left == right == 0:
        return x
    a, B, C, H, W = x.shape
    shape = (a, B, H + top + bottom, W + left + right, C)
    if reuse and isinstance(x, np.ndarray):
        out = _scratch.get(f"{role}{top},{bottom},{left},{right}", shape, x.dtype, zero=True)
    else:
        out = _module(x).zeros(shape, dtype=x.dtype)
    out = out.transpose(0, 1, 4, 2, 3)
    out[:, :, :, top:top + H, left:left + W] = x
    return out


def _im2col(x, kh: int, kw: int, reuse: bool = False, role: str = "cols"):
    """Patches of (a, B, C, H, W) as a contiguous (a, B·Ho·Wo, kh·kw·C) matrix (channel fastest)."""
    win = _windows(x, kh, kw)
    a, B, Ho, Wo = win.shape[:4]
    shape = (a, B * Ho * Wo, kh * kw * win.shape[-1])
    if not (reuse and isinstance(x, np.ndarray)):
        return win.reshape(shape)
    cols = _scratch.get(role, shape, x.dtype)
    cols.reshape(win.shape)[...] = win
    return cols


def _windows(x, kh: int, kw: int):
    """Read-only strided view (a, B, Ho, Wo, kh, kw, C) of every kh x kw patch of (a, B, C, H, W).

    Channel last: on channels-last memory each (kw, C) row of a patch is one contiguous run, so the
    im2col copy moves long runs instead of kw-element ones.
    """
    a, B, C, H, W = x.shape
    sa, sb, sc, sh, sw = x.strides
    return _as_strided(x, (a, B, H - kh + 1, W - kw + 1, kh, kw, C), (sa, sb, sh, sw, sh, sw, sc))


class Layer:
    """Base layer: no parameters, shape-preserving. Subclasses override what they change."""

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(in_shape)

    def param_specs(self, in_shape: tuple[int, ...]) -> tuple[ParamSpec, ...]:
        return ()

    def param_shapes(self, in_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        """Per-worker parameter shapes by name (the worker axis is not included)."""
        return {s.name: s.shape for s in self.param_specs(in_shape)}

    def forward(self, params, x, train: bool = False, rng=None):
        raise NotImplementedError

    def backward(self, params, cache, dy, need_dx: bool = True):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dense(Layer):
    """y = x W + b per worker: x (p, B, n_in), W (p, n_in, n_out), b (p, n_out) -> y (p, B, n_out).

    W is stored input-major (the transpose of PyTorch's ``Linear.weight``), so the forward pass is one
    batched matmul with no transpose.
    """

    def __init__(self, units: int, init: str = "he"):
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"units must be a positive integer; got {units!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")
        self.units = int(units)
        self.init = init

    def output_shape(self, in_shape):
        if len(in_shape) != 1:
            raise ValueError(f"Dense expects flat inputs (n_in,); got per-sample shape {tuple(in_shape)}")
        return (self.units,)

    def param_specs(self, in_shape):
        n_in = int(in_shape[0])
        return (ParamSpec("W", (n_in, self.units), self.init, n_in, self.units),
                ParamSpec("b", (self.units,), "zeros"))

    def forward(self, params, x, train=False, rng=None):
        y = x @ params["W"]
        y += params["b"][:, None, :]
        return y, x

    def backward(self, params, cache, dy, need_dx=True):
        x = cache
        dW = x.transpose(0, 2, 1) @ dy
        db = dy.sum(axis=1)
        dx = dy @ params["W"].transpose(0, 2, 1) if need_dx else None
        return dx, {"W": dW, "b": db}

    def __repr__(self):
        return f"Dense({self.units}, init={self.init!r})"


class Conv2D(Layer):
    """2-D cross-correlation, stride 1: x (p, B, C, H, W), W (p, K, C, kh, kw), b (p, K) -> (p, B, K, Ho, Wo).

    ``padding='valid'``: Ho = H − kh + 1. ``padding='same'``: Ho = H, with kh − 1 zeros split as
    PyTorch does (the extra one, for even kernels, at the bottom/right).
    Forward: im2col over a strided view, then (p, B·Ho·Wo, C·kh·kw) @ (p, C·kh·kw, K).
    Backward: dW = colsᵀ dy; dx is the 'full' correlation of dy with the flipped kernel (again one
    im2col and one matmul, no scatter loop).
    """

    def __init__(self, filters: int, kernel_size: int | tuple[int, int], padding: str = "valid",
                 init: str = "he"):
        if not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"filters must be a positive integer; got {filters!r}")
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(kernel_size)
        if not all(isinstance(k, (int, np.integer)) and k >= 1 for k in (kh, kw)):
            raise ValueError(f"kernel_size must be positive integers; got {kernel_size!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")
        self.filters, self.kh, self.kw = int(filters), int(kh), int(kw)
        self.padding, self.init = padding, init
        if padding == "same":
            self.pads = ((self.kh - 1) // 2, self.kh // 2, (self.kw - 1) // 2, self.kw // 2)
        else:
            self.pads = (0, 0, 0, 0)

    def output_shape(self, in_shape):
        if len(in_shape) != 3:
            raise ValueError(f"Conv2D expects (C, H, W) inputs; got per-sample shape {tuple(in_shape)}")
        _, H, W = in_shape
        t, b, left, r = self.pads
        Ho, Wo = H + t + b - self.kh + 1, W + left + r - self.kw + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"Conv2D kernel {self.kh}x{self.kw} does not fit input {H}x{W}")
        return (self.filters, Ho, Wo)

    def param_specs(self, in_shape):
        C = int(in_shape[0])
        k = self.kh * self.kw
        return (ParamSpec("W", (self.filters, C, self.kh, self.kw), self.init, C * k, self.filters * k),
                ParamSpec("b", (self.filters,), "zeros"))

    def forward(self, params, x, train=False, rng=None):
        Wt = params["W"]
        p, K, C, kh, kw = Wt.shape
        B = x.shape[1]
        _, Ho, Wo = self.output_shape(x.shape[2:])
        cols = _im2col(_pad_hw(x, *self.pads, reuse=True), kh, kw, reuse=True)
        y = cols @ Wt.transpose(0, 3, 4, 2, 1).reshape(p, kh * kw * C, K)  # (p, B·Ho·Wo, K)
        y += params["b"][:, None, :]
        y = y.reshape(p, B, Ho, Wo, K).transpose(0, 1, 4, 2, 3)  # NCHW view of channels-last memory
        return y, x

    def backward(self, params, cache, dy, need_dx=True):
        x = cache  # the im2col matrix is rebuilt rather than cached: cheaper than faulting in a new one
        Wt = params["W"]
        p, K, C, kh, kw = Wt.shape
        _, B, _, Ho, Wo = dy.shape
        dy2 = dy.transpose(0, 1, 3, 4, 2).reshape(p, B * Ho * Wo, K)  # a view when dy is channels-last
        cols = _im2col(_pad_hw(x, *self.pads, reuse=True), kh, kw, reuse=True)
        dW = (cols.transpose(0, 2, 1) @ dy2).reshape(p, kh, kw, C, K).transpose(0, 4, 3, 1, 2)
        db = dy2.sum(axis=1)
        dx = None
        if need_dx:
            H, W = x.shape[-2:]
            t, b, left, r = self.pads
            dypad = _pad_hw(dy, kh - 1 - t, kh - 1 - b, kw - 1 - left, kw - 1 - r, reuse=True, role="dpad")
            dcols = _im2col(dypad, kh, kw, reuse=True, role="dcols")
            flipped = Wt[:, :, :, ::-1, ::-1].transpose(0, 3, 4, 1, 2).reshape(p, kh * kw * K, C)
            dx = (dcols @ flipped).reshape(p, B, H, W, C).transpose(0, 1, 4, 2, 3)
        return dx, {"W": dW, "b": db}

    def __repr__(self):
        return f"Conv2D({self.filters}, {self.kh}x{self.kw}, padding={self.padding!r}, init={self.init!r})"


class MaxPool2D(Layer):
    """2x2 max-pooling, stride 2, over (p, B, C, H, W) -> (p, B, C, H//2, W//2) (odd edges dropped).

    Ties go to the first maximum in row-major window order, as in PyTorch; the backward pass routes
    dy to that one input through the cached argmax (0..3 per window).
    """

    def output_shape(self, in_shape):
        if len(in_shape) != 3 or in_shape[1] < 2 or in_shape[2] < 2:
            raise ValueError(f"MaxPool2D expects (C, H, W) with H, W >= 2; got {tuple(in_shape)}")
        C, H, W = in_shape
        return (C, H // 2, W // 2)

    def forward(self, params, x, train=False, rng=None):
        mod = _module(x)
        a, B, C, H, W = x.shape
        Ho, Wo = H // 2, W // 2
        xr = x[..., :2 * Ho, :2 * Wo].reshape(a, B, C, Ho, 2, Wo, 2)
        x00, x01 = xr[:, :, :, :, 0, :, 0], xr[:, :, :, :, 0, :, 1]
        x10, x11 = xr[:, :, :, :, 1, :, 0], xr[:, :, :, :, 1, :, 1]
        top, bottom = mod.maximum(x00, x01), mod.maximum(x10, x11)
        y = mod.maximum(top, bottom)
        arg_top = (x01 > x00).astype(mod.uint8)
        arg_bottom = (x11 > x10).astype(mod.uint8) + mod.uint8(2)
        arg = mod.where(bottom > top, arg_bottom, arg_top)
        return y, (arg, x.shape)

    def backward(self, params, cache, dy, need_dx=True):
        if not need_dx:
            return None, {}
        arg, (_, B, C, H, W) = cache
        mod = _module(dy)
        p = dy.shape[0]
        Ho, Wo = H // 2, W // 2
        odd = (H, W) != (2 * Ho, 2 * Wo)
        alloc = mod.zeros if odd else mod.empty
        dx = alloc((p, B, H, W, C), dtype=dy.dtype).transpose(0, 1, 4, 2, 3)  # channels-last memory
        dxr = dx[..., :2 * Ho, :2 * Wo].reshape(p, B, C, Ho, 2, Wo, 2)  # splitting axes: a view
        for k in range(4):  # the four window positions, not workers or samples
            mod.multiply(arg == k, dy, out=dxr[:, :, :, :, k // 2, :, k % 2])
        return dx, {}

    def __repr__(self):
        return "MaxPool2D(2)"


class ReLU(Layer):
    """y = max(x, 0); the backward pass keeps the mask x > 0 (derivative 0 at x = 0, as PyTorch)."""

    def forward(self, params, x, train=False, rng=None):
        mask = x > 0
        return x * mask, mask

    def backward(self, params, cache, dy, need_dx=True):
        return (dy * cache if need_dx else None), {}


class Dropout(Layer):
    """Inverted dropout: in train mode y = x·m/(1 − rate) with m ~ Bernoulli(1 − rate); else y = x.

    ``rng`` supplies the uniform draws: a callable ``draw(shape) -> U[0, 1)`` array (for instance
    ``lambda s: streams.uniform("dropout", s)`` with a :class:`lsgdsim.backend.RandomStreams`) or a
    generator with a ``random(shape)`` method. An element is kept when its draw is >= ``rate``. With
    ``rng=None`` the layer is the identity, in train mode too (the caller asked for no dropout).
    """

    def __init__(self, rate: float = 0.5):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1); got {rate!r}")
        self.rate = float(rate)

    def forward(self, params, x, train=False, rng=None):
        if not train or rng is None or self.rate == 0.0:
            return x, None
        u = rng(x.shape) if callable(rng) else rng.random(x.shape)
        mask = (u >= self.rate).astype(x.dtype)
        mask *= 1.0 / (1.0 - self.rate)
        return x * mask, mask

    def backward(self, params, cache, dy, need_dx=True):
        if not need_dx:
            return None, {}
        return (dy if cache is None else dy * cache), {}

    def __repr__(self):
        return f"Dropout({self.rate})"


class Flatten(Layer):
    """(p, B, *shape) -> (p, B, prod(shape)) in C (NCHW) order, the order PyTorch's flatten uses."""

    def output_shape(self, in_shape):
        return (int(np.prod(in_shape, dtype=np.int64)),)

    def forward(self, params, x, train=False, rng=None):
        return x.reshape(*x.shape[:2], -1), x.shape

    def backward(self, params, cache, dy, need_dx=True):
        if not need_dx:
            return None, {}
        return dy.reshape(dy.shape[0], *cache[1:]), {}
