"""A network's training loss as a finite-sum :class:`~lsgdsim.objectives.base.Objective` over W (p, D).

f(w) = (1/n) Σ_i CE(net_w(x_i), y_i) + (wd/2)‖w‖², over the n training samples; the parameter vector
of worker i is row i of the flat W (p, D) of :class:`~lsgdsim.nn.models.Sequential`, so every
distributed algorithm of the simulator trains networks unchanged. Weight decay is in the objective
(value and gradient), which matches PyTorch's SGD ``weight_decay`` on every parameter, biases included.
"""
from __future__ import annotations

import numpy as np

from ..backend import from_numpy, namespace, to_numpy
from ..objectives.base import Objective
from .data import Dataset, Shards
from .models import Sequential


class NetworkObjective(Objective):
    """Cross-entropy of ``model`` on ``data`` plus (``weight_decay``/2)‖W‖², vectorized over workers.

    - ``value_and_grad(X)``: full training-set loss (p,) and gradient (p, D), eval mode (no dropout),
      computed in chunks of ``eval_batch`` samples (default: about 4096 sample-rows over all workers).
    - ``batch_value_and_grad(X, idx, streams=None)``: mean loss and gradient over each worker's batch
      ``idx`` (p, b) in train mode; dropout masks come from ``streams.uniform("dropout", shape)`` when a
      :class:`~lsgdsim.backend.RandomStreams` is given, else dropout is off. With dropout on, the batch
      gradient is unbiased for the *train-mode* expected loss, not for ``value_and_grad``'s eval loss.
    - ``accuracy(X, split)`` (p,), ``predict(X, split)`` (p, n), ``logits(X, split)`` (p, n, classes).

    ``shards`` (a :class:`~lsgdsim.nn.data.Shards`), if given, is what :meth:`sample_batch` (the run loop)
    and :meth:`draw_batch` (a host generator) sample from.
    """

    name = "network"
    uses_streams = True  # the run loop passes its RandomStreams (dropout masks) to batch_value_and_grad

    def __init__(self, model: Sequential, data: Dataset, weight_decay: float = 1e-4,
                 shards: Shards | None = None, eval_batch: int | None = None):
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay must be a finite number >= 0; got {weight_decay!r}")
        if int(np.prod(data.input_shape)) != int(np.prod(model.input_shape)):
            raise ValueError(f"data samples of shape {data.input_shape} do not fit model input "
                             f"{model.input_shape}")
        if model.output_shape != (data.classes,):
            raise ValueError(f"model outputs {model.output_shape}; data has {data.classes} classes")
        if shards is not None and (shards.pools.size and int(shards.pools.max()) >= data.n_train):
            raise ValueError(f"shards index samples beyond the {data.n_train} training samples")
        if eval_batch is not None and eval_batch < 1:
            raise ValueError(f"eval_batch must be a positive integer; got {eval_batch!r}")
        self.model, self.data, self.shards = model, data, shards
        self.weight_decay = float(weight_decay)
        self.eval_batch = eval_batch
        self.x_train = data.x_train.reshape(data.n_train, *model.input_shape)
        self.y_train = data.y_train
        self.x_test = data.x_test.reshape(data.n_test, *model.input_shape)
        self.y_test = data.y_test
        self.dim = model.dim
        self.n_samples = data.n_train
        kind = "cnn" if len(model.input_shape) == 3 else "mlp"
        self.name = f"{data.name}-{kind}"

    def _config(self) -> dict:
        return {"data": self.data.name, "weight_decay": self.weight_decay, "n_test": self.data.n_test,
                "layers": [r["layer"] for r in self.model.describe()]}

    # -- helpers -----------------------------------------------------------------------------------
    def _split(self, xp, dtype, split: str):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
        return self._const(xp, dtype, f"x_{split}"), self._const(xp, dtype, f"y_{split}")

    def _chunk(self, p: int) -> int:
        return self.eval_batch or max(32, 4096 // max(p, 1))

    def _decay(self, X, values, G):
        if self.weight_decay:
            xp = namespace(X)
            values = values + (0.5 * self.weight_decay) * xp.sum(X * X, axis=1)
            G += self.weight_decay * X
        return values, G

    # -- the oracle --------------------------------------------------------------------------------
    def value_and_grad(self, X):
        """Full training-set loss (p,) and gradient (p, D), eval mode, weight decay included."""
        xp = namespace(X)
        x, y = self._split(xp, X.dtype, "train")
        n, chunk = x.shape[0], self._chunk(X.shape[0])
        values = xp.zeros(X.shape[0], dtype=X.dtype)
        G = xp.zeros(X.shape, dtype=X.dtype)
        for start in range(0, n, chunk):  # chunks of samples bound the memory; workers stay batched
            xb, yb = x[start:start + chunk], y[start:start + chunk]
            loss, g = self.model.loss_and_grad(X, xb, yb, train=False)
            weight = xb.shape[0] / n
            values += weight * loss
            G += weight * g
        return self._decay(X, values, G)

    def batch_value_and_grad(self, X, idx, streams=None):
        """Mean loss (p,) and gradient (p, D) over worker i's samples ``idx[i]`` (idx (p, b)), train mode."""
        xp = namespace(X)
        if isinstance(idx, np.ndarray) and not isinstance(X, np.ndarray):
            idx = from_numpy(idx, xp)
        if idx.ndim != 2 or idx.shape[0] != X.shape[0]:
            raise ValueError(f"idx must have shape ({X.shape[0]}, b); got {tuple(idx.shape)}")
        x, y = self._split(xp, X.dtype, "train")
        rng = None if streams is None else (lambda shape: streams.uniform("dropout", shape))
        loss, G = self.model.loss_and_grad(X, x[idx], y[idx], train=True, rng=rng)
        return self._decay(X, loss, G)

    # -- evaluation --------------------------------------------------------------------------------
    def logits(self, X, split: str = "test"):
        """Eval-mode logits (p, n, classes) of every worker on every sample of ``split``."""
        xp = namespace(X)
        x, _ = self._split(xp, X.dtype, split)
        chunk = self._chunk(X.shape[0])
        return xp.concat([self.model.logits(X, x[s:s + chunk]) for s in range(0, x.shape[0], chunk)],
                         axis=1)

    def predict(self, X, split: str = "test"):
        """Predicted classes (p, n) of every worker on ``split``."""
        return namespace(X).argmax(self.logits(X, split), axis=-1)

    def accuracy(self, X, split: str = "test"):
        """Fraction (p,) of ``split`` that each worker classifies correctly, counted in float64 whatever the
        parameters' dtype (a float32 mean would print 35/360 as 0.0972222238779068)."""
        xp = namespace(X)
        _, y = self._split(xp, X.dtype, split)
        return xp.mean(xp.astype(self.predict(X, split) == y, xp.float64), axis=-1)

    # -- set-up ------------------------------------------------------------------------------------
    def initial_point(self, workers: int, rng: np.random.Generator) -> np.ndarray:
        """He/Glorot-initialized W (workers, D) as float64 NumPy, worker i's draw in row i."""
        return self.model.init(workers, rng)

    def sample_batch(self, streams, workers: int, batch_size: int):
        """The run loop's mini-batch draw (stream "batch"): from each worker's shard when sharded."""
        if self.shards is None:
            return super().sample_batch(streams, workers, batch_size)
        rows = getattr(streams, "rows", None)      # some workers only (the clock, an MPI rank): their shards
        if rows is None and workers != self.shards.workers:
            raise ValueError(f"shards are for {self.shards.workers} workers; asked for {workers}")
        return self.shards.indices(to_numpy(streams.uniform("batch", (workers, batch_size))), rows)

    def draw_batch(self, batch: int, rng: np.random.Generator, workers: int | None = None) -> np.ndarray:
        """Mini-batch indices (p, batch) from ``shards``, or uniformly from all samples without shards."""
        if self.shards is not None:
            if workers is not None and workers != self.shards.workers:
                raise ValueError(f"shards are for {self.shards.workers} workers; asked for {workers}")
            return self.shards.draw(batch, rng)
        if workers is None:
            raise ValueError("workers is required when the objective has no shards")
        return rng.integers(0, self.n_samples, size=(workers, batch))
