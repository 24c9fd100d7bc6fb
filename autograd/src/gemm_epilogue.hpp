#pragma once
// The epilogue of a product (gemm.hpp's Epilogue: a bias per column, then relu) as a loop over
// rows of C in GCC vector types of VecBytes bytes (cpu_variant.hpp). The direct kernels inline it
// into their CPU variants and run it on each block of rows they finish, while the block is still
// in the L1 cache (gemm_small.cpp); apply_epilogue runs it after a library's product (gemm.cpp).
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "gemm.hpp"

namespace ag::detail {

// C[i, j] = relu?(C[i, j] + bias[j]) for `rows` rows of n elements, ldc apart. relu is
// ag::relu's rule: 0 where v <= 0 (-0 too), v elsewhere (NaN stays), as an and-not with the
// comparison's all-ones lanes.
template <class T, int VecBytes, bool Bias, bool Relu>
inline __attribute__((always_inline)) void epilogue_loop(T* C, std::int64_t ldc, std::int64_t rows,
                                                         std::int64_t n, const T* __restrict bias) {
  typedef T V __attribute__((vector_size(VecBytes)));
  typedef std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t> I;
  typedef I M __attribute__((vector_size(VecBytes)));
  constexpr std::int64_t L = VecBytes / sizeof(T);
  for (std::int64_t r = 0; r < rows; ++r) {
    T* __restrict row = C + r * ldc;
    std::int64_t j = 0;
    for (; j + L <= n; j += L) {
      V v;
      std::memcpy(&v, row + j, sizeof v);
      if constexpr (Bias) {
        V b;
        std::memcpy(&b, bias + j, sizeof b);
        v += b;
      }
      if constexpr (Relu) v = reinterpret_cast<V>(reinterpret_cast<M>(v) & ~(v <= T(0)));
      std::memcpy(row + j, &v, sizeof v);
    }
    for (; j < n; ++j) {
      T v = row[j];
      if constexpr (Bias) v += bias[j];
      row[j] = Relu && v <= T(0) ? T(0) : v;
    }
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
