// relu_and_bias_grad (linear_grad.hpp): columns in blocks of two 64-byte vectors, their sums kept
// in registers over all rows (GCC's vector extension; the scalar loop kept them in memory, a
// store and a reload per row), compiled for x86-64, AVX2 and AVX-512 (target_clones).
#include "linear_grad.hpp"

#include <cstring>

namespace ag::detail {
namespace {

template <class T>
inline __attribute__((always_inline)) void relu_and_bias_grad_impl(
    const T* __restrict g, const T* __restrict y, T* __restrict gz, T* __restrict bias_grad,
    std::int64_t rows, std::int64_t n) {
  typedef T V __attribute__((vector_size(64)));
  constexpr std::int64_t L = 64 / sizeof(T), W = 2 * L;
  std::int64_t c0 = 0;
  for (; c0 + W <= n; c0 += W) {
    V acc[2] = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      for (int v = 0; v < 2; ++v) {
        const std::int64_t at = r * n + c0 + v * L;
        V gv, yv;
        std::memcpy(&gv, g + at, sizeof gv);
        std::memcpy(&yv, y + at, sizeof yv);
        const V masked = yv > T(0) ? gv : V{};
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

}  // namespace

__attribute__((target_clones("default", "avx2", "avx512f"))) void relu_and_bias_grad(
    const float* g, const float* y, float* gz, float* bias_grad, std::int64_t rows,
    std::int64_t n) {
  relu_and_bias_grad_impl(g, y, gz, bias_grad, rows, n);
}

__attribute__((target_clones("default", "avx2", "avx512f"))) void relu_and_bias_grad(
    const double* g, const double* y, double* gz, double* bias_grad, std::int64_t rows,
    std::int64_t n) {
  relu_and_bias_grad_impl(g, y, gz, bias_grad, rows, n);
}

}  // namespace ag::detail
