#pragma once
// The benchmark workloads of the engine. Each runs once with the given parameters and reports
// a time per unit (per recorded op, per iteration, per step, ...), extra figures, and the
// numbers that must agree with the PyTorch twin (tools/bench/torch_bench.py, same names).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace agbench {

using Params = std::map<std::string, std::string>;
using Figures = std::vector<std::pair<std::string, double>>;

struct Outcome {
  double seconds_per_unit = 0.0;
  std::string unit;  // "op", "iteration", "step", "epoch", "matmul"
  Figures extra;     // secondary timings and measurements
  Figures result;    // numerical results checked against PyTorch
};

// Integer parameter `key`, or `fallback` when absent; throws on a malformed value.
std::int64_t get_int(const Params& params, const std::string& key, std::int64_t fallback);

// Runs workload `name`; throws std::invalid_argument for an unknown name.
Outcome run_workload(const std::string& name, const Params& params);
// The names run_workload accepts.
const std::vector<std::string>& workload_names();

// Resident set size of this process now, and its high-water mark, in bytes.
std::int64_t current_rss_bytes();
std::int64_t peak_rss_bytes();

}  // namespace agbench
