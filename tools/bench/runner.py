#!/usr/bin/python3
"""Runs every benchmark workload in the engine (ag_bench) and in PyTorch (torch_bench.py),
interleaved, at each thread count; checks that both compute the same numbers; prints a table
and writes it to tools/bench/results.md. Started by tools/bench/run.sh (which builds first).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TORCH_BENCH = os.path.join(HERE, "torch_bench.py")
PYTHON = "/usr/bin/python3"

# (label, workload, params for ours, params for torch, full-run sizes -> quick-run sizes).
# PyTorch runs fewer iterations of the scalar workloads (it is ~100x slower per op); every
# figure is per unit, so the sizes need not match. Where they do, results are compared too.
FULL = [
    ("scalar chain", "chain", "n=1000000", "n=20000"),
    ("10-node graph", "tiny", "n=100000", "n=2000"),
    ("scalar chain, tape", "chain_tape", "n=1000000", "n=20000"),
    ("10-node graph, tape", "tiny_tape", "n=100000", "n=2000"),
    ("micrograd MLP", "micrograd", "steps=5", "steps=5"),
    ("spiral epoch", "spiral", "epochs=200", "epochs=200"),
    ("MLP step b=32", "mlp", "batch=32 steps=30", "batch=32 steps=30"),
    ("MLP step b=128", "mlp", "batch=128 steps=15", "batch=128 steps=15"),
    ("MLP step b=1024", "mlp", "batch=1024 steps=4", "batch=1024 steps=4"),
    ("sgemm 1024^2", "matmul", "n=1024 repeat=5", "n=1024 repeat=5"),
]
QUICK = [
    ("scalar chain", "chain", "n=200000", "n=4000"),
    ("10-node graph", "tiny", "n=20000", "n=500"),
    ("scalar chain, tape", "chain_tape", "n=200000", "n=4000"),
    ("10-node graph, tape", "tiny_tape", "n=20000", "n=500"),
    ("micrograd MLP", "micrograd", "steps=2", "steps=2"),
    ("spiral epoch", "spiral", "epochs=50", "epochs=50"),
    ("MLP step b=32", "mlp", "batch=32 steps=10", "batch=32 steps=10"),
    ("MLP step b=128", "mlp", "batch=128 steps=5", "batch=128 steps=5"),
    ("MLP step b=1024", "mlp", "batch=1024 steps=2", "batch=1024 steps=2"),
    ("sgemm 1024^2", "matmul", "n=1024 repeat=3", "n=1024 repeat=3"),
]

# Agreement checks: the same request to both sides, (result, rtol, atol) per compared number.
SCALAR = {
    "chain": [("x", 1e-10, 0), ("x0.grad", 1e-10, 0), ("w.grad", 1e-10, 0), ("b.grad", 1e-10, 0)],
    "tiny": [("g", 1e-12, 0), ("a.grad", 1e-12, 0), ("b.grad", 1e-12, 0)],
    "micrograd": [("loss", 1e-8, 0), ("accuracy", 0, 0)],
    "matmul": [("mean", 1e-3, 0), ("c00", 1e-4, 0), ("c_last", 1e-4, 0)],
}
CHECKS = [
    ("chain n=100000", SCALAR["chain"]),
    ("tiny n=3", SCALAR["tiny"]),
    ("chain_tape n=100000", SCALAR["chain"]),  # PyTorch runs its plain chain (no tape)
    ("tiny_tape n=3", SCALAR["tiny"]),
    ("micrograd steps=3", SCALAR["micrograd"]),
    # Training: short float32 runs agree to rounding; long runs are compared in float64, because
    # Adam amplifies float32 rounding (a gradient's sign at rounding level becomes a full step):
    # after ~100 epochs PyTorch's own float32 spiral run is 1-40% away from its float64 run.
    ("spiral epochs=10", [("loss", 1e-4, 0), ("accuracy", 0, 0)]),
    # 50 float32 epochs: still before rounding differences grow (PyTorch float32 vs float64:
    # 1e-4 apart in the weights), so a float32 bug shows here (it did: nn::Adam's 1 - beta2).
    ("spiral epochs=50", [("loss", 1e-3, 0), ("accuracy", 0, 0)]),
    ("spiral epochs=300 f64=1", [("loss", 1e-6, 0), ("accuracy", 0, 0)]),
    ("mlp batch=64 steps=5", [("loss", 1e-4, 0)]),
    ("mlp batch=64 steps=20 f64=1", [("loss", 1e-9, 0)]),
    ("matmul n=256 repeat=1", SCALAR["matmul"]),
]
# Final accuracy of a long float32 spiral training (the target: the same final accuracy as PyTorch).
ACCURACY_CHECK = ("spiral epochs=2000", [("accuracy", 0, 0.02)])
ACCURACY_CHECK_QUICK = ("spiral epochs=500", [("accuracy", 0, 0.02)])
# Timed repetitions whose sizes match on both sides are compared too (float32: loosely).
TIMED = {
    "micrograd": SCALAR["micrograd"],
    "spiral": [("accuracy", 0, 0.02)],
    "mlp": [("loss", 1e-3, 0)],
    "matmul": SCALAR["matmul"],
}


# Tensor targets: an MLP training step at most this fraction of PyTorch's time (every batch and
# thread count), the batch-1024 step at this share of the FMA peak or more.
MLP_RATIO = 0.5
MLP_PEAK_SHARE = 0.8


class Server:
    """A benchmark process answering one JSON line per request line."""

    def __init__(self, argv, threads, blas_threads=None):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        if blas_threads:
            env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(blas_threads)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, env=env)

    def ask(self, request):
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark process {self.proc.args[0]} died on '{request}'")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.proc.args[0]} '{request}': {reply['error']}")
        return reply

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# Threaded workloads wait this long before each timed request: the other process's idle pools
# (OpenMP, OpenBLAS) spin for a while after its last request and would take the cores
# (OpenBLAS: ~2^28 cycles, 0.1 s here).
SETTLE_SECONDS = {"mlp": 0.15, "matmul": 0.15}


def settled(server, request, workload):
    time.sleep(SETTLE_SECONDS.get(workload, 0.0))
    return server.ask(request)


def thread_pairs(ours_bin, workloads, reps):
    """Ours at 1 and at 2 threads side by side, for "2 threads not slower than 1": the two
    servers answer the same MLP request in turn (which goes first alternates), each after the
    usual pause, so that a pair runs under about the same load. The sections of the main loop
    run minutes apart, and this VM's speed moves by 20% within minutes.
    label -> {"one": [...], "two": [...], "ratios": [2T / 1T per pair]}"""
    pairs = {}
    servers = {t: Server([ours_bin, "--threads", str(t), "serve"], t) for t in (1, 2)}
    try:
        for label, workload, ours_params, _ in workloads:
            if workload != "mlp":
                continue
            request = f"{workload} {ours_params}"
            entry = pairs.setdefault(label, {"one": [], "two": [], "ratios": []})
            for server in servers.values():
                server.ask(request)  # warm-up, discarded
            for rep in range(reps):
                order = (1, 2) if rep % 2 == 0 else (2, 1)
                seconds = {t: settled(servers[t], request, workload)["seconds_per_unit"]
                           for t in order}
                entry["one"].append(seconds[1])
                entry["two"].append(seconds[2])
                entry["ratios"].append(seconds[2] / seconds[1])
            print(f"  {label:<16} 1T vs 2T, paired: {fmt_stats(entry['one'])} → "
                  f"{fmt_stats(entry['two'])}, ratio {statistics.median(entry['ratios']):.3g}",
                  flush=True)
    finally:
        for server in servers.values():
            server.close()
    return pairs


def one_shot(argv, threads):
    """A fresh process for one request (peak RSS is per process)."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def agree(tolerances, ours, theirs):
    """[(key, ours, torch, ok)] for every checked result."""
    rows = []
    for key, rtol, atol in tolerances:
        a, b = ours["result"][key], theirs["result"][key]
        rows.append((key, a, b, abs(a - b) <= rtol * abs(b) + atol))
    return rows


def fmt_time(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_stats(values):
    return f"{fmt_time(statistics.median(values))} ({fmt_time(min(values))}–{fmt_time(max(values))})"


def fmt_bytes(n):
    return f"{n / 2**20:.1f} MiB"


def machine():
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    # Not imported here: this process stays small, its footprint leaks into children's figures.
    torch_version = subprocess.run([PYTHON, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "torch": torch_version, "commit": commit or "?",
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}


# PyTorch's float32 matmul/linear go to BLAS (oneDNN only for bf16 in 1.13); its config names
# the BLAS, and OpenBLAS, if that is what libblas.so.3 is, names the kernel it picked.
TORCH_KERNEL = """
import ctypes, torch
cfg = torch.__config__.show()
blas = [w for w in cfg.replace(",", " ").split() if w.startswith("BLAS_INFO=")]
core = ""
for name in ("libblas.so.3", "libopenblas.so.0"):
    try:
        f = ctypes.CDLL(name).openblas_get_corename
        f.restype = ctypes.c_char_p
        core = f"{name} = OpenBLAS, core {f().decode()}"
        break
    except (OSError, AttributeError):
        pass
print("; ".join(blas + [core or "OpenBLAS not reachable"]))
"""


def torch_kernel():
    out = subprocess.run([PYTHON, "-c", TORCH_KERNEL], capture_output=True, text=True)
    return out.stdout.strip() or f"unknown ({out.stderr.strip()[-200:]})"


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure_peak(build, threads):
    """Best of five runs of the FMA kernel (GFLOP/s; the machine is shared and noisy), and the
    vector width in bits it ran (512 where the CPU has AVX-512, else 256)."""
    best, width = 0.0, None
    for _ in range(5):
        out = subprocess.run([os.path.join(build, "tools", "ag_bench_peak"), "--threads",
                              str(threads), "--seconds", "0.2"], capture_output=True, text=True)
        try:
            result = json.loads(out.stdout)
            best = max(best, result["gflops"])
            width = result["width"]
        except (ValueError, KeyError):
            pass
    return best, width


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 repetitions (< 1 min)")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--reps", type=int, help="timed repetitions per workload (default 7, quick 3)")
    ap.add_argument("--torch-blas-threads", type=int,
                    help="OPENBLAS_NUM_THREADS for PyTorch only (default: the thread count, as "
                    "for us; 1 avoids PyTorch's OpenMP pool and OpenBLAS oversubscribing)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--command", default="tools/bench/run.sh", help="command shown in the report")
    args = ap.parse_args()

    reps = args.reps or (3 if args.quick else 15)
    workloads = QUICK if args.quick else FULL
    checks = CHECKS + [ACCURACY_CHECK_QUICK if args.quick else ACCURACY_CHECK]
    thread_counts = [int(t) for t in args.threads.split(",")]
    ours_bin = os.path.join(args.build_dir, "tools", "ag_bench")
    info = machine()
    info["load_before"] = load_average()
    info["coretype"] = os.environ.get("OPENBLAS_CORETYPE", "unset (OpenBLAS picks its kernel)")
    print(f"# {info['cpu']}, {info['cores']} cores, torch {info['torch']}, commit {info['commit']}",
          flush=True)

    timings = {}    # (label, threads) -> {"ours": [...], "torch": [...], "extra": {...}}
    agreement = []  # (threads, request, key, ours, torch, ok, from a timed repetition)
    peaks = {}
    for t in thread_counts:
        peaks[t], info["peak_width"] = measure_peak(args.build_dir, t)
    for t in thread_counts:
        print(f"# {t} thread(s): float32 FMA peak {peaks[t]:.1f} GFLOP/s", flush=True)
        ours = Server([ours_bin, "--threads", str(t), "serve"], t)
        torch = Server([PYTHON, TORCH_BENCH, "--threads", str(t), "serve"], t,
                       args.torch_blas_threads)
        try:
            for request, tolerances in checks:
                if args.quick and "f64=1" in request:
                    continue
                a, b = ours.ask(request), torch.ask(request)
                for key, va, vb, ok in agree(tolerances, a, b):
                    agreement.append((t, request, key, va, vb, ok, False))
                    if not ok:
                        print(f"  DISAGREE {request}: {key} ours {va!r} torch {vb!r}", flush=True)
            for label, workload, ours_params, torch_params in workloads:
                entry = timings.setdefault((label, t), {"ours": [], "torch": [], "ratios": [], "extra": {}})
                request_ours = f"{workload} {ours_params}"
                request_torch = f"{workload} {torch_params}"
                ours.ask(request_ours), torch.ask(request_torch)  # warm-up, discarded
                for _ in range(reps):  # interleaved: ours, torch, ours, torch, ...
                    a = settled(ours, request_ours, workload)
                    b = settled(torch, request_torch, workload)
                    entry["ours"].append(a["seconds_per_unit"])
                    entry["torch"].append(b["seconds_per_unit"])
                    # A pair ran back to back, under about the same load: the median of the
                    # pairs' ratios resists another job's burst better than a ratio of medians.
                    entry["ratios"].append(a["seconds_per_unit"] / b["seconds_per_unit"])
                    for side, reply in (("ours", a), ("torch", b)):
                        for key, value in reply["extra"].items():
                            entry["extra"].setdefault((side, key), []).append(value)
                    if ours_params == torch_params:
                        for key, va, vb, ok in agree(TIMED[workload], a, b):
                            agreement.append((t, request_ours, key, va, vb, ok, True))
                entry["unit"] = a["unit"]
                print(f"  {label:<16} {t}T  ours {fmt_stats(entry['ours']):<34} torch "
                      f"{fmt_stats(entry['torch']):<34} ratio {statistics.median(entry['ratios']):.3g}",
                      flush=True)
            info["ours_gemm"] = ours.ask("gemm_backend")["gemm_backend"]
        finally:
            ours.close()
            torch.close()
    info["torch_gemm"] = torch_kernel()
    pairs = thread_pairs(ours_bin, workloads, reps) if {1, 2} <= set(thread_counts) else {}

    # Memory: fresh processes, one thread. Bytes per op of the chain; peak RSS of training.
    memory = {}
    # The same request on both sides: peak memory of the same run.
    mem_requests = [("chain, 2·10⁵ ops", "chain n=100000", "chain n=100000"),
                    ("MLP b=128, 20 steps", "mlp batch=128 steps=20", "mlp batch=128 steps=20"),
                    ("spiral, 200 epochs", "spiral epochs=200", "spiral epochs=200")]
    if args.quick:
        mem_requests = mem_requests[:2]
    for label, request_ours, request_torch in mem_requests:
        a = one_shot([ours_bin, "--threads", "1", "run"] + request_ours.split(), 1)
        b = one_shot([PYTHON, TORCH_BENCH, "--threads", "1", "run"] + request_torch.split(), 1)
        memory[label] = (a["extra"], b["extra"])
    # Bytes per recorded op: RSS growth over a 2·10⁶-op forward (the pool's chunks are large, so
    # a short chain over-counts); PyTorch's per-op footprint does not depend on the length.
    bytes_per_op = one_shot([ours_bin, "--threads", "1", "run", "chain", "n=1000000"], 1)["extra"]
    memory["chain, 2·10⁵ ops"][0]["rss_bytes_per_op"] = bytes_per_op["rss_bytes_per_op"]
    # The same on a tape, also in a fresh process: in the timing server the arena reuses chunks
    # an earlier request already touched, and RSS would not grow.
    tape_bytes = one_shot([ours_bin, "--threads", "1", "run", "chain_tape", "n=1000000"], 1)["extra"]
    for (label, t), e in timings.items():
        if label == "scalar chain, tape":
            e["extra"][("ours", "rss_bytes_per_op")] = [tape_bytes["rss_bytes_per_op"]]

    info["load_after"] = load_average()
    report = render(info, args, reps, thread_counts, peaks, timings, agreement, memory, pairs)
    print(report)
    with open(args.out, "w") as f:
        f.write(report)
    print(f"written to {args.out}")
    return 0 if all(row[5] for row in agreement) else 1


def verdict(ok):
    return "yes" if ok else "**no**"


def render(info, args, reps, thread_counts, peaks, timings, agreement, memory, pairs):
    lines = [
        "# Benchmark results: this engine vs PyTorch",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}",
        f"- date: {info['date']}, commit {info['commit']}, PyTorch {info['torch']} (Debian)",
        f"- command: `{args.command}{' --quick' if args.quick else ''}"
        f"{'' if args.threads == '1,2' else ' --threads ' + args.threads}"
        f"{' --torch-blas-threads %d' % args.torch_blas_threads if args.torch_blas_threads else ''}`",
        f"- load average (1, 5, 15 min) before: {info['load_before']}, after: {info['load_after']} "
        f"(the machine is shared: a load above {info['cores']} means other jobs took CPU time)",
        f"- FMA peak: best of 5 runs of tools/bench/peak_flops.cpp ({info['peak_width']}-bit FMA "
        "chains, the widest the CPU has; rate per thread CPU time, summed over threads)",
        f"- {reps} timed repetitions per cell after one warm-up, interleaved ours/PyTorch; "
        "median (min–max) per unit; ours / PyTorch = the median of the ratios of back-to-back pairs (< 1: we are faster)",
        f"- 2 threads not slower than 1 (MLP steps): ours at 1 and at 2 threads, two servers "
        f"answering in turn ({reps} pairs, which goes first alternating); the median of the pairs' "
        "2T / 1T ratios",
        "- float32 for tensors; scalar workloads in float64 (ag::Value; 0-d float64 tensors in PyTorch)",
        f"- OPENBLAS_CORETYPE: {info['coretype']}",
        f"- GEMM kernels: ours: {info.get('ours_gemm', '?')}; PyTorch: {info.get('torch_gemm', '?')}",
        "",
        "| workload | threads | unit | ours | PyTorch | ours / PyTorch | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    target_rows = []
    for (label, t), e in timings.items():
        ours_med = statistics.median(e["ours"])
        ratio = statistics.median(e["ratios"])
        target, ok = targets(label, t, e, ours_med, ratio, peaks)
        lines.append(f"| {label} | {t} | {e['unit']} | {fmt_stats(e['ours'])} | "
                     f"{fmt_stats(e['torch'])} | {ratio:.3g} | {target} | "
                     f"{(ok if isinstance(ok, str) else verdict(ok)) if target else ''} |")
        target_rows.append((label, t, ok))

    lines += ["", "## Details", "", "| figure | threads | ours | PyTorch | target | met |",
              "|---|---|---|---|---|---|"]
    for (label, t), e in timings.items():
        x = e["extra"]
        med = lambda side, key: statistics.median(x[(side, key)])  # noqa: E731
        if label in ("scalar chain", "scalar chain, tape"):
            for key, name, limit in (("fwd_ns_per_op", "forward, ns/op", None),
                                     ("bwd_ns_per_op", "backward, ns/op", None),
                                     ("bwd_over_fwd", "backward / forward", 3.0),
                                     ("free_ns_per_op", "freeing the graph, ns/op", None)):
                o, p = med("ours", key), med("torch", key)
                chain = "chain on a tape" if label.endswith("tape") else "chain"
                lines.append(f"| {chain} {name} | {t} | {o:.3g} | {p:.3g} | "
                             f"{'≤ %g' % limit if limit else ''} | "
                             f"{verdict(o <= limit) if limit else ''} |")
        if label == "spiral epoch" or label == "micrograd MLP":
            o, p = med("ours", "accuracy"), med("torch", "accuracy")
            lines.append(f"| {label}: accuracy after the timed steps | {t} | {o:.4f} | {p:.4f} | "
                         f"same (± 0.02) | {verdict(abs(o - p) <= 0.02)} |")
        if label.startswith("MLP step") or label.startswith("sgemm"):
            o, p = med("ours", "gflops"), med("torch", "gflops")
            lines.append(f"| {label}: GFLOP/s (% of FMA peak {peaks[t]:.0f}) | {t} | "
                         f"{o:.1f} ({100 * o / peaks[t]:.0f}%) | {p:.1f} ({100 * p / peaks[t]:.0f}%) | "
                         f"{'≥ %d%% of peak' % (100 * MLP_PEAK_SHARE) if label.endswith('1024') else ''} | "
                         f"{verdict(o >= MLP_PEAK_SHARE * peaks[t]) if label.endswith('1024') else ''} |")

    lines += ["", "## Memory (fresh process each, 1 thread)", "",
              "| run | ours peak RSS | PyTorch peak RSS | ours: peak − start | PyTorch: peak − start | target | met |",
              "|---|---|---|---|---|---|---|"]
    for label, (a, b) in memory.items():
        grow_a = a["peak_rss_bytes"] - a["rss_at_start_bytes"]
        grow_b = b["peak_rss_bytes"] - b["rss_at_start_bytes"]
        lines.append(f"| {label} | {fmt_bytes(a['peak_rss_bytes'])} | {fmt_bytes(b['peak_rss_bytes'])} | "
                     f"{fmt_bytes(grow_a)} | {fmt_bytes(grow_b)} | < PyTorch | "
                     f"{verdict(a['peak_rss_bytes'] < b['peak_rss_bytes'])} |")
        if label.startswith("chain"):
            lines.append(f"| chain: RSS growth per recorded op (ours over 2·10⁶ ops) | "
                         f"{a['rss_bytes_per_op']:.1f} B | {b['rss_bytes_per_op']:.0f} B | | | ≤ 48 B | "
                         f"{verdict(a['rss_bytes_per_op'] <= 48.5)} |")

    lines += ["", "## Tensor targets", "", "| target | measured | met |", "|---|---|---|"]
    for target, figure, ok in tensor_targets(timings, peaks, memory, pairs):
        lines.append(f"| {target} | {figure} | {verdict(ok)} |")

    bad = [row for row in agreement if not row[5]]
    timed = [row for row in agreement if row[6]]
    lines += ["", "## Numerical agreement with PyTorch", "",
              f"{len(agreement) - len(bad)} of {len(agreement)} compared numbers agree: the checks "
              f"below at thread counts {thread_counts}, and {len(timed)} numbers of timed "
              "repetitions whose sizes match on both sides (listed only where they disagree). "
              "Tolerances: tools/bench/runner.py (CHECKS, TIMED).", ""]
    lines += ["| threads | request | result | ours | PyTorch | agree |", "|---|---|---|---|---|---|"]
    for t, request, key, va, vb, ok, from_timed in agreement:
        if from_timed and ok:
            continue
        lines.append(f"| {t} | `{request}` | {key} | {va:.10g} | {vb:.10g} | {verdict(ok)} |")
    return "\n".join(lines) + "\n"


def targets(label, t, e, ours_med, ratio, peaks):
    """The target for this row, and whether it is met ('' where the row has none)."""
    if label == "scalar chain":
        return "≤ 20 ns/op", ours_med <= 20e-9
    if label == "10-node graph":
        return "≥ 500× faster", ratio <= 1 / 500
    # Tape rows: PyTorch has no tape, so they are compared with its plain workloads.
    if label == "10-node graph, tape":
        return "≥ 850× faster", ratio <= 1 / 850
    if label == "scalar chain, tape":  # time includes freeing the tape; two targets, two verdicts
        per_op = statistics.median(e["extra"][("ours", "rss_bytes_per_op")])
        return (f"≤ 8 ns/op; ≤ 32 B/op (measured {per_op:.1f} B, fresh process, 2·10⁶ ops)",
                f"{verdict(ours_med <= 8e-9)}; {verdict(per_op <= 32.5)}")
    if label == "spiral epoch":
        return "≥ 20× faster", ratio <= 1 / 20
    if label.startswith("MLP step"):
        return f"≤ {MLP_RATIO}×", ratio <= MLP_RATIO
    return "", True


def tensor_targets(timings, peaks, memory, pairs):
    """The tensor workloads' targets, one line each: (target, figure, met)."""
    rows = []
    mlp = sorted({label for label, _ in timings if label.startswith("MLP step")},
                 key=lambda label: int(label.split("=")[1]))
    for label in mlp:
        for t in sorted(t for lab, t in timings if lab == label):
            ratio = statistics.median(timings[(label, t)]["ratios"])
            rows.append((f"{label}, {t} thread(s): ≤ {MLP_RATIO}× PyTorch's time",
                         f"{ratio:.3g}×", ratio <= MLP_RATIO))
            if label.endswith("1024"):
                gflops = statistics.median(timings[(label, t)]["extra"][("ours", "gflops")])
                share = gflops / peaks[t]
                rows.append((f"{label}, {t} thread(s): ≥ {100 * MLP_PEAK_SHARE:.0f}% of the FMA peak",
                             f"{100 * share:.0f}% ({gflops:.0f} of {peaks[t]:.0f} GFLOP/s)",
                             share >= MLP_PEAK_SHARE))
        # Judged on the paired runs (made only when both thread counts ran), the sections'
        # medians shown beside.
        if label in pairs:
            p = pairs[label]
            ratio = statistics.median(p["ratios"])
            one, two = (statistics.median(timings[(label, t)]["ours"]) for t in (1, 2))
            rows.append((f"{label}: 2 threads not slower than 1 (ours, paired runs)",
                         f"{fmt_time(statistics.median(p['one']))} → "
                         f"{fmt_time(statistics.median(p['two']))}, 2T / 1T {ratio:.3g}; "
                         f"the sections above: {fmt_time(one)} → {fmt_time(two)}",
                         ratio <= 1.0))
    for label, (a, b) in memory.items():
        if label.startswith("MLP"):
            rows.append((f"peak RSS below PyTorch's, {label}",
                         f"{fmt_bytes(a['peak_rss_bytes'])} vs {fmt_bytes(b['peak_rss_bytes'])}",
                         a["peak_rss_bytes"] < b["peak_rss_bytes"]))
    return rows


if __name__ == "__main__":
    sys.exit(main())
