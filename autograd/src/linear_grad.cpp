// linear's backward loops (linear_grad.hpp): columns in blocks of vectors,
// their sums kept in registers over all rows (GCC's vector extension; the scalar loop kept them in
// memory, a store and a reload per row), compiled for each CPU variant (cpu_variant.hpp).
#include "linear_grad.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "cpu_variant.hpp"

namespace ag::detail {
namespace {

// One vector of g where y > 0, from element `at`: a bitwise and with the comparison's all-ones
// lanes. By reference: a vector returned by value warns of an ABI change (-Wpsabi).
template <class T, class V>
inline __attribute__((always_inline)) void relu_masked(V& masked, const T* __restrict g,
                                                       const T* __restrict y, std::int64_t at) {
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(sizeof(V))));
  V gv, yv;
  std::memcpy(&gv, g + at, sizeof gv);
  std::memcpy(&yv, y + at, sizeof yv);
  masked = reinterpret_cast<V>(reinterpret_cast<M>(gv) & (yv > T(0)));
}

// Element `at` of the pre-activation's gradient: g where y > 0 (NaN and y <= 0 give 0), or g
// itself without an activation (y null).
template <class T>
inline __attribute__((always_inline)) T masked_at(const T* __restrict g, const T* __restrict y,
                                                  std::int64_t at) {
  return !y || y[at] > T(0) ? g[at] : T(0);
}

// Columns [c0, c0 + NV lanes) over all rows: gz = g where y > 0, formed in registers, its column
// sums into bias_grad, stored into gz when Store (a hidden layer, whose input needs the gradient
// too), and with In > 0 also summed into the weight's gradient, dw[i, :] = sum over rows of
// x[r, i] gz[r, :] (a first layer, whose input [rows, In] needs none), added row after row from
// zero as the small product kernels' rows loop sums it (gemm_small.cpp).
template <class T, int VecBytes, int NV, int In, bool Store>
inline __attribute__((always_inline)) void masked_grad_block(
    const T* __restrict g, const T* __restrict y, T* __restrict gz, const T* __restrict x,
    T* __restrict dw, T* __restrict bias_grad, std::int64_t rows, std::int64_t n, std::int64_t c0) {
  typedef T V __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  V acc[NV] = {};
  V wacc[In > 0 ? In : 1][NV] = {};
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int v = 0; v < NV; ++v) {
      const std::int64_t at = r * n + c0 + v * L;
      V masked;
      relu_masked(masked, g, y, at);
      if constexpr (Store) std::memcpy(gz + at, &masked, sizeof masked);
      acc[v] += masked;
      for (int i = 0; i < In; ++i) wacc[i][v] += x[r * In + i] * masked;
    }
  }
  std::memcpy(bias_grad + c0, acc, sizeof acc);
  // if constexpr: GCC without optimisation warns of a read past wacc for In == 0 otherwise.
  if constexpr (In > 0) {
    for (int i = 0; i < In; ++i) std::memcpy(dw + i * n + c0, wacc[i], sizeof wacc[i]);
  }
}

// Blocks as wide as the registers allow, then narrower ones, then the last columns one at a
// time. Without weight rows: 16 vectors of AVX-512's 32 registers, 8 of the 16 narrower ones, so
// that a hidden layer of up to 256 float32 columns is one pass over g and y (blocks of four
// vectors read a batch-1024 layer's 2 MB four times). With In weight rows, (In + 2) NV vectors
// are live: four wide fill at most 24 of AVX-512's registers.
template <class T, int VecBytes, int In, bool Store>
inline __attribute__((always_inline)) void masked_grad_impl(const T* __restrict g,
                                                            const T* __restrict y, T* __restrict gz,
                                                            const T* __restrict x, T* __restrict dw,
                                                            T* __restrict bias_grad,
                                                            std::int64_t rows, std::int64_t n) {
  constexpr std::int64_t L = VecBytes / sizeof(T);
  constexpr int kWide = In == 0 ? (VecBytes == 64 ? 16 : 8) : (VecBytes == 64 ? 4 : 2);
  std::int64_t c0 = 0;
  for (; c0 + kWide * L <= n; c0 += kWide * L) {
    masked_grad_block<T, VecBytes, kWide, In, Store>(g, y, gz, x, dw, bias_grad, rows, n, c0);
  }
  if constexpr (kWide > 4) {
    for (; c0 + 4 * L <= n; c0 += 4 * L) {
      masked_grad_block<T, VecBytes, 4, In, Store>(g, y, gz, x, dw, bias_grad, rows, n, c0);
    }
  }
  for (; c0 + L <= n; c0 += L) {
    masked_grad_block<T, VecBytes, 1, In, Store>(g, y, gz, x, dw, bias_grad, rows, n, c0);
  }
  for (std::int64_t j = c0; j < n; ++j) {
    T bias_sum = T(0), sums[In > 0 ? In : 1] = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      const T masked = masked_at(g, y, r * n + j);
      if constexpr (Store) gz[r * n + j] = masked;
      bias_sum += masked;
      for (int i = 0; i < In; ++i) sums[i] += x[r * In + i] * masked;
    }
    bias_grad[j] = bias_sum;
    for (int i = 0; i < In; ++i) dw[i * n + j] = sums[i];
  }
}

// Column sums of g [rows, n], each summed row after row from zero: a bias's gradient without
// activation. Blocks of whole vectors, then the last columns (fewer than a vector: an output
// layer's few classes) as one vector per row that reads on into the next row, its extra lanes
// ignored; the rows where that vector would pass g's end are added one element at a time.
template <class T, int VecBytes, int NV>
inline __attribute__((always_inline)) void column_sums_block(const T* __restrict g,
                                                             T* __restrict sums, std::int64_t rows,
                                                             std::int64_t n, std::int64_t c0) {
  typedef T V __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  V acc[NV] = {};
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int v = 0; v < NV; ++v) {
      V gv;
      std::memcpy(&gv, g + r * n + c0 + v * L, sizeof gv);
      acc[v] += gv;
    }
  }
  std::memcpy(sums + c0, acc, sizeof acc);
}

template <class T, int VecBytes>
inline __attribute__((always_inline)) void column_sums_impl(const T* __restrict g,
                                                            T* __restrict sums, std::int64_t rows,
                                                            std::int64_t n) {
  typedef T V __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  std::int64_t c0 = 0;
  for (; c0 + 8 * L <= n; c0 += 8 * L) column_sums_block<T, VecBytes, 8>(g, sums, rows, n, c0);
  for (; c0 + L <= n; c0 += L) column_sums_block<T, VecBytes, 1>(g, sums, rows, n, c0);
  if (c0 == n) return;
  const std::int64_t width = n - c0;
  // Row r's vector ends at r n + c0 + L, within g's rows n elements for r < safe.
  const std::int64_t safe = rows * n >= c0 + L ? std::min(rows, (rows * n - c0 - L) / n + 1) : 0;
  V acc = {};
  for (std::int64_t r = 0; r < safe; ++r) {
    V gv;
    std::memcpy(&gv, g + r * n + c0, sizeof gv);
    acc += gv;
  }
  T lanes[L];
  std::memcpy(lanes, &acc, sizeof acc);
  for (std::int64_t r = safe; r < rows; ++r) {
    for (std::int64_t j = 0; j < width; ++j) lanes[j] += g[r * n + c0 + j];
  }
  std::memcpy(sums + c0, lanes, static_cast<std::size_t>(width) * sizeof(T));
}

struct ColumnSums {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, T* sums, std::int64_t rows,
                                                        std::int64_t n) {
    column_sums_impl<T, VecBytes>(g, sums, rows, n);
  }
};

// The loop in one CPU variant (cpu_variant.hpp).
struct ReluAndBiasGrad {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, const T* y, T* gz, T* bias_grad,
                                                        std::int64_t rows, std::int64_t n) {
    masked_grad_impl<T, VecBytes, 0, true>(g, y, gz, nullptr, nullptr, bias_grad, rows, n);
  }
};

// The weight's gradient as well, for an input that needs none and has 1 to 4 features.
struct ReluBiasWeightGrad {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, const T* y, const T* x, T* dw,
                                                        T* bias_grad, std::int64_t rows,
                                                        std::int64_t n, std::int64_t in) {
    switch (in) {
      case 1:
        return masked_grad_impl<T, VecBytes, 1, false>(g, y, nullptr, x, dw, bias_grad, rows, n);
      case 2:
        return masked_grad_impl<T, VecBytes, 2, false>(g, y, nullptr, x, dw, bias_grad, rows, n);
      case 3:
        return masked_grad_impl<T, VecBytes, 3, false>(g, y, nullptr, x, dw, bias_grad, rows, n);
      default:
        return masked_grad_impl<T, VecBytes, 4, false>(g, y, nullptr, x, dw, bias_grad, rows, n);
    }
  }
};

// A layer with N (1 to 4) outputs whose input and weight both need gradients, in columns
// [c0, c0 + width) of x, width = NV lanes unless Part (then fewer than a vector, the rest of
// the lanes zero): dx[r, :] = gz[r, :] w^T and dwt[c, :] = sum over rows of gz[r, c] x[r, :],
// both summed from zero as the small product kernels sum them (gemm_small.cpp: dx over the N
// outputs, dw row after row, whole vectors throughout, so the same multiply-adds), w^T's block
// and dw's sums held in registers over all rows. gz is g, masked where y <= 0 when y is
// non-null.
template <class T, int VecBytes, int N, int NV, bool Part>
inline __attribute__((always_inline)) void few_outputs_block(
    const T* __restrict g, const T* __restrict y, const T* __restrict x, const T* __restrict w,
    T* __restrict dx, T* __restrict dw, std::int64_t rows, std::int64_t in, std::int64_t c0,
    std::int64_t width) {
  typedef T V __attribute__((vector_size(VecBytes)));
  constexpr int L = VecBytes / sizeof(T);
  if constexpr (!Part) width = NV * L;
  V wt[N][NV], acc[N][NV] = {};
  for (int c = 0; c < N; ++c) {
    T lanes[NV * L] = {};
    for (std::int64_t l = 0; l < width; ++l) lanes[l] = w[(c0 + l) * N + c];
    std::memcpy(wt[c], lanes, sizeof lanes);
  }
  // Unrolled, so that the sums and w^T's block stay in registers (rolled, GCC keeps them on
  // the stack).
  for (std::int64_t r = 0; r < rows; ++r) {
    T gz[N];
#pragma GCC unroll 4
    for (int c = 0; c < N; ++c) gz[c] = masked_at(g, y, r * N + c);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const std::int64_t at = r * in + c0 + v * L;
      V xv = {};
      std::memcpy(&xv, x + at, Part ? static_cast<std::size_t>(width) * sizeof(T) : sizeof xv);
      // From zero, as the rows kernel sums: after a product, a + b c could be contracted into
      // a multiply-add about either product.
      V d = {};
#pragma GCC unroll 4
      for (int c = 0; c < N; ++c) d += gz[c] * wt[c][v];
      std::memcpy(dx + at, &d, Part ? static_cast<std::size_t>(width) * sizeof(T) : sizeof d);
#pragma GCC unroll 4
      for (int c = 0; c < N; ++c) acc[c][v] += gz[c] * xv;
    }
  }
  for (int c = 0; c < N; ++c) {
    T lanes[NV * L];
    std::memcpy(lanes, acc[c], sizeof lanes);
    for (std::int64_t l = 0; l < width; ++l) dw[(c0 + l) * N + c] = lanes[l];
  }
}

// Blocks as wide as the registers hold (2 N NV sums and weights, an x vector, the dx vector
// and N broadcasts), then single vectors, then x's last columns as one part-vector; the bias's
// gradient as the column sums of gz, row after row (column_sums' bits).
template <class T, int VecBytes, int N>
inline __attribute__((always_inline)) void few_outputs_impl(const T* g, const T* y, const T* x,
                                                            const T* w, T* dx, T* dw, T* bias_grad,
                                                            std::int64_t rows, std::int64_t in) {
  constexpr int L = VecBytes / sizeof(T);
  constexpr int kRegisters = VecBytes == 64 ? 32 : 16;
  constexpr int kWide = std::max(1, std::min(8, (kRegisters - N - 2) / (2 * N)));
  std::int64_t c0 = 0;
  for (; c0 + kWide * L <= in; c0 += kWide * L) {
    few_outputs_block<T, VecBytes, N, kWide, false>(g, y, x, w, dx, dw, rows, in, c0, 0);
  }
  if constexpr (kWide > 1) {
    for (; c0 + L <= in; c0 += L) {
      few_outputs_block<T, VecBytes, N, 1, false>(g, y, x, w, dx, dw, rows, in, c0, 0);
    }
  }
  if (c0 < in)
    few_outputs_block<T, VecBytes, N, 1, true>(g, y, x, w, dx, dw, rows, in, c0, in - c0);
  if (!bias_grad) return;
  T sums[N] = {};
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < N; ++c) sums[c] += masked_at(g, y, r * N + c);
  }
  for (int c = 0; c < N; ++c) bias_grad[c] = sums[c];
}

struct FewOutputsGrad {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(const T* g, const T* y, const T* x,
                                                        const T* w, T* dx, T* dw, T* bias_grad,
                                                        std::int64_t rows, std::int64_t in,
                                                        std::int64_t n) {
    switch (n) {
      case 1:
        return few_outputs_impl<T, VecBytes, 1>(g, y, x, w, dx, dw, bias_grad, rows, in);
      case 2:
        return few_outputs_impl<T, VecBytes, 2>(g, y, x, w, dx, dw, bias_grad, rows, in);
      case 3:
        return few_outputs_impl<T, VecBytes, 3>(g, y, x, w, dx, dw, bias_grad, rows, in);
      default:
        return few_outputs_impl<T, VecBytes, 4>(g, y, x, w, dx, dw, bias_grad, rows, in);
    }
  }
};

}  // namespace

void relu_bias_weight_grad(const float* g, const float* y, const float* x, float* dw,
                           float* bias_grad, std::int64_t rows, std::int64_t n, std::int64_t in) {
  run_for_cpu<ReluBiasWeightGrad>(g, y, x, dw, bias_grad, rows, n, in);
}

void relu_bias_weight_grad(const double* g, const double* y, const double* x, double* dw,
                           double* bias_grad, std::int64_t rows, std::int64_t n, std::int64_t in) {
  run_for_cpu<ReluBiasWeightGrad>(g, y, x, dw, bias_grad, rows, n, in);
}

void column_sums(const float* g, float* sums, std::int64_t rows, std::int64_t n) {
  run_for_cpu<ColumnSums>(g, sums, rows, n);
}
void column_sums(const double* g, double* sums, std::int64_t rows, std::int64_t n) {
  run_for_cpu<ColumnSums>(g, sums, rows, n);
}

void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n) {
  run_for_cpu<ReluAndBiasGrad>(g, y, gz, bias_grad, rows, n);
}

void few_outputs_grad(const float* g, const float* y, const float* x, const float* w, float* dx,
                      float* dw, float* bias_grad, std::int64_t rows, std::int64_t in,
                      std::int64_t n) {
  run_for_cpu<FewOutputsGrad>(g, y, x, w, dx, dw, bias_grad, rows, in, n);
}
void few_outputs_grad(const double* g, const double* y, const double* x, const double* w,
                      double* dx, double* dw, double* bias_grad, std::int64_t rows, std::int64_t in,
                      std::int64_t n) {
  run_for_cpu<FewOutputsGrad>(g, y, x, w, dx, dw, bias_grad, rows, in, n);
}

}  // namespace ag::detail
