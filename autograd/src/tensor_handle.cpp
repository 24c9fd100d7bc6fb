// The Tensor handle: copies, shape and dtype queries, element access, gradient state, detach
// and labels.
#include <fmt/format.h>

#include "autograd/tensor.hpp"
#include "tensor_impl.hpp"

namespace ag {

using namespace detail;

// ---- Handle (copies and moves: detail::NodeHandle) ----
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
  if (n.grad_history.defined()) return n.grad_history;
  if (!n.grad) return Tensor();
  return alias(n.grad, n.shape, n.dtype);
}

void Tensor::zero_grad() {
  TensorNode& n = node_of(checked("zero_grad", *this));
  n.grad.reset();
  n.grad_history = Tensor();
}

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

}  // namespace ag
