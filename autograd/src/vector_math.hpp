#pragma once
// Element functions over float32 buffers, vectorised per CPU variant (cpu_variant.hpp), for
// kernels that apply one to many elements at once (softmax, cross_entropy).
#include <cstdint>

namespace ag::detail {

// x[i] = e^x[i]. Evaluated in float64 with an error far below float32's half ulp and rounded
// once, so each result is the correctly rounded float (what std::exp gives, bar the rare input
// whose exact value lies within ~2^-50 of a rounding midpoint). Overflow gives +inf, underflow
// 0 or a subnormal, NaN stays NaN. A result does not depend on its position in the buffer; it
// may differ in the last bit between CPU variants (FMA in the reduction), as the products do.
void exp_in_place(float* x, std::int64_t count);
// x[i] = log x[i], the same way: correctly rounded bar the rare near-midpoint input; 0 gives
// -inf, a negative number NaN, +inf and NaN themselves.
void log_in_place(float* x, std::int64_t count);

}  // namespace ag::detail
