// Printing tensors and Values (ag::to_string).
#include <fmt/format.h>

#include "autograd/format.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "tensor_impl.hpp"

namespace ag {

// ---- Printing ----
std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::vector<double> v = t.to_vector();
  const Shape& shape = t.shape();
  std::string s = "tensor(";
  // Row-major walk with brackets; dims longer than 6 show their first and last 3 entries.
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  struct Frame {
    std::size_t dim;
    std::int64_t offset;
    std::int64_t i;
  };
  if (shape.empty()) {
    s += fmt::format("{:.6g}", v[0]);
  } else {
    std::vector<Frame> stack{{0, 0, 0}};
    s += "[";
    while (!stack.empty()) {
      Frame& f = stack.back();
      const std::int64_t n = shape[f.dim];
      if (f.i >= n) {
        s += "]";
        stack.pop_back();
        if (!stack.empty()) ++stack.back().i;
        continue;
      }
      if (f.i > 0) s += f.dim + 1 == shape.size() ? ", " : ",\n" + std::string(8 + f.dim, ' ');
      if (n > 6 && f.i == 3) {
        s += "...";
        f.i = n - 3;
        s += f.dim + 1 == shape.size() ? ", " : ",\n" + std::string(8 + f.dim, ' ');
      }
      if (f.dim + 1 == shape.size()) {
        s += fmt::format("{:.6g}", v[static_cast<std::size_t>(f.offset + f.i)]);
        ++f.i;
      } else {
        s += "[";
        stack.push_back({f.dim + 1, f.offset + f.i * strides[f.dim], 0});
      }
    }
  }
  s += fmt::format(", dtype={}", name(t.dtype()));
  if (t.requires_grad()) s += ", requires_grad=true";
  return s + ")";
}

std::string to_string(const Value& v) {
  return fmt::format("Value(data={:.6g}, grad={:.6g})", v.data(), v.grad());
}

}  // namespace ag
