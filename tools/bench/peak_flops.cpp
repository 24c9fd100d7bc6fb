// ag_bench_peak: the machine's float32 FMA peak, the yardstick of the matmul and MLP figures.
// Built with -march=native in its own target (the library itself stays portable). Each thread
// runs independent chains of fused multiply-adds on the widest vectors the CPU has; enough
// chains cover the FMA latency (4 cycles) times the number of FMA ports (2). The rate is
// per thread CPU time, summed over threads (the machine is shared: see main).
//
//   ag_bench_peak [--threads N] [--seconds S] [--width 512|256]   prints one JSON line
#include <immintrin.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "command_line/options.hpp"

namespace {

constexpr int kChains = 12;
constexpr long kInnerIterations = 1 << 16;

template <class V, V (*Fma)(V, V, V), V (*Set1)(float), float (*Sum)(V)>
double fma_loop(long outer, float* sink) {
  V acc[kChains];
#pragma GCC unroll 16
  for (int c = 0; c < kChains; ++c) acc[c] = Set1(static_cast<float>(c) * 1e-3f);
  const V mul = Set1(0.999999f), add = Set1(1e-7f);
  for (long o = 0; o < outer; ++o) {
    for (long i = 0; i < kInnerIterations; ++i) {
#pragma GCC unroll 16  // unrolled, the accumulators live in registers
      for (int c = 0; c < kChains; ++c) acc[c] = Fma(acc[c], mul, add);
    }
  }
  float total = 0.0f;
  for (int c = 0; c < kChains; ++c) total += Sum(acc[c]);
  *sink = total;  // keeps the loop alive
  return static_cast<double>(outer) * kInnerIterations * kChains * (sizeof(V) / sizeof(float)) * 2;
}

#ifdef __AVX512F__
__m512 fma512(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
__m512 set512(float v) { return _mm512_set1_ps(v); }
float sum512(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}
#endif
#ifdef __FMA__
__m256 fma256(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
__m256 set256(float v) { return _mm256_set1_ps(v); }
float sum256(__m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}
#endif

double run_width(int width, long outer, float* sink) {
#ifdef __AVX512F__
  if (width == 512) return fma_loop<__m512, fma512, set512, sum512>(outer, sink);
#endif
#ifdef __FMA__
  if (width == 256) return fma_loop<__m256, fma256, set256, sum256>(outer, sink);
#endif
  (void)outer;
  (void)sink;
  return -1.0;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  double seconds = 0.3;
#ifdef __AVX512F__
  std::string width_bits = "512";
#else
  std::string width_bits = "256";
#endif
  command_line::Options options{"The float32 FMA peak of this CPU, per thread CPU time"};
  options.add("--threads", threads, "threads, each on its own chains")
      .range(1, 1024)
      .show_default();
  options.add("--seconds", seconds, "how long each thread runs").range(0.001, 60.0).show_default();
  options.add("--width", width_bits, "vector width in bits").one_of({"512", "256"}).show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  const int width = std::stoi(width_bits);
  float sink = 0.0f;
  if (run_width(width, 1, &sink) < 0) {
    std::printf("{\"error\": \"this build has no %d-bit FMA\"}\n", width);
    return 1;
  }
  // Calibrate the work so one thread runs about `seconds`.
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  long outer = 1;
  double elapsed = 0.0;
  while ((elapsed = std::chrono::duration<double>(Clock::now() - t0).count()) < 0.02) {
    run_width(width, outer, &sink);
    outer *= 2;
  }
  outer = std::max(1L, static_cast<long>(outer * seconds / elapsed));
  std::vector<float> sinks(static_cast<std::size_t>(threads));
  std::vector<double> rates(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  t0 = Clock::now();
  // Each thread's rate is over its own CPU time: on a shared machine another process may hold
  // a core for a while, and what is asked here is what the hardware can do.
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const double cpu0 = thread_cpu_seconds();
      const double flops = run_width(width, outer, &sinks[t]);
      rates[t] = flops / (thread_cpu_seconds() - cpu0);
    });
  }
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double total = 0.0;
  for (double r : rates) total += r;
  std::printf(
      "{\"threads\": %d, \"width\": %d, \"gflops\": %.3f, \"seconds\": %.4f, \"sink\": %g}\n",
      threads, width, total * 1e-9, wall, static_cast<double>(sinks[0]));
  return 0;
}
