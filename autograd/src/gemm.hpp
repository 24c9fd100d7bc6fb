#pragma once
// The one matrix-product entry point of the library: every GEMM goes through detail::gemm, which
// picks the library (oneDNN's matmul for float32 where it was built in, else CBLAS; the direct
// kernels of gemm_small.hpp for tiny products) and the thread count of the call.
// docs/benchmarks.md has the measurements behind the choice.
#include <cstdint>

namespace ag::detail {

// C = alpha op(A) op(B) + beta C, row-major: op(A) is [m, k], op(B) [k, n], C [m, n]; lda, ldb,
// ldc are the row lengths of A, B, C as stored (op = transpose where flagged). m, n, k >= 0;
// with k == 0, C = beta C (beta == 0 clears C, whatever it held).
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
          std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta,
          double* C, std::int64_t ldc);

// Threads one product of 2·m·n·k FLOPs gets: the whole budget (ag::num_threads) for large ones,
// one below kGemmThreadingFlops (~0.2 ms on one core), where waking a second thread costs more
// than it saves. A float32 product on oneDNN with more than one is cut into pieces shared with
// the pool of gemm_pool.hpp.
inline constexpr double kGemmThreadingFlops = 3.2e7;
int gemm_threads(std::int64_t m, std::int64_t n, std::int64_t k) noexcept;

}  // namespace ag::detail
