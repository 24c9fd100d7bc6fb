// The Tensor handle: construction, factories, gradient state, recording, the Value<->Tensor
// bridge, dtype conversion and printing.
#include "autograd/tensor.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "autograd/format.hpp"
#include "autograd/value.hpp"
#include "broadcast.hpp"
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

namespace {

const Tensor& deref(const Tensor* t) { return *t; }
const Tensor& deref(const Tensor& t) { return t; }

// The one recording path, for both ways ops list their inputs (pointers or tensors).
template <class Inputs>
Tensor record_inputs(const OpInfo& op, Tensor result, const Inputs& inputs, BackwardFn backward) {
  if (anomaly_mode) {
    std::vector<Node*> nodes;
    nodes.reserve(inputs.size());
    for (const auto& t : inputs) nodes.push_back(deref(t).node());
    check_forward_anomaly(*result.node(), op.name, nodes);
  }
  if (!grad_enabled()) return result;
  bool any = false;
  for (const auto& t : inputs) any = any || (deref(t).node()->flags & kRequiresGrad);
  if (!any) return result;
  TensorNode& n = node_of(result);
  n.op = &op;
  n.flags = kTensor | kRequiresGrad;
  for (const auto& t : inputs) {
    retain(deref(t).node());
    n.inputs.push_back(deref(t).node());
  }
  n.backward = std::move(backward);
  return result;
}

}  // namespace

Tensor record(const OpInfo& op, Tensor result, std::initializer_list<const Tensor*> inputs,
              BackwardFn backward) {
  return record_inputs(op, std::move(result), inputs, std::move(backward));
}

Tensor record(const OpInfo& op, Tensor result, const std::vector<Tensor>& inputs,
              BackwardFn backward) {
  return record_inputs(op, std::move(result), inputs, std::move(backward));
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    throw Error(op, fmt::format("dtypes differ: {} {} and {} {}; convert one with .to(ag::{})",
                                name(a.dtype()), to_string(a.shape()), name(b.dtype()),
                                to_string(b.shape()), name(a.dtype())));
  }
}

std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t rank) {
  const std::int64_t r = std::max<std::int64_t>(rank, 1);
  if (dim < -r || dim >= r) {
    throw Error(op, fmt::format("dim {} is out of range for a tensor of rank {}", dim, rank));
  }
  return dim < 0 ? dim + r : dim;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  Tensor out = zeros(shape, grad.dtype());
  dispatch(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* g = data<T>(grad);
    T* o = data<T>(out);
    const auto so = broadcast_strides(shape, grad.shape());
    const std::vector<std::int64_t> unused(grad.shape().size(), 0);
    for_each_row(grad.shape(), so, unused,
                 [&](std::int64_t gi, std::int64_t oi, std::int64_t, std::int64_t n,
                     std::int64_t step, std::int64_t) {
                   if (step == 0) {
                     T acc = 0;
                     for (std::int64_t k = 0; k < n; ++k) acc += g[gi + k];
                     o[oi] += acc;
                   } else {
                     if (step == 1) {  // vectorises: the bias gradient of a batch
                       for (std::int64_t k = 0; k < n; ++k) o[oi + k] += g[gi + k];
                     } else {
                       for (std::int64_t k = 0; k < n; ++k) o[oi + k * step] += g[gi + k];
                     }
                   }
                 });
  });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor out = empty(shape, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    const auto sx = broadcast_strides(x.shape(), shape);
    const std::vector<std::int64_t> unused(shape.size(), 0);
    for_each_row(shape, sx, unused,
                 [&](std::int64_t oi, std::int64_t xi, std::int64_t, std::int64_t n,
                     std::int64_t step, std::int64_t) {
                   if (step == 1) {
                     std::copy_n(in + xi, n, o + oi);
                   } else if (step == 0) {
                     std::fill_n(o + oi, n, in[xi]);
                   } else {
                     for (std::int64_t k = 0; k < n; ++k) o[oi + k] = in[xi + k * step];
                   }
                 });
  });
  return out;
}

}  // namespace detail

using namespace detail;

// ---- Generator ----
double Generator::uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
double Generator::normal() { return std::normal_distribution<double>(0.0, 1.0)(engine_); }

// ---- Handle ----
// Retain before release: self-assignment is safe.
Tensor& Tensor::operator=(
    const Tensor& other) noexcept {  // NOLINT(bugprone-unhandled-self-assignment)
  retain(other.node_);
  release(node_);
  node_ = other.node_;
  return *this;
}
Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this != &other) {
    release(node_);
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

const Shape& Tensor::shape() const { return node_of(checked("shape", *this)).shape; }
std::int64_t Tensor::size(std::int64_t d) const {
  if (dim() == 0) throw Error("size", fmt::format("a 0-d tensor has no dim {}", d));
  return shape()[static_cast<std::size_t>(wrap_dim("size", d, dim()))];
}
std::int64_t Tensor::numel() const { return ag::numel(shape()); }
Dtype Tensor::dtype() const { return node_of(checked("dtype", *this)).dtype; }
Device Tensor::device() const { return node_of(checked("device", *this)).storage->device; }

template <class T>
const T* Tensor::data_ptr() const {
  checked("data_ptr", *this);
  constexpr Dtype want = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Float64;
  if (dtype() != want) {
    throw Error("data_ptr",
                fmt::format("asked for {} elements of a {} tensor", name(want), name(dtype())));
  }
  return static_cast<const T*>(node_of(*this).storage->data);
}
template <class T>
T* Tensor::mutable_data_ptr() {
  const T* p = data_ptr<T>();
  ++node_of(*this).storage->version;
  return const_cast<T*>(p);
}
template const float* Tensor::data_ptr<float>() const;
template const double* Tensor::data_ptr<double>() const;
template float* Tensor::mutable_data_ptr<float>();
template double* Tensor::mutable_data_ptr<double>();

std::vector<double> Tensor::to_vector() const {
  checked("to_vector", *this);
  std::vector<double> out(static_cast<std::size_t>(numel()));
  dispatch(dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = data<T>(*this);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
  });
  return out;
}

double Tensor::item() const {
  checked("item", *this);
  if (numel() != 1) {
    throw Error("item",
                fmt::format("needs a one-element tensor, got shape {}", to_string(shape())));
  }
  return dispatch(dtype(),
                  [&](auto tag) { return static_cast<double>(data<decltype(tag)>(*this)[0]); });
}

bool Tensor::requires_grad() const {
  return checked("requires_grad", *this).node()->flags & kRequiresGrad;
}

Tensor& Tensor::requires_grad_(bool on) {
  checked("requires_grad_", *this);
  if (!is_leaf()) {
    throw Error("requires_grad_", fmt::format("only leaves can change requires_grad; this tensor "
                                              "is the result of '{}' (use detach())",
                                              node_->op->name));
  }
  if (on) {
    node_->flags |= kRequiresGrad;
  } else {
    node_->flags &= static_cast<std::uint8_t>(~kRequiresGrad);
  }
  return *this;
}

bool Tensor::is_leaf() const { return checked("is_leaf", *this).node()->flags & kLeaf; }

Tensor Tensor::grad() const {
  TensorNode& n = node_of(checked("grad", *this));
  if (!n.grad) return Tensor();
  return alias(n.grad, n.shape, n.dtype);
}

void Tensor::zero_grad() { node_of(checked("zero_grad", *this)).grad.reset(); }

Tensor& Tensor::retain_grad() {
  checked("retain_grad", *this).node()->flags |= kRetainGrad;
  return *this;
}

Tensor Tensor::detach() const {
  TensorNode& n = node_of(checked("detach", *this));
  return alias(n.storage, n.shape, n.dtype);
}

Tensor& Tensor::set_label(std::string_view label) {
  detail::set_label(*checked("set_label", *this).node(), label);
  return *this;
}
std::string Tensor::label() const { return node_ ? label_of(*node_) : std::string(); }

namespace {
constexpr OpInfo kClone = tensor_op("clone");
constexpr OpInfo kTo = tensor_op("to");
constexpr OpInfo kFromValue = tensor_op("tensor");

// The one-element tensor -> Value op: its gradient goes back into the tensor.
constexpr OpInfo kToValue{"item", [](Node& n) {
                            ScalarNode& s = as_scalar(n);
                            TensorNode& src = as_tensor(*s.slot[0].input);
                            accumulate_grad(src, full(src.shape, s.grad, src.dtype));
                          }};
}  // namespace

Tensor Tensor::clone() const {
  checked("clone", *this);
  Tensor out = empty(shape(), dtype());
  std::memcpy(node_of(out).storage->data, node_of(*this).storage->data,
              static_cast<std::size_t>(numel()) * size_of(dtype()));
  return record(kClone, out, {this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(Dtype target) const {
  checked("to", *this);
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  dispatch(dtype(), [&](auto from) {
    dispatch(target, [&](auto to) {
      using F = decltype(from);
      using T = decltype(to);
      const F* in = data<F>(*this);
      T* o = data<T>(out);
      for (std::int64_t i = 0, n = numel(); i < n; ++i) o[i] = static_cast<T>(in[i]);
    });
  });
  const Dtype source = dtype();
  return record(kTo, out, {this},
                [source](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
}

// ---- Value <-> Tensor ----
Tensor::Tensor(const Value& value) : node_(nullptr) {
  Tensor out = scalar_tensor(value.data(), Dtype::Float64);
  if (grad_enabled() && (value.node()->flags & kRequiresGrad)) {
    TensorNode& n = node_of(out);
    n.op = &kFromValue;
    n.flags = kTensor | kRequiresGrad;
    retain(value.node());
    n.inputs.push_back(value.node());
    n.backward = [](const Tensor& g) { return std::vector<Tensor>{g}; };
  }
  *this = std::move(out);
}

Value::Value(const Tensor& tensor) : node_(nullptr) {
  checked("Value", tensor);
  if (tensor.numel() != 1) {
    throw Error("Value",
                fmt::format("needs a one-element tensor, got shape {}", to_string(tensor.shape())));
  }
  const double v = tensor.item();
  Value out = Value(v).detach();
  if (grad_enabled() && tensor.requires_grad()) {
    ScalarNode* n = allocate_scalar_node();
    n->op = &kToValue;
    n->refs = 1;
    n->flags = kRequiresGrad;
    n->num_inputs = 1;
    n->scope = current_scope();
    n->value = v;
    n->grad = 0.0;
    n->slot[0].input = tensor.node();
    n->slot[1].input = nullptr;
    retain(tensor.node());
    out = Value::adopt(n);
  }
  *this = std::move(out);
}

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
