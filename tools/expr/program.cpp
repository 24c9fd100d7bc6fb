#include "tools/expr/program.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/value.hpp"

namespace ag::expr {
namespace {

bool is_identifier(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// A library op on doubles: through its Value form, so both paths give the same bits. Outside
// the op's domain (log of a negative number) the result is NaN, as for the other functions.
double apply_op(const OpEntry& op, double x, double y) {
  NoGradGuard no_graph;
  const Value args[2] = {Value(x), Value(y)};
  try {
    return op.on_values(std::span<const Value>(args, static_cast<std::size_t>(op.arity)), {})
        .data();
  } catch (const Error&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

// Each function of functions.hpp in doubles. max and min are written as the graph builds
// them (a + relu(b - a), a - relu(a - b)) so both give the same bits.
double apply(Function f, const OpEntry* op, double x, double y) {
  switch (f) {
    case Function::LibraryOp:
      return apply_op(*op, x, y);
    case Function::Step:
      return x > 0 ? 1.0 : 0.0;
    case Function::Max: {
      const double d = y - x;
      return x + (d > 0 ? d : 0.0);
    }
    case Function::Min: {
      const double d = x - y;
      return x - (d > 0 ? d : 0.0);
    }
    case Function::Pow:
      return std::pow(x, y);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double apply(Kind k, double a, double b) {
  switch (k) {
    case Kind::Add:
      return a + b;
    case Kind::Sub:
      return a - b;
    case Kind::Mul:
      return a * b;
    case Kind::Div:
      return a / b;
    case Kind::Pow:
      return std::pow(a, b);
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

// Evaluates `e` in doubles; `lookup` gives the value of a name.
template <class Lookup>
double evaluate_doubles(const Expr& e, Lookup&& lookup) {
  std::vector<double> v(e.nodes.size());
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const ExprNode& n = e.nodes[i];
    switch (n.kind) {
      case Kind::Number:
        v[i] = n.number;
        break;
      case Kind::Variable:
        v[i] = lookup(n.name);
        break;
      case Kind::Negate:
        v[i] = -v[n.lhs];
        break;
      case Kind::Call:
        v[i] = apply(n.function, n.op, v[n.lhs], v[n.rhs]);
        break;
      default:
        v[i] = apply(n.kind, v[n.lhs], v[n.rhs]);
        break;
    }
  }
  return v.back();
}

// A graph operand: a constant (folded, no node) or a Value.
struct Operand {
  std::optional<Value> value;
  double constant = 0.0;
  double data() const { return value ? value->data() : constant; }
};

Operand combine(Kind k, const Operand& a, const Operand& b);

Operand relu_of(const Operand& x) {
  if (!x.value) return {std::nullopt, x.constant > 0 ? x.constant : 0.0};
  return {ag::relu(*x.value)};
}

Operand call(Function f, const OpEntry* op, const Operand& x, const Operand& y) {
  switch (f) {
    case Function::Max:  // a + relu(b - a): max(0, x) is relu(x), relu's derivative at 0
      return combine(Kind::Add, x, relu_of(combine(Kind::Sub, y, x)));
    case Function::Min:
      return combine(Kind::Sub, x, relu_of(combine(Kind::Sub, x, y)));
    case Function::Pow:
      return combine(Kind::Pow, x, y);
    default:
      break;
  }
  // step (relu's derivative) is piecewise constant: its derivative is 0 wherever defined.
  const bool constant = op && op->arity == 2 ? !x.value && !y.value : !x.value;
  if (constant || f == Function::Step) {
    return {std::nullopt, apply(f, op, x.data(), y.data())};
  }
  // A library op (f == LibraryOp): its Value form records the node.
  const Value args[2] = {x.value ? *x.value : Value(x.constant).detach(),
                         y.value ? *y.value : Value(y.constant).detach()};
  return {op->on_values(std::span<const Value>(args, static_cast<std::size_t>(op->arity)), {})};
}

Operand combine(Kind k, const Operand& a, const Operand& b) {
  if (!a.value && !b.value) return {std::nullopt, apply(k, a.constant, b.constant)};
  if (a.value && b.value) {
    const Value &x = *a.value, &y = *b.value;
    switch (k) {
      case Kind::Add:
        return {x + y};
      case Kind::Sub:
        return {x - y};
      case Kind::Mul:
        return {x * y};
      case Kind::Div:
        return {x / y};
      default:
        return {ag::pow(x, y)};
    }
  }
  // x + 0, x - 0 and 0 + x add no node (max(0, x) builds 0 + relu(x - 0)).
  if (a.value && !b.value && b.constant == 0.0 && (k == Kind::Add || k == Kind::Sub)) return a;
  if (b.value && !a.value && a.constant == 0.0 && k == Kind::Add) return b;
  if (a.value) {
    const Value& x = *a.value;
    const double c = b.constant;
    switch (k) {
      case Kind::Add:
        return {x + c};
      case Kind::Sub:
        return {x - c};
      case Kind::Mul:
        return {x * c};
      case Kind::Div:
        return {x / c};
      default:
        return {ag::pow(x, c)};
    }
  }
  const double c = a.constant;
  const Value& y = *b.value;
  switch (k) {
    case Kind::Add:
      return {c + y};
    case Kind::Sub:
      return {c - y};
    case Kind::Mul:
      return {c * y};
    case Kind::Div:
      return {c / y};
    default:
      return {ag::pow(Value(c), y)};
  }
}

template <class Lookup>
Operand build_graph(const Expr& e, Lookup&& lookup) {
  std::vector<Operand> v(e.nodes.size());
  for (std::size_t i = 0; i < e.nodes.size(); ++i) {
    const ExprNode& n = e.nodes[i];
    switch (n.kind) {
      case Kind::Number:
        v[i].constant = n.number;
        break;
      case Kind::Variable:
        v[i] = lookup(n.name);
        break;
      case Kind::Negate:
        v[i] =
            v[n.lhs].value ? Operand{-*v[n.lhs].value} : Operand{std::nullopt, -v[n.lhs].constant};
        break;
      case Kind::Call:
        v[i] = call(n.function, n.op, v[n.lhs], v[n.rhs]);
        break;
      default:
        v[i] = combine(n.kind, v[n.lhs], v[n.rhs]);
        break;
    }
  }
  return std::move(v.back());
}

}  // namespace

Program::Program(Expr main, std::vector<Definition> definitions) : main_(std::move(main)) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    const std::string& name = definitions[i].name;
    if (!is_identifier(name)) {
      throw ProgramError("definition name '" + name +
                         "' is not a name (letters, digits and _, not starting with a digit)");
    }
    if (is_reserved_name(name)) {
      throw ProgramError("definition name '" + name + "' is " +
                         (name == "e" ? "Euler's number" : "a function"));
    }
    if (!index.emplace(name, i).second) throw ProgramError("'" + name + "' is defined twice");
  }
  // Kahn's algorithm: a definition is ready once every definition it uses is placed.
  std::vector<std::vector<std::size_t>> users(definitions.size());
  std::vector<std::size_t> pending(definitions.size(), 0);
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    for (const std::string& name : referenced_names(definitions[i].expr)) {
      const auto it = index.find(name);
      if (it == index.end()) continue;
      if (it->second == i) throw ProgramError("definition '" + name + "' uses itself");
      users[it->second].push_back(i);
      ++pending[i];
    }
  }
  std::vector<std::size_t> ready, order;
  for (std::size_t i = definitions.size(); i-- > 0;) {
    if (pending[i] == 0) ready.push_back(i);
  }
  while (!ready.empty()) {
    // Lowest index first, so independent definitions keep the order they were given in.
    const auto lowest = std::min_element(ready.begin(), ready.end());
    const std::size_t i = *lowest;
    ready.erase(lowest);
    order.push_back(i);
    for (const std::size_t u : users[i]) {
      if (--pending[u] == 0) ready.push_back(u);
    }
  }
  if (order.size() != definitions.size()) {
    std::string cycle;
    for (std::size_t i = 0; i < definitions.size(); ++i) {
      if (pending[i] > 0) cycle += (cycle.empty() ? "" : ", ") + definitions[i].name;
    }
    throw ProgramError("definitions use each other in a cycle: " + cycle);
  }
  for (const std::size_t i : order) definitions_.push_back(std::move(definitions[i]));

  std::unordered_set<std::string> seen;
  auto collect = [&](const Expr& e) {
    for (const std::string& name : referenced_names(e)) {
      if (index.count(name) == 0 && seen.insert(name).second) variables_.push_back(name);
    }
  };
  for (const Definition& d : definitions_) collect(d.expr);
  collect(main_);
}

std::size_t Program::variable_index(const std::string& name) const {
  const auto it = std::find(variables_.begin(), variables_.end(), name);
  return it == variables_.end() ? npos : static_cast<std::size_t>(it - variables_.begin());
}

std::size_t Program::definition_index(const std::string& name) const {
  for (std::size_t i = 0; i < definitions_.size(); ++i) {
    if (definitions_[i].name == name) return i;
  }
  return npos;
}

double Program::evaluate(const std::vector<double>& point, std::vector<double>* definition_values,
                         std::size_t held_definition, double held_value) const {
  std::vector<double> defs(definitions_.size());
  auto lookup = [&](const std::string& name) {
    const std::size_t d = definition_index(name);
    return d != npos ? defs[d] : point[variable_index(name)];
  };
  for (std::size_t i = 0; i < definitions_.size(); ++i) {
    defs[i] = i == held_definition ? held_value : evaluate_doubles(definitions_[i].expr, lookup);
  }
  const double result = evaluate_doubles(main_, lookup);
  if (definition_values) *definition_values = std::move(defs);
  return result;
}

void Program::validate_other(const Expr& formula) const {
  for (const std::string& name : referenced_names(formula)) {
    if (variable_index(name) == npos && definition_index(name) == npos) {
      throw ProgramError("'" + name + "' is neither a variable of the expression nor a definition");
    }
  }
}

double Program::evaluate_other(const Expr& formula, const std::vector<double>& point) const {
  validate_other(formula);
  std::vector<double> defs;
  evaluate(point, &defs);
  return evaluate_doubles(formula, [&](const std::string& name) {
    const std::size_t d = definition_index(name);
    return d != npos ? defs[d] : point[variable_index(name)];
  });
}

Program::Graph Program::build(const std::vector<double>& point) const {
  Graph g;
  std::vector<Operand> defs(definitions_.size());
  for (std::size_t i = 0; i < variables_.size(); ++i) {
    g.variables.emplace_back(point.at(i), variables_[i]);
  }
  auto lookup = [&](const std::string& name) -> Operand {
    const std::size_t d = definition_index(name);
    if (d != npos) return defs[d];
    return {g.variables[variable_index(name)]};
  };
  for (std::size_t i = 0; i < definitions_.size(); ++i) {
    defs[i] = build_graph(definitions_[i].expr, lookup);
    // A definition that folded to a constant still gets a node, so it can be shown and named.
    if (!defs[i].value) defs[i].value = Value(defs[i].constant);
    defs[i].value->set_label(definitions_[i].name);
    g.definitions.push_back(*defs[i].value);
  }
  Operand out = build_graph(main_, lookup);
  g.output = out.value ? *out.value : Value(out.constant);
  g.output.set_label("f");
  return g;
}

CheckResult compare_at_samples(const Program& program, const Expr& formula,
                               const std::vector<double>& at, const CheckOptions& options,
                               const PointFunction& engine, const PointFunction& difference) {
  program.validate_other(formula);
  CheckResult result;
  std::mt19937_64 rng(options.seed);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };  // [0, 1)
  auto close = [](double a, double b, double atol, double rtol) {
    return std::abs(a - b) <= atol + rtol * std::max(std::abs(a), std::abs(b));
  };
  for (std::size_t sample = 0; sample <= options.samples; ++sample) {
    std::vector<double> point = at;
    if (sample > 0) {
      // Two decimals, computed as k / 100 so the printed point parses back to the same doubles.
      for (double& x : point) {
        const double r = x + (2.0 * uniform() - 1.0) * options.range;
        x = std::round(r * 100.0) / 100.0;
      }
    }
    Disagreement d;
    d.point = point;
    d.given_point = sample == 0;
    const double f = program.evaluate(point, &d.definition_values);
    d.formula = program.evaluate_other(formula, point);
    try {
      d.engine = engine(point);
    } catch (const ag::Error&) {
      d.engine = std::numeric_limits<double>::quiet_NaN();  // outside the engine's domain
    }
    d.finite_difference = difference(point);
    if (!std::isfinite(f) || !std::isfinite(d.formula) || !std::isfinite(d.engine)) {
      ++result.skipped_points;
      continue;
    }
    ++result.points;
    const bool formula_ok = close(d.formula, d.engine, options.atol, options.rtol);
    if (d.given_point) result.given_point_agrees = formula_ok;
    if (!formula_ok) {
      result.disagreements.push_back(std::move(d));
    } else if (!close(d.finite_difference, d.engine, options.fd_atol, options.fd_rtol)) {
      result.finite_difference_only.push_back(std::move(d));
    }
  }
  return result;
}

CheckResult check_partial(const Program& program, const std::string& variable, const Expr& formula,
                          const std::vector<double>& at, const CheckOptions& options) {
  const std::size_t var = program.variable_index(variable);
  const std::size_t def = var == npos ? program.definition_index(variable) : npos;
  if (var == npos && def == npos) {
    throw ProgramError("cannot check d/d" + variable + ": '" + variable +
                       "' is neither a variable of the expression nor a definition");
  }
  auto engine = [&](const std::vector<double>& point) {
    Program::Graph g = program.build(point);
    g.output.backward();
    return var != npos ? g.variables[var].grad() : g.definitions[def].grad();
  };
  // Central differences in the variable, or in the definition's value with the variables
  // (and so every other definition that does not use it) held.
  auto difference = [&](const std::vector<double>& point) {
    if (var != npos) {
      const double h = 1e-6 * std::max(1.0, std::abs(point[var]));
      std::vector<double> plus = point, minus = point;
      plus[var] += h;
      minus[var] -= h;
      return (program.evaluate(plus) - program.evaluate(minus)) / (plus[var] - minus[var]);
    }
    std::vector<double> definition_values;
    (void)program.evaluate(point, &definition_values);
    const double x0 = definition_values[def];
    const double h = 1e-6 * std::max(1.0, std::abs(x0));
    const double up = x0 + h, down = x0 - h;
    return (program.evaluate(point, nullptr, def, up) -
            program.evaluate(point, nullptr, def, down)) /
           (up - down);
  };
  CheckResult result = compare_at_samples(program, formula, at, options, engine, difference);
  result.variable = variable;
  return result;
}

}  // namespace ag::expr
