// ag_bench_node_floor: what recording a scalar chain costs in memory traffic alone, the floor
// under the tape's per-op figure. It writes n records of the tape node's size in creation order
// (each holding a value, a gradient and a pointer to the previous record) and sweeps them in
// reverse, adding each gradient into the previous record's, as the tape's backward does, with
// no engine around it. A 48-byte record is the tape's node today; 32 bytes is the node the
// ≤ 32 B/op target asks for.
//
//   ag_bench_node_floor [--bytes 48|32] [--n 2000000] [--reps 5]   prints one JSON line
//
// Memory is touched once before the timed repetitions (a reused tape chunk, as in the
// benchmark's server), so page faults are not timed; the best repetition is reported.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "command_line/options.hpp"

namespace {

template <int Bytes>
struct Record {
  double value;
  double grad;
  Record* input;
  char rest[Bytes - 24];  // the op, counts and a second slot of the real node
};

template <int Bytes>
void measure(std::size_t n, int reps, double& write_ns, double& sweep_ns) {
  static_assert(sizeof(Record<Bytes>) == Bytes);
  std::vector<Record<Bytes>> records(n);
  std::memset(static_cast<void*>(records.data()), 0, n * sizeof(Record<Bytes>));
  write_ns = sweep_ns = 1e30;
  double sink = 0.0;
  for (int r = 0; r < reps; ++r) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    records[0].value = 0.5;
    for (std::size_t i = 1; i < n; ++i) {
      Record<Bytes>& x = records[i];
      x.input = &records[i - 1];
      x.value = x.input->value * (1.0 - 1e-6) + 1e-6;
      x.grad = 0.0;
      std::memset(x.rest, 1, sizeof(x.rest));
    }
    const auto t1 = Clock::now();
    records[n - 1].grad = 1.0;
    for (std::size_t i = n - 1; i > 0; --i) {
      Record<Bytes>& x = records[i];
      x.input->grad += x.grad * (1.0 - 1e-6);
    }
    const auto t2 = Clock::now();
    sink += records[0].grad;
    write_ns = std::min(write_ns, std::chrono::duration<double>(t1 - t0).count() / n * 1e9);
    sweep_ns = std::min(sweep_ns, std::chrono::duration<double>(t2 - t1).count() / n * 1e9);
  }
  if (sink == 42.0) std::puts("");  // keeps the loops
}

}  // namespace

int main(int argc, char** argv) {
  std::string bytes_text = "48";
  long long records = 2'000'000;
  int reps = 5;
  command_line::Options options{"Recording and sweeping a scalar chain's records, no engine"};
  options.add("--bytes", bytes_text, "bytes per record: today's node, or the target's")
      .one_of({"48", "32"})
      .show_default();
  options.add("--n", records, "records").range(2LL, 1'000'000'000LL).show_default();
  options.add("--reps", reps, "timed repetitions (the best counts)").range(1, 1000).show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  const int bytes = std::stoi(bytes_text);
  const auto n = static_cast<std::size_t>(records);
  double write_ns = 0.0, sweep_ns = 0.0;
  if (bytes == 48)
    measure<48>(n, reps, write_ns, sweep_ns);
  else
    measure<32>(n, reps, write_ns, sweep_ns);
  std::printf(
      "{\"bytes\": %d, \"n\": %zu, \"write_ns_per_node\": %.2f, \"sweep_ns_per_node\": %.2f, "
      "\"total_ns_per_node\": %.2f}\n",
      bytes, n, write_ns, sweep_ns, write_ns + sweep_ns);
  return 0;
}
