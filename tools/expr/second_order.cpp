// Second partials: ag::grad twice (create_graph on the first), checked against second
// differences of the plain double evaluation.
#include "tools/expr/second_order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/functional.hpp"
#include "autograd/graph.hpp"

namespace ag::expr {

namespace {

// d(partial)/d(wrt[k]) for each k; 0 for all where the partial is a constant (df/dx of x + y
// is the number 1, with no graph to differentiate).
std::vector<double> partials_of(const Value& partial, const std::vector<Value>& wrt) {
  if (partial.is_leaf() && !ag::collect_graph({partial}).front().requires_grad) {
    return std::vector<double>(wrt.size(), 0.0);
  }
  std::vector<double> out;
  for (const Value& second : ag::grad(partial, wrt, /*retain_graph=*/true,
                                      /*create_graph=*/false, /*allow_unused=*/true)) {
    out.push_back(second.data());
  }
  return out;
}

}  // namespace

Value first_partial_with_history(const Program::Graph& g, std::size_t a) {
  return ag::grad(g.output, {g.variables[a]}, /*retain_graph=*/true, /*create_graph=*/true,
                  /*allow_unused=*/true)[0];
}

std::vector<std::vector<double>> hessian_at(const Program& program,
                                            const std::vector<double>& point,
                                            const std::vector<std::size_t>& variables) {
  const Program::Graph g = program.build(point);
  std::vector<Value> wrt;
  for (const std::size_t v : variables) wrt.push_back(g.variables[v]);
  const std::vector<Value> first = ag::grad(g.output, wrt, /*retain_graph=*/true,
                                            /*create_graph=*/true, /*allow_unused=*/true);
  std::vector<std::vector<double>> h;
  for (const Value& partial : first) h.push_back(partials_of(partial, wrt));
  return h;
}

std::size_t second_partial_variable(const Program& program, const std::string& name) {
  const std::size_t v = program.variable_index(name);
  if (v != static_cast<std::size_t>(-1)) return v;
  std::string known;
  for (const std::string& n : program.variables()) known += (known.empty() ? "" : ", ") + n;
  if (program.definition_index(name) != static_cast<std::size_t>(-1)) {
    throw ProgramError(
        fmt::format("'{}' is a definition; second partials are with respect to the variables ({})",
                    name, known));
  }
  throw ProgramError(fmt::format("'{}' is not a variable of the expression (variables: {})", name,
                                 known.empty() ? "none" : known));
}

CheckResult check_second_partial(const Program& program, const std::string& a, const std::string& b,
                                 const Expr& formula, const std::vector<double>& at,
                                 const CheckOptions& options) {
  const std::size_t i = second_partial_variable(program, a);
  const std::size_t j = second_partial_variable(program, b);
  auto engine = [&](const std::vector<double>& point) {
    const Program::Graph g = program.build(point);
    return partials_of(first_partial_with_history(g, i), {g.variables[j]})[0];
  };
  // Central second differences; a step of 1e-4 balances truncation (h^2) against rounding
  // (eps / h^2).
  auto difference = [&](const std::vector<double>& point) {
    auto f = [&](double di, double dj) {
      std::vector<double> p = point;
      p[i] += di;
      p[j] += dj;
      return program.evaluate(p);
    };
    const double hi = 1e-4 * std::max(1.0, std::abs(point[i]));
    const double hj = 1e-4 * std::max(1.0, std::abs(point[j]));
    if (i == j) return (f(hi, 0) - 2.0 * f(0, 0) + f(-hi, 0)) / (hi * hi);
    return (f(hi, hj) - f(hi, -hj) - f(-hi, hj) + f(-hi, -hj)) / (4.0 * hi * hj);
  };
  CheckResult result = compare_at_samples(program, formula, at, options, engine, difference);
  result.variable = a + "," + b;
  return result;
}

}  // namespace ag::expr
