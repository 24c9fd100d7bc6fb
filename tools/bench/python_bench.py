#!/usr/bin/python3
"""python_bench: what the engine costs from Python, against PyTorch and a pure-Python engine.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python_bench.py [--quick] [--json FILE]

Three workloads, each engine in the same process, interleaved round by round (medians):
  tiny       the 10-node graph a=-41, b=2, c=a+b, d=a*b+b^3, e=c-d, f=e^2, g=f/2, backward
  micrograd  micrograd's demo step: MLP(2, [16, 16, 1]) on 100 moons, max-margin loss + L2, SGD
             (inputs from bench_data.py, the same numbers as ag_bench's and torch_bench's)
  numpy      Tensor -> NumPy view (zero-copy) and NumPy -> Tensor (one copy) at 1e3 .. 1e7 floats
Engines: agrad (this project, from Python), PyTorch (0-d / batched tensors, as torch_bench.py),
and "pure Python": a minimal engine with micrograd's published semantics (class Value with
_backward closures and a topological sort), written below because micrograd is not installable
here. Every engine's numbers are checked against the others before any time is reported.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_data as data  # noqa: E402

import numpy as np  # noqa: E402

import agrad  # noqa: E402

try:
    import torch
except ImportError:  # the bench still runs, without the PyTorch column
    torch = None


# ---- pure Python: micrograd's design (github.com/karpathy/micrograd, engine.py), not its code ----
class PyValue:
    """A scalar with a gradient and a closure that pushes it to its children (micrograd semantics)."""

    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data, children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = children

    def __add__(self, other):
        other = other if isinstance(other, PyValue) else PyValue(other)
        out = PyValue(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, PyValue) else PyValue(other)
        out = PyValue(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        out = PyValue(self.data**k, (self,))

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = PyValue(self.data if self.data > 0 else 0.0, (self,))

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        # micrograd's topological sort is recursive; iterative here so deep graphs do not overflow
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                topo.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other**-1


# ---- tiny: the 10-node graph ----
def tiny_scalar(Value, n):
    for _ in range(n):
        a = Value(-41.0)
        b = Value(2.0)
        c = a + b
        d = a * b + b**3
        e = c - d
        f = e**2
        g = f / 2.0
        g.backward()
    return g.data, a.grad, b.grad


def tiny_agrad(n):
    return tiny_scalar(agrad.Value, n)


def tiny_python(n):
    return tiny_scalar(PyValue, n)


def tiny_torch(n):
    f64 = torch.float64
    for _ in range(n):
        a = torch.tensor(-41.0, dtype=f64, requires_grad=True)
        b = torch.tensor(2.0, dtype=f64, requires_grad=True)
        c = a + b
        d = a * b + b**3
        e = c - d
        f = e**2
        g = f / 2.0
        g.backward()
    return g.item(), a.grad.item(), b.grad.item()


# ---- micrograd: MLP(2, [16, 16, 1]) step on 100 moons ----
SIZES = [2, 16, 16, 1]


def scalar_mlp(Value):
    layers = []
    for l in range(len(SIZES) - 1):
        w = data.uniform(data.WEIGHT_SEED + l, SIZES[l] * SIZES[l + 1], -1.0, 1.0)
        layers.append(([Value(float(v)) for v in w], [Value(0.0) for _ in range(SIZES[l + 1])], SIZES[l], SIZES[l + 1]))
    return layers


def micrograd_scalar(Value, steps, points, zero, set_data):
    xs, ys = data.moons(points, data.MOONS_SEED)
    xs, ys = xs.tolist(), ys.tolist()
    layers = scalar_mlp(Value)
    params = [p for w, b, _, _ in layers for p in w + b]
    for k in range(steps):
        data_loss = None
        correct = 0
        for i in range(points):
            act = xs[i]
            for l, (w, b, n_in, n_out) in enumerate(layers):
                nxt = []
                for j in range(n_out):
                    s = b[j]
                    for q in range(n_in):
                        s = s + w[q * n_out + j] * act[q]
                    nxt.append(s.relu() if l + 2 < len(SIZES) else s)
                act = nxt
            s = act[0]
            margin = (1.0 + (-ys[i]) * s).relu()
            data_loss = margin if data_loss is None else data_loss + margin
            correct += (ys[i] > 0) == (s.data > 0)
        squares = None
        for p in params:
            squares = p * p if squares is None else squares + p * p
        total = data_loss * (1.0 / points) + 1e-4 * squares
        for p in params:
            zero(p)
        total.backward()
        lr = 1.0 - 0.9 * k / 100.0
        for p in params:
            set_data(p, p.data - lr * p.grad)
    return total.data, correct / points


def micrograd_agrad(steps, points=100):
    return micrograd_scalar(agrad.Value, steps, points, agrad.Value.zero_grad, lambda p, v: setattr(p, "data", v))


def micrograd_python(steps, points=100):
    return micrograd_scalar(PyValue, steps, points, lambda p: setattr(p, "grad", 0.0), lambda p, v: setattr(p, "data", v))


def micrograd_tensors(lib, steps, points=100):
    """The same math as batched tensors (agrad.Tensor or torch), as torch_bench.micrograd."""
    xs, ys = data.moons(points, data.MOONS_SEED)
    if lib == "torch":
        x, y = torch.from_numpy(xs), torch.from_numpy(ys)
        make = lambda a: torch.from_numpy(a).requires_grad_()  # noqa: E731
        relu, no_grad = torch.relu, torch.no_grad
    else:
        x, y = agrad.tensor(xs), agrad.tensor(ys)
        make = lambda a: agrad.tensor(a, requires_grad=True)  # noqa: E731
        relu, no_grad = agrad.relu, agrad.no_grad
    params = []
    for l in range(len(SIZES) - 1):
        w = data.uniform(data.WEIGHT_SEED + l, SIZES[l] * SIZES[l + 1], -1.0, 1.0)
        params += [make(w.reshape(SIZES[l], SIZES[l + 1])), make(np.zeros(SIZES[l + 1]))]
    for k in range(steps):
        h = x
        for l in range(3):
            h = h @ params[2 * l] + params[2 * l + 1]
            if l < 2:
                h = relu(h)
        scores = h.reshape(points) if lib != "torch" else h[:, 0]
        data_loss = relu(1.0 + (-y) * scores).sum() * (1.0 / points)
        reg = None
        for p in params:
            reg = (p * p).sum() if reg is None else reg + (p * p).sum()
        total = data_loss + 1e-4 * reg
        for p in params:
            if lib == "torch":
                p.grad = None
            else:
                p.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / 100.0
        if lib == "torch":
            with no_grad():
                for p in params:
                    p -= lr * p.grad
        else:
            for p in params:  # in place, outside the graph, through a writable view
                view = p.numpy(writable=True)
                view -= lr * p.grad.numpy()
        s = scores.detach().numpy() if lib == "torch" else scores.numpy()
        accuracy = float(np.mean((ys > 0) == (s > 0)))
    return total.item(), accuracy


# ---- NumPy round trip ----
def numpy_round_trip(n, reps):
    t = agrad.zeros([n])
    array = np.ones(n, dtype=np.float32)
    t0 = time.perf_counter()
    for _ in range(reps):
        view = t.numpy()
    to_numpy = (time.perf_counter() - t0) / reps
    assert np.shares_memory(view, t.numpy())
    t0 = time.perf_counter()
    for _ in range(max(1, reps // 100)):
        back = agrad.tensor(array)
    from_numpy = (time.perf_counter() - t0) / max(1, reps // 100)
    assert back.numel() == n
    return to_numpy, from_numpy


def timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def close(a, b, rel):
    return all(math.isclose(x, y, rel_tol=rel, abs_tol=1e-12) for x, y in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run, not a measurement)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    tiny_n = 200 if args.quick else 20_000
    steps = 1 if args.quick else 3

    engines_tiny = {"agrad": tiny_agrad, "pure Python": tiny_python}
    engines_mlp = {"agrad Value": lambda s: micrograd_agrad(s), "agrad Tensor": lambda s: micrograd_tensors("agrad", s),
                   "pure Python": lambda s: micrograd_python(s)}
    if torch is not None:
        torch.set_num_threads(1)
        engines_tiny["PyTorch"] = tiny_torch
        engines_mlp["PyTorch Tensor"] = lambda s: micrograd_tensors("torch", s)
    agrad.set_num_threads(1)

    times = {("tiny", k): [] for k in engines_tiny} | {("micrograd", k): [] for k in engines_mlp}
    results = {}
    for _ in range(rounds):
        for name, fn in engines_tiny.items():
            seconds, results[("tiny", name)] = timed(fn, tiny_n)
            times[("tiny", name)].append(seconds / tiny_n)
        for name, fn in engines_mlp.items():
            seconds, results[("micrograd", name)] = timed(fn, steps)
            times[("micrograd", name)].append(seconds / steps)

    # Same numbers everywhere, or no figures.
    assert close(results[("tiny", "agrad")], (612.5, -35.0, 1050.0), 1e-12), results
    if steps == 3:  # the stored PyTorch value of this workload (tests/data/bench_refs.txt)
        refs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "bench_refs.txt")
        line = next(l for l in open(refs) if l.startswith("micrograd steps=3 points=100"))
        stored = float(line.split("|")[1].split()[1])
        assert math.isclose(results[("micrograd", "agrad Value")][0], stored, rel_tol=1e-9), stored
    for (work, name), r in results.items():
        ref = results[(work, "agrad")] if work == "tiny" else results[("micrograd", "agrad Value")]
        assert close(r, ref, 1e-9), (work, name, r, ref)

    print(f"# python_bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().nodename}, "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else "") + f"; median of {rounds} interleaved rounds, 1 thread")
    out = {"tiny": {}, "micrograd": {}, "numpy": []}
    for work, unit, scale, base in (("tiny", "us/iteration", 1e6, "agrad"), ("micrograd", "ms/step", 1e3, "agrad Value")):
        print(f"\n{work} ({unit})")
        ref = statistics.median(times[(work, base)])
        for (w, name), ts in times.items():
            if w != work:
                continue
            med = statistics.median(ts)
            out[work][name] = med
            print(f"  {name:16s} {med * scale:10.2f}   {med / ref:6.2f}x {base}")
    print("\nnumpy: Tensor.numpy() (view) and agrad.tensor(ndarray) (one copy), float32")
    for n in (1_000, 100_000, 10_000_000):
        to_np, from_np = numpy_round_trip(n, 200 if args.quick else 2_000)
        out["numpy"].append({"floats": n, "to_numpy_s": to_np, "from_numpy_s": from_np})
        print(f"  {n:>10,d} floats   numpy() {to_np * 1e6:7.2f} us   tensor() {from_np * 1e3:9.3f} ms"
              f"  ({4 * n / from_np / 1e9:5.2f} GB/s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
