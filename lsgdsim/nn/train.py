"""Train small networks with many workers at once: the simulator's run loop on a NetworkObjective.

Every algorithm object of :mod:`lsgdsim.algorithms` trains networks unchanged: a network's parameters
for all workers are one flat (p, D) array, the training loss is a finite-sum objective, and the leader
is chosen as the authors' code does, by the running mean of each worker's last ``window`` mini-batch
losses (:class:`lsgdsim.leaders.Window`). At every evaluation the run records each worker's full
training loss and test accuracy, the test accuracy of the *center* (the EASGD center, the DOWNPOUR
server, or for the other methods the average of the workers' parameters, as the paper reports) and of
the current leader, and the wall time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..algorithms import LSGD, Algorithm
from ..backend import namespace, take_row, to_numpy
from ..leaders import Window
from ..result import Result
from ..schedules import StepDecay
from ..simulate import simulate
from ..validate import check_choice, check_float, check_int, check_seed
from .data import load_cifar10, load_digits, load_mnist, shard
from .models import cnn, mlp
from .objective import NetworkObjective

MODELS = ("mlp", "cnn")
PERIOD = 4  # default communication period of the trainer
DATASETS = ("digits", "mnist", "cifar10")
BACKENDS = ("numpy", "cupy")  # not array_api_strict: the layers index (p, ...) batches as NumPy and CuPy do


def default_algorithm(steps: int) -> Algorithm:
    """LSGD as the authors run it (leader = lowest mean of the last 10 mini-batch losses), with
    momentum 0.9 and the learning rate divided by 10 for the last tenth of the run."""
    return LSGD(lr=StepDecay(0.05, 0.1, every=max(1, int(0.9 * steps))), pull=0.1, period=PERIOD, momentum=0.9,
                leader=Window(10))


def steps_for(data, workers: int, batch_size: int, epochs: float, shards: str = "disjoint") -> int:
    """Steps for ``epochs`` passes over each worker's shard (the whole training set when shared)."""
    epochs = check_float(epochs, "epochs", 0.0, lo_open=True)
    batch_size = check_int(batch_size, "batch_size", 1)
    per_worker = data.n_train if shards == "shared" else -(-data.n_train // workers)
    return max(1, int(np.ceil(epochs * per_worker / batch_size)))


def load_data(name: str, folder=None):
    if name not in DATASETS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")
    if name == "digits":
        if folder is not None:
            raise ValueError("data_folder does not apply to data 'digits' (bundled with scikit-learn); "
                             "it is for 'mnist' and 'cifar10'")
        return load_digits()
    if folder is None:
        raise ValueError(f"data {name!r} is read from a local folder: pass data_folder (--data-folder)")
    try:
        return load_mnist(folder) if name == "mnist" else load_cifar10(folder, normalize=True)
    except FileNotFoundError as exc:  # a bad argument, reported like the others (the CLI: one line, exit 2)
        raise ValueError(f"data_folder {str(folder)!r} does not hold {name}: {exc}") from exc


def build_objective(model: str, data, workers: int, shards: str = "disjoint", weight_decay: float = 1e-4,
                    seed: int = 0) -> NetworkObjective:
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    if shards not in ("disjoint", "shared"):
        raise ValueError(f"shards must be 'disjoint' or 'shared'; got {shards!r}")
    net = mlp(int(np.prod(data.input_shape)), classes=data.classes) if model == "mlp" else \
        cnn(data.input_shape, classes=data.classes)
    return NetworkObjective(net, data, weight_decay=weight_decay,
                            shards=shard(data.n_train, workers, shards, seed=seed))


@dataclass
class Evaluator:
    """The ``monitor`` of a training run: test accuracy of every worker, the center and the leader."""

    objective: NetworkObjective

    def __call__(self, t, X, state, values):
        xp = namespace(X)
        center = state.held_center()            # EASGD center, DOWNPOUR server; else the worker average
        center = xp.mean(X, axis=0) if center is None else center
        leader = getattr(state, "leader", None)  # LSGD: the leader of the last communication
        leader = xp.argmin(values) if leader is None else leader
        models = xp.concat([X, center[None, :], take_row(X, leader)], axis=0)
        acc = self.objective.accuracy(models, "test")
        p = X.shape[0]
        return {"test_accuracy": acc[:p], "center_test_accuracy": acc[p], "leader_test_accuracy": acc[p + 1],
                "leader": xp.asarray(leader)}


def train(model: str = "cnn", data: str = "digits", algorithm=None, workers: int = 4,
          steps: int | None = None, epochs: float | None = None, batch_size: int = 32, shards: str = "disjoint",
          weight_decay: float = 1e-4, same_init: bool = True, seed: int = 0, evaluations: int = 20,
          backend: str = "numpy", dtype: str = "float32", data_folder=None, progress: bool = False,
          clock=None, time_budget: float | None = None) -> Result:
    """Train ``workers`` copies of ``model`` on ``data`` with ``algorithm``; returns a Result.

    ``algorithm`` is an Algorithm, a function ``steps -> Algorithm`` (for schedules that depend on the
    run length), or None for :func:`default_algorithm`.
    ``steps`` (per worker) or ``epochs`` (passes over each worker's shard; default 100) set the budget;
    every worker processes ``batch_size`` samples per step. ``same_init`` starts every worker from the
    same random network (as data-parallel training does). ``evaluations`` records are spread evenly.
    ``Result.monitor`` holds test_accuracy (R, p), center_test_accuracy (R,), leader_test_accuracy (R,)
    and leader (R,); ``Result.f`` is each worker's full training loss (weight decay included).
    ``clock`` (a :class:`lsgdsim.clock.Clock`, e.g. :func:`lsgdsim.clock.clusters.cluster_clock`) runs it in
    simulated time, ``time_budget`` stopping it at that many simulated seconds; ``Result.sim_time`` then
    dates every record and ``Result.breakdown`` splits each worker's time (docs/clock.md). ``backend`` is one
    of :data:`BACKENDS`.
    """
    if steps is not None and epochs is not None:
        raise ValueError("give steps or epochs, not both")
    evaluations = check_int(evaluations, "evaluations", 1)
    workers = check_int(workers, "workers", 1)
    seed = check_seed(seed, "seed")
    check_choice(backend, "backend", BACKENDS)
    dataset = load_data(data, data_folder)
    obj = build_objective(model, dataset, workers, shards, weight_decay, seed)
    if steps is None:
        steps = steps_for(dataset, workers, batch_size, 100.0 if epochs is None else epochs, shards)
    if algorithm is None:
        algorithm = default_algorithm(steps)
    elif not isinstance(algorithm, Algorithm) and callable(algorithm):
        algorithm = algorithm(steps)
    x0 = obj.initial_point(workers, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,))))
    if same_init:
        x0 = np.broadcast_to(x0[:1], x0.shape)
    res = simulate(obj, algorithm, workers=workers, steps=steps, x0=x0, batch_size=batch_size, seed=seed,
                   backend=backend, dtype=dtype, record_every=max(1, steps // evaluations), progress=progress,
                   monitor=Evaluator(obj), on_interrupt="return", clock=clock, time_budget=time_budget)
    res.meta.update({"model": model, "data": data, "shards": shards, "same_init": bool(same_init),
                     "weight_decay": weight_decay, "samples_per_worker_step": batch_size})
    return res


def summarize(res: Result) -> dict:
    """The training summary (``lsgdsim train --json``): final accuracies, losses, leader statistics."""
    mon = res.monitor
    acc = np.asarray(mon["test_accuracy"])
    out = {
        "model": res.meta.get("model"), "data": res.meta.get("data"),
        "algorithm": res.meta.get("algorithm", {}).get("algorithm"), "workers": res.workers,
        "steps": int(res.steps[-1]), "seed": res.meta.get("seed"),
        # The paper's "center": the average of the workers (EASGD: its center; DOWNPOUR: the server).
        "test_accuracy": float(np.asarray(mon["center_test_accuracy"])[-1]),
        "mean_worker_test_accuracy": float(acc[-1].mean()),
        "leader_test_accuracy": float(np.asarray(mon["leader_test_accuracy"])[-1]),
        "best_worker_test_accuracy": float(acc[-1].max()),
        "worker_test_accuracy": [round(float(a), 4) for a in acc[-1]],
        "final_train_loss_mean": float(res.mean_f[-1]),
        "samples_processed": res.meta.get("samples_processed"),
        "floats_communicated": res.meta.get("floats_communicated"),
        "wall_time_s": res.meta.get("wall_time_s"),
    }
    if len(res.leaders):
        out["leader_changes"] = int(len(res.leader_runs()) - 1)
        out["leader_share"] = [round(float(s), 4) for s in res.leader_share()]
    else:                                   # a rule without a leader: no leader fields
        del out["leader_test_accuracy"]
    if res.meta.get("interrupted"):
        out["interrupted"] = True
    return out


def accuracy_curve(res: Result, which: str = "center") -> tuple[np.ndarray, np.ndarray]:
    """(steps, accuracy) of the center, the leader, or the worker mean ('center'|'leader'|'mean')."""
    if which == "mean":
        return res.steps, np.asarray(res.monitor["test_accuracy"]).mean(axis=1)
    key = {"center": "center_test_accuracy", "leader": "leader_test_accuracy"}.get(which)
    if key is None:
        raise ValueError(f"which must be 'center', 'leader' or 'mean'; got {which!r}")
    return res.steps, to_numpy(np.asarray(res.monitor[key]))
