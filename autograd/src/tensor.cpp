// Tensor factories: fresh storage (empty, alias) and every public way to make a tensor from
// numbers, shapes or a random generator. The handle, recording, conversions, the Value bridge
// and printing have their own files (tensor_handle.cpp, record.cpp, tensor_convert.cpp,
// value_bridge.cpp, tensor_print.cpp).
#include "autograd/tensor.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "tensor_impl.hpp"

namespace ag {
namespace detail {

Tensor alias(const std::shared_ptr<Storage>& storage, const Shape& shape, Dtype dtype) {
  TensorNode* n = allocate_tensor_node();
  n->op = &kLeafOp;
  n->refs = 1;
  n->flags = kTensor | kLeaf;
  n->num_inputs = 0;
  n->scope = current_scope();
  n->shape = shape;
  n->dtype = dtype;
  n->storage = storage;
  return Tensor::adopt(n);
}

Tensor empty(const Shape& shape, Dtype dtype, const char* op) {
  const std::int64_t n = checked_numel(op, shape);
  const std::size_t bytes = static_cast<std::size_t>(n) * size_of(dtype);
  std::shared_ptr<Storage> storage;
  try {
    storage = std::make_shared<Storage>(bytes, Device::CPU);
  } catch (const std::bad_alloc&) {
    throw Error(op, fmt::format("cannot allocate {} bytes for a {} tensor of shape {}", bytes,
                                name(dtype), to_string(shape)));
  }
  return alias(storage, shape, dtype);
}

}  // namespace detail

using namespace detail;

// ---- Generator ----
double Generator::uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
double Generator::normal() { return std::normal_distribution<double>(0.0, 1.0)(engine_); }

// ---- Factories ----
Tensor tensor(std::span<const double> values, const Shape& shape, Dtype dtype) {
  if (static_cast<std::int64_t>(values.size()) != checked_numel("tensor", shape)) {
    throw Error("tensor", fmt::format("{} values given for shape {} ({} elements)", values.size(),
                                      to_string(shape), numel(shape)));
  }
  Tensor out = empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = data<T>(out);
    for (std::size_t i = 0; i < values.size(); ++i) o[i] = static_cast<T>(values[i]);
  });
  return out;
}
Tensor tensor(std::initializer_list<double> values, Dtype dtype) {
  return tensor(std::span<const double>(values.begin(), values.size()),
                {static_cast<std::int64_t>(values.size())}, dtype);
}
namespace {
Tensor filled(const char* op, const Shape& shape, double value, Dtype dtype) {
  Tensor out = empty(shape, dtype, op);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    std::fill_n(data<T>(out), numel(shape), static_cast<T>(value));
  });
  return out;
}
}  // namespace
Tensor scalar_tensor(double value, Dtype dtype) {
  return filled("scalar_tensor", {}, value, dtype);
}
Tensor full(const Shape& shape, double value, Dtype dtype) {
  return filled("full", shape, value, dtype);
}
Tensor zeros(const Shape& shape, Dtype dtype) { return filled("zeros", shape, 0.0, dtype); }
Tensor ones(const Shape& shape, Dtype dtype) { return filled("ones", shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor arange(double end, Dtype dtype) { return arange(0.0, end, 1.0, dtype); }
namespace {
// A new tensor whose element i is element(i), converted to the dtype.
template <class Element>
Tensor generate(const char* op, const Shape& shape, Dtype dtype, Element&& element) {
  Tensor out = empty(shape, dtype, op);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = data<T>(out);
    for (std::int64_t i = 0, n = numel(shape); i < n; ++i) o[i] = static_cast<T>(element(i));
  });
  return out;
}
}  // namespace

Tensor arange(double start, double end, double step, Dtype dtype) {
  if (step == 0.0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step)) {
    throw Error("arange",
                fmt::format("needs finite start/end and a non-zero step, got ({}, {}, {})", start,
                            end, step));
  }
  const double count = std::max(0.0, std::ceil((end - start) / step));
  if (!(count <= static_cast<double>(kMaxNumel))) {  // also catches inf (1e300 / 1e-300)
    throw Error("arange", fmt::format("({}, {}, {}) would have {:g} elements, more than 2^60",
                                      start, end, step, count));
  }
  return generate("arange", {static_cast<std::int64_t>(count)}, dtype,
                  [&](std::int64_t i) { return start + static_cast<double>(i) * step; });
}
Tensor rand(const Shape& shape, Generator& gen, Dtype dtype) {
  return generate("rand", shape, dtype, [&](std::int64_t) { return gen.uniform(); });
}
Tensor randn(const Shape& shape, Generator& gen, Dtype dtype) {
  return generate("randn", shape, dtype, [&](std::int64_t) { return gen.normal(); });
}

}  // namespace ag
