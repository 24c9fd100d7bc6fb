#!/usr/bin/python3
"""torch_bench: the PyTorch twin of ag_bench (same workloads, inputs, figures and protocol).

    /usr/bin/python3 tools/bench/torch_bench.py [--threads N] run <workload> [key=value ...]
    /usr/bin/python3 tools/bench/torch_bench.py [--threads N] serve

Each workload mirrors the function of the same name in workloads.cpp; inputs come from
bench_data.py, which draws the same numbers as bench_data.hpp.
"""
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_data as data  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

F64 = torch.float64


def current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


def peak_rss_bytes():
    """VmHWM (ru_maxrss survives exec: it would count the parent's footprint at fork)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def outcome(seconds, unit, extra, result):
    return {"seconds_per_unit": seconds, "unit": unit, "extra": extra, "result": result}


# ---- scalar chain with 0-d float64 tensors ----
def chain(n=1_000_000):
    x0 = torch.tensor(0.5, dtype=F64, requires_grad=True)
    w = torch.tensor(1.0 - 1e-6, dtype=F64, requires_grad=True)
    b = torch.tensor(1e-6, dtype=F64, requires_grad=True)
    x = x0
    rss_before = current_rss_bytes()
    t0 = time.perf_counter()
    for _ in range(n):
        x = x * w + b
    fwd = time.perf_counter() - t0
    rss_after = current_rss_bytes()
    t1 = time.perf_counter()
    x.backward()
    bwd = time.perf_counter() - t1
    value = x.item()
    t2 = time.perf_counter()
    del x  # frees the recorded graph
    free_s = time.perf_counter() - t2
    ops = 2.0 * n
    return outcome((fwd + bwd) / ops, "op",
                   {"fwd_ns_per_op": fwd / ops * 1e9, "bwd_ns_per_op": bwd / ops * 1e9,
                    "bwd_over_fwd": bwd / fwd, "free_ns_per_op": free_s / ops * 1e9,
                    "rss_bytes_per_op": (rss_after - rss_before) / ops},
                   {"x": value, "x0.grad": x0.grad.item(), "w.grad": w.grad.item(),
                    "b.grad": b.grad.item()})


# ---- the 10-node graph with 0-d float64 tensors ----
def tiny(n=100_000):
    t0 = time.perf_counter()
    for _ in range(n):
        a = torch.tensor(-41.0, dtype=F64, requires_grad=True)
        b = torch.tensor(2.0, dtype=F64, requires_grad=True)
        c = a + b
        d = a * b + b**3
        e = c - d
        f = e**2
        g = f / 2.0
        g.backward()
    total = time.perf_counter() - t0
    return outcome(total / n, "iteration", {},
                   {"g": g.item(), "a.grad": a.grad.item(), "b.grad": b.grad.item()})


# ---- micrograd's demo as tensors (float64): the same math as the scalar graphs ----
def micrograd(steps=10, points=100):
    xs, ys = data.moons(points, data.MOONS_SEED)
    x = torch.from_numpy(xs)
    y = torch.from_numpy(ys)
    sizes = [2, 16, 16, 1]
    params = []
    for l in range(len(sizes) - 1):
        w = data.uniform(data.WEIGHT_SEED + l, sizes[l] * sizes[l + 1], -1.0, 1.0)
        params.append(torch.from_numpy(w.reshape(sizes[l], sizes[l + 1])).requires_grad_())
        params.append(torch.zeros(sizes[l + 1], dtype=F64, requires_grad=True))
    t0 = time.perf_counter()
    for k in range(steps):
        h = x
        for l in range(3):
            h = h @ params[2 * l] + params[2 * l + 1]
            if l < 2:
                h = torch.relu(h)
        scores = h[:, 0]
        data_loss = torch.relu(1.0 + (-y) * scores).sum() * (1.0 / points)
        reg_loss = 1e-4 * sum((p * p).sum() for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = None
        total.backward()
        lr = 1.0 - 0.9 * k / 100.0
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        loss_value = total.item()
        accuracy = ((y > 0) == (scores > 0)).double().mean().item()
    elapsed = time.perf_counter() - t0
    return outcome(elapsed / steps, "step", {"accuracy": accuracy},
                   {"loss": loss_value, "accuracy": accuracy})


# ---- dense networks (float32), nn.Linear holding the transposed [in, out] weights ----
def build_mlp(sizes, dtype):
    layers = []
    for l in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[l], sizes[l + 1], dtype=dtype)
        w = data.glorot_weight(data.WEIGHT_SEED + l, sizes[l], sizes[l + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))  # rounds like static_cast<float>
            linear.bias.zero_()
        layers.append(linear)
        if l + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train(sizes, xs, labels, steps, lr, f64):
    dtype = torch.float64 if f64 else torch.float32
    net = build_mlp(sizes, dtype)
    x = torch.from_numpy(xs).to(dtype)
    y = torch.from_numpy(labels)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-7)
    t0 = time.perf_counter()
    for k in range(steps):
        opt.zero_grad()
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        if k + 1 == steps:
            loss_value = loss.item()
            accuracy = (logits.argmax(1) == y).double().mean().item()
    return (time.perf_counter() - t0) / steps, loss_value, accuracy


def spiral(epochs=200, per_class=100, f64=0):
    xs, labels = data.spiral(per_class, 3, data.SPIRAL_SEED)
    seconds, loss, accuracy = train([2, 64, 3], xs, labels, epochs, 0.05, f64)
    return outcome(seconds, "epoch", {"accuracy": accuracy}, {"loss": loss, "accuracy": accuracy})


def mlp(batch=128, steps=10, hidden=256, f64=0):
    xs, labels = data.random_images(batch, 784, 10, data.IMAGES_SEED)
    seconds, loss, _ = train([784, hidden, hidden // 2, 10], xs, labels, steps, 1e-3, f64)
    # FLOPs a step needs: x@W and dW (every layer), dX (every layer but the first).
    weights = 784.0 * hidden + hidden * (hidden / 2.0) + (hidden / 2.0) * 10.0
    flops = 2.0 * batch * (3.0 * weights - 784.0 * hidden)
    return outcome(seconds, "step", {"gflops": flops / seconds * 1e-9},
                   {"loss": loss})


def matmul(n=1024, repeat=5):
    with torch.no_grad():
        a = torch.from_numpy(data.uniform(data.MATMUL_SEED, n * n, -1.0, 1.0).astype(np.float32))
        b = torch.from_numpy(data.uniform(data.MATMUL_SEED + 1, n * n, -1.0, 1.0).astype(np.float32))
        a, b = a.reshape(n, n), b.reshape(n, n)
        c = torch.matmul(a, b)  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeat):
            c = torch.matmul(a, b)
        each = (time.perf_counter() - t0) / repeat
    flat = c.reshape(-1)
    return outcome(each, "matmul", {"gflops": 2.0 * n**3 / each * 1e-9},
                   {"mean": float(np.sum(c.numpy().astype(np.float64))) / (n * n),
                    "c00": flat[0].item(), "c_last": flat[-1].item()})


# PyTorch has no tape: the engine's tape rows (chain_tape, tiny_tape) time its plain workloads.
WORKLOADS = {"chain": chain, "tiny": tiny, "chain_tape": chain, "tiny_tape": tiny, "micrograd": micrograd, "spiral": spiral, "mlp": mlp,
             "matmul": matmul}


def handle(line):
    words = line.split()
    name, params = words[0], {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        params[key] = int(value)
    rss_at_start = current_rss_bytes()
    try:
        out = WORKLOADS[name](**params)
    except Exception as e:  # reported to the runner, which shows it
        return {"workload": name, "error": f"{type(e).__name__}: {e}"}
    out["extra"]["rss_at_start_bytes"] = rss_at_start
    out["extra"]["peak_rss_bytes"] = peak_rss_bytes()
    out["workload"] = name
    return out


def main(argv):
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--threads":
        torch.set_num_threads(int(args[1]))
        args = args[2:]
    if args and args[0] == "run" and len(args) >= 2:
        print(json.dumps(handle(" ".join(args[1:]))), flush=True)
        return 0
    if args and args[0] == "serve":
        for line in sys.stdin:
            line = line.strip()
            if line == "quit":
                break
            if line:
                print(json.dumps(handle(line)), flush=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
