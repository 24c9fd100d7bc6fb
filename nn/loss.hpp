#pragma once
// Loss functions: each returns a 0-d tensor, the mean over the batch, differentiable in its
// first argument. Shapes must match exactly (no silent broadcasting of [N, 1] against [N]).
#include <autograd/autograd.hpp>
#include <cstdint>
#include <span>

namespace ag::nn {

// mean((pred - target)^2)
Tensor mse_loss(const Tensor& pred, const Tensor& target);

// Cross-entropy of [N, C] logits against N integer labels in [0, C):
// mean_i(-log_softmax(logits)[i, labels[i]]). Fused, so finite for any finite logits.
Tensor cross_entropy(const Tensor& logits, std::span<const std::int64_t> labels);

// Clamp bounds of binary_cross_entropy: probabilities are clamped into [eps, 1 - eps]
// (NNFS and Keras do the same) so that log never sees 0.
inline constexpr double kProbabilityClamp = 1e-7;

// mean(-(t * log(p) + (1 - t) * log(1 - p))) with p clamped into [1e-7, 1 - 1e-7];
// the gradient is zero where p was clamped.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets);

// binary_cross_entropy(sigmoid(logits), targets) computed stably for any finite logits
// (as a two-class log-softmax of [0, logit]); no clamping, exact gradient sigmoid(x) - t.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets);

}  // namespace ag::nn
