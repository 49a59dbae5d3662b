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



def group_mean(X, groups: int):
    """Each row's group mean: groups are consecutive equal blocks of rows (LSGD's groups, and the replica
    runs of the checks, where each group is an independent run; a mean over all rows would couple them)."""
    blocks = X.reshape(groups, -1, X.shape[1])
    return np.repeat(blocks.mean(axis=1, keepdims=True), blocks.shape[1], axis=1).reshape(X.shape)


# -- mutation sensitivity: a wrong leader term changes the results ---------------------------------
def mutated(kind):
    original = algorithms.LSGD.step

    def step(self, X, state, inp):
        # The local step alone, on a copy of the gradients (a rule may scale its input in place).
        X_local, _ = self.local_step(X, state, replace(inp, grads=inp.grads.copy()))
        X_pulled, new_state, events = original(self, X, state, inp)
        if kind == "flip":                       # x ← x − ηg + λ(x − x_ℓ)
            return 2 * X_local - X_pulled, new_state, events
        pull = state.hyper["pull"].at(inp.t)  # "mean": x ← x − ηg − λ(x − mean of its group)
        return X_local - pull * (X - group_mean(X, self.groups)), new_state, events
    return step

