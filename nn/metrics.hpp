#pragma once
// Classification accuracy.
#include <autograd/autograd.hpp>
#include <cstdint>
#include <span>

namespace ag::nn {

// Fraction of rows whose prediction equals the label.
// [N, C] with C >= 2 (logits or probabilities): the prediction is the argmax of the row.
// [N] or [N, 1] (probabilities of class 1): the prediction is 1 where p > 0.5, else 0.
double accuracy(const Tensor& logits_or_probs, std::span<const std::int64_t> labels);

}  // namespace ag::nn
