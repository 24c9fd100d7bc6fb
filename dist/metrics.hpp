#pragma once
// Metrics over the ranks: each rank scores its share of a data set, the counts are summed, and
// every rank gets the same totals.
#include <cstdint>
#include <span>

#include "nn/module.hpp"

namespace ag::dist {

struct Score {
  double loss = 0.0;      // mean cross-entropy over all rows
  double accuracy = 0.0;  // fraction of rows whose argmax is the label
};

// Collective. Scores `module` on rows [0, N) of x ([N, features]) with `labels`: rank r takes
// share_of(N, world, r), in chunks, without recording a graph.
Score evaluate(nn::Module& module, const Tensor& x, std::span<const std::int64_t> labels);

}  // namespace ag::dist
