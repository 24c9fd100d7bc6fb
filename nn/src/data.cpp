#include "nn/data.hpp"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <utility>

namespace ag::nn {

// ---- NumpyRandom: numpy/random/src/legacy/legacy-distributions.c ----

double NumpyRandom::random_sample() {
  const std::uint32_t a = engine_() >> 5;
  const std::uint32_t b = engine_() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double NumpyRandom::randn() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double x1 = 0.0, x2 = 0.0, r2 = 0.0;
  do {
    x1 = 2.0 * random_sample() - 1.0;
    x2 = 2.0 * random_sample() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  spare_ = f * x1;
  has_spare_ = true;
  return f * x2;
}

std::vector<double> NumpyRandom::randn(std::int64_t count) {
  std::vector<double> out(static_cast<std::size_t>(count));
  for (double& v : out) v = randn();
  return out;
}

// ---- Data sets ----

namespace {

// np.linspace(start, stop, num)[i], bit for bit: i * step + start, the last point exactly stop.
double linspace_at(double start, double stop, std::int64_t num, std::int64_t i) {
  if (num == 1) return start;
  if (i == num - 1) return stop;
  const double step = (stop - start) / static_cast<double>(num - 1);
  return static_cast<double>(i) * step + start;
}

Dataset spiral_impl(std::int64_t points, std::int64_t classes, double noise, Dtype dtype,
                    const std::function<double()>& normal) {
  if (points < 1 || classes < 1) {
    throw Error("nn::spiral_data", fmt::format("points_per_class ({}) and classes ({}) must be "
                                               ">= 1",
                                               points, classes));
  }
  Dataset data;
  std::vector<double> xy(static_cast<std::size_t>(2 * points * classes));
  data.y.resize(static_cast<std::size_t>(points * classes));
  for (std::int64_t c = 0; c < classes; ++c) {
    const double t_start = static_cast<double>(c) * 4.0;
    const double t_stop = static_cast<double>(c + 1) * 4.0;
    for (std::int64_t i = 0; i < points; ++i) {
      const double r = linspace_at(0.0, 1.0, points, i);
      const double t = linspace_at(t_start, t_stop, points, i) + normal() * noise;
      const auto row = static_cast<std::size_t>(c * points + i);
      xy[2 * row] = r * std::sin(t * 2.5);
      xy[2 * row + 1] = r * std::cos(t * 2.5);
      data.y[row] = c;
    }
  }
  data.X = tensor(xy, {points * classes, 2}, dtype);
  return data;
}

}  // namespace

Dataset spiral_data(std::int64_t points_per_class, std::int64_t classes, Generator& gen,
                    double noise, Dtype dtype) {
  return spiral_impl(points_per_class, classes, noise, dtype, [&gen] { return gen.normal(); });
}

Dataset spiral_data(std::int64_t points_per_class, std::int64_t classes, NumpyRandom& gen,
                    double noise, Dtype dtype) {
  return spiral_impl(points_per_class, classes, noise, dtype, [&gen] { return gen.randn(); });
}

Dataset parabolas(std::int64_t points_per_class, Dtype dtype) {
  if (points_per_class < 2) {
    throw Error("nn::parabolas",
                fmt::format("points_per_class must be >= 2, got {}", points_per_class));
  }
  Dataset data;
  std::vector<double> xy;
  xy.reserve(static_cast<std::size_t>(4 * points_per_class));
  for (std::int64_t label = 0; label < 2; ++label) {
    for (std::int64_t i = 0; i < points_per_class; ++i) {
      const double x1 = linspace_at(-1.0, 1.0, points_per_class, i);
      xy.push_back(x1);
      xy.push_back(x1 * x1 - 0.5 * static_cast<double>(label));
      data.y.push_back(label);
    }
  }
  data.X = tensor(xy, {2 * points_per_class, 2}, dtype);
  return data;
}

// ---- Minibatches ----

std::vector<std::vector<std::int64_t>> shuffled_batches(std::int64_t n, std::int64_t batch_size,
                                                        Generator& gen) {
  if (n < 0 || batch_size < 1) {
    throw Error(
        "nn::shuffled_batches",
        fmt::format("need n >= 0 and batch_size >= 1, got n = {}, batch_size = {}", n, batch_size));
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  for (std::int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<std::int64_t>(gen.uniform() * static_cast<double>(i + 1));
    if (j > i) j = i;  // guards uniform() rounding up to 1
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  std::vector<std::vector<std::int64_t>> batches;
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const std::int64_t end = std::min(n, start + batch_size);
    batches.emplace_back(order.begin() + start, order.begin() + end);
  }
  return batches;
}

Tensor take_rows(const Tensor& x, std::span<const std::int64_t> rows) {
  if (!x.defined() || x.dim() < 1) throw Error("nn::take_rows", "need a tensor with dim >= 1");
  const std::int64_t n = x.size(0);
  const std::int64_t row_size = n == 0 ? 0 : x.numel() / n;
  Shape shape = x.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(shape[0] * row_size));
  auto gather = [&](const auto* data) {
    for (std::int64_t r : rows) {
      if (r < 0 || r >= n) {
        throw Error("nn::take_rows",
                    fmt::format("row {} out of range for shape {}", r, to_string(x.shape())));
      }
      for (std::int64_t k = 0; k < row_size; ++k) out.push_back(data[r * row_size + k]);
    }
  };
  if (x.dtype() == float32) {
    gather(x.data_ptr<float>());
  } else {
    gather(x.data_ptr<double>());
  }
  return tensor(out, shape, x.dtype());
}

std::vector<std::int64_t> take(std::span<const std::int64_t> values,
                               std::span<const std::int64_t> rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (std::int64_t r : rows) {
    if (r < 0 || r >= static_cast<std::int64_t>(values.size())) {
      throw Error("nn::take", fmt::format("row {} out of range for {} values", r, values.size()));
    }
    out.push_back(values[static_cast<std::size_t>(r)]);
  }
  return out;
}

Tensor labels_to_tensor(std::span<const std::int64_t> labels, Dtype dtype, bool column) {
  std::vector<double> values(labels.begin(), labels.end());
  const auto n = static_cast<std::int64_t>(labels.size());
  return column ? tensor(values, {n, 1}, dtype) : tensor(values, {n}, dtype);
}

}  // namespace ag::nn
