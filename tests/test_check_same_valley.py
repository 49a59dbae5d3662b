"""The same-valley check (reviewers 1/2: one valley, or stranded in averaged locations?)."""
from __future__ import annotations

import numpy as np
import pytest

from lsgdsim import objectives
from theory_checks import _same_valley as valleys
from theory_checks import same_valley as sv
from theory_checks.pipeline import run_check
from theory_checks.progress import Progress


@pytest.fixture(scope="module")
def record(quick_record):
    return quick_record("same-valley")


def test_lsgd_gathers_the_workers_in_the_leaders_valley(record):
    lands = record.measured["landscapes"]
    assert len(lands) == 5
    for lab, v in lands.items():
        main = v["main"]
        assert main["gathers"] and main["share_end"] == 1.0, lab
        assert main["valley_gain"] >= 0 and main["dist_end_over_start"] < 0.05, lab
        assert v["cells"]["sgd"]["share_end"] < 0.9, lab          # alone they end in several valleys
    # When not: a weak pull strands workers on Rastrigin; a pull every 16 steps does not gather anywhere.
    ras = lands["rastrigin 2-D"]["cells"]
    assert ras["lsgd λ=0.05 τ=1"]["share_end"] < 0.5
    assert all(not v["cells"]["lsgd λ=0.2 τ=16"]["gathers"] for v in lands.values())


def test_quick_mode_is_too_thin_to_separate_the_leader_from_a_random_one_everywhere(record):
    """5 quick seeds from off-centre starts: the leader's workers end in better valleys than a random leader's
    on average on every landscape whose valleys differ, significantly on Ackley only, so quick mode fails and
    says how many seeds would separate them (the full run's 12 separate all three)."""
    assert record.verdict == "fails" and sv._main_count(record.measured["landscapes"]) == 5
    differ = {lab: v["over_random"] for lab, v in record.measured["landscapes"].items()
              if not v["over_random"]["leader_independent"]}
    assert set(differ) == {"rastrigin 2-D", "ackley 2-D", "ring sin(r)/r"}
    assert all(r["mean"] > 0 for r in differ.values()) and differ["ackley 2-D"]["lower"] > 0
    assert "would separate" in record.summary


def test_the_random_reference_is_measured_without_controls_too():
    rec = run_check("same-valley", quick=True, controls=False)
    assert not rec.controls and all("over_random" in v for v in rec.measured["landscapes"].values())
    assert rec.measured["landscapes"] == run_check("same-valley", quick=True).measured["landscapes"]


def test_averaging_gathers_in_worse_valleys(record):
    """EASGD and LocalSGD end in averaged valleys worse than LSGD's where the valleys differ in depth."""
    lands = record.measured["landscapes"]
    for lab in ("rastrigin 2-D", "ackley 2-D"):
        cells = lands[lab]["cells"]
        for key in ("easgd λ=0.2 τ=1", f"localsgd τ={sv.LOCAL_PERIOD}"):
            assert cells[key]["valley_mean"] > cells["lsgd λ=0.2 τ=1"]["valley_mean"] + 0.5, (lab, key)
    for lab in ("double well 2-D", "matrix n=12 r=2"):                # every valley is a global minimum there
        assert all(c["valley_mean"] == 0.0 for c in lands[lab]["cells"].values())


def test_controls_are_in_the_record(record):
    c = record.controls
    assert set(c) == {"random", "worst"}
    for mode in c:
        assert set(c[mode]["landscapes"]) == set(record.measured["landscapes"])
    worst = c["worst"]["landscapes"]
    assert not worst["rastrigin 2-D"]["gathers"] and not worst["ackley 2-D"]["gathers"]
    assert worst["ackley 2-D"]["valley_gain"] < -1.0               # gathered, in a bad valley
    assert np.isfinite(record.arrays["share"][:, sv.CURVES.index("worst leader")]).all()


def test_worst_leader_makes_the_check_fail():
    rec = run_check("same-valley", quick=True, leader="worst", controls=False)
    assert rec.verdict == "fails" and not rec.controls
    assert sv._main_count(rec.measured["landscapes"]) < 5


def test_valleys_are_the_minima_gd_reaches():
    ras = objectives.Rastrigin(dim=2)
    spec = sv.LANDSCAPES[0]
    E = valleys.descend(ras, np.array([[1.3, -0.2], [0.4, 0.45], [-2.45, 0.6]]), spec.descent_lr, spec.descent_steps,
                   spec.gtol)
    labels, values = valleys.lattice_valleys(ras, E, spec)
    np.testing.assert_allclose(E, [[0.995, 0.0], [0.0, 0.0], [-1.99, 0.995]], atol=2e-3)
    assert len(set(labels.tolist())) == 3 and values[1] == pytest.approx(0.0, abs=1e-12)
    ring = objectives.RingSinc(n_rings=10)
    labels, values = valleys.ring_valleys(ring, np.array([[4.0, 0.0], [0.0, 9.0], [13.0, 1.0]]), None)
    assert labels.tolist() == [0, 1, 1] and values[0] == pytest.approx(-0.2172, abs=1e-4)
    dw = objectives.DoubleWell(dim=2)
    assert valleys.well_valleys(dw, np.array([[-1.0, 0.0], [1.0, 0.0]]), None)[0].tolist() == [-1, 1]


def test_matrix_valleys_are_components_of_the_solution_orbit():
    mat = objectives.MatrixFactorization(n=12, rank=2, observed=0.7, seed=0)
    U = mat.factor
    rot = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    flip = np.diag([1.0, -1.0])
    X = np.stack([(U @ rot).reshape(-1), (U @ flip).reshape(-1), np.zeros(mat.dim)])
    labels, values = valleys.matrix_valleys(mat, X, None)
    assert labels.tolist() == [1, -1, 0]                           # rotation: same component; reflection: other
    assert values[:2].tolist() == [0.0, 0.0] and values[2] > 0


def test_flipped_pull_does_not_gather(pull_away):
    spec = sv.LANDSCAPES[2]                                        # double well: cheap
    runs = sv.landscape_runs(spec, [("lsgd", 0.05, 1, None), ("sgd", None, None, None)], (0, 1), True, Progress())
    shares = [s["share"][-1] for s in runs[("lsgd", 0.05, 1, None)]]
    assert max(shares) < 0.9


def test_every_setting_that_does_not_gather_is_in_the_record_and_the_summary(record):
    from theory_checks import same_valley
    cells = [c for v in record.measured["landscapes"].values() for c in v["cells"].values()
             if c["family"] == "lsgd" and not c["gathers"]]
    listed = record.measured["not_gathering"]
    assert len(listed) == len({(c["lambda"], c["tau"]) for c in cells})
    assert sum(int(x.split("(")[1].split("/")[0]) for x in listed) == len(cells)
    assert all(x in same_valley.summary(record) for x in listed)
