// softmax and log_softmax over a dim, with the maximum subtracted so that any finite logits
// (1e4 included) give finite results.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "tensor_impl.hpp"
#include "vector_math.hpp"

namespace ag {
namespace {

using namespace op_kit;

constexpr OpInfo kSoftmax = tensor_op("softmax");
constexpr OpInfo kLogSoftmax = tensor_op("log_softmax");

// f(x) for each element of a buffer: float32 through the vectorised function (vector_math.hpp),
// float64 element by element.
template <class T, class Scalar>
void each_element(T* x, std::int64_t count, void (*vectorised)(float*, std::int64_t),
                  Scalar scalar) {
  if constexpr (std::is_same_v<T, float>) {
    vectorised(x, count);
  } else {
    for (std::int64_t i = 0; i < count; ++i) x[i] = scalar(x[i]);
  }
}
template <class T>
void exp_all(T* x, std::int64_t count) {
  each_element(x, count, detail::exp_in_place, [](T v) { return std::exp(v); });
}
template <class T>
void log_all(T* x, std::int64_t count) {
  each_element(x, count, detail::log_in_place, [](T v) { return std::log(v); });
}

// The slices along a dim of a tensor laid out [outer, n, inner]: out = e^(x - max) of each slice
// (divided by the slice's sum when normalise), and each slice's max and sum of those
// exponentials (summed in dim order). The exponentials of all slices are taken in one pass over
// the output, which holds x - max (same layout) before it; float32 rows of up to kShortRow
// (a classifier's logits) go through short_row_exponentials instead, which gives the same floats
// several rows at a time. What softmax, log_softmax and cross_entropy all start from.
template <class T>
struct SliceSums {
  std::vector<T> maxima, totals;  // slice a * inner + i
};
template <class T>
SliceSums<T> exponentials(const T* in, T* out, std::int64_t outer, std::int64_t n,
                          std::int64_t inner, bool normalise) {
  SliceSums<T> s{std::vector<T>(static_cast<std::size_t>(outer * inner)),
                 std::vector<T>(static_cast<std::size_t>(outer * inner))};
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1 && n <= detail::kShortRow) {
      detail::short_row_exponentials(in, out, s.maxima.data(), s.totals.data(), outer, n,
                                     normalise);
      return s;
    }
  }
  for (std::int64_t a = 0; a < outer; ++a) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const T* p = in + a * n * inner + i;
      T* q = out + a * n * inner + i;
      T m = p[0];
      for (std::int64_t k = 1; k < n; ++k) m = std::max(m, p[k * inner]);
      for (std::int64_t k = 0; k < n; ++k) q[k * inner] = p[k * inner] - m;
      s.maxima[static_cast<std::size_t>(a * inner + i)] = m;
    }
  }
  exp_all(out, outer * n * inner);
  for (std::int64_t a = 0; a < outer; ++a) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const T* q = out + a * n * inner + i;
      T total = 0;
      for (std::int64_t k = 0; k < n; ++k) total += q[k * inner];
      s.totals[static_cast<std::size_t>(a * inner + i)] = total;
    }
  }
  if (!normalise) return s;
  for (std::int64_t a = 0; a < outer; ++a) {
    for (std::int64_t i = 0; i < inner; ++i) {
      T* q = out + a * n * inner + i;
      const T total = s.totals[static_cast<std::size_t>(a * inner + i)];
      for (std::int64_t k = 0; k < n; ++k) q[k * inner] /= total;
    }
  }
  return s;
}

// For each slice along dim: out = x - max - log(sum(exp(x - max))) (log form) or the
// normalised exponentials.
Tensor softmax_kernel(const char* op, const Tensor& x, std::int64_t& dim, bool log_form) {
  detail::checked(op, x);
  if (x.dim() == 0) throw Error(op, "needs at least 1 dim, got a 0-d tensor");
  dim = detail::wrap_dim(op, dim, x.dim());
  std::int64_t outer = 1, inner = 1;
  const std::int64_t n = x.shape()[dim];
  for (std::int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (std::int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[d];
  Tensor out = detail::empty(x.shape(), x.dtype());
  if (out.numel() == 0) return out;  // a size-0 dim: no slice to normalise (nor to read)
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    SliceSums<T> sums = exponentials(in, o, outer, n, inner, !log_form);
    if (!log_form) return;
    // (x - max) - log(total), not x - (max + log(total)): near large logits the sum
    // max + log(total) rounds away the small log term in float32.
    std::vector<T>& log_totals = sums.totals;
    log_all(log_totals.data(), static_cast<std::int64_t>(log_totals.size()));
    for (std::int64_t a = 0; a < outer; ++a) {
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::size_t slice = static_cast<std::size_t>(a * inner + i);
        const T* p = in + a * n * inner + i;
        T* q = o + a * n * inner + i;
        for (std::int64_t k = 0; k < n; ++k) {
          q[k * inner] = (p[k * inner] - sums.maxima[slice]) - log_totals[slice];
        }
      }
    }
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = softmax_kernel("softmax", x, dim, false);
  // The output factor is recomputed from x under create_graph (a closure never holds its
  // own output's node), and is the saved buffer otherwise.
  return detail::record(kSoftmax, out, {&x}, [x, y = out.detach(), dim](const Tensor& g) {
    const Tensor s = grad_enabled() ? softmax(x, dim) : y;
    return Grads{s * (g - sum(g * s, dim, true))};
  });
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = softmax_kernel("log_softmax", x, dim, true);
  return detail::record(kLogSoftmax, out, {&x}, [x, y = out.detach(), dim](const Tensor& g) {
    const Tensor p = grad_enabled() ? softmax(x, dim) : exp(y);
    return Grads{g - p * sum(g, dim, true)};
  });
}

namespace {
constexpr OpInfo kCrossEntropy = tensor_op("cross_entropy");
}  // namespace

Tensor cross_entropy(const Tensor& logits, std::span<const std::int64_t> labels) {
  detail::checked("cross_entropy", logits);
  if (logits.dim() != 2 || logits.size(0) == 0) {
    throw Error("cross_entropy", fmt::format("needs non-empty [N, C] logits, got shape {}",
                                             to_string(logits.shape())));
  }
  const std::int64_t rows = logits.size(0), classes = logits.size(1);
  if (static_cast<std::int64_t>(labels.size()) != rows) {
    throw Error("cross_entropy", fmt::format("{} labels for {} rows (logits shape {})",
                                             labels.size(), rows, to_string(logits.shape())));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw Error("cross_entropy",
                  fmt::format("label {} of row {} is outside [0, {}) (logits shape {})", labels[i],
                              i, classes, to_string(logits.shape())));
    }
  }
  // One pass per row: the softmax (kept for backward) and -log p[label], stable for any
  // finite logits.
  Tensor probs = detail::empty(logits.shape(), logits.dtype());
  Tensor loss = detail::empty({}, logits.dtype());
  dispatch(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = data<T>(logits);
    T* p = data<T>(probs);
    SliceSums<T> sums = exponentials(x, p, rows, classes, 1, true);
    std::vector<T>& log_totals = sums.totals;
    log_all(log_totals.data(), rows);
    double total_loss = 0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const auto r = static_cast<std::size_t>(i);
      total_loss +=
          static_cast<double>(log_totals[r] - (x[i * classes + labels[r]] - sums.maxima[r]));
    }
    data<T>(loss)[0] = static_cast<T>(total_loss / static_cast<double>(rows));
  });
  std::vector<std::int64_t> saved(labels.begin(), labels.end());
  return detail::record(
      kCrossEntropy, loss, {&logits},
      [logits, probs, saved = std::move(saved), rows, classes](const Tensor& g) {
        // d(mean(-log p[label]))/dx = (p - onehot) / N, scaled by the incoming
        // gradient.
        if (grad_enabled()) {  // create_graph: the same in recorded ops
          Tensor onehot = zeros(probs.shape(), probs.dtype());
          dispatch(probs.dtype(), [&](auto tag) {
            using T = decltype(tag);
            T* d = data<T>(onehot);
            for (std::int64_t i = 0; i < rows; ++i)
              d[i * classes + saved[static_cast<std::size_t>(i)]] = T(1);
          });
          return Grads{(softmax(logits, 1) - onehot) * (g * (1.0 / static_cast<double>(rows)))};
        }
        Tensor grad = detail::empty(probs.shape(), probs.dtype());
        dispatch(probs.dtype(), [&](auto tag) {
          using T = decltype(tag);
          const T scale = static_cast<T>(g.item() / static_cast<double>(rows));
          const T* p = data<T>(probs);
          T* d = data<T>(grad);
          // As Adam's moments (nn/src/optim.cpp): an element below the smallest normal number
          // (a class the row gives less than ~1e-35, in float32) is stored as 0. Left subnormal,
          // it sends every multiply of the layers' backward that it meets down the CPU's slow
          // path: late in the spiral's training its output layer's backward took 12.7k cycles
          // instead of 7.5k. The gradient it drops is below 1e-38.
          const T tiny = std::numeric_limits<T>::min();
          for (std::int64_t i = 0; i < rows * classes; ++i) {
            const T di = p[i] * scale;
            d[i] = std::abs(di) < tiny ? T(0) : di;
          }
          for (std::int64_t i = 0; i < rows; ++i)
            d[i * classes + saved[static_cast<std::size_t>(i)]] -= scale;
        });
        return Grads{grad};
      });
}

Tensor Tensor::softmax(std::int64_t dim) const { return ag::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return ag::log_softmax(*this, dim); }

}  // namespace ag
