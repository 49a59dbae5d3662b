"""The landscapes of the same-valley check and their valleys: which local minimum plain GD reaches from a point.

A valley is identified by an integer label and valued by its minimum's f (theory_checks/same_valley.py says
how each landscape's valleys are defined, matrix completion up to the symmetry U ↦ UQ). Every function takes
points E (n, d) and works on all of them at once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lsgdsim import objectives

MATRIX_NEAR = 0.05      # GD within 5% of ‖U*‖ of the solution orbit has reached a global solution


# -- valleys: labels (n,) int and values (n,) of the minima that GD reached from each point ------------
def descend(obj, X, lr: float, steps: int, gtol: float, settled=None, chunk: int = 20) -> np.ndarray:
    """Plain GD x ← x − lr·∇f(x) from every row of X (n, d) at once, at most ``steps`` steps. Rows stop early
    when ‖∇f‖ ≤ gtol or ``settled(obj, X) -> (n,) bool`` says their valley is decided."""
    X = np.array(X, dtype=float)
    active = np.arange(X.shape[0])
    for _ in range(0, steps, chunk):
        Xa = X[active]
        for _ in range(chunk):
            Xa = Xa - lr * obj.grad(Xa)
        X[active] = Xa
        done = np.linalg.norm(obj.grad(Xa), axis=1) <= gtol
        if settled is not None:
            done |= settled(obj, Xa)
        active = active[~done]
        if active.size == 0:
            break
    return X


def lattice_valleys(obj, E, spec):
    """Rastrigin, Ackley: the lattice point nearest the GD limit; its value is f at the minimum GD finds from
    that lattice point (Ackley's cone tip 0 is exactly its minimum, where GD with a fixed step only oscillates)."""
    points, labels = np.unique(np.rint(E), axis=0, return_inverse=True)
    minima = descend(obj, points, spec.descent_lr, spec.descent_steps, spec.gtol)
    return labels.reshape(-1), obj.value(minima)[labels.reshape(-1)]


def well_valleys(obj, E, spec):
    """Double well: the sign of x₁ (both minima ±e₁ have f = 0)."""
    labels = np.sign(E[:, 0]).astype(int)
    return labels, np.where(labels != 0, 0.0, obj.value(E))


def ring_valleys(obj, E, spec):
    """Ring sin(r)/r: the nearest ring of minima to the GD limit (a ring is one connected valley)."""
    is_min = np.array([kind == "min" for *_, kind in obj.rings])
    radii, values = obj.ring_radii[is_min], obj.ring_values[is_min]
    labels = np.argmin(np.abs(np.linalg.norm(E, axis=1)[:, None] - radii[None, :]), axis=1)
    return labels, values[labels]


def matrix_settled(obj, X):
    """Within half the labelling distance of the solution orbit: GD from here stays in that component."""
    return obj.distance_to_solution(X) <= 0.5 * MATRIX_NEAR * np.linalg.norm(obj.factor)


def matrix_valleys(obj, E, spec):
    """Matrix completion, up to U ↦ UQ: ±1 = the component det Q = ±1 of the solution orbit that GD reached,
    0 = not a global solution within the descent budget (value f there)."""
    near = obj.distance_to_solution(E) <= MATRIX_NEAR * np.linalg.norm(obj.factor)
    U = E.reshape(-1, obj.n, obj.rank)
    a, _, bt = np.linalg.svd(np.swapaxes(U, 1, 2) @ obj.factor)       # Procrustes rotation Q = A Bᵀ
    labels = np.where(near, np.sign(np.linalg.det(a @ bt)), 0).astype(int)
    return labels, np.where(near, 0.0, obj.value(E))


@dataclass(frozen=True)
class Landscape:
    label: str
    make: Callable          # problem seed -> Objective
    lr: float
    steps: int              # full mode (quick: quick_steps)
    quick_steps: int
    descent_lr: float
    descent_steps: int
    gtol: float
    valleys: Callable       # (obj, E (n, d), spec) -> labels (n,), values (n,)
    start_radius: float | None = None   # uniform in a disk of this radius, else obj.initial_point
    settled: Callable | None = None     # (obj, X) -> (n,) bool: the descent may stop there
    offset: float = 0.0                 # the starts' centre: uniform in [−offset, offset]^d per seed


LANDSCAPES = (
    Landscape("rastrigin 2-D", lambda s: objectives.Rastrigin(dim=2), 0.002, 800, 400, 0.002, 3000, 1e-6,
              lattice_valleys, offset=3.0),
    Landscape("ackley 2-D", lambda s: objectives.Ackley(dim=2), 0.01, 800, 400, 0.01, 600, 1e-6, lattice_valleys,
              offset=3.0),
    Landscape("double well 2-D", lambda s: objectives.DoubleWell(dim=2), 0.1, 400, 200, 0.1, 2000, 1e-6,
              well_valleys),
    Landscape("ring sin(r)/r", lambda s: objectives.RingSinc(n_rings=10), 2.0, 800, 400, 2.0, 3000, 1e-7,
              ring_valleys, start_radius=22.0, offset=10.0),
    Landscape("matrix n=12 r=2", lambda s: objectives.MatrixFactorization(n=12, rank=2, observed=0.7, seed=s),
              0.2, 600, 300, 0.2, 1000, 1e-5, matrix_valleys, settled=matrix_settled),
)


def start(spec: Landscape, obj, rng, workers: int) -> np.ndarray:
    """(workers, d) independent starting points of one seed, around a centre drawn for the seed (off the
    global minimum when ``spec.offset`` > 0: so that gathering anywhere is not already a good valley)."""
    centre = rng.uniform(-spec.offset, spec.offset, obj.dim) if spec.offset else np.zeros(obj.dim)
    if spec.start_radius is None:
        return centre + obj.initial_point(workers, rng)
    angle = rng.uniform(0, 2 * np.pi, workers)
    r = spec.start_radius * np.sqrt(rng.uniform(0, 1, workers))
    return centre + np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
