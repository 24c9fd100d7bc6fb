#pragma once
// Shapes are lists of dimension sizes; a 0-d shape ({}) is a scalar tensor.
#include <cstdint>
#include <string>
#include <vector>

namespace ag {

using Shape = std::vector<std::int64_t>;

// Number of elements of a shape (1 for a 0-d shape).
std::int64_t numel(const Shape& shape);
// "[2, 3]"; used by every error message and by printing.
std::string to_string(const Shape& shape);
// The NumPy broadcast of two shapes; throws ag::Error naming `op` when they do not broadcast.
// This is the library's one broadcasting rule: kernels and backward both follow it.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace ag
