#include "nn/loss.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace ag::nn {

namespace {

void require_same_shape(const char* who, const Tensor& a, const char* a_name, const Tensor& b,
                        const char* b_name) {
  if (!a.defined() || !b.defined()) throw Error(who, "undefined input tensor");
  if (a.shape() != b.shape()) {
    throw Error(who, fmt::format("{} of shape {} and {} of shape {} must have the same shape",
                                 a_name, to_string(a.shape()), b_name, to_string(b.shape())));
  }
  if (a.numel() == 0) throw Error(who, "empty input of shape " + to_string(a.shape()));
}

}  // namespace

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  require_same_shape("nn::mse_loss", pred, "pred", target, "target");
  const Tensor diff = pred - target;
  return mean(diff * diff);
}

Tensor cross_entropy(const Tensor& logits, std::span<const std::int64_t> labels) {
  // ag::cross_entropy (fused log-softmax + pick + mean) checks the logits and labels; its
  // errors are renamed for this entry point rather than checked twice.
  try {
    return ag::cross_entropy(logits, labels);
  } catch (const Error& e) {
    if (e.op() != "cross_entropy") throw;
    constexpr std::string_view kPrefix = "ag::cross_entropy: ";  // Error's "ag::op: message"
    std::string_view message = e.what();
    if (message.starts_with(kPrefix)) message.remove_prefix(kPrefix.size());
    throw Error("nn::cross_entropy", message);
  }
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets) {
  require_same_shape("nn::binary_cross_entropy", probs, "probs", targets, "targets");
  const Tensor p = clamp(probs, kProbabilityClamp, 1.0 - kProbabilityClamp);
  return -mean(targets * log(p) + (1.0 - targets) * log(1.0 - p));
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets) {
  require_same_shape("nn::binary_cross_entropy_with_logits", logits, "logits", targets, "targets");
  // Row i of log_softmax([0, x_i]) is [log(1 - sigmoid(x_i)), log(sigmoid(x_i))]: stable for
  // any finite x, and its gradient is exact everywhere (a relu/abs formulation is off at 0).
  const std::int64_t n = logits.numel();
  const Tensor column = reshape(logits, {n, 1});
  const Tensor log_probs = log_softmax(cat({zeros_like(column), column}, 1), 1);
  const Tensor t = reshape(targets, {n, 1});
  const Tensor weights = cat({1.0 - t, t}, 1);
  return -sum(weights * log_probs) / static_cast<double>(n);
}

}  // namespace ag::nn
