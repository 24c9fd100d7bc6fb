// agexpr: differentiate an expression with the autograd engine, explain its gradients, draw
// its graph, and check hand-derived partial derivatives against the engine and finite
// differences. Options and the JSON schema: docs/agexpr.md.
//
//   agexpr 'relu(h1*w5 + h2*w6 + b3)' --def h1='relu(x1*w1 + x2*w3 + b1)'
//          --def h2='relu(x1*w2 + x2*w4 + b2)' --at x1=1,x2=0,w1=1,... --explain w2
//
// Exit status: 0 fine, 1 a checked formula disagrees with the engine, 2 bad input.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/dot.hpp"
#include "autograd/error.hpp"
#include "autograd/explain.hpp"
#include "autograd/render.hpp"
#include "tools/expr/check_report.hpp"
#include "tools/expr/cli.hpp"
#include "tools/expr/program.hpp"
#include "tools/expr/report.hpp"
#include "tools/expr/second_order.hpp"

namespace {

using ag::expr::Expr;
using ag::expr::npos;
using nlohmann::json;

// Bad input: printed as "agexpr: <message>" (or {"error": ...}) with exit status 2.
struct UsageError {
  std::string message;
};

std::string num(double v) { return ag::expr::text_number(v); }
json jnum(double v) { return ag::expr::json_number(v); }

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

Expr parse_or_explain(const std::string& source, const std::string& what) {
  try {
    return ag::expr::parse(source);
  } catch (const ag::expr::ParseError& e) {
    throw UsageError{ag::expr::caret_message(
        fmt::format("{}, column {}: {}", what, e.position() + 1, e.what()), source, e.position())};
  }
}

// Splits "name=text" at the first '=', trimming spaces around the name ("x=1, w=2").
std::pair<std::string, std::string> split_assignment(const std::string& arg,
                                                     const std::string& option) {
  const auto eq = arg.find('=');
  const std::string name = eq == std::string::npos ? "" : trim(arg.substr(0, eq));
  if (name.empty()) {
    throw UsageError{fmt::format("{} '{}': expected NAME=..., e.g. {} x=1", option, arg, option)};
  }
  return {name, arg.substr(eq + 1)};
}

double parse_number(const std::string& raw, const std::string& context) {
  const std::string text = trim(raw);
  double v = 0.0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || begin == end) {
    throw UsageError{fmt::format("{}: '{}' is not a number", context, text)};
  }
  if (!std::isfinite(v)) {
    throw UsageError{fmt::format("{}: '{}' is not a finite number", context, text)};
  }
  return v;
}

struct Output {
  bool json_mode = false;
  json doc = json::object();
  void text(const std::string& s) const {
    if (!json_mode) fmt::print("{}", s);
  }
};

struct Settings {
  std::string expression;
  std::vector<std::string> definitions, at_args, checks, explain;
  std::string render_path, dot_path, layout = "auto";
  bool trace = false, edge_derivatives = false, hessian = false;
  ag::expr::CheckOptions check_options;
  std::size_t max_report = 5, max_paths = 64;
};

int run(const Settings& s, Output& out) {
  Expr main_expr = parse_or_explain(s.expression, "error in the expression");
  std::vector<ag::expr::Definition> defs;
  for (const std::string& arg : s.definitions) {
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
  for (const std::string& arg : s.at_args) {
    const auto [name, text] = split_assignment(arg, "--at");
    const double v = parse_number(text, "--at " + name);
    const std::size_t i = program.variable_index(name);
    if (i == npos) {
      if (program.definition_index(name) != npos) {
        throw UsageError{
            fmt::format("--at {}: '{}' is a definition, computed from the variables", name, name)};
      }
      fmt::print(stderr, "agexpr: warning: --at {}: the expression has no variable '{}'\n", name,
                 name);
      continue;
    }
    if (given[i]) throw UsageError{fmt::format("--at {}: '{}' is given twice", name, name)};
    order.push_back(i);
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
  const bool differentiable = !program.variables().empty();
  if (differentiable) graph.output.backward();
  out.text(fmt::format("f = {}\n", num(graph.output.data())));
  out.doc["value"] = jnum(graph.output.data());
  out.doc["definitions"] = json::object();
  for (std::size_t i = 0; i < program.definitions().size(); ++i) {
    out.text(
        fmt::format("{} = {}\n", program.definitions()[i].name, num(graph.definitions[i].data())));
    out.doc["definitions"][program.definitions()[i].name] = jnum(graph.definitions[i].data());
  }
  out.doc["partials"] = json::object();
  auto partial = [&](const std::string& name, double v) {
    out.text(fmt::format("df/d{} = {}\n", name, num(v)));
    out.doc["partials"][name] = jnum(v);
  };
  for (const std::size_t i : order) {
    partial(program.variables()[i], differentiable ? graph.variables[i].grad() : 0.0);
  }
  for (std::size_t i = 0; i < program.definitions().size(); ++i) {
    partial(program.definitions()[i].name, differentiable ? graph.definitions[i].grad() : 0.0);
  }

  if (s.hessian && differentiable) {
    std::string names;
    for (const std::size_t i : order) names += (names.empty() ? "" : ", ") + program.variables()[i];
    const auto h = ag::expr::hessian_at(program, point, order);
    out.text(fmt::format("\nd2f/dadb (rows a, columns b: {}):\n", names));
    json rows = json::array();
    for (std::size_t r = 0; r < h.size(); ++r) {
      std::string line;
      json row = json::array();
      for (const double v : h[r]) {
        line += " " + num(v);
        row.push_back(jnum(v));
      }
      out.text(fmt::format("  {}:{}\n", program.variables()[order[r]], line));
      rows.push_back(std::move(row));
    }
    json vars = json::array();
    for (const std::size_t i : order) vars.push_back(program.variables()[i]);
    out.doc["hessian"] = {{"variables", vars}, {"matrix", rows}};
  }

  auto named = [&](const std::string& name, const std::string& option,
                   const ag::expr::Program::Graph* in = nullptr) {
    try {
      return ag::expr::node_named(program, in ? *in : graph, name, option);
    } catch (const ag::expr::ProgramError& e) {
      throw UsageError{e.what()};
    }
  };
  if (!s.explain.empty()) out.doc["explain"] = json::array();
  ag::ExplainOptions explain_options;
  explain_options.max_paths = s.max_paths;
  for (const std::string& name : s.explain) {
    const ag::Value wrt = named(name, "--explain");
    const ag::Explanation e = ag::explain(graph.output, wrt, explain_options);
    out.text("\n" + e.text());
    out.doc["explain"].push_back(ag::expr::to_json(e));
  }
  if (s.trace) {
    const ag::BackwardTrace t = ag::backward_trace(graph.output);
    out.text("\n" + t.text());
    out.doc["trace"] = ag::expr::to_json(t);
  }

  ag::DotOptions dot_options;
  dot_options.edge_derivatives = s.edge_derivatives;
  dot_options.layout = s.layout == "lr"        ? ag::DotLayout::LeftToRight
                       : s.layout == "tb"      ? ag::DotLayout::TopToBottom
                       : s.layout == "wrapped" ? ag::DotLayout::Wrapped
                                               : ag::DotLayout::Auto;
  if (!s.explain.empty()) dot_options.highlight_from = named(s.explain.front(), "--explain");
  if (!s.dot_path.empty()) {
    ag::write_dot(s.dot_path, {graph.output}, dot_options);
    out.text(fmt::format("wrote {}\n", s.dot_path));
    out.doc["dot"] = s.dot_path;
  }
  if (!s.render_path.empty()) {
    ag::render_graph({graph.output}, s.render_path, dot_options);
    out.text(fmt::format("wrote {}\n", s.render_path));
    out.doc["render"] = s.render_path;
  }

  int status = 0;
  if (!s.checks.empty()) out.doc["checks"] = json::array();
  for (const std::string& arg : s.checks) {
    const auto [name, text] = split_assignment(arg, "--check");
    const Expr formula = parse_or_explain(text, fmt::format("error in --check {}", name));
    ag::expr::CheckReport r;
    try {
      r = ag::expr::report_check(program, {name, text, formula}, point, order, s.check_options,
                                 s.max_report, explain_options);
    } catch (const ag::expr::ProgramError& e) {
      throw UsageError{fmt::format("--check {}: {}", name, e.what())};
    }
    out.text(r.text);
    if (!r.ok) status = 1;
    out.doc["checks"].push_back(std::move(r.json));
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Differentiates an expression with the autograd engine: prints its value and every partial "
      "derivative (with respect to each variable and each --def name), explains them path by "
      "path, draws the graph, and checks hand-derived derivatives.\n"
      "Syntax: + - * / ^ (or **), unary minus, parentheses, numbers, names, e (Euler's number; "
      "e^x is exp(x)), and the functions (names case-insensitive):\n" +
          [] {
            std::string list;
            for (const auto& f : ag::expr::functions()) {
              list += fmt::format("  {}{}: {}\n", f.name, f.arity == 1 ? "(x)" : "(a, b)", f.help);
            }
            return list;
          }(),
      "agexpr"};
  Settings s;
  bool json_mode = false;
  app.add_option("expression", s.expression, "The expression f, e.g. 'relu(x*w + b)'")->required();
  app.add_option("--def", s.definitions,
                 "Named sub-expression NAME=EXPR, usable in f and in other definitions; its "
                 "partial df/dNAME is printed and checkable (repeatable)");
  app.add_option("--at", s.at_args, "Variable values NAME=VALUE, comma-separated (repeatable)")
      ->delimiter(',');
  app.add_option("--explain", s.explain,
                 "Explain df/dNAME (a variable or a --def name) path by path: each local "
                 "derivative, each path's product (repeatable)");
  app.add_flag("--trace", s.trace,
               "Print the backward trace: each node's adjoint as the sum over its users");
  app.add_flag("--json", json_mode, "Print everything as one JSON object (docs/agexpr.md)");
  app.add_option("--render", s.render_path, "Draw the graph to an image (.png, .svg or .pdf)");
  app.add_option("--dot", s.dot_path, "Write the graph as Graphviz DOT text");
  app.add_flag("--edge-derivatives", s.edge_derivatives,
               "Label the picture's edges with local derivatives");
  app.add_option("--layout", s.layout,
                 "Picture layout: auto, tb (top to bottom), lr, or wrapped (left to right in "
                 "rows that fit a screen)")
      ->check(CLI::IsMember({"auto", "tb", "lr", "wrapped"}))
      ->capture_default_str();
  app.add_flag("--hessian", s.hessian,
               "Print the second partials d2f/dadb over the variables (ag::grad with "
               "create_graph, then ag::grad of each first partial)");
  app.add_option("--check", s.checks,
                 "Check a hand-derived df/dNAME (NAME a variable or a --def name): "
                 "NAME=FORMULA, or a second partial d2f/dAdB (A, B variables): A,B=FORMULA "
                 "(repeatable)");
  app.add_option("--samples", s.check_options.samples, "Random points per check (at most 1e7)")
      ->check(ag::expr::kCount)
      ->check(CLI::Range(std::size_t{0}, std::size_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--seed", s.check_options.seed, "Seed of the random points")
      ->check(ag::expr::kCount)
      ->capture_default_str();
  app.add_option("--range", s.check_options.range,
                 "Random points lie within +-RANGE of the --at values")
      ->check(ag::expr::kFinitePositive)
      ->capture_default_str();
  app.add_option("--max-report", s.max_report, "Disagreements printed per check")
      ->check(ag::expr::kCount)
      ->capture_default_str();
  app.add_option("--max-paths", s.max_paths,
                 "More paths than this and --explain prints the linear view")
      ->check(ag::expr::kCount)
      ->capture_default_str();

  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) json_mode = json_mode || a == "--json";
  Output out;
  out.json_mode = json_mode;
  auto fail = [&](const std::string& message) {
    if (json_mode) {
      out.doc["error"] = message;
      fmt::print("{}\n", out.doc.dump(2));
    } else {
      fmt::print(stderr, "agexpr: {}\n", message);
    }
    return 2;
  };
  try {
    ag::expr::protect_negative_expression(args, app);
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (!json_mode) return app.exit(e) == 0 ? 0 : 2;
    return fail(e.what());
  }
  try {
    const int status = run(s, out);
    if (json_mode) fmt::print("{}\n", out.doc.dump(2));
    return status;
  } catch (const UsageError& e) {
    return fail(e.message);
  } catch (const ag::Error& e) {
    return fail(e.what());
  }
}
