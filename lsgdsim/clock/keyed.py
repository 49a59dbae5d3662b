"""Counter-based random numbers keyed by (seed, stream, worker, step): the virtual clock's randomness.

A draw is a pure function of its key, not of a generator's position, so the duration of worker i's step k
is the same whichever other workers and steps are asked for in the same call, and in whatever order. With
``mix`` the SplitMix64 finaliser (a bijection of 64-bit words; all arithmetic is modulo 2^64)

    mix(x) = x₃,  x₁ = (x ⊕ (x ≫ 30))·0xBF58476D1CE4E5B9,  x₂ = (x₁ ⊕ (x₁ ≫ 27))·0x94D049BB133111EB,
                  x₃ = x₂ ⊕ (x₂ ≫ 31),

and γ = 0x9E3779B97F4A7C15 (2^64 / golden ratio, odd), the 64-bit hash of a key is the chain

    h₁ = mix(seed + γ),  h₂ = mix(h₁ ⊕ (stream + 3γ)),  h₃ = mix(h₂ ⊕ (worker + 5γ)),  h = mix(h₃ ⊕ (step + 7γ)),

so every component of the key is mixed (each level is a bijection of the component, given the levels
above it). A uniform in the open interval (0, 1) keeps the top 52 bits, u = (⌊h / 2^12⌋ + ½)·2^−52
(every value is exact in float64, so u never rounds to 0 or 1), and a standard normal is z = Φ⁻¹(u)
(``scipy.special.ndtri``; |z| < 8.3).

Stream ids are separate from those of :mod:`lsgdsim.backend`, whose streams are NumPy PCG64 generators: the
clock never draws from them, so adding a clock never changes a worker's gradient noise or any other draw.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from lsgdsim.validate import check_int

COMPUTE_STREAM = 1001  # compute-time models (lsgdsim.clock.compute)

UINT64_MAX = 2**64 - 1
_GAMMA = 0x9E3779B97F4A7C15
_LEVELS = tuple(np.array([k * _GAMMA % 2**64], dtype=np.uint64) for k in (1, 3, 5, 7))  # odd: γ, 3γ, 5γ, 7γ
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S12 = (np.uint64(s) for s in (30, 27, 31, 12))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of a uint64 array (any shape, at least 1-D: array ops wrap without warning)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def check_indices(value, name: str, ndim: int) -> np.ndarray:
    """An integer array of ``ndim`` dimensions with entries in [0, 2^63 − 1], returned as int64."""
    arr = np.asarray(value)
    if arr.ndim != ndim or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ValueError(f"{name} must be a {ndim}-D integer array; got {arr.dtype} array of shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.int64).max):
        raise ValueError(f"{name} entries must be in [0, 2^63 - 1]; got {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


def keyed_bits(seed: int, stream: int, workers, steps) -> np.ndarray:
    """64-bit hashes of the keys (seed, stream, workers[i], steps[i, k]) (see module docstring).

    ``seed`` and ``stream``: integers in [0, 2^64 − 1]. ``workers``: integer array (n,) >= 0. ``steps``:
    integer array (n, K), (n, 1) or (1, K), >= 0 (entries < 2^63), broadcast against ``workers[:, None]``.
    Returns a uint64 array (n, K); entry (i, k) depends on its own key only.
    """
    seed = check_int(seed, "seed", 0, UINT64_MAX)
    stream = check_int(stream, "stream", 0, UINT64_MAX)
    w = check_indices(workers, "workers", 1).astype(np.uint64)
    s = check_indices(steps, "steps", 2).astype(np.uint64)
    if s.shape[0] not in (1, w.shape[0]):
        raise ValueError(f"steps must have shape (n, K), (n, 1) or (1, K) with n = {w.shape[0]} workers; "
                         f"got {s.shape}")
    h = _mix(np.array([seed], dtype=np.uint64) + _LEVELS[0])
    h = _mix(h ^ (np.array([stream], dtype=np.uint64) + _LEVELS[1]))
    h = _mix(h ^ (w + _LEVELS[2]))[:, None]
    return _mix(h ^ (s + _LEVELS[3]))


def bits_to_uniform(bits: np.ndarray) -> np.ndarray:
    """Uniforms strictly inside (0, 1), float64 of the shape of ``bits`` (uint64): (⌊bits / 2^12⌋ + ½)·2^−52."""
    return ((bits >> _S12).astype(np.float64) + 0.5) * 2.0**-52


def keyed_uniform(seed: int, stream: int, workers, steps) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), float64 (n, K); arguments as :func:`keyed_bits`."""
    return bits_to_uniform(keyed_bits(seed, stream, workers, steps))


def keyed_normal(seed: int, stream: int, workers, steps) -> np.ndarray:
    """Standard normal draws Φ⁻¹(u), float64 (n, K); arguments as :func:`keyed_bits`."""
    return ndtri(keyed_uniform(seed, stream, workers, steps))
