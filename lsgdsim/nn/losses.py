"""Softmax cross-entropy and accuracy, per worker: logits (p, B, K), labels (p, B) or (B,)."""
from __future__ import annotations

from ..backend import namespace


def _one_hot(labels, classes: int, xp):
    return labels[..., None] == xp.arange(classes, dtype=labels.dtype)


def log_softmax(logits):
    """log softmax over the last axis, via the stable log-sum-exp (max subtracted first)."""
    xp = namespace(logits)
    z = logits - xp.max(logits, axis=-1, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy per worker and its gradient with respect to the logits.

    ``logits`` (p, B, K); ``labels`` (p, B) or (B,) integer classes in [0, K).
    Returns ``loss`` (p,) = −(1/B) Σ_b log softmax(logits_b)[y_b] (natural log, nats) and
    ``dlogits`` (p, B, K) = (softmax − onehot(y)) / B, the gradient of ``loss`` (PyTorch's
    ``cross_entropy`` with mean reduction, per worker).
    """
    xp = namespace(logits)
    B, K = logits.shape[-2:]
    logp = log_softmax(logits)
    onehot = _one_hot(labels, K, xp)
    loss = -xp.sum(xp.where(onehot, logp, 0.0), axis=(-2, -1)) / B
    dlogits = xp.exp(logp)
    dlogits -= onehot
    dlogits *= 1.0 / B
    return loss, dlogits


def accuracy(logits, labels):
    """Fraction (p,) of samples whose arg-max logit is the label; logits (p, B, K), labels (p|·, B)."""
    xp = namespace(logits)
    pred = xp.argmax(logits, axis=-1)
    hits = xp.astype(pred == labels, logits.dtype)
    return xp.mean(hits, axis=-1)
