"""Torch-free small networks whose parameters for all p workers are one flat array W (p, D).

Layers (:mod:`.layers`) act on activations with a leading worker axis, so one batched matmul serves
every worker; :class:`Sequential` lays the parameters out in W; :class:`NetworkObjective` turns a
model and a :class:`Dataset` into a finite-sum objective for the simulator.
"""
from .data import (
    Dataset,
    Shards,
    load_cifar10,
    load_digits,
    load_mnist,
    read_cifar10_bin,
    read_idx,
    shard,
)
from .init import glorot_uniform, he_normal, initialize
from .layers import Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, ParamSpec, ReLU
from .losses import accuracy, log_softmax, softmax_cross_entropy
from .models import Sequential, Slot, cnn, mlp
from .objective import NetworkObjective
from .train import summarize, train

__all__ = [
    "Conv2D", "Dataset", "Dense", "Dropout", "Flatten", "Layer", "MaxPool2D", "NetworkObjective",
    "ParamSpec", "ReLU", "Sequential", "Shards", "Slot", "accuracy", "cnn", "glorot_uniform",
    "he_normal", "initialize", "load_cifar10", "load_digits", "load_mnist", "log_softmax", "mlp",
    "read_cifar10_bin", "read_idx", "shard", "softmax_cross_entropy", "summarize", "train",
]
