#pragma once
// linear's backward loop, compiled per CPU variant (its forward's bias and relu are the
// product's epilogue, gemm_epilogue.hpp): for the first-order backward (linalg_ops.cpp) of a
// hidden layer, the pre-activation
// gradient gz = g where y > 0 (else 0) and its column sums, summed row after row in each column
// (the same sums as a scalar loop).
#include <cstdint>

namespace ag::detail {

void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n);
void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n);

}  // namespace ag::detail
