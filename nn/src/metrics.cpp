#include "nn/metrics.hpp"

#include <fmt/format.h>

#include <string>

namespace ag::nn {

double accuracy(const Tensor& logits_or_probs, std::span<const std::int64_t> labels) {
  const char* who = "nn::accuracy";
  const Tensor& x = logits_or_probs;
  if (!x.defined() || x.dim() < 1 || x.dim() > 2 || x.size(0) == 0) {
    throw Error(who, "expected a non-empty [N], [N, 1] or [N, C] tensor, got shape " +
                         (x.defined() ? to_string(x.shape()) : std::string("undefined")));
  }
  if (x.dim() == 2 && x.size(1) == 0)
    throw Error(who, "predictions of shape " + to_string(x.shape()) + " have no classes");
  const std::int64_t rows = x.size(0);
  if (static_cast<std::int64_t>(labels.size()) != rows) {
    throw Error(who, fmt::format("{} labels for predictions of shape {}", labels.size(),
                                 to_string(x.shape())));
  }
  std::int64_t correct = 0;
  if (x.dim() == 2 && x.size(1) >= 2) {
    const std::vector<std::int64_t> predicted = argmax(x, 1);
    for (std::int64_t i = 0; i < rows; ++i) correct += predicted[i] == labels[i];
  } else {
    const std::vector<double> probs = x.to_vector();
    for (std::int64_t i = 0; i < rows; ++i) correct += (probs[i] > 0.5 ? 1 : 0) == labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(rows);
}

}  // namespace ag::nn
