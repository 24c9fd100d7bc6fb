// The text forms of ag::explain and ag::backward_trace: the chain rule as a learner writes it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/explain.hpp"
#include "explain_number.hpp"

namespace ag {
namespace {

std::string num(double v, int precision) { return detail::explain_number(v, precision); }

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100.0 * fraction); }

// A name inside "d a/d b": bracketed when it is a formula with spaces.
std::string atom(const std::string& name) {
  return name.find(' ') == std::string::npos ? name : "[" + name + "]";
}

// "d f/d h1 = d f/d out · d out/d h1 + ... = 1 · 2 + ... = 2"
std::string adjoint_line(const std::string& output, const TraceStep& s, int precision) {
  std::string symbolic, numbers;
  bool all_numbers = true;
  for (const AdjointTerm& t : s.terms) {
    const std::string sep = symbolic.empty() ? "" : " + ";
    symbolic += fmt::format("{}d {}/d {} · d {}/d {}", sep, atom(output), atom(t.user),
                            atom(t.user), atom(s.name));
    numbers +=
        fmt::format("{}{} · {}", sep, num(t.user_adjoint, precision), num(t.local, precision));
    all_numbers = all_numbers && !std::isnan(t.user_adjoint) && !std::isnan(t.local);
  }
  const std::string lhs = fmt::format("d {}/d {}", atom(output), atom(s.name));
  if (s.terms.empty()) return lhs + " = 1 (the seed)";
  if (!s.is_scalar || !all_numbers) return fmt::format("{} = {}", lhs, symbolic);
  return fmt::format("{} = {} = {} = {}", lhs, symbolic, numbers, num(s.adjoint, precision));
}

std::string describe_node(const TraceStep& s, int precision) {
  if (s.is_scalar) return fmt::format("{} ({}, value {})", s.name, s.op, num(s.value, precision));
  return fmt::format("{} ({}, shape {})", s.name, s.op, to_string(s.shape));
}

std::string tensor_stats(const TraceStep& s, int precision) {
  if (!s.has_grad) return "  no gradient reached it\n";
  return fmt::format("  gradient {}: norm {}, max |g| {}, exact zeros {}\n", to_string(s.shape),
                     num(s.grad_norm, precision), num(s.grad_max_abs, precision),
                     percent(s.zero_fraction));
}

void append_steps(std::string& out, const std::string& output, const std::vector<TraceStep>& steps,
                  int precision) {
  for (const TraceStep& s : steps) {
    out += describe_node(s, precision) + "\n";
    out += "  " + adjoint_line(output, s, precision) + "\n";
    if (!s.is_scalar) out += tensor_stats(s, precision);
  }
}

}  // namespace

std::string BackwardTrace::text(int precision) const {
  std::string out = fmt::format(
      "backward from {}: {} nodes, in the order backward visits them (each node after all its "
      "users)\n",
      output, steps.size());
  append_steps(out, output, steps, precision);
  return out;
}

std::string Explanation::text(int precision) const {
  const std::string d = fmt::format("d {}/d {}", output, wrt);
  if (!reachable) {
    return fmt::format(
        "{} = 0: no path from {} to {} ({} is not in {}'s graph, or needs no "
        "gradient)\n",
        d, wrt, output, wrt, output);
  }
  std::string out =
      fmt::format("{} = {}   ({} = {}; {} path{} from {} to {})\n", d, num(total, precision), wrt,
                  num(wrt_value, precision), num(path_count, precision), path_count == 1 ? "" : "s",
                  wrt, output);
  if (linear_view) {
    out += fmt::format(
        "more paths than ExplainOptions::max_paths: the linear view instead, each node between "
        "{} and {} with its adjoint as the sum over its users\n",
        wrt, output);
    append_steps(out, output, adjoints, precision);
    out += fmt::format("total: {} = {}\n", d, num(total, precision));
    return out;
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const ExplainPath& p = paths[i];
    out += fmt::format("\npath {}:\n", i + 1);
    std::size_t width = 4;
    for (const std::string& name : p.nodes) width = std::max(width, name.size());
    out += fmt::format("  {:<{}}  {:<10} {:<12} {}\n", "node", width, "op", "value",
                       "d node / d previous node");
    out += fmt::format("  {:<{}}  {:<10} {}\n", p.nodes.front(), width, "leaf",
                       num(wrt_value, precision));
    std::string factors;
    for (std::size_t k = 0; k < p.factors.size(); ++k) {
      const ExplainFactor& f = p.factors[k];
      out += fmt::format("  {:<{}}  {:<10} {:<12} {}{}\n", f.node, width, f.op,
                         num(f.node_value, precision), num(f.local, precision),
                         f.why_zero.empty() ? "" : "   (" + f.why_zero + ")");
      factors += (factors.empty() ? "" : " · ") + num(f.local, precision);
    }
    if (p.factors.empty()) factors = "1";
    out += fmt::format("  product {} = {}{}\n", factors, num(p.product, precision),
                       p.zero_factor.empty() ? "" : "   zero because " + p.zero_factor);
  }
  out += fmt::format("\n{} = sum of the path products = {}", d, num(path_sum, precision));
  if (path_sum != total) out += fmt::format(" (backward: {}, rounding)", num(total, 17));
  out += "\n";
  return out;
}

}  // namespace ag
