"""Network training throughput (issue 4): lsgdsim's vectorized trainer against PyTorch CPU, side by side.

    python benchmarks/bench_nn.py [--quick] [--threads 1] [--repeats 7] [--json out.json] [--no-memory]

For the digits MLP (64-64-10) and the digits CNN (``cnn((1, 8, 8))``, 22,954 parameters, dropout 0.5)
and p ∈ {1, 4, 16} workers, one training step is: every worker draws its own mini-batch of 32 digits,
runs forward and backward (train mode: dropout on), and takes a plain SGD step with weight decay 1e-4,
in float32. Throughput is samples per second over all workers together (p·32 / step time).

Implementations, timed in this one process, alternating A B C D A B C D ... ``repeats`` times, and
reported as the minimum per-step time of each (which removes most of the noise of a shared machine):

- ``lsgdsim``: the simulator's run-loop step with ``algorithms.SGD``: the "batch" stream draw and the
  shard lookup, one vectorized forward/backward of all p workers (dropout masks from the "dropout"
  stream), the update ``X − η·G``;
- ``lsgdsim LSGD``: the same step with the trainer's default LSGD (momentum 0.9, Window(10) leader,
  pull 0.1 every 4 steps), for reference;
- ``torch loop``: p ``torch.nn`` models, each with its own ``torch.optim.SGD``, trained one after
  the other (what one process simulating p workers with PyTorch does);
- ``torch vmap``: the p models' parameters stacked (``torch.func.stack_module_state``) and one
  ``vmap(grad(loss))`` over them (``functional_call``; ``randomness="different"`` for dropout), then
  one in-place SGD update per stacked tensor.

Both libraries get the same number of threads (``--threads``, default 1): threadpoolctl limits
OpenBLAS (NumPy) and ``torch.set_num_threads`` limits PyTorch.

Memory per worker: (a) analytic float32 bytes of parameters + gradient and of the activations that
one step of batch 32 keeps for the backward pass; (b) measured (Linux): each (network, implementation,
p) runs in a fresh subprocess which, after the imports and the data load, returns freed heap to the OS
(``malloc_trim``), resets its peak RSS (``/proc/self/clear_refs``), builds the p workers and takes 5
steps; the growth is VmHWM (peak RSS) minus the VmRSS before. Reported: the growth at p = 4 and 16, per
worker at p = 16, and the marginal (growth(16) − growth(4)) / 12, which removes fixed costs (oneDNN and
autograd set-up in PyTorch, scratch-buffer pools in lsgdsim).
"""
from __future__ import annotations

import argparse
import copy
import ctypes
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from lsgdsim.algorithms import SGD
from lsgdsim.algorithms.base import RunContext, StepInput
from lsgdsim.backend import RandomStreams
from lsgdsim.nn import NetworkObjective, cnn, load_digits, mlp, shard
from lsgdsim.nn.train import default_algorithm

BATCH, LR, WD = 32, 0.05, 1e-4
NETS = ("mlp", "cnn")
IMPLS = ("lsgdsim", "lsgdsim LSGD", "torch loop", "torch vmap")
WORKERS = (1, 4, 16)


# -- lsgdsim -----------------------------------------------------------------------------------------
def our_model(net):
    return mlp(64, (64,), 10) if net == "mlp" else cnn((1, 8, 8))


def our_step(net, p, data, algorithm="sgd"):
    """The run loop's step (simulate.py) without its recording: draw, forward/backward, update."""
    obj = NetworkObjective(our_model(net), data, weight_decay=WD, shards=shard(data.n_train, p, "disjoint"))
    alg = SGD(lr=LR) if algorithm == "sgd" else default_algorithm(10**6)
    streams = RandomStreams(0, np, "float32")
    X = obj.initial_point(p, np.random.default_rng(0)).astype(np.float32)
    ctx = RunContext(xp=np, dtype=np.float32, workers=p, dim=obj.dim, streams=streams)
    X, state = alg.init(X, ctx)
    box = {"X": X, "state": state, "t": 0}

    def step():
        box["t"] += 1
        idx = obj.sample_batch(streams, p, BATCH)
        losses, G = obj.batch_value_and_grad(box["X"], idx, streams=streams)
        box["X"], box["state"], _ = alg.step(box["X"], box["state"],
                                             StepInput(box["t"], G, losses, lambda: losses, streams))
    return step


# -- PyTorch -----------------------------------------------------------------------------------------
def torch_model(torch, net):
    """The same architecture as :func:`our_model` in torch.nn (PyTorch's default initialization)."""
    nn = torch.nn
    if net == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding="same"), nn.ReLU(),
        nn.Flatten(), nn.Linear(128, 64), nn.Dropout(0.5), nn.Linear(64, 10))


def torch_data(torch, data, p):
    x = torch.from_numpy(np.ascontiguousarray(data.x_train, dtype=np.float32))
    y = torch.from_numpy(data.y_train)
    pools = torch.from_numpy(shard(data.n_train, p, "disjoint").pools[:, : data.n_train // p].copy())
    return x, y, pools


def torch_loop_step(torch, net, p, data):
    """p models and p optimizers, stepped one after the other."""
    x, y, pools = torch_data(torch, data, p)
    models = [torch_model(torch, net) for _ in range(p)]
    opts = [torch.optim.SGD(m.parameters(), lr=LR, weight_decay=WD) for m in models]
    gen = torch.Generator().manual_seed(0)
    F = torch.nn.functional

    def step():
        idx = pools.gather(1, torch.randint(0, pools.shape[1], (p, BATCH), generator=gen))
        for i in range(p):
            opts[i].zero_grad(set_to_none=True)
            loss = F.cross_entropy(models[i](x[idx[i]]), y[idx[i]])
            loss.backward()
            opts[i].step()
    return step


def torch_vmap_step(torch, net, p, data):
    """One vmap(grad(loss)) over the p stacked models, then SGD on the stacked tensors."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    x, y, pools = torch_data(torch, data, p)
    models = [torch_model(torch, net) for _ in range(p)]
    params, buffers = stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta")
    F = torch.nn.functional

    def loss(prm, buf, xb, yb):
        return F.cross_entropy(functional_call(base, (prm, buf), (xb,)), yb)

    grads_of = vmap(grad(loss), randomness="different")
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = pools.gather(1, torch.randint(0, pools.shape[1], (p, BATCH), generator=gen))
        grads = grads_of(params, buffers, x[idx], y[idx])
        with torch.no_grad():
            for k, w in params.items():
                w.sub_(LR * (grads[k] + WD * w))
    return step


def make_step(impl, net, p, data, torch=None):
    if impl == "lsgdsim":
        return our_step(net, p, data)
    if impl == "lsgdsim LSGD":
        return our_step(net, p, data, "lsgd")
    if impl == "torch loop":
        return torch_loop_step(torch, net, p, data)
    return torch_vmap_step(torch, net, p, data)


# -- timing ------------------------------------------------------------------------------------------
def per_step_seconds(step, n):
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def time_side_by_side(steps: dict, repeats: int, block_s: float) -> dict:
    """Minimum per-step seconds of each step function, blocks alternating A B C ... ``repeats`` times."""
    sizes = {}
    for name, step in steps.items():
        step()  # warm-up: caches, allocator, scratch buffers
        sizes[name] = max(2, int(block_s / max(per_step_seconds(step, 2), 1e-6)))
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeats):
        for name, step in steps.items():
            best[name] = min(best[name], per_step_seconds(step, sizes[name]))
    return best


# -- memory ------------------------------------------------------------------------------------------
def analytic_bytes(net) -> dict:
    """float32 bytes per worker: parameters + their gradient; activations kept for backward (batch 32)."""
    model = our_model(net)
    acts = sum(int(np.prod(s)) for s in model.shapes)  # the input and every layer's output, per sample
    return {"params_and_grad": 2 * 4 * model.dim, "activations": 4 * BATCH * acts, "params": model.dim}


def peak_rss_growth(impl, net, p, threads) -> int:
    """Bytes by which the peak RSS of a fresh process grows over 5 training steps (see module doc)."""
    out = subprocess.run([sys.executable, __file__, "--measure-memory", impl, net, str(p), "--threads",
                          str(threads)], capture_output=True, text=True, check=True)
    return int(json.loads(out.stdout.strip().splitlines()[-1])["growth_bytes"])


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def _measure_memory(impl, net, p, threads):
    """Print the growth of the peak RSS over building the workers and 5 steps (Linux only)."""
    torch = _import_torch(threads) if impl.startswith("torch") else None
    data = load_digits()
    with threadpool_limits(threads):
        ctypes.CDLL("libc.so.6").malloc_trim(0)       # freed heap back to the OS: the baseline is what is live
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
        before = _status_kib("VmRSS")
        step = make_step(impl, net, p, data, torch)
        for _ in range(5):
            step()
        peak = _status_kib("VmHWM")
    print(json.dumps({"growth_bytes": 1024 * (peak - before)}))


def _import_torch(threads):
    import torch
    torch.set_num_threads(threads)
    return torch


# -- report ------------------------------------------------------------------------------------------
def machine(threads) -> dict:
    import torch
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "threads": threads, "platform": platform.platform()}


def markdown(results, mem, info) -> str:
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, NumPy {info['numpy']}, "
             f"PyTorch {info['torch']}; {info['threads']} thread(s) per library.", "",
             "| network | p | " + " | ".join(f"{i} (samples/s)" for i in IMPLS)
             + " | lsgdsim / torch loop | lsgdsim / torch vmap |",
             "|---|---|" + "---|" * (len(IMPLS) + 2)]
    for r in results:
        thr = r["samples_per_s"]
        lines.append(f"| {r['net']} | {r['p']} | " + " | ".join(f"{thr[i]:,.0f}" for i in IMPLS)
                     + f" | {thr['lsgdsim'] / thr['torch loop']:.2f} | {thr['lsgdsim'] / thr['torch vmap']:.2f} |")
    if mem:
        lines += ["", "Memory (MiB): analytic float32 bytes per worker, and the measured growth of the peak RSS "
                  "of a fresh process over building the p workers and 5 steps (total; per worker at p = 16; "
                  "marginal per worker = (p=16 − p=4)/12).", "",
                  "| network | implementation | params + grad / worker | activations / worker (batch 32) "
                  "| growth p=4 | growth p=16 | per worker, p=16 | marginal per worker |",
                  "|---|---|---|---|---|---|---|---|"]
        mib = 2.0**20
        for net in NETS:
            a = analytic_bytes(net)
            for impl in IMPLS:
                g4, g16 = mem[net][impl]["4"], mem[net][impl]["16"]
                lines.append(f"| {net} | {impl} | {a['params_and_grad'] / mib:.3f} | {a['activations'] / mib:.3f} "
                             f"| {g4 / mib:.1f} | {g16 / mib:.1f} | {g16 / 16 / mib:.2f} "
                             f"| {(g16 - g4) / 12 / mib:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 repeats of short blocks (a smoke run)")
    ap.add_argument("--threads", type=int, default=1, help="threads for both NumPy's BLAS and PyTorch")
    ap.add_argument("--repeats", type=int, default=7, help="alternating rounds (the minimum is kept)")
    ap.add_argument("--block", type=float, default=0.4, help="seconds per timed block")
    ap.add_argument("--no-memory", action="store_true", help="skip the subprocess memory measurement")
    ap.add_argument("--json", help="write the results as JSON")
    ap.add_argument("--measure-memory", nargs=3, metavar=("IMPL", "NET", "P"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure_memory:
        impl, net, p = args.measure_memory
        _measure_memory(impl, net, int(p), args.threads)
        return 0
    repeats, block = (2, 0.1) if args.quick else (args.repeats, args.block)
    torch = _import_torch(args.threads)
    info = machine(args.threads)
    data = load_digits()
    results = []
    with threadpool_limits(args.threads):
        for net in NETS:  # the two libraries train the same architecture
            assert sum(t.numel() for t in torch_model(torch, net).parameters()) == our_model(net).dim
            for p in WORKERS:
                steps = {impl: make_step(impl, net, p, data, torch) for impl in IMPLS}
                sec = time_side_by_side(steps, repeats, block)
                results.append({"net": net, "p": p, "step_s": sec,
                                "samples_per_s": {k: p * BATCH / s for k, s in sec.items()}})
                print(f"{net} p={p}: " + ", ".join(f"{k} {p * BATCH / s:,.0f}/s" for k, s in sec.items()),
                      file=sys.stderr, flush=True)
    mem = None
    if not args.no_memory:
        mem = {net: {impl: {str(p): peak_rss_growth(impl, net, p, args.threads) for p in (4, 16)}
                     for impl in IMPLS} for net in NETS}
    print(markdown(results, mem, info))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "batch": BATCH, "results": results,
                                               "memory_growth_bytes": mem,
                                               "analytic_bytes": {n: analytic_bytes(n) for n in NETS}},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
