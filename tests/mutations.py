"""Deliberately wrong LSGD rules for mutation tests: a check must notice when the leader term is broken."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from lsgdsim import algorithms


def flip_every_pull(orig):
    """LSGD with every pull (single, group and global leader) pointing away from its leader."""
    def step(self, X, state, inp):
        # The local step alone, on a copy of the gradients (a rule may scale its input in place).
        X_sgd, _ = self.local_step(X, state, replace(inp, grads=inp.grads.copy()))
        X_new, st_, ev = orig(self, X, state, inp)
        return X_sgd - (X_new - X_sgd), st_, ev
    return step



# -- mutation sensitivity: a wrong leader term changes the results ---------------------------------
def mutated(kind):
    original = algorithms.LSGD.step

    def step(self, X, state, inp):
        # The local step alone, on a copy of the gradients (a rule may scale its input in place).
        X_local, _ = self.local_step(X, state, replace(inp, grads=inp.grads.copy()))
        X_pulled, new_state, events = original(self, X, state, inp)
        if kind == "flip":                       # x ← x − ηg + λ(x − x_ℓ)
            return 2 * X_local - X_pulled, new_state, events
        pull = state.hyper["pull"].at(inp.t)  # "mean": x ← x − ηg − λ(x − mean)
        return X_local - pull * (X - np.mean(X, axis=0, keepdims=True)), new_state, events
    return step

