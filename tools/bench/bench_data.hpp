#pragma once
// Inputs shared with the PyTorch twin (tools/bench/bench_data.py computes the same numbers):
// a counter-based SplitMix64 stream, so both sides draw identical data and initial weights
// without exchanging files. Every formula here is mirrored line by line in bench_data.py.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace agbench {

inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The i-th number of stream `seed`, uniform in [0, 1) with 53 random bits.
inline double uniform_at(std::uint64_t seed, std::uint64_t i) {
  const std::uint64_t key = mix64(seed);
  return static_cast<double>(mix64(key + (i + 1) * 0x9E3779B97F4A7C15ULL) >> 11) * 0x1p-53;
}

inline std::vector<double> uniform(std::uint64_t seed, std::int64_t n, double lo, double hi) {
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) out[i] = lo + (hi - lo) * uniform_at(seed, i);
  return out;
}

// Box-Muller from draws 2k and 2k + 1 (1 - u keeps log's argument in (0, 1]).
inline double normal_at(std::uint64_t seed, std::uint64_t k) {
  const double u1 = 1.0 - uniform_at(seed, 2 * k);
  const double u2 = uniform_at(seed, 2 * k + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// A Dense weight in the [in, out] layout, Glorot-uniform: U(-a, a), a = sqrt(6 / (in + out)).
inline std::vector<double> glorot_weight(std::uint64_t seed, std::int64_t in, std::int64_t out) {
  const double a = std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform(seed, in * out, -a, a);
}

// NNFS's spiral: `classes` arms of `per_class` points, noise 0.2 * N(0, 1) on the angle.
struct Classification {
  std::vector<double> x;  // row-major [n, features]
  std::vector<std::int64_t> labels;
};

inline Classification spiral(std::int64_t per_class, std::int64_t classes, std::uint64_t seed) {
  Classification d;
  for (std::int64_t c = 0; c < classes; ++c) {
    for (std::int64_t i = 0; i < per_class; ++i) {
      const double r = static_cast<double>(i) / static_cast<double>(per_class - 1);
      const double t = static_cast<double>(c) * 4.0 +
                       static_cast<double>(i) * (4.0 / static_cast<double>(per_class - 1)) +
                       0.2 * normal_at(seed, static_cast<std::uint64_t>(c * per_class + i));
      d.x.push_back(r * std::sin(t * 2.5));
      d.x.push_back(r * std::cos(t * 2.5));
      d.labels.push_back(c);
    }
  }
  return d;
}

// scikit-learn's make_moons(n, noise=0.1) shape: class 0 the upper arc, class 1 the lower;
// labels are -1 / +1 as micrograd's demo uses them (as doubles in `targets`).
struct Moons {
  std::vector<double> x;  // [n, 2]
  std::vector<double> targets;
};

inline Moons moons(std::int64_t n, std::uint64_t seed) {
  Moons d;
  const std::int64_t half = n / 2;
  for (std::int64_t k = 0; k < n; ++k) {
    const bool inner = k >= half;
    const std::int64_t i = inner ? k - half : k;
    const std::int64_t count = inner ? n - half : half;
    const double t = std::numbers::pi * static_cast<double>(i) / static_cast<double>(count - 1);
    const double px = inner ? 1.0 - std::cos(t) : std::cos(t);
    const double py = inner ? 0.5 - std::sin(t) : std::sin(t);
    d.x.push_back(px + 0.1 * normal_at(seed, static_cast<std::uint64_t>(2 * k)));
    d.x.push_back(py + 0.1 * normal_at(seed, static_cast<std::uint64_t>(2 * k + 1)));
    d.targets.push_back(inner ? 1.0 : -1.0);
  }
  return d;
}

// Random "images" in [0, 1) and labels in [0, classes) for the MLP step.
inline Classification random_images(std::int64_t batch, std::int64_t features, std::int64_t classes,
                                    std::uint64_t seed) {
  Classification d;
  d.x = uniform(seed, batch * features, 0.0, 1.0);
  for (std::int64_t i = 0; i < batch; ++i) {
    d.labels.push_back(static_cast<std::int64_t>(uniform_at(seed + 1, i) * classes));
  }
  return d;
}

// Seeds of each input, shared with bench_data.py.
inline constexpr std::uint64_t kSpiralSeed = 7;
inline constexpr std::uint64_t kMoonsSeed = 11;
inline constexpr std::uint64_t kImagesSeed = 13;
inline constexpr std::uint64_t kMatmulSeed = 17;
inline constexpr std::uint64_t kWeightSeed = 100;  // layer l uses kWeightSeed + l

}  // namespace agbench
