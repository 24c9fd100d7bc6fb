// linear's element loops (linear_grad.hpp). relu_and_bias_grad: columns in blocks of four vectors,
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

// y = 0 where y <= 0 (-0 too), else y (NaN stays): an and-not with the comparison's lanes.
template <class T, int VecBytes>
inline __attribute__((always_inline)) void relu_impl(T* __restrict y, std::int64_t count) {
  typedef T V __attribute__((vector_size(VecBytes)));
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  std::int64_t i = 0;
  for (; i + L <= count; i += L) {
    V v;
    std::memcpy(&v, y + i, sizeof v);
    v = reinterpret_cast<V>(reinterpret_cast<M>(v) & ~(v <= T(0)));
    std::memcpy(y + i, &v, sizeof v);
  }
  for (; i < count; ++i) y[i] = y[i] <= T(0) ? T(0) : y[i];
}

// out[r, :] += bias, then relu in place if asked: the epilogue of linear's product, row by row
// (vectors along the row, the rest of a row one by one).
template <class T, int VecBytes>
inline __attribute__((always_inline)) void add_bias_impl(T* __restrict out,
                                                         const T* __restrict bias,
                                                         std::int64_t rows, std::int64_t n,
                                                         bool relu) {
  typedef T V __attribute__((vector_size(VecBytes)));
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  for (std::int64_t r = 0; r < rows; ++r, out += n) {
    std::int64_t j = 0;
    for (; j + L <= n; j += L) {
      V v, b;
      std::memcpy(&v, out + j, sizeof v);
      std::memcpy(&b, bias + j, sizeof b);
      v += b;
      if (relu) v = reinterpret_cast<V>(reinterpret_cast<M>(v) & ~(v <= T(0)));
      std::memcpy(out + j, &v, sizeof v);
    }
    for (; j < n; ++j) {
      const T v = out[j] + bias[j];
      out[j] = relu && v <= T(0) ? T(0) : v;
    }
  }
}

// The loops in one CPU variant (cpu_variant.hpp).
struct AddBias {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(T* out, const T* bias, std::int64_t rows,
                                                        std::int64_t n, bool relu) {
    add_bias_impl<T, VecBytes>(out, bias, rows, n, relu);
  }
};
struct Relu {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(T* y, std::int64_t count) {
    relu_impl<T, VecBytes>(y, count);
  }
};
struct ReluAndBiasGrad {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, const T* y, T* gz, T* bias_grad,
                                                        std::int64_t rows, std::int64_t n) {
    relu_and_bias_grad_impl<T, VecBytes>(g, y, gz, bias_grad, rows, n);
  }
};

}  // namespace

void add_bias(float* out, const float* bias, std::int64_t rows, std::int64_t n, bool relu) {
  run_for_cpu<AddBias>(out, bias, rows, n, relu);
}
void add_bias(double* out, const double* bias, std::int64_t rows, std::int64_t n, bool relu) {
  run_for_cpu<AddBias>(out, bias, rows, n, relu);
}

void relu_in_place(float* y, std::int64_t count) { run_for_cpu<Relu>(y, count); }
void relu_in_place(double* y, std::int64_t count) { run_for_cpu<Relu>(y, count); }

void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

}  // namespace ag::detail
