"""The import layers (.importlinter) hold: cli -> theory_checks -> nn -> simulate -> execution ->
algorithms/objectives -> collectives/leaders/schedules -> clock -> backend, and lsgdsim never imports
theory_checks, figures or tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (it is in the test extra)")
    return exe


def _run(exe, *args):
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_layers_are_kept():
    out = _run(_lint_imports())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_reversed_layer_is_reported(tmp_path):
    """The linter does look at our imports: simulate placed below backend is a broken contract."""
    cfg = tmp_path / "reversed.ini"
    cfg.write_text("[importlinter]\nroot_packages =\n    lsgdsim\n\n[importlinter:contract:reversed]\n"
                   "name = reversed\ntype = layers\nlayers =\n    lsgdsim.backend\n    lsgdsim.simulate\n")
    out = _run(_lint_imports(), "--config", str(cfg))
    assert out.returncode != 0 and "BROKEN" in out.stdout
