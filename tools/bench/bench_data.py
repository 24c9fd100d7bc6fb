"""Inputs shared with the C++ benchmark (tools/bench/bench_data.hpp computes the same numbers).

A counter-based SplitMix64 stream: both sides draw identical data and initial weights without
exchanging files. Every formula mirrors bench_data.hpp line by line; plain `math` is used where
a transcendental is involved so that both sides call the same libm.
"""
import math

import numpy as np

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15

SPIRAL_SEED = 7
MOONS_SEED = 11
IMAGES_SEED = 13
MATMUL_SEED = 17
WEIGHT_SEED = 100  # layer l uses WEIGHT_SEED + l


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _mix64_array(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform_at(seed, i):
    key = mix64(seed)
    return (mix64((key + (i + 1) * GAMMA) & MASK) >> 11) * 2.0**-53


def uniform(seed, n, lo, hi):
    """n draws in [lo, hi) as float64, vectorised (uint64 arithmetic wraps like C++)."""
    key = np.uint64(mix64(seed))
    with np.errstate(over="ignore"):
        counters = (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GAMMA)) + key
        bits = _mix64_array(counters) >> np.uint64(11)
    return lo + (hi - lo) * (bits.astype(np.float64) * 2.0**-53)


def normal_at(seed, k):
    u1 = 1.0 - uniform_at(seed, 2 * k)
    u2 = uniform_at(seed, 2 * k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def glorot_weight(seed, fan_in, fan_out):
    """[in, out] float64 array, U(-a, a), a = sqrt(6 / (in + out))."""
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(seed, fan_in * fan_out, -a, a).reshape(fan_in, fan_out)


def spiral(per_class, classes, seed):
    xs, labels = [], []
    for c in range(classes):
        for i in range(per_class):
            r = i / (per_class - 1)
            t = c * 4.0 + i * (4.0 / (per_class - 1)) + 0.2 * normal_at(seed, c * per_class + i)
            xs.append((r * math.sin(t * 2.5), r * math.cos(t * 2.5)))
            labels.append(c)
    return np.array(xs, dtype=np.float64), np.array(labels, dtype=np.int64)


def moons(n, seed):
    xs, targets = [], []
    half = n // 2
    for k in range(n):
        inner = k >= half
        i = k - half if inner else k
        count = n - half if inner else half
        t = math.pi * i / (count - 1)
        px = 1.0 - math.cos(t) if inner else math.cos(t)
        py = 0.5 - math.sin(t) if inner else math.sin(t)
        xs.append((px + 0.1 * normal_at(seed, 2 * k), py + 0.1 * normal_at(seed, 2 * k + 1)))
        targets.append(1.0 if inner else -1.0)
    return np.array(xs, dtype=np.float64), np.array(targets, dtype=np.float64)


def random_images(batch, features, classes, seed):
    x = uniform(seed, batch * features, 0.0, 1.0).reshape(batch, features)
    labels = np.array([int(uniform_at(seed + 1, i) * classes) for i in range(batch)], dtype=np.int64)
    return x, labels
