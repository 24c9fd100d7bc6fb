#include "dist/sampler.hpp"

#include <fmt/format.h>

#include <numeric>

#include "autograd/error.hpp"
#include "nn/data.hpp"

namespace ag::dist {

DistributedSampler::DistributedSampler(std::int64_t dataset_size, std::int64_t global_batch,
                                       int world_size, int rank, std::uint64_t seed, bool shuffle)
    : size_(dataset_size),
      batch_(global_batch),
      world_(world_size),
      rank_(rank),
      seed_(seed),
      shuffle_(shuffle) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw Error("dist::DistributedSampler",
                fmt::format("rank {} is not in [0, {})", rank, world_size));
  if (global_batch < world_size)
    throw Error("dist::DistributedSampler",
                fmt::format("a global batch of {} rows cannot be split over {} ranks", global_batch,
                            world_size));
  if (dataset_size < world_size)
    throw Error(
        "dist::DistributedSampler",
        fmt::format("{} rows cannot give each of {} ranks a row", dataset_size, world_size));
}

std::vector<std::vector<std::int64_t>> DistributedSampler::global_batches(
    std::int64_t epoch) const {
  std::vector<std::vector<std::int64_t>> batches;
  if (shuffle_) {
    // A generator per epoch, a function of (seed, epoch) only: a resumed run draws the same.
    Generator gen(seed_ * 1000003u + static_cast<std::uint64_t>(epoch));
    batches = nn::shuffled_batches(size_, batch_, gen);
  } else {
    for (std::int64_t begin = 0; begin < size_; begin += batch_) {
      std::vector<std::int64_t> rows(static_cast<std::size_t>(std::min(batch_, size_ - begin)));
      std::iota(rows.begin(), rows.end(), begin);
      batches.push_back(std::move(rows));
    }
  }
  if (batches.size() > 1 && static_cast<std::int64_t>(batches.back().size()) < world_) {
    auto& previous = batches[batches.size() - 2];
    previous.insert(previous.end(), batches.back().begin(), batches.back().end());
    batches.pop_back();
  }
  return batches;
}

std::vector<std::vector<std::int64_t>> DistributedSampler::epoch_batches(std::int64_t epoch) const {
  std::vector<std::vector<std::int64_t>> mine;
  for (const auto& batch : global_batches(epoch)) {
    const Share s = share_of(static_cast<std::int64_t>(batch.size()), world_, rank_);
    mine.emplace_back(batch.begin() + s.begin, batch.begin() + s.end);
  }
  return mine;
}

Share share_of(std::int64_t count, int world_size, int rank) {
  return {count * rank / world_size, count * (rank + 1) / world_size};
}

}  // namespace ag::dist
