#pragma once
// Direct kernels for matrix products too small, or too thin, for a GEMM library to pay off: a
// dimension of a few elements (a 2-feature input layer, a 3-class output) or a few thousand
// multiply-adds in all, where packing and call overhead cost more than the arithmetic. Compiled
// for each CPU variant of cpu_variant.hpp.
#include <cstdint>

#include "gemm.hpp"

namespace ag::detail {

// Products of at most this many multiply-adds go to these kernels. Measured against oneDNN's
// matmul (AVX-512, one thread): 1.3-3.5x faster on the spiral MLP's five products (38-58 k) and
// on cubes up to 64x64x16, about even at 32x10x128, 0.85x on 1000x8x8; above 2^16, thin products
// (a dimension of 8 or less) break even, so the libraries keep them.
inline constexpr double kSmallGemmMacs = 65536.0;
bool small_gemm_suits(std::int64_t m, std::int64_t n, std::int64_t k) noexcept;

// The kernels small_gemm chooses among; small_gemm_name(kernel) names one with the CPU variant.
enum class SmallKernel : int { rows, columns, dots };
inline constexpr int kSmallKernels = 3;
const char* small_gemm_name(SmallKernel kernel) noexcept;

// The contract of detail::gemm (gemm.hpp): C = alpha op(A) op(B) + beta C, row-major, beta == 0
// overwrites C whatever it held, k == 0 gives beta C; then the epilogue, as C is stored. Any shape
// is computed (the caller decides with small_gemm_suits); returns the kernel that ran.
SmallKernel small_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       float alpha, const float* A, std::int64_t lda, const float* B,
                       std::int64_t ldb, float beta, float* C, std::int64_t ldc,
                       const Epilogue<float>& epilogue = {});
SmallKernel small_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       double alpha, const double* A, std::int64_t lda, const double* B,
                       std::int64_t ldb, double beta, double* C, std::int64_t ldc,
                       const Epilogue<double>& epilogue = {});

}  // namespace ag::detail
