"""Make an objective's oracle misbehave at a chosen call (interrupt, signal), for the issue-10 tests."""
from __future__ import annotations

import itertools


def trap_oracle(obj, at_call: int, action):
    """Patch ``obj.value_and_grad`` (this instance only) so that its ``at_call``-th call first runs ``action``.

    The run loop calls the oracle once per step at the step t − 1 iterate, so ``at_call = k`` acts while
    step k − 1 is evaluated. Returns ``obj``.
    """
    calls, oracle = itertools.count(1), obj.value_and_grad

    def value_and_grad(X):
        if next(calls) == at_call:
            action()
        return oracle(X)

    obj.value_and_grad = value_and_grad
    return obj
