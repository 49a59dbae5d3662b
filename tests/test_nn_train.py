"""The network trainer: vectorized training equals per-worker training, it learns digits, its summary
and CLI output, and its input checks."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lsgdsim.algorithms import EASGD, LSGD, SGD
from lsgdsim.backend import RandomStreams
from lsgdsim.cli import main
from lsgdsim.leaders import Window
from lsgdsim.nn import NetworkObjective, cnn, load_digits, mlp, shard
from lsgdsim.nn.train import default_algorithm, steps_for, summarize, train
from lsgdsim.schedules import StepDecay


# -- a plain per-worker trainer: the oracle for the vectorized one -----------------------------------
class DropoutReplay:
    """Dropout draws as a process owning worker i replays them: the run's block (p, ...), row i.

    The vectorized model draws one block per dropout layer per step from stream "dropout"; here the
    first worker to reach a layer draws that block and every worker keeps its own row.
    """

    def __init__(self, streams: RandomStreams, workers: int):
        self.streams, self.workers = streams, workers
        self.blocks: list[np.ndarray] = []

    def next_step(self):
        self.blocks = []

    def for_worker(self, i: int):
        calls = iter(range(1 << 30))

        def draw(shape):
            k = next(calls)
            if k == len(self.blocks):
                self.blocks.append(self.streams.uniform("dropout", (self.workers, *shape[1:])))
            return self.blocks[k][i:i + 1]
        return draw


def per_worker_run(alg, model, data, workers, steps, batch_size, seed, weight_decay, same_init):
    """Train ``workers`` copies of ``model`` one worker at a time: lists of 1-D vectors, one (1, D)
    forward/backward per worker, LSGD or EASGD written out as in docs/design.md §3.

    Returns (x (p, D), leaders, center or None)."""
    p = workers
    streams = RandomStreams(seed, np, "float64")
    shards = shard(data.n_train, p, "disjoint", seed=seed)
    x0 = model.init(p, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,))))
    x = [np.array(x0[0 if same_init else i]) for i in range(p)]
    vel = [np.zeros(model.dim) for _ in range(p)]
    replay = DropoutReplay(streams, p)
    window: list[list[float]] = [[] for _ in range(p)]
    leaders = []
    center = np.mean(np.stack(x), axis=0) if isinstance(alg, EASGD) else None
    alpha = (0.9 / p if alg.alpha is None else alg.alpha) if isinstance(alg, EASGD) else None
    lr_at = alg.lr if callable(alg.lr) else (lambda t: alg.lr)
    for t in range(1, steps + 1):
        u = streams.uniform("batch", (p, batch_size))
        replay.next_step()
        losses, grads = [], []
        for i in range(p):
            pool = shards.pool(i)
            idx = pool[np.minimum((u[i] * pool.size).astype(np.int64), pool.size - 1)]
            loss, g = model.loss_and_grad(x[i][None], data.x_train[idx][None], data.y_train[idx][None],
                                          train=True, rng=replay.for_worker(i))
            losses.append(float(loss[0]) + 0.5 * weight_decay * float(x[i] @ x[i]))
            grads.append(g[0] + weight_decay * x[i])
        new = []
        for i in range(p):
            vel[i] = alg.momentum * vel[i] + grads[i]
            direction = grads[i] + alg.momentum * vel[i] if alg.nesterov else vel[i]
            new.append(x[i] - lr_at(t) * direction)
        if isinstance(alg, LSGD):
            for i in range(p):
                window[i] = (window[i] + [losses[i]])[-alg.leader.size:]
            if t % alg.period == 0:
                scores = [sum(w) / len(w) for w in window]
                best = min(range(p), key=lambda i: (scores[i], i))
                leaders.append(best)
                new = [new[i] - alg.pull * (x[i] - x[best]) for i in range(p)]
        elif t % alg.period == 0:  # EASGD
            pulled = [alpha * (x[i] - center) for i in range(p)]
            new = [new[i] - pulled[i] for i in range(p)]
            center = center + sum(pulled)
        x = new
    return np.stack(x), leaders, center


@pytest.mark.parametrize("case", ["lsgd", "easgd"])
def test_vectorized_trainer_equals_per_worker_training(case):
    workers, steps, batch, seed, wd = 3, 12, 8, 7, 1e-3
    if case == "lsgd":  # distinct starting points, a window leader, an lr drop mid-run
        alg = LSGD(lr=StepDecay(0.05, 0.1, every=8), momentum=0.9, pull=0.3, period=2, leader=Window(3))
        same_init = False
    else:
        alg = EASGD(lr=0.05, momentum=0.9, nesterov=True, alpha=0.2, period=3)
        same_init = True
    res = train("cnn", "digits", alg, workers=workers, steps=steps, batch_size=batch, weight_decay=wd,
                same_init=same_init, seed=seed, evaluations=2, dtype="float64")
    data = load_digits()
    x, leaders, center = per_worker_run(alg, cnn(data.input_shape), data, workers, steps, batch, seed, wd,
                                        same_init)
    moved = np.abs(x - res.x[:1]).max()
    assert moved > 1e-3  # the workers moved apart: the comparison below is not between equal rows
    np.testing.assert_allclose(res.x, x, rtol=0, atol=1e-10 * np.abs(x).max())
    if case == "lsgd":
        assert res.leaders.tolist() == leaders and len(leaders) == steps // alg.period
    else:
        np.testing.assert_allclose(res.center, center, rtol=0, atol=1e-10 * np.abs(center).max())


@pytest.mark.torch
def test_trainer_matches_pytorch_sgd_with_momentum():
    """Independent workers trained by train() equal torch.optim.SGD (momentum, weight decay, an lr drop)
    on the same mini-batches with the same dropout masks, one torch model per worker."""
    torch = pytest.importorskip("torch")
    from test_nn_models import torch_flat, torch_replica

    workers, steps, batch, seed, wd = 2, 8, 8, 3, 1e-3
    sched = StepDecay(0.05, 0.1, every=5)
    res = train("cnn", "digits", SGD(lr=sched, momentum=0.9), workers=workers, steps=steps, batch_size=batch,
                weight_decay=wd, same_init=False, seed=seed, evaluations=1, dtype="float64")
    data = load_digits()
    model = cnn(data.input_shape)
    x0 = model.init(workers, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,))))
    streams = RandomStreams(seed, np, "float64")
    shards = shard(data.n_train, workers, "disjoint", seed=seed)
    hidden = model.shapes[10][0]  # the input of the dropout layer
    nets = [torch_replica(torch, model, x0[i], [np.ones((batch, hidden))]) for i in range(workers)]
    opts = [torch.optim.SGD(n.parameters(), lr=sched(1), momentum=0.9, weight_decay=wd) for n in nets]
    for t in range(1, steps + 1):
        idx = shards.indices(streams.uniform("batch", (workers, batch)))
        u = streams.uniform("dropout", (workers, batch, hidden))
        for i, (net, opt) in enumerate(zip(nets, opts, strict=True)):
            next(m for m in net if hasattr(m, "mask")).mask = torch.from_numpy((u[i] >= 0.5) / 0.5)
            xb = torch.from_numpy(data.x_train[idx[i]].astype(np.float64))
            for group in opt.param_groups:
                group["lr"] = sched(t)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xb), torch.from_numpy(data.y_train[idx[i]])).backward()
            opt.step()
    for i, net in enumerate(nets):
        np.testing.assert_allclose(res.x[i], torch_flat(torch, model, net, None), rtol=0, atol=1e-10)


# -- training reaches a useful accuracy on a CI budget -------------------------------------------------
def test_lsgd_trains_the_cnn_on_digits_within_a_ci_budget():
    res = train("cnn", "digits", workers=4, epochs=40, seed=0, evaluations=4)  # 450 steps, a few seconds
    summary = summarize(res)
    center = np.asarray(res.monitor["center_test_accuracy"])
    assert center[0] < 0.3                       # an untrained network guesses
    assert summary["test_accuracy"] >= 0.95, summary
    assert summary["mean_worker_test_accuracy"] >= 0.95, summary
    assert res.mean_f[-1] < 0.25 * res.mean_f[0]


# -- summary and CLI ---------------------------------------------------------------------------------
def test_summary_fields_match_the_run():
    workers, steps, batch, period = 3, 24, 16, 4
    alg = LSGD(lr=0.05, momentum=0.9, pull=0.1, period=period, leader=Window(10))
    res = train("mlp", "digits", alg, workers=workers, steps=steps, batch_size=batch, seed=1, evaluations=3,
                dtype="float64")
    s = summarize(res)
    assert {"model", "data", "algorithm", "workers", "steps", "seed", "test_accuracy",
            "mean_worker_test_accuracy", "leader_test_accuracy", "best_worker_test_accuracy",
            "worker_test_accuracy", "final_train_loss_mean", "samples_processed", "floats_communicated",
            "wall_time_s", "leader_changes", "leader_share"} <= set(s)
    assert (s["model"], s["data"], s["algorithm"], s["workers"], s["steps"], s["seed"]) == \
        ("mlp", "digits", "lsgd", workers, steps, 1)
    data = load_digits()
    obj = NetworkObjective(mlp(64, classes=10), data)
    # the reported "center" is the average of the workers' parameters, evaluated on the test split
    assert s["test_accuracy"] == pytest.approx(float(obj.accuracy(res.x.mean(axis=0)[None])[0]), abs=1e-12)
    per_worker = obj.accuracy(res.x)
    np.testing.assert_allclose(s["worker_test_accuracy"], per_worker, atol=1e-4)
    assert s["mean_worker_test_accuracy"] == pytest.approx(per_worker.mean(), abs=1e-12)
    assert s["best_worker_test_accuracy"] == pytest.approx(per_worker.max(), abs=1e-12)
    assert s["leader_test_accuracy"] == pytest.approx(per_worker[res.leaders[-1]], abs=1e-12)
    assert s["final_train_loss_mean"] == pytest.approx(float(np.mean(obj.value(res.x))), rel=1e-10)
    assert s["samples_processed"] == workers * steps * batch
    d = obj.dim
    assert s["floats_communicated"] == (steps // period) * ((workers - 1) * d + workers)
    assert len(s["leader_share"]) == workers and sum(s["leader_share"]) == pytest.approx(1, abs=1e-3)
    json.dumps(s)  # JSON-ready


def test_easgd_summary_reports_its_center():
    res = train("mlp", "digits", EASGD(lr=0.05, period=2), workers=2, steps=10, batch_size=8, seed=0,
                evaluations=2, dtype="float64")
    obj = NetworkObjective(mlp(64, classes=10), load_digits())
    center = float(obj.accuracy(res.center[None])[0])
    assert summarize(res)["test_accuracy"] == pytest.approx(center, abs=1e-12)
    assert not np.allclose(res.center, res.x.mean(axis=0))  # the center is not the worker average


def test_cli_train_writes_the_summary(tmp_path, capsys):
    js = tmp_path / "train.json"
    rc = main(["train", "--model", "mlp", "--workers", "2", "--steps", "30", "--batch-size", "16",
               "--evaluations", "3", "--seed", "2", "--json", str(js), "--no-progress"])
    assert rc == 0
    assert "test_accuracy" in capsys.readouterr().out
    s = json.loads(js.read_text())
    assert (s["model"], s["workers"], s["steps"], s["seed"]) == ("mlp", 2, 30, 2)
    assert 0.3 < s["test_accuracy"] <= 1.0 and s["samples_processed"] == 2 * 30 * 16


@pytest.mark.parametrize("argv", [
    ["train", "--data", "mnist"],
    ["train", "--steps", "5", "--epochs", "2"],
    ["train", "--workers", "0", "--steps", "5"],
    ["train", "--model", "resnet"],
])
def test_cli_train_bad_input_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1


# -- input checks ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "name"), [
    ({"model": "resnet"}, "model"),
    ({"data": "imagenet"}, "data"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": -1.0}, "epochs"),
    ({"epochs": float("nan")}, "epochs"),
    ({"epochs": float("inf")}, "epochs"),
    ({"epochs": "10"}, "epochs"),
    ({"epochs": True}, "epochs"),
    ({"steps": 5, "epochs": 1.0}, "steps or epochs"),
    ({"steps": 0}, "steps"),
    ({"workers": 0}, "workers"),
    ({"workers": 2.5}, "workers"),
    ({"workers": True}, "workers"),
    ({"workers": 2000}, "workers"),              # more workers than digits' 1437 training samples
    ({"shards": "random"}, "shards"),
    ({"evaluations": 0}, "evaluations"),
    ({"evaluations": 2.0}, "evaluations"),
    ({"batch_size": 0}, "batch_size"),
    ({"dtype": "float16"}, "dtype"),
    ({"backend": "jax"}, "backend"),
    ({"algorithm": "lsgd"}, "algorithm"),
    ({"data": "mnist"}, "data_folder"),
    ({"data": "cifar10"}, "data_folder"),
])
def test_train_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train(**{"steps": None if "epochs" in kwargs else 2, **kwargs})


@pytest.mark.parametrize("data", ["mnist", "cifar10"])
def test_missing_or_empty_data_folder_is_a_value_error(tmp_path, data):
    for folder in (tmp_path / "missing", tmp_path):  # absent, and present without the files
        with pytest.raises(ValueError, match="data_folder"):
            train("cnn", data, steps=2, data_folder=folder)


def test_default_budget_and_schedule():
    data = load_digits()
    steps = steps_for(data, 4, 32, 100.0)
    assert steps == 1125  # 100 passes over a 360-sample shard in batches of 32
    assert steps_for(data, 4, 32, 1.0, "shared") == 45
    alg = default_algorithm(steps)
    assert (alg.period, alg.pull, alg.momentum, alg.leader) == (4, 0.1, 0.9, Window(10))
    assert alg.lr(1012) == pytest.approx(0.05) and alg.lr(1013) == pytest.approx(0.005)
