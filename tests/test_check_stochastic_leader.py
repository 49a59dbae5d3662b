"""The stochastic-leader check (claim 3)."""
from __future__ import annotations

import numpy as np
import pytest
from mutations import flip_every_pull

from lsgdsim.algorithms import LSGD
from theory_checks import stochastic_leader


@pytest.fixture(scope="module")
def stochastic_result():
    return stochastic_leader.run(quick=True, seed=0)


def test_stochastic_leader_verdict_and_numbers(stochastic_result):
    r = stochastic_result
    assert r.verdict == "holds"
    m = r.measured
    assert m["bound_term_violations"] == 0 and m["total_bound_violations"] == 0
    assert 0 < m["max_excess_over_bound"] < 0.1                  # measurable, and far below the bound
    assert m["recovery_slope_mean_worker"]["ci"][1] <= -0.9
    e = m["exponents"]
    assert e["lam"]["mean"]["exponent"] is not None and e["lam"]["mean"]["exponent"] < 1.5
    assert e["sigma_f"]["mean"]["exponent"] is not None and e["sigma_f"]["mean"]["exponent"] < 1.0


def test_flipped_pulls_make_the_check_fail(monkeypatch):
    module = stochastic_leader
    assert module.run(quick=True, seed=0).verdict != "fails"
    monkeypatch.setattr(LSGD, "step", flip_every_pull(LSGD.step))
    with np.errstate(all="ignore"):
        assert module.run(quick=True, seed=0).verdict == "fails"

