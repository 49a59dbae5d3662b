"""Synchronous EASGD's stable region, simulated, against the 2×2 linear analysis (module docstring of
lsgdsim.algorithms.easgd): β above 1 can be stable, β = 2 never is."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import algorithms, objectives, simulate

H, ALPHA, WORKERS, STEPS = 1.0, 0.3, 2, 1500


def spectral_radius(eta: float, beta: float, h: float = H, alpha: float = ALPHA) -> float:
    """The larger of the workers' difference mode |1 − ηh − α| and the (mean, center) map's radius."""
    M = np.array([[1 - eta * h - alpha, alpha], [beta, 1 - beta]])
    return max(abs(1 - eta * h - alpha), float(np.abs(np.linalg.eigvals(M)).max()))


def jury(eta: float, beta: float, h: float = H, alpha: float = ALPHA) -> bool:
    """The docstring's conditions, in closed form."""
    det = (1 - eta * h) * (1 - beta) - alpha
    return bool(eta * h * beta > 0 and (2 - eta * h) * (2 - beta) > 2 * alpha and abs(det) < 1
                and abs(1 - eta * h - alpha) < 1)


def stays_bounded(eta: float, beta: float) -> bool:
    quad = objectives.Quadratic(np.array([[H]]))
    x0 = np.array([[1.0], [-0.5]])
    res = simulate(quad, algorithms.EASGD(lr=eta, alpha=ALPHA, beta=beta), workers=WORKERS, steps=STEPS, x0=x0,
                   on_divergence="return", record_every=STEPS)
    return bool(np.all(np.isfinite(res.x)) and np.abs(res.x - quad.minimizer).max() < 1e-3)


GRID = [(eta, beta) for eta in np.linspace(0.05, 1.95, 12) for beta in np.linspace(0.05, 1.95, 12)]


def test_the_closed_form_conditions_are_the_spectral_radius():
    for eta, beta in GRID:
        rho = spectral_radius(eta, beta)
        if abs(rho - 1) > 1e-9:
            assert jury(eta, beta) == (rho < 1), (eta, beta)


def test_simulated_easgd_is_stable_exactly_where_the_analysis_says():
    decided = [(eta, beta) for eta, beta in GRID if abs(spectral_radius(eta, beta) - 1) > 0.01]
    predicted = [spectral_radius(eta, beta) < 1 for eta, beta in decided]
    measured = [stays_bounded(eta, beta) for eta, beta in decided]
    assert measured == predicted
    above_one = [m for (eta, beta), m in zip(decided, measured, strict=True) if beta > 1]
    assert 0 < sum(above_one) < len(above_one)        # β > 1: part of the plane is stable, part is not


@pytest.mark.parametrize("beta", [2.0, 2.5])
def test_beta_from_two_on_is_refused_before_any_work(beta):
    with pytest.raises(ValueError, match="beta"):
        algorithms.EASGD(lr=0.1, alpha=0.1, beta=beta)
    assert spectral_radius(0.5, 2.0) >= 1.0            # β = 2: the center's own mode is on the unit circle


def test_alpha_summing_to_two_is_refused_and_just_below_is_accepted():
    quad = objectives.Quadratic(np.eye(2))
    with pytest.raises(ValueError, match="must be < 2"):
        simulate(quad, algorithms.EASGD(lr=0.1, alpha=0.5), workers=4, steps=2)
    simulate(quad, algorithms.EASGD(lr=0.1, alpha=0.45), workers=4, steps=2)
