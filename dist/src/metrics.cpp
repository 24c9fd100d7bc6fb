#include "dist/metrics.hpp"

#include <fmt/format.h>

#include <numeric>

#include "autograd/error.hpp"
#include "dist/comm.hpp"
#include "dist/sampler.hpp"
#include "nn/data.hpp"
#include "nn/loss.hpp"

namespace ag::dist {

Score evaluate(nn::Module& module, const Tensor& x, std::span<const std::int64_t> labels) {
  const std::int64_t n = static_cast<std::int64_t>(labels.size());
  if (!x.defined() || x.dim() < 1 || x.size(0) != n)
    throw Error("dist::evaluate",
                fmt::format("{} labels for a tensor of shape {}", n,
                            x.defined() ? to_string(x.shape()) : std::string("(undefined)")));
  NoGradGuard no_grad;
  const Share share = share_of(n, world_size(), rank());
  constexpr std::int64_t kChunk = 2000;
  double loss_sum = 0.0, correct = 0.0;
  for (std::int64_t begin = share.begin; begin < share.end; begin += kChunk) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(std::min(kChunk, share.end - begin)));
    std::iota(rows.begin(), rows.end(), begin);
    const Tensor logits = module(nn::take_rows(x, rows));
    const auto y = labels.subspan(static_cast<std::size_t>(begin), rows.size());
    loss_sum += nn::cross_entropy(logits, y).item() * static_cast<double>(rows.size());
    const auto predicted = argmax(logits, 1);
    for (std::size_t i = 0; i < rows.size(); ++i) correct += predicted[i] == y[i];
  }
  const double local[] = {loss_sum, correct};
  const auto total = all_reduce_sum(local);
  return {total[0] / static_cast<double>(n), total[1] / static_cast<double>(n)};
}

}  // namespace ag::dist
