#!/usr/bin/python3
"""PyTorch reference values for the benchmark smoke test (tests/bench.cmake).

    /usr/bin/python3 tools/bench/make_bench_refs.py

Runs every workload of torch_bench.py at a tiny size and writes tests/data/bench_refs.txt:
one line per request, "<request> | <result> <value> <rtol> ...". `ag_bench smoke` runs the same
requests in the engine and requires each value to agree within rtol (relative).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import torch_bench  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data",
                   "bench_refs.txt")

# (request, {result: rtol}). float64 scalar graphs agree to rounding; float32 training differs
# in BLAS blocking and Adam's algebra, hence 1e-4 after a few steps.
REQUESTS = [
    ("chain n=1000", {"x": 1e-12, "x0.grad": 1e-12, "w.grad": 1e-12, "b.grad": 1e-12}),
    ("tiny n=3", {"g": 1e-12, "a.grad": 1e-12, "b.grad": 1e-12}),
    # The engine's tape workloads; PyTorch (no tape) runs its plain chain and tiny for them.
    ("chain_tape n=1000", {"x": 1e-12, "x0.grad": 1e-12, "w.grad": 1e-12, "b.grad": 1e-12}),
    ("tiny_tape n=3", {"g": 1e-12, "a.grad": 1e-12, "b.grad": 1e-12}),
    ("micrograd steps=3 points=100", {"loss": 1e-9, "accuracy": 1e-12}),
    ("spiral epochs=10 per_class=100", {"loss": 1e-4, "accuracy": 1e-12}),
    # 50 float32 epochs: before rounding differences grow; catches a float32-only bug (it
    # caught nn::Adam's (1 - beta2) computed in float32: 0.8336 vs 0.8271 here).
    ("spiral epochs=50 per_class=100", {"loss": 1e-3, "accuracy": 1e-12}),
    # float64 runs agree to rounding for much longer.
    ("spiral epochs=300 f64=1", {"loss": 1e-6, "accuracy": 1e-12}),
    ("mlp batch=32 steps=20 f64=1", {"loss": 1e-9}),
    ("mlp batch=16 steps=3", {"loss": 1e-4}),
    ("mlp batch=8 steps=3 hidden=32", {"loss": 1e-4}),
    ("matmul n=64 repeat=1", {"mean": 1e-4, "c00": 1e-5, "c_last": 1e-5}),
]


def main():
    torch.set_num_threads(1)
    lines = ["# PyTorch values of the benchmark workloads at smoke sizes.",
             f"# Made by tools/bench/make_bench_refs.py with torch {torch.__version__}.",
             "# <request> | <result> <PyTorch value> <relative tolerance> ..."]
    for request, keys in REQUESTS:
        reply = torch_bench.handle(request)
        if "error" in reply:
            raise SystemExit(f"{request}: {reply['error']}")
        fields = " ".join(f"{k} {reply['result'][k]!r} {rtol:g}" for k, rtol in keys.items())
        lines.append(f"{request} | {fields}")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(REQUESTS)} requests to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
