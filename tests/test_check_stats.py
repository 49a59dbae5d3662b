"""The statistics the checks share (theory_checks/_stats.py): the sample size a comparison needs."""
from __future__ import annotations

import numpy as np
import pytest

from theory_checks._stats import paired, precision, seeds_to_separate, thin_note


def test_precision_scales_the_sample_by_the_squared_ratio_of_half_width_to_margin():
    # an interval from 10 seeds reaching 0.5 below an estimate 0.25 above the threshold: 40 seeds would do
    p = precision("q", 10, 1.25, (0.75, 1.75), 1.0)
    assert p["needed"] == 40 and not p["enough"]
    assert precision("q", 10, 2.0, (1.5, 2.5), 1.0)["enough"]          # the interval already excludes it
    # the side facing the threshold counts (an asymmetric bootstrap interval of a ratio below 1)
    assert precision("q", 16, 0.5, (0.25, 1.5), 1.0)["needed"] == 64        # not 4 (the far side)
    assert precision("q", 8, 0.0, (-1, 1), 0.0)["needed"] == 10_000   # on the threshold: never


def test_precision_of_a_t_interval_takes_the_exact_seed_count():
    d = np.random.default_rng(0).normal(0.3, 1.0, 12)
    p = paired(d)
    entry = precision("q", d.size, p["mean"], (p["lower"], 2 * p["mean"] - p["lower"]), 0.0,
                      needed=seeds_to_separate(d))
    assert entry["needed"] == seeds_to_separate(d) and entry["enough"] == (p["lower"] > 0)


@pytest.mark.parametrize("n_thin", [0, 1, 3])
def test_thin_note_names_what_is_too_thin(n_thin):
    entries = [precision(f"q{k}", 5, 1.0, (0.0, 2.0), 0.5) for k in range(n_thin)]
    entries.append(precision("ok", 5, 2.0, (1.9, 2.1), 0.5))
    note = thin_note(entries)
    assert (note == "") == (n_thin == 0)
    if n_thin:
        assert "q0 (5 used, about 20 needed)" in note and "ok" not in note and ("…" in note) == (n_thin > 2)
