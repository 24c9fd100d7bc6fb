#pragma once
// linear's backward loops, compiled per CPU variant (its forward's bias and relu are the
// product's epilogue, gemm_epilogue.hpp), for the first-order backward (linalg_ops.cpp). Every
// column is summed row after row from zero, the same sums as a scalar loop.
#include <cstdint>

namespace ag::detail {

// A hidden layer: the pre-activation gradient gz = g where y > 0 (else 0), and its column sums.
void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n);
void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n);

// The same for an input x [rows, in] that needs no gradient, with 1 <= in <= 4 (a first layer):
// also the weight's gradient dw [in, n] = x^T gz, without storing gz. The sums are those of
// relu_and_bias_grad and of the small product kernels on x^T and gz (gemm_small.cpp).
constexpr std::int64_t kFusedWeightGradMaxIn = 4;
void relu_bias_weight_grad(const float* g, const float* y, const float* x, float* dw,
                           float* bias_grad, std::int64_t rows, std::int64_t n, std::int64_t in);
void relu_bias_weight_grad(const double* g, const double* y, const double* x, double* dw,
                           double* bias_grad, std::int64_t rows, std::int64_t n, std::int64_t in);

// A layer with 1 <= n <= 4 outputs (a classifier's logits) whose input x [rows, in] and weight
// w [in, n] both need gradients: dx = gz w^T and dw = x^T gz in one pass over the rows, gz (g,
// masked where y > 0 fails when y is non-null) never stored, and the bias's gradient when
// bias_grad is non-null. The sums are those of the small product kernels and column_sums.
constexpr std::int64_t kFewOutputsMax = 4;
void few_outputs_grad(const float* g, const float* y, const float* x, const float* w, float* dx,
                      float* dw, float* bias_grad, std::int64_t rows, std::int64_t in,
                      std::int64_t n);
void few_outputs_grad(const double* g, const double* y, const double* x, const double* w,
                      double* dx, double* dw, double* bias_grad, std::int64_t rows, std::int64_t in,
                      std::int64_t n);

// Without activation: the bias gradient, the column sums of g [rows, n].
void column_sums(const float* g, float* sums, std::int64_t rows, std::int64_t n);
void column_sums(const double* g, double* sums, std::int64_t rows, std::int64_t n);

}  // namespace ag::detail
