// agexpr: differentiate an expression with the autograd engine, draw its graph, and check
// hand-derived partial derivatives against the engine and finite differences.
//
//   agexpr 'relu(h1*w5 + h2*w6 + b3)' --def h1='relu(x1*w1 + x2*w3 + b1)'
//          --def h2='relu(x1*w2 + x2*w4 + b2)' --at x1=1,x2=0,w1=1,... --render net.png
//
// Exit status: 0 fine, 1 a checked formula disagrees with the engine, 2 bad input.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/dot.hpp"
#include "autograd/error.hpp"
#include "autograd/render.hpp"
#include "tools/expr/program.hpp"

namespace {

using ag::expr::Expr;

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Bad input: printed as "agexpr: <message>" with exit status 2.
struct UsageError {
  std::string message;
};

std::string num(double v) {
  if (v == 0.0) v = 0.0;
  return fmt::format("{:.12g}", v);
}

Expr parse_or_explain(const std::string& source, const std::string& what) {
  try {
    return ag::expr::parse(source);
  } catch (const ag::expr::ParseError& e) {
    throw UsageError{ag::expr::caret_message(
        fmt::format("{}, column {}: {}", what, e.position() + 1, e.what()), source, e.position())};
  }
}

// Splits "name=text" at the first '='.
std::pair<std::string, std::string> split_assignment(const std::string& arg,
                                                     const std::string& option) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError{fmt::format("{} '{}': expected NAME=..., e.g. {} x=1", option, arg, option)};
  }
  std::string name = arg.substr(0, eq);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return {name, arg.substr(eq + 1)};
}

double parse_number(const std::string& text, const std::string& context) {
  double v = 0.0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) {
    throw UsageError{fmt::format("{}: '{}' is not a number", context, text)};
  }
  return v;
}

std::string describe_point(const ag::expr::Program& program, const ag::expr::Disagreement& d,
                           const std::vector<std::size_t>& order) {
  std::string s;
  for (const std::size_t i : order) {
    s += fmt::format("{}{}={}", s.empty() ? "" : ",", program.variables()[i], num(d.point[i]));
  }
  if (!program.definitions().empty()) {
    s += " (";
    for (std::size_t i = 0; i < program.definitions().size(); ++i) {
      s += fmt::format("{}{}={}", i ? ", " : "", program.definitions()[i].name,
                       num(d.definition_values[i]));
    }
    s += ")";
  }
  return s;
}

int run(int argc, char** argv) {
  CLI::App app{
      "Differentiates an expression with the autograd engine: prints its value and every partial "
      "derivative, draws its graph, and checks hand-derived derivatives.\n"
      "Syntax: + - * / ^ (or **), unary minus, parentheses, numbers, names, and the functions "
      "exp log sqrt tanh sigmoid relu abs step (step(x) = 1 if x > 0 else 0, relu's derivative).",
      "agexpr"};
  std::string expression;
  std::vector<std::string> definitions, at_args, checks;
  std::string render_path, dot_path;
  ag::expr::CheckOptions check_options;
  std::size_t max_report = 5;
  app.add_option("expression", expression, "The expression f, e.g. 'relu(x*w + b)'")->required();
  app.add_option("--def", definitions,
                 "Named sub-expression NAME=EXPR, usable in f and in other "
                 "definitions (repeatable)");
  app.add_option("--at", at_args, "Variable values NAME=VALUE, comma-separated (repeatable)")
      ->delimiter(',');
  app.add_option("--render", render_path, "Draw the graph to an image (.png, .svg or .pdf)");
  app.add_option("--dot", dot_path, "Write the graph as Graphviz DOT text");
  app.add_option("--check", checks, "Check a hand-derived df/dNAME: NAME=FORMULA (repeatable)");
  app.add_option("--samples", check_options.samples, "Random points per check")
      ->capture_default_str();
  app.add_option("--seed", check_options.seed, "Seed of the random points")->capture_default_str();
  app.add_option("--range", check_options.range,
                 "Random points lie within +-RANGE of the --at values")
      ->capture_default_str();
  app.add_option("--max-report", max_report, "Disagreements printed per check")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Expr main_expr = parse_or_explain(expression, "error in the expression");
  std::vector<ag::expr::Definition> defs;
  for (const std::string& arg : definitions) {
    auto [name, text] = split_assignment(arg, "--def");
    defs.push_back({name, parse_or_explain(text, fmt::format("error in --def {}", name))});
  }
  std::optional<ag::expr::Program> program_storage;
  try {
    program_storage.emplace(std::move(main_expr), std::move(defs));
  } catch (const ag::expr::ProgramError& e) {
    throw UsageError{e.what()};
  }
  const ag::expr::Program& program = *program_storage;

  // The point, and the order variables were given in (used for printing).
  std::vector<double> point(program.variables().size(), std::nan(""));
  std::vector<bool> given(point.size(), false);
  std::vector<std::size_t> order;
  for (const std::string& arg : at_args) {
    const auto [name, text] = split_assignment(arg, "--at");
    const double v = parse_number(text, "--at " + name);
    const std::size_t i = program.variable_index(name);
    if (i == npos) {
      fmt::print(stderr, "agexpr: warning: --at {}: the expression has no variable '{}'\n", name,
                 name);
      continue;
    }
    if (!given[i]) order.push_back(i);
    given[i] = true;
    point[i] = v;
  }
  std::string missing;
  for (std::size_t i = 0; i < point.size(); ++i) {
    if (!given[i]) missing += (missing.empty() ? "" : ", ") + program.variables()[i];
  }
  if (!missing.empty()) {
    throw UsageError{
        fmt::format("no value for {} (give every variable with --at NAME=VALUE)", missing)};
  }

  ag::expr::Program::Graph graph = program.build(point);
  if (program.variables().empty()) {
    fmt::print("f = {}\n", num(graph.output.data()));
  } else {
    graph.output.backward(/*retain_graph=*/true);
    fmt::print("f = {}\n", num(graph.output.data()));
    for (std::size_t i = 0; i < program.definitions().size(); ++i) {
      fmt::print("{} = {}\n", program.definitions()[i].name, num(graph.definitions[i].data()));
    }
    for (const std::size_t i : order) {
      fmt::print("df/d{} = {}\n", program.variables()[i], num(graph.variables[i].grad()));
    }
  }
  if (!dot_path.empty()) {
    ag::write_dot(dot_path, {graph.output});
    fmt::print("wrote {}\n", dot_path);
  }
  if (!render_path.empty()) {
    ag::render_graph({graph.output}, render_path);
    fmt::print("wrote {}\n", render_path);
  }

  int status = 0;
  for (const std::string& arg : checks) {
    const auto [name, text] = split_assignment(arg, "--check");
    const Expr formula = parse_or_explain(text, fmt::format("error in --check {}", name));
    ag::expr::CheckResult r;
    try {
      r = ag::expr::check_partial(program, name, formula, point, check_options);
    } catch (const ag::expr::ProgramError& e) {
      throw UsageError{fmt::format("--check {}: {}", name, e.what())};
    }
    fmt::print("\ncheck df/d{} = {}\n", name, text);
    fmt::print(
        "  {} points (the --at point and {} random ones, seed {}, each variable within "
        "+-{} of its --at value); {} skipped outside the domain\n",
        r.points, check_options.samples, check_options.seed, check_options.range, r.skipped_points);
    std::size_t shown = 0;
    for (const auto& d : r.disagreements) {
      if (shown++ == max_report) break;
      fmt::print("  DISAGREE at {}{}:\n    formula {}, engine {}, finite difference {}\n",
                 d.given_point ? "the --at point " : "", describe_point(program, d, order),
                 num(d.formula), num(d.engine), num(d.finite_difference));
    }
    if (r.disagreements.size() > max_report) {
      fmt::print("  ... and {} more disagreements\n", r.disagreements.size() - max_report);
    }
    if (!r.finite_difference_only.empty()) {
      const auto& d = r.finite_difference_only.front();
      fmt::print(
          "  note: at {} points formula and engine agree but finite differences do not "
          "(a kink such as relu at 0?), e.g. at {}: {} vs finite difference {}\n",
          r.finite_difference_only.size(), describe_point(program, d, order), num(d.engine),
          num(d.finite_difference));
    }
    if (r.disagreements.empty()) {
      fmt::print("OK: df/d{} formula agrees with the engine at all {} points\n", name, r.points);
    } else {
      fmt::print("FAIL: df/d{} formula disagrees with the engine at {} of {} points{}\n", name,
                 r.disagreements.size(), r.points,
                 r.given_point_agrees ? " (it agrees at the --at point)" : "");
      status = 1;
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "agexpr: {}\n", e.message);
    return 2;
  } catch (const ag::Error& e) {
    fmt::print(stderr, "agexpr: {}\n", e.what());
    return 2;
  }
}
