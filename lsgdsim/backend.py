"""Array backends and random streams.

The simulator core is written against the array API standard. Code picks its namespace from its
inputs (``namespace(X)``), never at import time, so NumPy, CuPy and array-api-strict runs coexist in
one process. ``resolve(name)`` maps a backend name to its namespace for the entry points that create
arrays (``simulate``, the CLI).

Randomness (docs/design.md §5) comes from :class:`RandomStreams`: one independent stream per purpose
(gradient noise, loss-estimate noise, mini-batch indices, initial points, dropout). Every draw is a
*block* with a leading worker axis, (p, ...), and worker i's values are row i of the block.

Worker blocks (issue 12): the worker axis is cut into blocks of B = ⌈2^16 / r⌉ workers (r: the numbers
per worker in that draw, e.g. d; ``parallel.block_rows``), and block k of a stream draws from its own
generator, seeded from ``SeedSequence(seed, spawn_key=(stream_id,))`` for k = 0 (the stream's seed
before worker blocks, so a draw with p ≤ B, e.g. every draw at small d, is bit-identical to the old
single-generator scheme) and ``spawn_key=(stream_id, k)`` for k ≥ 1 (numpy's spawned children of
block 0's sequence, independent by construction). So a process that owns worker i replays its
randomness exactly by drawing only its block, B·r ≈ max(r, 2^16) numbers instead of p·r
(:meth:`RandomStreams.worker_normal` and friends), and the blocks of one draw can run on several
threads (``parallel.WorkerPool``) with results independent of the thread count.
"""
from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace, is_numpy_namespace
from array_api_compat import numpy as _NUMPY

from .parallel import SERIAL, block_bounds, block_rows

BACKENDS = ("numpy", "cupy", "array_api_strict")
DTYPES = ("float64", "float32")

# Stable ids: adding a stream never changes the draws of the existing ones.
STREAMS = {"grad_noise": 0, "loss_noise": 1, "batch": 2, "init": 3, "dropout": 4, "data": 5, "leader_choice": 6}


def namespace(*arrays: Any):
    """The array-API namespace of ``arrays`` (NumPy, CuPy, array-api-strict, ...)."""
    if len(arrays) == 1 and type(arrays[0]) is np.ndarray:     # the hot case, without the general dispatch
        return _NUMPY
    return array_namespace(*arrays)


def resolve(backend: str):
    """Namespace for a backend name; ``ValueError`` naming ``backend`` if unknown or unavailable."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "numpy":
        from array_api_compat import numpy as xp
        return xp
    if backend == "cupy":
        try:
            import cupy
            from array_api_compat import cupy as xp
            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # ImportError, CUDARuntimeError: no usable GPU
            raise ValueError(f"backend 'cupy' is not available here ({type(exc).__name__}: {exc})") from exc
        return xp
    try:
        return importlib.import_module("array_api_strict")
    except ImportError as exc:
        raise ValueError("backend 'array_api_strict' needs the array-api-strict package") from exc


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return dtype


def xp_dtype(xp, dtype: str):
    return getattr(xp, check_dtype(dtype))


def backend_name(xp) -> str:
    if is_numpy_namespace(xp):
        return "numpy"
    if is_cupy_namespace(xp):
        return "cupy"
    return xp.__name__.split(".")[0]


def take_row(X, index):
    """Row ``index`` (a 0-d integer array, e.g. from argmin) of X (p, d) as a (1, d) array.

    Written with ``take`` so it stays on the device and is valid array-API code (array-api-strict
    rejects a 0-d array index mixed with slices)."""
    xp = namespace(X)
    return xp.take(X, xp.reshape(xp.asarray(index), (1,)), axis=0)


def to_numpy(x) -> np.ndarray:
    """Copy any backend's array (or scalar) to a NumPy array on the host."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):  # CuPy
        return x.get()
    if type(x).__module__.startswith("array_api_strict"):
        # array-api-strict arrays on the CPU device expose the buffer protocol through __dlpack__.
        return np.from_dlpack(x)
    return np.asarray(x)


def from_numpy(a: np.ndarray, xp, dtype=None):
    """Move a host array into namespace ``xp`` (optionally casting to ``dtype``)."""
    out = xp.asarray(np.ascontiguousarray(a))
    if dtype is not None and out.dtype != dtype:
        out = xp.astype(out, dtype)
    return out


class ConstantCache:
    """Per-namespace, per-dtype copies of an object's constant NumPy arrays (A, b, data, ...).

    Objectives keep their data as NumPy arrays and ask for ``const(xp, dtype, name)`` inside their
    vectorized calls; the first call for a (namespace, dtype) converts, later calls reuse.
    """

    def __init__(self):
        self._cache: dict = {}

    def get(self, owner, xp, dtype, name: str):
        key = (xp.__name__, dtype, name)          # hashable as given (str(dtype) costs more than the lookup)
        hit = self._cache.get(key)
        if hit is None:
            a = getattr(owner, name)
            floating = np.issubdtype(np.asarray(a).dtype, np.floating)
            hit = from_numpy(np.asarray(a), xp, dtype if floating else None)
            self._cache[key] = hit
        return hit


class RandomStreams:
    """Independent, reproducible random streams for one run (see module docstring).

    ``normal(name, shape)``, ``integers(name, high, shape)`` and ``uniform(name, shape)`` return
    arrays of the run's namespace; ``shape[0]`` is the worker axis. Same seed, same backend, same
    sequence of calls → bit-identical draws, whatever ``pool`` (a :class:`~lsgdsim.parallel.WorkerPool`
    that draws the blocks of a host draw on several threads). ``worker_normal`` / ``worker_uniform`` /
    ``worker_integers`` give one worker's row of the same draw at the cost of its block alone; a
    stream of one object should be read either way, not both (the other blocks do not advance).
    """

    def __init__(self, seed: int, xp, dtype: str = "float64", pool=None):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        self.seed = int(seed)
        self.xp = xp
        self.dtype = check_dtype(dtype)
        self.pool = SERIAL if pool is None else pool
        self._on_gpu = is_cupy_namespace(xp)
        self._host = is_numpy_namespace(xp)
        self._gens: dict[tuple[str, int], Any] = {}

    def seed_sequence(self, name: str, block: int = 0) -> np.random.SeedSequence:
        if name not in STREAMS:
            raise ValueError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}")
        key = (STREAMS[name],) if block == 0 else (STREAMS[name], int(block))
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def generator(self, name: str, block: int = 0):
        gen = self._gens.get((name, block))
        if gen is None:
            ss = self.seed_sequence(name, block)
            if self._on_gpu:
                import cupy
                gen = cupy.random.default_rng(int(ss.generate_state(1, np.uint64)[0]))
            else:
                gen = np.random.Generator(np.random.PCG64(ss))
            self._gens[(name, block)] = gen
        return gen

    def numpy_generator(self, name: str) -> np.random.Generator:
        """A host generator for this stream (used for set-up draws such as x0, whatever the backend)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name)))

    # -- one block's draw (the single definition both the vectorized and the per-worker draw use) --
    def _normal_block(self, gen, shape, scale):
        # Standard normals scaled in place: the numbers of ``gen.normal(0, scale, shape)`` (which computes
        # 0 + scale·z per draw), about 10 % faster (the generator's per-draw arithmetic is left out).
        z = gen.standard_normal(shape, dtype=np.float32 if self.dtype == "float32" else np.float64)
        if isinstance(scale, (int, float)):
            if scale == 1.0:
                return z
            if not scale >= 0:   # (as gen.normal refused it)
                raise ValueError(f"scale must be >= 0; got {scale!r}")
        z *= scale
        return z

    def _uniform_block(self, gen, shape, _):
        return gen.random(shape, dtype=np.float32 if self.dtype == "float32" else np.float64)

    @staticmethod
    def _integers_block(gen, shape, high):
        return gen.integers(0, high, size=shape)

    def _draw(self, name, shape, block_fn, arg):
        """The whole (p, ...) draw: block by block, each from its block's generator."""
        rest = shape[1:]
        if not shape or shape[0] <= block_rows(math.prod(rest)):  # one block: the stream's own generator
            gen = self._gens.get((name, 0)) or self.generator(name)
            z = block_fn(gen, shape, arg)
        else:
            shape = tuple(int(n) for n in shape)
            bounds = block_bounds(shape[0], math.prod(rest))
            gens = [self.generator(name, lo // (bounds[0][1])) for lo, _ in bounds]
            if self._host or not self._on_gpu:
                first = block_fn(gens[0], (bounds[0][1], *rest), arg)
                z = np.empty(shape, dtype=first.dtype)
                z[:bounds[0][1]] = first

                def fill(lo, hi):
                    z[lo:hi] = block_fn(gens[lo // bounds[0][1]], (hi - lo, *rest), arg)

                self.pool.map(fill, bounds[1:])
            else:
                import cupy
                z = cupy.concatenate([block_fn(g, (hi - lo, *rest), arg)
                                      for g, (lo, hi) in zip(gens, bounds, strict=True)])
        return self._to_xp(z)

    def _to_xp(self, z):
        if not (self._on_gpu or self._host):
            z = self.xp.asarray(z)
        return z

    def _worker_row(self, name, shape, worker, block_fn, arg):
        """Row ``worker`` of the (p, ...) draw ``_draw(name, shape, ...)``, drawing only its block."""
        shape = tuple(int(n) for n in shape)
        p, rest = shape[0], shape[1:]
        if not 0 <= int(worker) < p:
            raise ValueError(f"worker must be in [0, {p}); got {worker!r}")
        b = block_rows(math.prod(rest))
        k = int(worker) // b
        lo, hi = k * b, min(p, (k + 1) * b)
        z = block_fn(self.generator(name, k), (hi - lo, *rest), arg)
        return self._to_xp(z[int(worker) - lo])

    def block_normal(self, name: str, shape: tuple[int, ...], lo: int, hi: int, scale=1.0):
        """Rows [lo, hi) of ``normal(name, shape, scale)`` when [lo, hi) is one of its worker blocks
        (``parallel.block_bounds(shape[0], prod(shape[1:]))``); draws that block alone. For callers
        that draw the blocks of one (p, ...) draw themselves, each block exactly once per draw."""
        rest = tuple(shape[1:])
        return self._to_xp(self._normal_block(self.generator(name, lo // block_rows(math.prod(rest))),
                                              (hi - lo, *rest), scale))

    # -- public draws ------------------------------------------------------------------------------
    def normal(self, name: str, shape: tuple[int, ...], scale=1.0):
        if not isinstance(scale, (int, float)) and shape[0] > block_rows(math.prod(shape[1:])):
            return self.normal(name, shape) * scale  # array scales broadcast against the whole draw
        return self._draw(name, shape, self._normal_block, scale)

    def integers(self, name: str, high: int, shape: tuple[int, ...]):
        return self._draw(name, shape, self._integers_block, high)

    def uniform(self, name: str, shape: tuple[int, ...]):
        return self._draw(name, shape, self._uniform_block, None)

    def worker_normal(self, name: str, shape: tuple[int, ...], worker: int, scale: float = 1.0):
        """Row ``worker`` of ``normal(name, shape, scale)`` (scalar ``scale``), drawing only its block."""
        return self._worker_row(name, shape, worker, self._normal_block, scale)

    def worker_integers(self, name: str, high: int, shape: tuple[int, ...], worker: int):
        """Row ``worker`` of ``integers(name, high, shape)``, drawing only its block."""
        return self._worker_row(name, shape, worker, self._integers_block, high)

    def worker_uniform(self, name: str, shape: tuple[int, ...], worker: int):
        """Row ``worker`` of ``uniform(name, shape)``, drawing only its block."""
        return self._worker_row(name, shape, worker, self._uniform_block, None)
