#pragma once
// Shapes are lists of dimension sizes; a 0-d shape ({}) is a scalar tensor.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ag {

using Shape = std::vector<std::int64_t>;

// Number of elements of a shape (1 for a 0-d shape), for shapes already checked.
std::int64_t numel(const Shape& shape);
// The most elements a tensor may have: 2^60, so that its bytes (8 per float64) fit a size_t.
inline constexpr std::int64_t kMaxNumel = std::int64_t{1} << 60;
// numel(shape) for a shape from outside (a factory's argument, reshape, a file header, layer
// sizes): throws ag::Error naming `what` and the shape for a negative dim or more than
// kMaxNumel elements. Every tensor's shape passes through it once, when its storage is made.
std::int64_t checked_numel(std::string_view what, const Shape& shape);
// "[2, 3]"; used by every error message and by printing.
std::string to_string(const Shape& shape);
// The NumPy broadcast of two shapes; throws ag::Error naming `op` when they do not broadcast.
// This is the library's one broadcasting rule: kernels and backward both follow it.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace ag
