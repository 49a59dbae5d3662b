"""The objective contract: vectorized over a leading worker axis, carrying its own facts.

Every objective takes worker parameters ``X`` of shape (p, d) in any array-API namespace and returns
values (p,) and gradients (p, d) in the same namespace, in one vectorized call. It declares what it
knows (BoTorch-style), so that one generic test can check every objective at once:

- ``dim`` (d), ``name``;
- ``minimizer`` (d,) and ``fmin`` where a global minimizer is known (else ``None``);
- ``mu`` (strong-convexity modulus) and ``L`` (gradient Lipschitz constant) where defined;
- ``stationary_points``: known stationary points, each with its kind and value;
- ``hessian(x)`` (d, d) and ``hvp(x, v)`` where cheap;
- finite sums also declare ``n_samples`` and offer ``batch_value_and_grad(X, idx)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import ConstantCache, namespace
from ..parallel import block_bounds


@dataclass(frozen=True)
class StationaryPoint:
    """A known stationary point ∇f(x) = 0: ``kind`` is 'min' (global or local), 'max' or 'saddle'."""

    x: np.ndarray
    kind: str
    value: float
    is_global: bool = False

    def __post_init__(self):
        if self.kind not in ("min", "max", "saddle"):
            raise ValueError(f"kind must be 'min', 'max' or 'saddle'; got {self.kind!r}")


class Objective:
    """Base class. Subclasses implement :meth:`value_and_grad` (fused, one pass for both).

    Attributes are class-level defaults; subclasses set the ones they know in ``__init__``.
    """

    name: str = "objective"
    dim: int
    minimizer: np.ndarray | None = None
    fmin: float | None = None
    mu: float | None = None
    L: float | None = None
    stationary_points: tuple[StationaryPoint, ...] = ()
    n_samples: int | None = None  # finite sums only
    init_scale: float = 1.0       # default x0 ~ init_center + init_scale * N(0, I)
    init_center: np.ndarray | None = None

    # -- constants on the caller's backend -------------------------------------------------------
    def _const(self, xp, dtype, name: str):
        cache = self.__dict__.get("_consts")
        if cache is None:
            cache = self.__dict__["_consts"] = ConstantCache()
        return cache.get(self, xp, dtype, name)

    # -- the oracle ------------------------------------------------------------------------------
    def value_and_grad(self, X):
        """Values (p,) and gradients (p, d) at every row of ``X`` (p, d), in one pass.

        The returned arrays must be fresh (not views of cached state): the run loop adds gradient
        noise to them in place."""
        raise NotImplementedError

    def noisy_value_and_grad(self, X, streams=None, sigma: float = 0.0):
        """Values (p,) and gradients plus noise g_i = ∇f(x_i) + σ ξ_i (p, d), ξ the (p, d) draw of the
        "grad_noise" stream: equal to ``value_and_grad(X)`` then ``G += streams.normal(...)``.

        On NumPy with more than one worker block (``parallel.block_bounds(p, d)``), block by block on
        ``streams.pool``'s threads: each block's gradient is computed, and its noise drawn and added,
        while the block (2^16 numbers) is still in cache. Blocks depend on (p, d) only, so the result
        does not depend on the thread count."""
        p, d = X.shape
        bounds = block_bounds(p, d)
        if len(bounds) == 1 or not isinstance(X, np.ndarray) or not self._by_blocks(X):
            vals, G = self.value_and_grad(X)
            if sigma > 0:
                G += streams.normal("grad_noise", (p, d), scale=sigma)
            return vals, G
        vals, G = np.empty(p, dtype=X.dtype), np.empty((p, d), dtype=X.dtype)
        if sigma > 0:
            for lo, _ in bounds:  # create the block generators here, not concurrently in the threads
                streams.generator("grad_noise", lo // bounds[0][1])

        def block(lo, hi):
            self._value_and_grad_into(X[lo:hi], vals[lo:hi], G[lo:hi])
            if sigma > 0:
                G[lo:hi] += streams.block_normal("grad_noise", (p, d), lo, hi, scale=sigma)

        (streams.pool.map if streams is not None else _serial_map)(block, bounds)
        return vals, G

    # ``_value_and_grad_into(X, vals, G)``: value_and_grad of the NumPy rows X (n, d) written into vals
    # (n,) and G (n, d). Row-wise objectives define it (a worker's row depends on its own parameters
    # only); the others are evaluated whole, with their noise still drawn by blocks.
    _value_and_grad_into = None

    # Whether the block oracle also takes an X of another layout than C order (its G is C-ordered). The
    # quadratic's and Rastrigin's always did; an objective evaluated whole before it had a block oracle
    # leaves such an X (the averaging rules leave X in Fortran order) whole: there G has X's layout, and
    # every later sum over it keeps its order, so its runs keep their numbers.
    _blocks_any_layout = False

    def _by_blocks(self, X) -> bool:
        """Whether the NumPy X is evaluated by worker blocks (``_value_and_grad_into``)."""
        return self._value_and_grad_into is not None and (X.flags.c_contiguous or self._blocks_any_layout)

    def _rows_into(self, X, vals, G):
        """``_value_and_grad_into`` for an objective whose ``value_and_grad`` treats every row alone by
        elementwise operations and row sums (no product across rows, nothing that depends on the number
        of rows): its own ``value_and_grad`` on the block, written into the caller's arrays. The same
        bits as on the whole X; the block's passes run in cache and on the run's threads."""
        vals[...], G[...] = self.value_and_grad(X)

    def value(self, X):
        """Values (p,) at every row of ``X`` (p, d)."""
        return self.value_and_grad(X)[0]

    def grad(self, X):
        """Gradients (p, d) at every row of ``X`` (p, d)."""
        return self.value_and_grad(X)[1]

    def hessian(self, x):
        """Hessian (d, d) at one point ``x`` (d,); raises if the objective does not provide it."""
        raise NotImplementedError(f"{type(self).__name__} does not provide a Hessian")

    def hvp(self, x, v):
        """Hessian-vector product at ``x`` (d,) with ``v`` (d,); defaults to ``hessian(x) @ v``."""
        xp = namespace(x, v)
        return xp.matmul(self.hessian(x), v)

    @property
    def has_hessian(self) -> bool:
        return type(self).hessian is not Objective.hessian

    # -- finite sums -----------------------------------------------------------------------------
    @property
    def is_finite_sum(self) -> bool:
        return self.n_samples is not None

    def batch_value_and_grad(self, X, idx):
        """Mini-batch loss (p,) and gradient (p, d); ``idx`` (p, b) holds each worker's sample indices.

        Each is the mean over that worker's batch, an unbiased estimate of ``value_and_grad``.
        """
        raise NotImplementedError(f"{type(self).__name__} is not a finite sum")

    def sample_batch(self, streams, workers: int, batch_size: int):
        """Each worker's mini-batch indices (workers, batch_size), drawn with replacement from the
        whole sample set (stream "batch"); objectives with per-worker data shards override this."""
        return streams.integers("batch", self.n_samples, (workers, batch_size))

    # -- set-up ----------------------------------------------------------------------------------
    def initial_point(self, workers: int, rng: np.random.Generator) -> np.ndarray:
        """Default starting points (workers, d) as NumPy: ``init_center + init_scale * N(0, I)``."""
        center = np.zeros(self.dim) if self.init_center is None else np.asarray(self.init_center, float)
        return center + self.init_scale * rng.standard_normal((workers, self.dim))

    def describe(self) -> dict:
        """JSON-able summary of the objective's configuration (for Result metadata).

        It holds every argument of the factory that made the objective, under the argument's name, so
        that the description rebuilds it (:func:`lsgdsim.components.objective_from_description`); an
        argument whose name is taken by a measured fact (a random quadratic's ``mu``) is ``requested_NAME``."""
        out = {"name": self.name, "dim": int(self.dim)}
        for key in ("fmin", "mu", "L", "n_samples"):
            val = getattr(self, key)
            if val is not None:
                out[key] = float(val) if key != "n_samples" else int(val)
        out.update(self._config())
        return out

    def _config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        cfg = ", ".join(f"{k}={v}" for k, v in self.describe().items() if k != "name")
        return f"{type(self).__name__}({cfg})"


def _serial_map(fn, bounds):
    return [fn(lo, hi) for lo, hi in bounds]
