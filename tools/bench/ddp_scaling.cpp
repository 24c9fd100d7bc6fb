// Data-parallel scaling of the MLP 784-256-128-10 (float32, Adam) at a fixed global batch:
// run it with `mpirun -np 1` and `-np 2` and compare. Per step it separates the local
// forward + backward, the time finish_gradient_sync() waits for the all-reduce, and Adam's
// step; it also times a bare all-reduce of the same gradient payload, so that the wait can be
// split into communication and waiting for a slower rank. Prints one line (rank 0):
//
//   mpirun -np 2 build/tools/ag_bench_ddp --batch 1024 --steps 60
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "autograd/autograd.hpp"
#include "command_line/options.hpp"
#include "dist/dist.hpp"
#include "nn/nn.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t batch = 128;
  int steps = 60, warmup = 5, threads = 1;
  std::size_t bucket_bytes = std::size_t{1} << 20;
  command_line::Options cli{"Data-parallel step time of the MLP 784-256-128-10"};
  cli.add("--batch", batch, "global batch, split over the ranks")
      .range(1LL, 1LL << 30)
      .show_default();
  cli.add("--steps", steps, "timed steps").range(1, 1 << 30).show_default();
  cli.add("--warmup", warmup, "untimed steps first").range(0, 1 << 30).show_default();
  cli.add("--threads", threads, "kernel threads per rank").range(1, 256).show_default();
  cli.add("--bucket-bytes", bucket_bytes, "all-reduce bucket size")
      .range(1LL, 1LL << 40)
      .show_default();
  if (auto status = cli.parse(argc, argv)) return *status;  // --help, or refused

  return ag::dist::run(argc, argv, [&] {
    namespace nn = ag::nn;
    const int rank = ag::dist::rank(), world = ag::dist::world_size();
    ag::set_num_threads(threads);
    ag::Generator gen(1);
    nn::Sequential net;
    net.emplace<nn::Dense>(784, 256, nn::Init::HeNormal, gen);
    net.emplace<nn::ReLU>();
    net.emplace<nn::Dense>(256, 128, nn::Init::HeNormal, gen);
    net.emplace<nn::ReLU>();
    net.emplace<nn::Dense>(128, 10, nn::Init::XavierNormal, gen);
    ag::dist::DistributedDataParallel ddp(net, {.bucket_bytes = bucket_bytes});
    nn::Adam adam(net.named_parameters(), 1e-3, 0.9, 0.999, 1e-8);

    const ag::dist::Share share = ag::dist::share_of(batch, world, rank);
    const std::int64_t rows = share.end - share.begin;
    ag::Generator data_gen(100 + static_cast<std::uint64_t>(rank));
    const ag::Tensor x = ag::rand({rows, 784}, data_gen);
    std::vector<std::int64_t> y(static_cast<std::size_t>(rows));
    for (auto& label : y) label = static_cast<std::int64_t>(data_gen.uniform() * 10);

    std::vector<double> step_ms, compute_ms, wait_ms, optim_ms;
    for (int s = 0; s < warmup + steps; ++s) {
      ag::dist::barrier();  // steps start together: the wait then measures this step only
      const auto t0 = Clock::now();
      adam.zero_grad();
      nn::cross_entropy(ddp(x), y).backward();
      const double compute = ms_since(t0);
      const auto t1 = Clock::now();
      ddp.finish_gradient_sync();
      const double wait = ms_since(t1);
      const auto t2 = Clock::now();
      adam.step();
      const double optim = ms_since(t2);
      if (s < warmup) continue;
      step_ms.push_back(ms_since(t0));
      compute_ms.push_back(compute);
      wait_ms.push_back(wait);
      optim_ms.push_back(optim);
    }
    // The same payload all-reduced alone: communication without any rank being late.
    ag::Tensor payload = ag::zeros({static_cast<std::int64_t>(ddp.gradient_bytes() / 4)});
    std::vector<double> bare_ms;
    for (int s = 0; s < steps; ++s) {
      ag::dist::barrier();
      const auto t = Clock::now();
      ag::dist::all_reduce_sum(payload);
      bare_ms.push_back(ms_since(t));
    }
    const double bytes = static_cast<double>(ddp.gradient_bytes());
    const double ring_sent = world > 1 ? 2.0 * (world - 1) / world * bytes : 0.0;
    if (rank == 0) {
      std::printf(
          "ranks %d  global batch %lld (%lld per rank)  buckets %zu  step %.2f ms  "
          "(forward+backward %.2f, all-reduce wait %.2f, adam %.2f)  bare all-reduce %.3f ms  "
          "%.0f samples/s  gradient %.0f bytes/step, ring sends %.0f bytes/rank/step\n",
          world, static_cast<long long>(batch), static_cast<long long>(rows), ddp.buckets().size(),
          median(step_ms), median(compute_ms), median(wait_ms), median(optim_ms), median(bare_ms),
          static_cast<double>(batch) / median(step_ms) * 1e3, bytes, ring_sent);
    }
    return 0;
  });
}
