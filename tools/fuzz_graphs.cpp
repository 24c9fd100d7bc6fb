// Long on-demand random-graph run (the CI test runs 20,000 graphs; this runs as many as asked,
// in parallel over seeds, each thread its own graphs). Failures are shrunk, printed, and saved
// to --save-dir (copy them into tests/data/random_graphs/ to keep them as regression cases).
//
//   build/tools/fuzz_graphs --graphs 1000000 --seed 1 --threads 2 --max-ops 16
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "command_line/options.hpp"
#include "random_graph.hpp"

int main(int argc, char** argv) {
  command_line::Options cli{"Random autograd graphs checked against finite differences"};
  long graphs = 1000000;
  std::uint64_t seed = 1;
  int threads = 2;
  int max_ops = 12;
  std::string save_dir = "random_graph_failures";
  cli.add("--graphs", graphs, "number of graphs").range(1LL, 1'000'000'000'000LL);
  cli.add("--seed", seed, "first seed (graph i uses seed + i)").non_negative();
  cli.add("--threads", threads, "worker threads").range(1, 64);
  cli.add("--max-ops", max_ops, "ops per graph at most").range(1, 200);
  cli.add("--save-dir", save_dir, "where shrunk failures are written");
  if (auto status = cli.parse(argc, argv)) return *status;  // --help, or refused

  ag::fuzz::GenerateOptions options;
  options.max_ops = max_ops;
  const auto start = std::chrono::steady_clock::now();
  std::mutex log_mutex;
  std::atomic<long> failures{0}, ops{0}, done{0};
  std::vector<std::thread> workers;
  // Thread t takes seeds seed + t*block ... in blocks, so the set of seeds checked is the same
  // for any thread count.
  const long block = 1000;
  std::atomic<long> next_block{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (long b; (b = next_block++) * block < graphs;) {
        const long count = std::min(block, graphs - b * block);
        std::ostringstream log;
        const auto summary = ag::fuzz::fuzz_graphs(seed + static_cast<std::uint64_t>(b * block),
                                                   count, save_dir, log, 1000, options);
        failures += summary.failures;
        ops += summary.ops;
        const long finished = done += summary.graphs;
        std::lock_guard lock(log_mutex);
        std::cout << log.str();
        if (finished % 100000 < count) std::cout << finished << " graphs checked" << std::endl;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << done << " graphs (" << ops << " ops, seeds " << seed << ".."
            << seed + static_cast<std::uint64_t>(graphs) - 1 << ") in " << seconds
            << " s: " << failures << " failures\n";
  return failures == 0 ? 0 : 1;
}
