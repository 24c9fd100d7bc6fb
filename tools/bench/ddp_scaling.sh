#!/usr/bin/env bash
# Data-parallel scaling, 1 rank vs 2, MLP 784-256-128-10 at global batch 128 and 1024: runs
# build/tools/ag_bench_ddp interleaved (1, 2, 1, 2, ...) so that a busy machine's load falls
# on both alike, `rounds` times. Loopback only; --bind-to none lets a rank move off a busy core.
#   tools/bench/ddp_scaling.sh [build-dir] [rounds]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)
date -u +"%Y-%m-%d %H:%M UTC"; nproc; uptime
for round in $(seq "$rounds"); do
  for batch in 128 1024; do
    for ranks in 1 2; do
      "${mpirun[@]}" -np "$ranks" "$build/tools/ag_bench_ddp" --batch "$batch" --steps 60
    done
  done
done
