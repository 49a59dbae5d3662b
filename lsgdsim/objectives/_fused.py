"""Fused elementwise value-and-gradient terms for the hot objectives, compiled with ``cupy.fuse``.

Each ``*_terms(xp, ...)`` is plain elementwise array code in namespace ``xp``: on NumPy it is the
reference the tests compare with the objective; on CuPy ``fused(name)`` compiles it into one kernel,
so the gradient and the per-coordinate value terms come out of one pass over X instead of the five
or six passes of the unfused ufunc chain (the GPU step is memory-bound).
"""
from __future__ import annotations

from ..kernels import TWO_PI


def rastrigin_terms(xp, x, a):
    """Elementwise Rastrigin: gradient 2x + 2πA sin 2πx, value term x² − A cos 2πx (same shape as x)."""
    angle = TWO_PI * x
    return 2.0 * x + (TWO_PI * a) * xp.sin(angle), x * x - a * xp.cos(angle)


_KERNELS: dict = {}


def fused(name: str):
    """The CuPy-fused version of ``<name>_terms`` (compiled once per process)."""
    kernel = _KERNELS.get(name)
    if kernel is None:
        import cupy
        terms = globals()[f"{name}_terms"]
        kernel = _KERNELS[name] = cupy.fuse(kernel_name=f"lsgdsim_{name}")(lambda x, a: terms(cupy, x, a))
    return kernel
