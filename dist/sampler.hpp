#pragma once
// Which rows each rank trains on: one shuffle per epoch that every rank draws alike (same
// seed), cut into global batches, each split across the ranks. Every row is used exactly once
// per epoch, and every rank runs the same number of steps (as the all-reduces need).
// Pure arithmetic, no MPI: a rank needs only its rank and the world size.
#include <cstdint>
#include <vector>

namespace ag::dist {

class DistributedSampler {
 public:
  // `global_batch` rows per step over all ranks; each rank gets a contiguous share of every
  // global batch (shares differ by at most one row). A final global batch with fewer rows than
  // there are ranks joins the batch before it, so that no rank gets an empty share.
  // `seed` must be the same on every rank (broadcast it if it comes from the clock).
  DistributedSampler(std::int64_t dataset_size, std::int64_t global_batch, int world_size, int rank,
                     std::uint64_t seed, bool shuffle = true);

  // This rank's rows for each step of `epoch` (a fresh shuffle per epoch).
  std::vector<std::vector<std::int64_t>> epoch_batches(std::int64_t epoch) const;
  // The global batches of `epoch` before the split (what one process would train on).
  std::vector<std::vector<std::int64_t>> global_batches(std::int64_t epoch) const;

  std::int64_t dataset_size() const { return size_; }
  int rank() const { return rank_; }
  int world_size() const { return world_; }

 private:
  std::int64_t size_, batch_;
  int world_, rank_;
  std::uint64_t seed_;
  bool shuffle_;
};

// Rows [begin, end) of `count` that rank `rank` of `world_size` takes: contiguous, sizes
// differing by at most one (the split used for each global batch and for evaluation).
struct Share {
  std::int64_t begin, end;
};
Share share_of(std::int64_t count, int world_size, int rank);

}  // namespace ag::dist
