// ag_bench: the engine's side of the PyTorch comparison (tools/bench/run.sh drives it).
//
//   ag_bench run <workload> [key=value ...]   one run, one JSON line on stdout
//   ag_bench serve                            one request per stdin line, one JSON line each
//                                             (also: gemm_backend, gemm_sharing: so far)
//   ag_bench smoke <refs file>                tiny sizes; results must match stored PyTorch refs
//   --threads N (before the mode)             ag::set_num_threads(N) (OpenBLAS included)
//
// Workloads: chain, tiny, chain_tape, tiny_tape (the same on an ag::Tape), micrograd, spiral, mlp,
// matmul (see workloads.cpp for parameters).
#include <fmt/format.h>

#include <autograd/autograd.hpp>
#include <autograd/gemm_backend.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "workloads.hpp"

namespace {

using agbench::Figures;
using agbench::Params;

std::string json_figures(const Figures& figures) {
  std::string out = "{";
  for (std::size_t i = 0; i < figures.size(); ++i) {
    // repr-like: 17 significant digits round-trip a double exactly.
    out += fmt::format("{}\"{}\": {:.17g}", i ? ", " : "", figures[i].first, figures[i].second);
  }
  return out + "}";
}

// One request "<workload> key=value ..." -> one JSON line.
std::string handle(const std::string& line) {
  std::istringstream in(line);
  std::string name, word;
  in >> name;
  Params params;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos)
      return fmt::format("{{\"error\": \"expected key=value, got {}\"}}", word);
    params[word.substr(0, eq)] = word.substr(eq + 1);
  }
  const double rss_at_start = static_cast<double>(agbench::current_rss_bytes());
  try {
    const auto o = agbench::run_workload(name, params);
    Figures extra = o.extra;
    extra.emplace_back("rss_at_start_bytes", rss_at_start);
    extra.emplace_back("peak_rss_bytes", static_cast<double>(agbench::peak_rss_bytes()));
    return fmt::format(
        "{{\"workload\": \"{}\", \"seconds_per_unit\": {:.9g}, \"unit\": \"{}\", \"extra\": {}, "
        "\"result\": {}}}",
        name, o.seconds_per_unit, o.unit, json_figures(extra), json_figures(o.result));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (auto& ch : msg) {
      if (ch == '"' || ch == '\\' || ch == '\n') ch = ' ';
    }
    return fmt::format("{{\"workload\": \"{}\", \"error\": \"{}\"}}", name, msg);
  }
}

// The smoke test: every workload at a tiny size against the PyTorch values stored by
// tools/bench/make_bench_refs.py. Lines: "<request> | <name> <value> <rtol> ...".
int smoke(const std::string& refs_path) {
  std::ifstream refs(refs_path);
  if (!refs) {
    std::cerr << "ag_bench smoke: cannot open " << refs_path << "\n";
    return 2;
  }
  int failures = 0, checks = 0;
  std::string line;
  while (std::getline(refs, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto bar = line.find('|');
    if (bar == std::string::npos) {
      std::cerr << "malformed line in " << refs_path << ": " << line << "\n";
      return 2;
    }
    const std::string request = line.substr(0, bar);
    std::istringstream in(request);
    std::string name, word;
    in >> name;
    Params params;
    while (in >> word) params[word.substr(0, word.find('='))] = word.substr(word.find('=') + 1);
    agbench::Outcome outcome;
    try {
      outcome = agbench::run_workload(name, params);
    } catch (const std::exception& e) {
      fmt::print("FAIL  {:<40} threw: {}\n", request, e.what());
      ++failures;
      ++checks;
      continue;
    }
    std::istringstream expected(line.substr(bar + 1));
    std::string key;
    double want = 0.0, rtol = 0.0;
    while (expected >> key >> want >> rtol) {
      ++checks;
      bool found = false;
      for (const auto& [k, got] : outcome.result) {
        if (k != key) continue;
        found = true;
        const bool ok = std::abs(got - want) <= rtol * std::abs(want) + 1e-12;
        fmt::print("{:<5} {:<40} {:<10} ours {:<24.17g} torch {:<24.17g} rtol {:g}\n",
                   ok ? "ok" : "FAIL", request, key, got, want, rtol);
        if (!ok) ++failures;
      }
      if (!found) {
        fmt::print("FAIL  {:<40} {:<10} missing from the engine's results\n", request, key);
        ++failures;
      }
    }
  }
  fmt::print("{} of {} checks agree with PyTorch\n", checks - failures, checks);
  return failures == 0 && checks > 0 ? 0 : 1;
}

void usage() {
  std::cerr << "usage: ag_bench [--threads N] run <workload> [key=value ...]\n"
               "       ag_bench [--threads N] serve\n"
               "       ag_bench [--threads N] smoke <refs file>\n"
               "workloads: chain tiny micrograd spiral mlp matmul\n";
}

}  // namespace

int main(int argc, char** argv) {
  int arg = 1;
  if (arg + 1 < argc && std::string(argv[arg]) == "--threads") {
    ag::set_num_threads(std::atoi(argv[arg + 1]));
    arg += 2;
  }
  if (arg >= argc) {
    usage();
    return 2;
  }
  const std::string mode = argv[arg++];
  if (mode == "run" && arg < argc) {
    std::string request;
    for (; arg < argc; ++arg) request += std::string(argv[arg]) + " ";
    const std::string reply = handle(request);
    std::cout << reply << std::endl;
    return reply.find("\"error\"") == std::string::npos ? 0 : 1;
  }
  if (mode == "serve") {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "quit") break;
      if (line == "gemm_backend") {  // which library ran the products so far (the report says)
        std::cout << fmt::format("{{\"gemm_backend\": \"{}\"}}", ag::gemm_backend()) << std::endl;
        continue;
      }
      if (line == "gemm_sharing") {  // how the large products were shared between threads
        std::cout << fmt::format("{{\"gemm_sharing\": \"{}\"}}", ag::gemm_sharing()) << std::endl;
        continue;
      }
      std::cout << handle(line) << std::endl;  // endl flushes: the runner waits for each line
    }
    return 0;
  }
  if (mode == "smoke" && arg < argc) return smoke(argv[arg]);
  usage();
  return 2;
}
