"""Packaging for lsgdsim (metadata lives here; build-system and tool settings in pyproject.toml)."""
import re
from pathlib import Path

from setuptools import find_packages, setup

_version = re.search(r'__version__ = "([^"]+)"',
                     (Path(__file__).parent / "lsgdsim" / "_version.py").read_text()).group(1)

setup(
    name="lsgdsim",
    version=_version,
    description="Simulation and theory-checking toolkit for Leader Stochastic Gradient Descent (LSGD)",
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["lsgdsim", "lsgdsim.*", "theory_checks", "theory_checks.*", "figures",
                                    "figures.*"]),
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "array-api-compat>=1.9",
        "tqdm>=4.60",
        "matplotlib>=3.8",
        "scikit-learn>=1.3",
        "threadpoolctl>=3",
    ],
    extras_require={
        # The sweep tests need the sweep and dask extras, the kernel tests numba: CI installs them through this one.
        "test": ["pytest>=8", "hypothesis>=6.100", "array-api-strict>=2.0", "ruff>=0.5", "pandas>=2.0",
                 "pyarrow>=14", "dask[distributed]>=2024.1", "import-linter>=2.0", "numba>=0.60"],
        # Compiled kernels that give NumPy's own bits in fewer passes (lsgdsim/kernels.py): only speed changes.
        "fast": ["numba>=0.60"],
        "gpu": ["cupy-cuda12x>=13"],
        "mpi": ["mpi4py>=3.1", "mpich"],
        "dask": ["dask[distributed]>=2024.1"],
        "sweep": ["pandas>=2.0", "pyarrow>=14"],  # lsgdsim.sweep.load (the table) and its Parquet export
        "notebooks": ["jupyter", "jupyterlab", "ipywidgets", "nbclient>=0.6", "nbformat", "nbconvert", "ipykernel"],
        "pep": ["pepit>=0.3", "cvxpy>=1.4"],   # one-step check: worst case over the function class (PEPit)
    },
    entry_points={
        "console_scripts": ["lsgdsim=lsgdsim.cli:main"],
        # Subcommands that live above the library (lsgdsim/ never imports them): lsgdsim.cli loads these.
        "lsgdsim.commands": ["check=theory_checks.cli:register", "reproduce=figures.cli:register"],
    },
)
