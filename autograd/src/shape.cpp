// Shapes: element counts (the one checked computation), printing, the one broadcasting rule.
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/error.hpp"

namespace ag {

std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::int64_t checked_numel(std::string_view what, const Shape& shape) {
  bool empty = false;
  for (auto d : shape) {
    if (d < 0) throw Error(what, fmt::format("negative dimension in shape {}", to_string(shape)));
    empty = empty || d == 0;
  }
  if (empty) return 0;  // valid however large the other dims are, as in PyTorch
  std::int64_t n = 1;
  for (auto d : shape) {
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxNumel) {
      throw Error(what, fmt::format("shape {} has more than 2^60 elements", to_string(shape)));
    }
  }
  return n;
}

std::string to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing dim counts as 1.
    std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw Error(
          op, fmt::format("shapes {} and {} do not broadcast (dim {}: {} vs {})", to_string(a),
                          to_string(b),
                          static_cast<std::int64_t>(i) - static_cast<std::int64_t>(rank), da, db));
    }
    out[i] = da == 1 ? db : da;
  }
  // Each operand fits, but their broadcast may not ([2^40, 1] + [1, 2^40]).
  checked_numel(op, out);
  return out;
}

}  // namespace ag
