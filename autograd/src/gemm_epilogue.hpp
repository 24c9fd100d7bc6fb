#pragma once
// The epilogue of a product (gemm.hpp's Epilogue: a bias per column, then relu): its rule on one
// element and on a GCC vector of VecBytes bytes (cpu_variant.hpp), and as a loop over rows of C.
// The direct kernels apply the rule to each sum as they store it, in registers (gemm_small.cpp);
// apply_epilogue runs the loop after a library's product, or after each piece of a shared one
// (gemm.cpp).
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "gemm.hpp"

namespace ag::detail {

// The rule for one element: v + *bias (when bias is non-null), then relu if asked. relu is
// ag::relu's rule: 0 where v <= 0 (-0 too), v elsewhere (NaN stays).
template <class T>
inline __attribute__((always_inline)) T epilogue_value(T v, const T* bias, bool relu) {
  if (bias) v += *bias;
  return relu && v <= T(0) ? T(0) : v;
}

// The same rule on the lanes of a GCC vector of VecBytes bytes, in place, chosen at compile
// time (the callers' hot loops test nothing): with Bias, as many consecutive biases from `bias`;
// relu as an and-not with the comparison's all-ones lanes. (By reference: a vector returned by
// value would change the ABI of the baseline build's copy.)
template <class T, int VecBytes, bool Bias, bool Relu, class V>
inline __attribute__((always_inline)) void epilogue_vector(V& v, const T* bias) {
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(VecBytes)));
  if constexpr (Bias) {
    V b;
    std::memcpy(&b, bias, sizeof b);
    v += b;
  }
  if constexpr (Relu) v = reinterpret_cast<V>(reinterpret_cast<M>(v) & ~(v <= T(0)));
}

// C[i, j] = relu?(C[i, j] + bias[j]) for `rows` rows of n elements, ldc apart.
template <class T, int VecBytes, bool Bias, bool Relu>
inline __attribute__((always_inline)) void epilogue_loop(T* C, std::int64_t ldc, std::int64_t rows,
                                                         std::int64_t n, const T* __restrict bias) {
  typedef T V __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  for (std::int64_t r = 0; r < rows; ++r) {
    T* __restrict row = C + r * ldc;
    std::int64_t j = 0;
    for (; j + L <= n; j += L) {
      V v;
      std::memcpy(&v, row + j, sizeof v);
      epilogue_vector<T, VecBytes, Bias, Relu>(v, Bias ? bias + j : nullptr);
      std::memcpy(row + j, &v, sizeof v);
    }
    for (; j < n; ++j) row[j] = epilogue_value(row[j], Bias ? bias + j : nullptr, Relu);
  }
}
template <class T, int VecBytes>
inline __attribute__((always_inline)) void epilogue_rows(T* C, std::int64_t ldc, std::int64_t rows,
                                                         std::int64_t n, const Epilogue<T>& e) {
  if (e.bias) {
    if (e.relu) return epilogue_loop<T, VecBytes, true, true>(C, ldc, rows, n, e.bias);
    return epilogue_loop<T, VecBytes, true, false>(C, ldc, rows, n, e.bias);
  }
  if (e.relu) epilogue_loop<T, VecBytes, false, true>(C, ldc, rows, n, nullptr);
}

// The loop above on all of C [m, n], in the CPU's widest variant.
void apply_epilogue(float* C, std::int64_t ldc, std::int64_t m, std::int64_t n,
                    const Epilogue<float>& e);
void apply_epilogue(double* C, std::int64_t ldc, std::int64_t m, std::int64_t n,
                    const Epilogue<double>& e);

}  // namespace ag::detail
