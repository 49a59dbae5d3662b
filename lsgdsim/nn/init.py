"""He and Glorot initialization, drawn as (p, ...) blocks: worker i's initial parameters are row i.

Every draw takes one NumPy Generator and returns a host array of shape (p, *shape), so the same
generator state gives the same block whatever the backend the weights are later moved to.
"""
from __future__ import annotations

import numpy as np

from .layers import ParamSpec


def he_normal(rng: np.random.Generator, p: int, shape: tuple[int, ...], fan_in: int,
              dtype=np.float64) -> np.ndarray:
    """N(0, 2/fan_in) entries (He et al. 2015, for layers followed by ReLU), shape (p, *shape)."""
    std = np.sqrt(2.0 / fan_in)
    return (std * rng.standard_normal((p, *shape))).astype(dtype, copy=False)


def glorot_uniform(rng: np.random.Generator, p: int, shape: tuple[int, ...], fan_in: int, fan_out: int,
                   dtype=np.float64) -> np.ndarray:
    """U(−a, a) entries with a = √(6/(fan_in + fan_out)) (Glorot & Bengio 2010), shape (p, *shape)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (p, *shape)).astype(dtype, copy=False)


def initialize(spec: ParamSpec, p: int, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Initial values (p, *spec.shape) for one parameter, by ``spec.init`` ('he', 'glorot', 'zeros')."""
    if spec.init == "he":
        return he_normal(rng, p, spec.shape, spec.fan_in, dtype)
    if spec.init == "glorot":
        return glorot_uniform(rng, p, spec.shape, spec.fan_in, spec.fan_out, dtype)
    if spec.init == "zeros":
        return np.zeros((p, *spec.shape), dtype=dtype)
    raise ValueError(f"unknown initializer {spec.init!r} for parameter {spec.name!r}")
