// Delta debugging of failing graphs, and the fuzz loop that reports (and saves) them.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>

#include "internal.hpp"

namespace ag::fuzz {

namespace detail {
namespace {

// Removes node k, pointing its users at `replacement` (an earlier node, or -1 when unused).
RandomGraph remove_node(const RandomGraph& g, int k, int replacement) {
  RandomGraph out;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (static_cast<int>(i) == k) continue;
    NodeSpec n = g.nodes[i];
    for (int& a : n.args) {
      if (a == k) a = replacement;
      if (a > k) --a;
    }
    out.nodes.push_back(std::move(n));
  }
  return out;
}

double round_to(double x, double step) {
  const double r = std::round(x / step) * step;
  return r == 0.0 ? (x < 0 ? -step : step) : r;
}

std::vector<RandomGraph> candidates(const RandomGraph& g) {
  std::vector<RandomGraph> out;
  const auto users = consumers_of(g);
  const int n = static_cast<int>(g.nodes.size());
  // 1. Drop a node: unused ones outright; used ones replaced by an operand or an earlier node.
  for (int k = n - 1; k >= 0; --k) {
    if (users[k].empty()) {
      if (n > 1) out.push_back(remove_node(g, k, -1));
      continue;
    }
    std::vector<int> replacements = g.nodes[k].args;
    for (int j = 0; j < k; ++j) replacements.push_back(j);
    std::sort(replacements.begin(), replacements.end());
    replacements.erase(std::unique(replacements.begin(), replacements.end()), replacements.end());
    for (int r : replacements) out.push_back(remove_node(g, k, r));
  }
  // 2. Fewer cat operands.
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "cat" || g.nodes[k].args.size() < 2) continue;
    for (std::size_t j = 0; j < g.nodes[k].args.size(); ++j) {
      RandomGraph c = g;
      c.nodes[k].args.erase(c.nodes[k].args.begin() + static_cast<std::ptrdiff_t>(j));
      out.push_back(std::move(c));
    }
  }
  // 3. Reshapes that flatten (so that the shapes feeding them can shrink next).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "reshape" || g.nodes[k].ints == Shape{-1}) continue;
    RandomGraph c = g;
    c.nodes[k].ints = {-1};
    out.push_back(std::move(c));
  }
  // 4. Smaller input shapes: a dim to 1, or a dim dropped (keeping the leading elements).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "tensor") continue;
    const Shape& s = g.nodes[k].ints;
    for (std::size_t d = 0; d < s.size(); ++d) {
      for (bool drop : {true, false}) {
        if (!drop && s[d] == 1) continue;
        RandomGraph c = g;
        Shape& cs = c.nodes[k].ints;
        if (drop) {
          cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(d));
        } else {
          cs[d] = 1;
        }
        c.nodes[k].reals.resize(static_cast<std::size_t>(numel(cs)));
        out.push_back(std::move(c));
      }
    }
  }
  // 5. Rounder numbers in inputs (each input at once).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "tensor" && g.nodes[k].op != "value") continue;
    for (double step : {1.0, 0.5, 0.1}) {
      RandomGraph c = g;
      for (double& x : c.nodes[k].reals) x = round_to(x, step);
      if (c.nodes[k].reals != g.nodes[k].reals) out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace
}  // namespace detail

RandomGraph shrink_graph(RandomGraph graph,
                         const std::function<bool(const RandomGraph&)>& still_fails, int* tries) {
  int count = 0;
  for (bool progress = true; progress && count < 20000;) {
    progress = false;
    for (auto& c : detail::candidates(graph)) {
      ++count;
      if (still_fails(c)) {
        graph = std::move(c);
        progress = true;
        break;
      }
    }
  }
  if (tries) *tries = count;
  return graph;
}

RandomGraph shrink_failure(const RandomGraph& graph, bool safe_domains, bool second_order) {
  const CheckResult original = check_graph(graph, safe_domains, second_order);
  if (!original.failed()) return graph;
  const std::string signature = original.signature();
  return shrink_graph(graph, [&](const RandomGraph& c) {
    const CheckResult r = check_graph(c, safe_domains, second_order);
    return r.failed() && r.signature() == signature;
  });
}

FuzzSummary fuzz_graphs(std::uint64_t first_seed, long count, const std::string& save_dir,
                        std::ostream& log, int max_failures, const GenerateOptions& options) {
  FuzzSummary summary;
  std::set<std::string> seen;
  for (long i = 0; i < count && summary.failures < max_failures; ++i) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    const RandomGraph g = generate_graph(seed, options);
    ++summary.graphs;
    const auto users = detail::consumers_of(g);
    for (std::size_t k = 0; k < g.nodes.size(); ++k) {
      if (g.nodes[k].op != "tensor" && g.nodes[k].op != "value") {
        ++summary.ops;
        seen.insert(g.nodes[k].op);
      }
      summary.shared_nodes += users[k].size() >= 2;
    }
    const bool second_order = checked_to_second_order(seed);
    summary.second_order += second_order;
    const CheckResult r = check_graph(g, true, second_order);
    if (!r.failed()) continue;
    ++summary.failures;
    const RandomGraph small = shrink_failure(g, true, second_order);
    const CheckResult rs = check_graph(small, true, second_order);
    std::string text = fmt::format("# seed {}: {}\n# {}\n", seed, rs.signature(), rs.detail);
    for (std::size_t p = 0; p < text.size(); ++p)
      if (text[p] == '\n' && p + 1 < text.size() && text[p + 1] != '#') text.insert(p + 1, "# ");
    text += to_text(small);
    log << "random graph FAILED (seed " << seed << ", " << g.nodes.size() << " nodes, shrunk to "
        << small.nodes.size() << "):\n"
        << text;
    if (!save_dir.empty()) {
      std::filesystem::create_directories(save_dir);
      const auto path = std::filesystem::path(save_dir) / fmt::format("seed_{}.graph", seed);
      std::ofstream(path) << text;
      log << "saved as " << path.string() << "\n";
    }
    summary.failure_texts.push_back(std::move(text));
  }
  summary.ops_seen.assign(seen.begin(), seen.end());
  return summary;
}

}  // namespace ag::fuzz
