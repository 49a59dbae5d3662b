"""The curse-of-symmetry check (claim 6)."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import mutated

from lsgdsim import algorithms, objectives
from theory_checks import symmetry

RING_BEST = objectives.RingSinc().ring_values[0]


@pytest.fixture(scope="module")
def symmetry_result():
    return symmetry.run(quick=True)


def test_curse_of_symmetry(symmetry_result):
    r = symmetry_result
    m = r.measured
    assert r.verdict == "holds under conditions"
    assert m["significant_gap_main_setting"] == {"ring": True, "matrix": True}
    main = [c for c in m["per_configuration"] if c["pull"] == symmetry.RING["pull"]]
    assert all(c["curse_observed"] for c in main)
    assert [(c["problem"], c["pull"]) for c in m["per_configuration"] if c["curse_absent"]] == [("matrix rank 3", 0.1)]
    assert m["ring_poster_start"]["lgd_final_f"] == pytest.approx([RING_BEST] * 4, abs=1e-6)
    assert min(m["ring_poster_start"]["eagd_final_f"]) > RING_BEST + symmetry.RING_TOL
    assert m["ring"]["lgd_leader"]["rate"] >= 0.6 and m["ring"]["eagd_either"]["rate"] <= 0.4
    for mat in m["matrix"]:
        assert mat["lgd_leader"]["rate"] == 1.0 and mat["lgd_final_f_max"] < 1e-12
        assert mat["lgd_linear_fit_r2_min"] > 0.97 and mat["lgd_linear_rate_median"] < 0.95
        assert mat["eagd_plateau_center_f_median"] > 1e-3                 # EAGD's center stalls far from 0


def test_flipped_pull_breaks_the_ring_result(monkeypatch):
    good = symmetry.ring_outcomes(symmetry.POSTER_STARTS)
    assert np.abs(np.array(good["lgd_f"]) - RING_BEST).max() < 1e-6
    monkeypatch.setattr(algorithms.LSGD, "step", mutated("flip"))
    bad = symmetry.ring_outcomes(symmetry.POSTER_STARTS)
    assert np.abs(np.array(bad["lgd_f"]) - RING_BEST).max() > 0.05

