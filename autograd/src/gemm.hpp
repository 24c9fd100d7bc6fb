#pragma once
// The one matrix-product entry point of the library: every GEMM goes through detail::gemm, which
// picks the library (oneDNN's matmul for float32 where it was built in, else CBLAS; the direct
// kernels of gemm_small.hpp for tiny products) and the thread count of the call.
// docs/benchmarks.md has the measurements behind the choice.
#include <cstdint>

namespace ag::detail {

// What a product does to each element of C after computing it (linear's forward): add bias[j]
// in column j, then, with relu, ag::relu's rule (NaN stays NaN, -0 becomes 0). The direct
// kernels apply it as they store C; after the libraries it is one pass over C (over each piece
// of a shared product, on the thread that computed it). Either way the bias is added to the
// finished product (one rounding, as a pass after the product).
template <class T>
struct Epilogue {
  const T* bias = nullptr;  // n elements, or null: none
  bool relu = false;
  bool any() const noexcept { return bias || relu; }
};

// C = alpha op(A) op(B) + beta C, row-major: op(A) is [m, k], op(B) [k, n], C [m, n]; lda, ldb,
// ldc are the row lengths of A, B, C as stored (op = transpose where flagged). m, n, k >= 0;
// with k == 0, C = beta C (beta == 0 clears C, whatever it held); then the epilogue.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
          std::int64_t ldc, const Epilogue<float>& epilogue = {});
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta,
          double* C, std::int64_t ldc, const Epilogue<double>& epilogue = {});

// Threads one product of 2·m·n·k FLOPs gets: the whole budget (ag::num_threads) from
// `threading_flops` up, else one. For CBLAS (OpenBLAS's own threads: a static split, and idle
// workers that yield their core in a loop) that is kGemmThreadingFlops (~0.2 ms on one core),
// where a second thread costs more than it saves. A float32 product on oneDNN with more than one
// is cut into pieces shared with the pool of gemm_pool.hpp, whose threads claim pieces as they
// come free and busy-wait between jobs: that pays from kPoolThreadingFlops (the 2-thread MLP step
// at batch 32, whose first layer's two products are 12.8 MFLOP: 0.91 of its 1-thread time, where
// it was 1.02 when only the caller ran them).
inline constexpr double kGemmThreadingFlops = 3.2e7;
inline constexpr double kPoolThreadingFlops = 1.0e7;
int gemm_threads(std::int64_t m, std::int64_t n, std::int64_t k, double threading_flops) noexcept;

}  // namespace ag::detail
