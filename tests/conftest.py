import sys
from pathlib import Path

# tests/reference.py is imported as a plain module by the tests.
sys.path.insert(0, str(Path(__file__).parent))

import pytest


@pytest.fixture
def pull_away(monkeypatch):
    """Make every LSGD pull point away from the leader: x − λ(x − z) becomes x + λ(x − z)."""
    from lsgdsim.backend import take_row
    from lsgdsim.collectives import Vectorized
    # Every worker receives 2x_i − x_ℓ instead of the leader's row x_ℓ (the broadcast of LSGD's pulls).
    monkeypatch.setattr(Vectorized, "_broadcast", lambda self, X, root: 2 * X - take_row(X, root))


@pytest.fixture(scope="session")
def quick_dir(tmp_path_factory):
    """The session's quick theory report (tests/test_check_cli.py writes it whole, on both cores)."""
    return tmp_path_factory.mktemp("quick-report")


@pytest.fixture(scope="session")
def quick_record(quick_dir):
    """``quick_record(name)``: the quick-mode record of a check, measured once per session.

    Taken from the session's quick report when tests/test_check_cli.py has written it (it runs first), else
    measured here for that check alone; either way every test sees the saved, reloaded record, which is
    what a figure or a verdict is computed from."""
    from theory_checks.pipeline import RECORDS, run_check
    from theory_checks.record import CheckRecord
    cache = {}

    def get(name):
        if name not in cache:
            path = quick_dir / RECORDS / f"{name}.json"
            if not path.exists():
                run_check(name, quick=True, report_dir=quick_dir)
            cache[name] = CheckRecord.load(path)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def quick_figures(tmp_path_factory):
    """A folder with every figure experiment's quick data, run once per session in this process (one job):
    the data the figure tests draw from, and the reference that a quick ``lsgdsim reproduce`` on two
    processes must match exactly."""
    from figures import EXPERIMENTS, pipeline
    folder = tmp_path_factory.mktemp("quick-figures")
    for name in EXPERIMENTS:
        pipeline.run(name, quick=True, folder=folder, figure=False)
    return folder
