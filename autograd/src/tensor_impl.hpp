#pragma once
// Helpers shared by the tensor ops (private): making results, dtype dispatch, recording.
#include <fmt/format.h>

#include <initializer_list>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/tensor.hpp"
#include "node.hpp"

namespace ag::detail {

inline TensorNode& node_of(const Tensor& t) { return as_tensor(*t.node()); }

// Throws a clear error for an undefined tensor passed to `op`.
inline const Tensor& checked(const char* op, const Tensor& t) {
  if (!t.defined()) throw Error(op, "got an undefined tensor");
  return t;
}

// A new leaf tensor with uninitialised storage. The shape's element count is checked and an
// allocation failure is an ag::Error, both naming `op`.
Tensor empty(const Shape& shape, Dtype dtype, const char* op = "tensor");
// A new leaf tensor sharing `storage` (reshape, detach, grad()).
Tensor alias(const std::shared_ptr<Storage>& storage, const Shape& shape, Dtype dtype);

template <class T>
T* data(const Tensor& t) {
  return static_cast<T*>(node_of(t).storage->data);
}

// Calls f(T{}) with T = float or double according to dtype.
template <class F>
decltype(auto) dispatch(Dtype dtype, F&& f) {
  if (dtype == Dtype::Float32) return f(float{});
  return f(double{});
}

// Records `result` (a fresh leaf computed from inputs) as the output of op, when grad mode is
// on and an input requires grad. `backward` receives the output gradient.
Tensor record(const OpInfo& op, Tensor result, std::initializer_list<const Tensor*> inputs,
              BackwardFn backward);
Tensor record(const OpInfo& op, Tensor result, const std::vector<Tensor>& inputs,
              BackwardFn backward);

// Runs a TensorNode's closure (the backward rule of every tensor op).
void run_tensor_backward(Node& self);
// saves_values: whether the closure reads its inputs' or output's values (see OpInfo).
// with_parameter: how pictures show the op's constant (the op stores it in
// TensorNode::parameter), null for ops without one.
constexpr OpInfo tensor_op(const char* name, bool saves_values = true,
                           const char* with_parameter = nullptr) {
  return OpInfo{name, &run_tensor_backward, with_parameter, nullptr, saves_values};
}

// Same dtype required for binary ops: mixing is an error, never a silent promotion.
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
// Normalises a possibly negative dim against rank; throws naming op.
std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t rank);

// Reduces a broadcast gradient back to `shape` by summing the broadcast dims (no graph).
Tensor sum_to(const Tensor& grad, const Shape& shape);
// Materialises x broadcast to `shape` (no graph).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

}  // namespace ag::detail

// Everything an op file needs, in one line: `using namespace ag::op_kit;`.
namespace ag::op_kit {
using detail::data;
using detail::dispatch;
using detail::OpInfo;
using detail::tensor_op;
// A backward closure's result: one gradient per input, undefined for "none".
using Grads = std::vector<Tensor>;
}  // namespace ag::op_kit
