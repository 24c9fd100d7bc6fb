// Recording a tensor op into the graph, and the helpers every op file shares: dtype and dim
// checks, and the recorded forms of the broadcast kernels (expand, reduce_to; the kernels,
// sum_to and broadcast_to, are in broadcast.cpp).
#include <fmt/format.h>

#include "tensor_impl.hpp"

namespace ag::detail {

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
  if (op.saves_values) {  // what backward checks for in-place writes (check_runnable)
    for (const auto& t : inputs) {
      Node* in = deref(t).node();
      n.saved_versions.push_back(is_tensor(*in) ? as_tensor(*in).storage->version : 0);
    }
    n.saved_versions.push_back(n.storage->version);
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

namespace {
constexpr OpInfo kExpand{"expand", &run_tensor_backward, nullptr, nullptr, false};
constexpr OpInfo kReduceTo{"sum_to", &run_tensor_backward, nullptr, nullptr, false};
}  // namespace

Tensor expand(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return record(kExpand, broadcast_to(x, shape), {&x}, [from = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{reduce_to(g, from)};
  });
}

Tensor reduce_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  return record(kReduceTo, sum_to(grad, shape), {&grad}, [from = grad.shape()](const Tensor& g) {
    return std::vector<Tensor>{detail::expand(g, from)};
  });
}

}  // namespace ag::detail
