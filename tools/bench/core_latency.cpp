// ag_bench_core_latency: how far apart two CPUs of this machine are, as the round trip of one
// cache line bounced between a thread pinned to each. On a VM the figure moves as the host
// places the virtual CPUs: ~60 ns when two share a cache, ~340 ns when they do not (the 2-core
// EPYC VM, docs/benchmarks.md). Whatever the two threads of a shared product exchange moves at
// that latency.
//
//   ag_bench_core_latency [--cpu-a 0] [--cpu-b 1] [--trips 200000]   prints one JSON line
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "command_line/options.hpp"

namespace {

alignas(64) std::atomic<int> ball{0};

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{"The round trip of a cache line between threads on two CPUs"};
  int a = 0, b = 1;
  long long trips = 200000;
  options.add("--cpu-a", a, "the first thread's CPU").range(0, CPU_SETSIZE - 1).show_default();
  options.add("--cpu-b", b, "the second thread's CPU").range(0, CPU_SETSIZE - 1).show_default();
  options.add("--trips", trips, "round trips timed").range(1LL, 1000000000LL).show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  if (a == b) {
    std::fprintf(stderr, "ag_bench_core_latency: --cpu-a and --cpu-b must differ (both %d)\n", a);
    return 2;
  }
  bool other_pinned = false;  // written by `other`, read after join
  std::thread other([&] {
    other_pinned = pin(b);
    for (long long i = 0; i < trips; ++i) {
      while (ball.load(std::memory_order_acquire) != 1) {
      }
      ball.store(0, std::memory_order_release);
    }
  });
  const bool pinned = pin(a);
  const auto start = std::chrono::steady_clock::now();
  for (long long i = 0; i < trips; ++i) {
    ball.store(1, std::memory_order_release);
    while (ball.load(std::memory_order_acquire) != 0) {
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  other.join();
  if (!pinned || !other_pinned) {
    std::fprintf(stderr, "ag_bench_core_latency: cannot pin a thread to CPU %d or %d\n", a, b);
    return 2;
  }
  std::printf("{\"cpus\": [%d, %d], \"trips\": %lld, \"round_trip_ns\": %.1f}\n", a, b, trips,
              seconds / static_cast<double>(trips) * 1e9);
  return 0;
}
