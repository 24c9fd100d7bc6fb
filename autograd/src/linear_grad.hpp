#pragma once
// linear's element loops (linalg_ops.cpp), compiled per CPU variant: the bias and relu after
// the forward's product; for the first-order backward of a hidden layer, the pre-activation
// gradient gz = g where y > 0 (else 0) and its column sums, summed row after row in each column
// (the same sums as a scalar loop).
#include <cstdint>

namespace ag::detail {

// out [rows, n] += bias [n] in each row, then, with relu, ag::relu's element rule in place (NaN
// stays NaN, -0 becomes 0). The product is computed first and the bias added to it, as a GEMM
// with beta = 1 over a preloaded bias rounds it: one rounding per element either way.
void add_bias(float* out, const float* bias, std::int64_t rows, std::int64_t n, bool relu);
void add_bias(double* out, const double* bias, std::int64_t rows, std::int64_t n, bool relu);
// The relu alone (linear without a bias).
void relu_in_place(float* y, std::int64_t count);
void relu_in_place(double* y, std::int64_t count);

void relu_and_bias_grad(const float* g, const float* y, float* gz, float* bias_grad,
                        std::int64_t rows, std::int64_t n);
void relu_and_bias_grad(const double* g, const double* y, double* gz, double* bias_grad,
                        std::int64_t rows, std::int64_t n);

}  // namespace ag::detail
