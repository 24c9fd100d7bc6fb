// Local derivatives read off each op's own backward rule, and the saving and restoring of
// gradients that explain.cpp's replay shares.
#include "local_derivative.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "tensor_impl.hpp"

namespace ag::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

SavedGrad take_grad(Node& n) {
  SavedGrad s;
  s.node = &n;
  if (is_tensor(n)) {
    s.tensor = std::move(as_tensor(n).grad);
    as_tensor(n).grad.reset();
  } else {
    s.scalar = as_scalar(n).grad;
    as_scalar(n).grad = 0.0;
  }
  return s;
}

void put_grad(SavedGrad& s) {
  if (is_tensor(*s.node)) {
    as_tensor(*s.node).grad = std::move(s.tensor);
  } else {
    as_scalar(*s.node).grad = s.scalar;
  }
}

GradRestorer::~GradRestorer() {
  for (auto it = saved.rbegin(); it != saved.rend(); ++it) put_grad(*it);
}

void seed_one(Node& n) {
  if (is_tensor(n)) {
    TensorNode& t = as_tensor(n);
    t.grad = node_of(ones(t.shape, t.dtype)).storage;
  } else {
    as_scalar(n).grad = 1.0;
  }
}

// A scalar-like node's gradient as a number (0 when none arrived).
double grad_number(Node& n) {
  if (!is_tensor(n)) return as_scalar(n).grad;
  TensorNode& t = as_tensor(n);
  if (!t.grad) return 0.0;
  return alias(t.grad, t.shape, t.dtype).item();
}

void refuse_released(Node& n, const char* name) {
  if (is_tensor(n) && !(n.flags & kLeaf) && ((n.flags & kReleased) || !as_tensor(n).backward)) {
    throw Error(name, fmt::format("the saved values of op '{}' were released by a backward() "
                                  "without retain_graph: call backward(retain_graph=true), or "
                                  "explain before backward",
                                  n.op->name));
  }
}

bool is_scalar_like(Node& n) { return !is_tensor(n) || numel(as_tensor(n).shape) == 1; }

std::vector<LocalDerivative> local_derivatives(Node& n, const char* op_name) {
  std::vector<LocalDerivative> out;
  if (n.flags & kLeaf) return out;
  for (std::size_t i = 0, k = input_count(n); i < k; ++i) {
    Node* in = input_of(n, i);
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const LocalDerivative& d) { return d.input == in; });
    if (!seen) out.push_back({in, kNaN});
  }
  const bool any_number = std::any_of(out.begin(), out.end(), [](const LocalDerivative& d) {
    return (d.input->flags & kRequiresGrad) && is_scalar_like(*d.input);
  });
  if (!is_scalar_like(n) || !any_number) return out;
  refuse_released(n, op_name);
  NoGradGuard no_grad;  // as in the engine: rules compute, they do not record
  AnomalyModeGuard unchecked(false);
  GradRestorer restore;
  restore.saved.push_back(take_grad(n));
  for (const LocalDerivative& d : out) restore.saved.push_back(take_grad(*d.input));
  seed_one(n);
  n.op->backward(n);
  for (LocalDerivative& d : out) {
    if ((d.input->flags & kRequiresGrad) && is_scalar_like(*d.input))
      d.value = grad_number(*d.input);
  }
  return out;
}

std::string readable_op_label(const GraphNode& n) {
  // x - 2 is recorded as x + (-2): show it as written.
  if (n.op_label.rfind("+ -", 0) == 0) return std::string("- ").append(n.op_label, 3);
  return n.op_label;
}

}  // namespace ag::detail
