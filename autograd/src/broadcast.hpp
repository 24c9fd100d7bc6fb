#pragma once
// Iteration over a broadcast: the one broadcasting rule, shared by elementwise kernels and
// by the reduction of gradients back to an input's shape.
#include <cstdint>
#include <vector>

#include "autograd/shape.hpp"

namespace ag::detail {

// Element strides of `in` in the index space of `out` (0 along broadcast dims). `in` must
// broadcast to `out` (checked by broadcast_shapes before).
inline std::vector<std::int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<std::int64_t> strides(out.size(), 0);
  std::int64_t stride = 1;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t i = in.size() - 1 - k;  // input dim, from the right
    const std::size_t o = out.size() - 1 - k;
    strides[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return strides;
}

// Walks `out` row by row; for each innermost row calls
//   row(out_offset, a_offset, b_offset, count, a_step, b_step)
// where a/b are two operands with strides sa/sb in out's index space.
template <class Row>
void for_each_row(const Shape& out, const std::vector<std::int64_t>& sa,
                  const std::vector<std::int64_t>& sb, Row&& row) {
  const std::size_t rank = out.size();
  if (rank == 0) {
    row(0, 0, 0, 1, 0, 0);
    return;
  }
  const std::int64_t n = out[rank - 1];
  const std::int64_t rows = n == 0 ? 0 : numel(out) / n;
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t a = 0, b = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    row(r * n, a, b, n, sa[rank - 1], sb[rank - 1]);
    // Advance the outer index (dims 0..rank-2) like an odometer.
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) {
        a += sa[d];
        b += sb[d];
        break;
      }
      a -= sa[d] * (out[d] - 1);
      b -= sb[d] * (out[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace ag::detail
