"""Regenerate every figure: ``python figures/regenerate.py [--quick] [--jobs N] [--only NAME] ...``.

The same as ``lsgdsim reproduce`` (same options, same files); it also runs from a source checkout that
is not installed.
"""
import sys
from pathlib import Path

# The repository root, not this folder, first on the path: ``import figures`` must find the package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from figures.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
