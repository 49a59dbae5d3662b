"""Distributed update rules, one small file each; exact forms in docs/design.md §3 and each docstring."""
from .base import Algorithm, RunContext, StepInput
from .downpour import Downpour
from .easgd import EAMSGD, EASGD
from .localsgd import LocalSGD
from .lsgd import LSGD, lsgd_theory
from .lsgd_authors import LSGDAuthors, lsgd_authors
from .sgd import SGD, AllReduceSGD

ALGORITHMS = {
    "sgd": SGD,
    "lsgd": LSGD,
    "lsgd-authors": LSGDAuthors,
    "easgd": EASGD,
    "eamsgd": EAMSGD,
    "localsgd": LocalSGD,
    "downpour": Downpour,
    "allreduce": AllReduceSGD,
}

__all__ = ["ALGORITHMS", "EAMSGD", "EASGD", "LSGD", "SGD", "Algorithm", "AllReduceSGD", "Downpour",
           "LSGDAuthors", "LocalSGD", "RunContext", "StepInput", "lsgd_authors",
           "lsgd_theory"]
