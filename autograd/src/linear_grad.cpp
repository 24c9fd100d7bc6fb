// linear's backward loop (linear_grad.hpp), relu_and_bias_grad: columns in blocks of four vectors,
// their sums kept in registers over all rows (GCC's vector extension; the scalar loop kept them in
// memory, a store and a reload per row), compiled for each CPU variant (cpu_variant.hpp).
#include "linear_grad.hpp"

#include <cstring>
#include <type_traits>

#include "cpu_variant.hpp"

namespace ag::detail {
namespace {

template <class T, int VecBytes>
inline __attribute__((always_inline)) void relu_and_bias_grad_impl(
    const T* __restrict g, const T* __restrict y, T* __restrict gz, T* __restrict bias_grad,
    std::int64_t rows, std::int64_t n) {
  typedef T V __attribute__((vector_size(VecBytes)));
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T), W = 4 * L;
  std::int64_t c0 = 0;
  for (; c0 + W <= n; c0 += W) {
    V acc[4] = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      for (int v = 0; v < 4; ++v) {
        const std::int64_t at = r * n + c0 + v * L;
        V gv, yv;
        std::memcpy(&gv, g + at, sizeof gv);
        std::memcpy(&yv, y + at, sizeof yv);
        // g where y > 0: a bitwise and with the comparison's all-ones lanes.
        const V masked = reinterpret_cast<V>(reinterpret_cast<M>(gv) & (yv > T(0)));
        std::memcpy(gz + at, &masked, sizeof masked);
        acc[v] += masked;
      }
    }
    std::memcpy(bias_grad + c0, acc, sizeof acc);
  }
  if (c0 == n) return;
  for (std::int64_t j = c0; j < n; ++j) bias_grad[j] = T(0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = c0; j < n; ++j) {
      const T gj = g[r * n + j], yj = y[r * n + j];
      const T masked = yj > T(0) ? gj : T(0);
      gz[r * n + j] = masked;
      bias_grad[j] += masked;
    }
  }
}

struct ReluAndBiasGrad {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, const T* y, T* gz, T* bias_grad,
                                                        std::int64_t rows, std::int64_t n) {
    relu_and_bias_grad_impl<T, VecBytes>(g, y, gz, bias_grad, rows, n);
  }
};

}  // namespace

void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

}  // namespace ag::detail
