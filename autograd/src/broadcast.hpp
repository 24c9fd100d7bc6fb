#pragma once
// The one home of broadcast iteration (the shape rule itself is ag::broadcast_shapes): strides
// of an operand in a result's index space, and walkers that visit the result row by row with
// one operand (sum_to, broadcast_to, strided copies) or two (elementwise kernels, batched
// matmul). broadcast.cpp holds the kernels built on them.
#include <array>
#include <cstdint>
#include <vector>

#include "autograd/shape.hpp"

namespace ag::detail {

// Element strides of `in` in the index space of `out` (0 along broadcast dims). `in` must
// broadcast to `out` (checked by broadcast_shapes before).
std::vector<std::int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Walks `out` row by row (its innermost dim) for N operands with strides `strides[i]` in
// out's index space; for each row calls row(out_offset, offsets, count, steps), where offsets
// and steps are the operands' first elements and strides along the row. The outer index
// advances like an odometer, so a row costs O(1) amortised.
template <std::size_t N, class Row>
void walk_rows(const Shape& out, const std::array<const std::int64_t*, N>& strides, Row&& row) {
  std::array<std::int64_t, N> offsets{}, steps{};
  const std::size_t rank = out.size();
  if (rank == 0) {
    row(std::int64_t{0}, offsets, std::int64_t{1}, steps);
    return;
  }
  for (std::size_t i = 0; i < N; ++i) steps[i] = strides[i][rank - 1];
  const std::int64_t n = out[rank - 1];
  const std::int64_t rows = n == 0 ? 0 : numel(out) / n;
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    row(r * n, offsets, n, steps);
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) {
        for (std::size_t i = 0; i < N; ++i) offsets[i] += strides[i][d];
        break;
      }
      for (std::size_t i = 0; i < N; ++i) offsets[i] -= strides[i][d] * (out[d] - 1);
      index[d] = 0;
    }
  }
}

// One operand x with strides sx: row(out_offset, x_offset, count, x_step).
template <class Row>
void for_each_row(const Shape& out, const std::vector<std::int64_t>& sx, Row&& row) {
  walk_rows<1>(out, {sx.data()},
               [&](std::int64_t o, const std::array<std::int64_t, 1>& off, std::int64_t n,
                   const std::array<std::int64_t, 1>& step) { row(o, off[0], n, step[0]); });
}

// Two operands a, b with strides sa, sb:
//   row(out_offset, a_offset, b_offset, count, a_step, b_step).
template <class Row>
void for_each_row(const Shape& out, const std::vector<std::int64_t>& sa,
                  const std::vector<std::int64_t>& sb, Row&& row) {
  walk_rows<2>(out, {sa.data(), sb.data()},
               [&](std::int64_t o, const std::array<std::int64_t, 2>& off, std::int64_t n,
                   const std::array<std::int64_t, 2>& step) {
                 row(o, off[0], off[1], n, step[0], step[1]);
               });
}

}  // namespace ag::detail
