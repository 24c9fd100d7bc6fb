// Anomaly mode: NaN/Inf checks after every op and every backward rule, naming the culprit.
#include "autograd/anomaly.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "autograd/error.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"

namespace ag {
namespace detail {

constinit thread_local bool anomaly_mode = false;

namespace {

std::string labelled(const Node& n) {
  std::string label = label_of(n);
  return label.empty() ? std::string() : fmt::format(", labelled '{}'", label);
}

std::string shape_of(Node& n) { return is_tensor(n) ? to_string(as_tensor(n).shape) : "scalar"; }

// Index and value of the first non-finite element, if any.
std::optional<std::pair<std::int64_t, double>> first_non_finite(const void* data, Dtype dtype,
                                                                std::int64_t n) {
  return dispatch(dtype, [&](auto tag) -> std::optional<std::pair<std::int64_t, double>> {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(data);
    for (std::int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(p[i])) return std::make_pair(i, static_cast<double>(p[i]));
    }
    return std::nullopt;
  });
}

std::string input_shapes(const std::vector<Node*>& inputs) {
  std::vector<std::string> shapes;
  shapes.reserve(inputs.size());
  for (Node* in : inputs) shapes.push_back(shape_of(*in));
  return fmt::format("{}", fmt::join(shapes, ", "));
}

[[noreturn]] void throw_backward_anomaly(Node& n, std::size_t i,
                                         std::pair<std::int64_t, double> bad) {
  Node& in = *input_of(n, i);
  throw Error(
      n.op->name,
      fmt::format("anomaly in the backward pass: the gradient of input {} ({}{}) has {} "
                  "at element {} (output shape {}{})",
                  i, shape_of(in), labelled(in), bad.second, bad.first, shape_of(n), labelled(n)));
}

}  // namespace

void check_forward_anomaly(Node& result, const char* op, const std::vector<Node*>& inputs) {
  if (is_tensor(result)) {
    TensorNode& t = as_tensor(result);
    if (auto bad = first_non_finite(t.storage->data, t.dtype, numel(t.shape))) {
      throw Error(
          op,
          fmt::format("anomaly in the forward pass: output element {} is {} (output shape {}{}; "
                      "input shapes {})",
                      bad->first, bad->second, to_string(t.shape), labelled(result),
                      input_shapes(inputs)));
    }
  } else if (!std::isfinite(as_scalar(result).value)) {
    throw Error(
        op, fmt::format("anomaly in the forward pass: the result is {}", as_scalar(result).value));
  }
}

void check_backward_anomaly(Node& n) {
  for (std::size_t i = 0; i < input_count(n); ++i) {
    Node& in = *input_of(n, i);
    if (!(in.flags & kRequiresGrad)) continue;
    std::optional<std::pair<std::int64_t, double>> bad;
    if (is_tensor(in)) {
      TensorNode& t = as_tensor(in);
      if (t.grad) bad = first_non_finite(t.grad->data, t.dtype, numel(t.shape));
    } else if (!std::isfinite(as_scalar(in).grad)) {
      bad = std::make_pair(std::int64_t{0}, as_scalar(in).grad);
    }
    if (bad) throw_backward_anomaly(n, i, *bad);
  }
}

void check_backward_anomaly(Node& n, std::size_t input, const Tensor& gradient) {
  const std::vector<double> g = gradient.to_vector();  // any layout; anomaly mode is for debugging
  if (auto bad = first_non_finite(g.data(), Dtype::Float64, static_cast<std::int64_t>(g.size())))
    throw_backward_anomaly(n, input, *bad);
}

void check_backward_anomaly(Node& n, std::size_t input, double gradient) {
  if (!std::isfinite(gradient)) throw_backward_anomaly(n, input, {0, gradient});
}

}  // namespace detail

bool anomaly_mode_enabled() noexcept { return detail::anomaly_mode; }
AnomalyModeGuard::AnomalyModeGuard(bool on) noexcept : previous_(detail::anomaly_mode) {
  detail::anomaly_mode = on;
}
AnomalyModeGuard::~AnomalyModeGuard() { detail::anomaly_mode = previous_; }

}  // namespace ag
