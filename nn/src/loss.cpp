#include "nn/loss.hpp"

#include <fmt/format.h>

#include <string>

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
  const char* who = "nn::cross_entropy";
  if (!logits.defined() || logits.dim() != 2 || logits.size(0) == 0) {
    throw Error(who, "logits must be a non-empty [N, C] tensor, got shape " +
                         (logits.defined() ? to_string(logits.shape()) : std::string("undefined")));
  }
  const std::int64_t rows = logits.size(0);
  const std::int64_t classes = logits.size(1);
  if (static_cast<std::int64_t>(labels.size()) != rows) {
    throw Error(who, fmt::format("{} labels for logits of shape {}", labels.size(),
                                 to_string(logits.shape())));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw Error(who, fmt::format("label {} at row {} is outside [0, {}) for logits of shape {}",
                                   labels[i], i, classes, to_string(logits.shape())));
    }
  }
  return ag::cross_entropy(logits, labels);  // fused log-softmax + pick + mean
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
