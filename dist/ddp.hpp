#pragma once
// Data-parallel training: every rank holds a replica of the model, computes gradients on its
// shard of the batch, and the gradients are averaged over ranks before each optimizer step.
//
//   ag::dist::DistributedDataParallel ddp(net);   // checks shapes, copies rank 0's parameters
//   for (...) {
//     adam.zero_grad();
//     ag::nn::cross_entropy(net(x_shard), y_shard).backward();  // all-reduces start in here
//     ddp.finish_gradient_sync();                                // grads are now the average
//     adam.step();
//   }
//
// Gradients are all-reduced in buckets (PyTorch's DistributedDataParallel): parameters are
// grouped in reverse registration order (roughly the order backward finishes them) into
// buckets of about `bucket_bytes`; a grad-ready hook on each parameter copies its gradient
// into its bucket, and a full bucket starts its MPI_Iallreduce at once, while backward goes on
// with the earlier layers. Buckets start in index order on every rank, as MPI requires.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.hpp"

namespace ag::dist {

struct DdpOptions {
  // Bytes of gradient per all-reduce. Smaller buckets start sooner (more overlap with
  // backward) but pay MPI's per-message latency more often.
  std::size_t bucket_bytes = std::size_t{1} << 20;
};

class DistributedDataParallel {
 public:
  // Collective: checks that every rank's module has the same parameter names, shapes and
  // dtypes (an ag::Error naming the first parameter that differs, on every rank), then
  // broadcasts rank 0's parameters into every replica and installs the grad-ready hooks.
  // The module must outlive this object; nn modules have no buffers to broadcast.
  explicit DistributedDataParallel(nn::Module& module, DdpOptions options = {});
  ~DistributedDataParallel();  // removes the hooks
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  Tensor operator()(const Tensor& x) { return module_(x); }
  nn::Module& module() { return module_; }

  // Waits for every bucket's all-reduce and writes the average over ranks into each
  // parameter's grad(). Call after backward, before the optimizer step. Throws if a backward
  // pass reached only some parameters (every parameter must take part in every step).
  // Returns false, doing nothing, when no backward ran since the last call.
  bool finish_gradient_sync();

  // Within its scope, backward only accumulates local gradients (no communication): for
  // gradient accumulation over several micro-batches. The first backward after it ends
  // all-reduces the accumulated sum.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp) : ddp_(ddp), previous_(ddp.sync_) {
      ddp.sync_ = false;
    }
    ~NoSync() { ddp_.sync_ = previous_; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  [[nodiscard]] NoSync no_sync() { return NoSync(*this); }

  // ---- Introspection (tests, benchmarks) ----
  struct BucketInfo {
    std::vector<std::string> params;  // in the order their gradients are laid out
    std::size_t bytes = 0;
  };
  std::vector<BucketInfo> buckets() const;
  // For each bucket of the last synchronised step, in the order started: its index and how
  // many parameters' gradients were ready when it started (less than all = overlapped).
  struct Launch {
    std::size_t bucket;
    std::size_t ready_params;
  };
  const std::vector<Launch>& last_launches() const { return launches_; }
  // Seconds finish_gradient_sync() spent waiting in its last call, and bytes all-reduced per
  // step (the gradient payload; a ring all-reduce sends 2 (N-1)/N times this per rank).
  double last_wait_seconds() const { return last_wait_seconds_; }
  std::size_t gradient_bytes() const;

 private:
  struct Slot {
    std::string name;
    Tensor param;
    std::uint64_t hook = 0;
    std::size_t bucket = 0;
    std::size_t offset = 0;  // elements into the bucket's buffer
    bool ready = false;
  };
  struct Bucket;
  void on_grad_ready(std::size_t slot);
  void start_ready_buckets();

  nn::Module& module_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Bucket>> buckets_;  // Bucket holds MPI types: defined in ddp.cpp
  std::size_t next_to_start_ = 0;
  std::size_t ready_params_ = 0;
  bool sync_ = true;
  std::vector<Launch> launches_, launches_in_progress_;
  double last_wait_seconds_ = 0.0;
};

}  // namespace ag::dist
