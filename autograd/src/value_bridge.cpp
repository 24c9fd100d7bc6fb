// The Value <-> Tensor bridge: a Value as a 0-d tensor and a one-element tensor as a Value,
// both differentiable (to any order: the engine converts adjoints across the bridge).
#include <fmt/format.h>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "scalar_record.hpp"
#include "tape_arena.hpp"
#include "tensor_impl.hpp"

namespace ag {

using namespace detail;

namespace {
constexpr OpInfo kFromValue = tensor_op("tensor", false);

// The one-element tensor -> Value op: its gradient goes back into the tensor. Under
// create_graph the engine turns the Value adjoint into the tensor's (a Tensor(Value) op).
constexpr OpInfo kToValue{
    "item",
    [](Node& n) {
      ScalarNode& s = as_scalar(n);
      TensorNode& src = as_tensor(*s.slot[0].input);
      accumulate_grad(src, full(src.shape, s.grad, src.dtype));
    },
    nullptr, [](Node&, const Value& grad_out, Value* grad_in) { grad_in[0] = grad_out; }};
}  // namespace

// ---- Value <-> Tensor ----
Tensor::Tensor(const Value& value) {
  if (value.node()) check_operand("tensor", *value.node());
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

Value::Value(const Tensor& tensor) {
  checked("Value", tensor);
  if (tensor.numel() != 1) {
    throw Error("Value",
                fmt::format("needs a one-element tensor, got shape {}", to_string(tensor.shape())));
  }
  const double v = tensor.item();
  Value out = Value(v).detach();
  if (grad_enabled() && tensor.requires_grad()) {
    ScalarNode* n = scalar_record::init_node(allocate_scalar_node(), kToValue, v, kRequiresGrad);
    n->num_inputs = 1;
    n->slot[0].input = tensor.node();
    retain(tensor.node());
    out = Value::adopt(n);
  }
  *this = std::move(out);
}

}  // namespace ag
