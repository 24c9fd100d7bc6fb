#pragma once
// Element functions over float32 buffers, vectorised per CPU variant (cpu_variant.hpp), for
// kernels that apply one to many elements at once (softmax, cross_entropy), and softmax's
// exponentials of short rows built on them.
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

// The longest row short_row_exponentials takes.
inline constexpr std::int64_t kShortRow = 16;
// The exponentials of softmax over each row of x [rows, n] (row-major, 1 <= n <= kShortRow),
// several rows at once: maxima[r] = the row's max (std::max's rule), q[r, k] = e^(x[r, k] - max)
// divided by the row's total when normalise, and totals[r] = the row's exponentials summed in k
// order. Each step rounds to float where the scalar steps do (x - max, exp_in_place, the sum,
// the division), so the results are theirs bit for bit. q may not overlap x.
void short_row_exponentials(const float* x, float* q, float* maxima, float* totals,
                            std::int64_t rows, std::int64_t n, bool normalise);

}  // namespace ag::detail
