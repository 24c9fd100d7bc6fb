#include "tools/expr/report.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autograd/graph.hpp"

namespace ag::expr {

std::string text_number(double v) {
  if (v == 0.0) v = 0.0;  // no "-0"
  return fmt::format("{:.12g}", v);
}

nlohmann::json json_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v == 0.0 ? 0.0 : v;
}

namespace {

nlohmann::json number(double v) { return json_number(v); }

nlohmann::json step_json(const TraceStep& s) {
  nlohmann::json j{{"id", s.id}, {"name", s.name}, {"op", s.op}, {"scalar", s.is_scalar}};
  if (s.is_scalar) {
    j["value"] = number(s.value);
    j["adjoint"] = number(s.adjoint);
  } else {
    j["shape"] = s.shape;
    j["has_grad"] = s.has_grad;
    j["grad_norm"] = number(s.grad_norm);
    j["grad_max_abs"] = number(s.grad_max_abs);
    j["zero_fraction"] = number(s.zero_fraction);
  }
  nlohmann::json terms = nlohmann::json::array();
  for (const AdjointTerm& t : s.terms) {
    terms.push_back(
        {{"user", t.user}, {"user_adjoint", number(t.user_adjoint)}, {"local", number(t.local)}});
  }
  j["terms"] = std::move(terms);
  return j;
}

}  // namespace

std::vector<Kink> kinks_of(const Value& output) {
  std::vector<Kink> out;
  const std::vector<GraphNode> nodes = collect_graph({output});
  // The names explain and the trace use ("relu(h1*w5 + b3)"), by collect_graph id.
  std::vector<std::string> names(nodes.size());
  for (const TraceStep& s : backward_trace(output).steps) names[s.id] = s.name;
  for (const GraphNode& n : nodes) {
    if (n.op != "relu" && n.op != "abs") continue;
    const double x = nodes[n.inputs.at(0)].value->data();  // agexpr builds Values only
    Kink k{names[n.id].empty() ? fmt::format("{}#{}", n.op, n.id) : names[n.id], std::string(n.op),
           x, ""};
    if (n.op == "relu") {
      k.state = x > 0 ? "active (derivative 1)" : "inactive (derivative 0)";
    } else {
      k.state = x > 0   ? "positive side (derivative 1)"
                : x < 0 ? "negative side (derivative -1)"
                        : "at the kink (derivative 0)";
    }
    out.push_back(std::move(k));
  }
  return out;
}

Value node_named(const Program& program, const Program::Graph& graph, const std::string& name,
                 const std::string& option) {
  const std::size_t v = program.variable_index(name);
  if (v != static_cast<std::size_t>(-1)) return graph.variables[v];
  const std::size_t d = program.definition_index(name);
  if (d != static_cast<std::size_t>(-1)) return graph.definitions[d];
  std::string known;
  for (const std::string& n : program.variables()) known += (known.empty() ? "" : ", ") + n;
  std::string defs;
  for (const Definition& def : program.definitions()) defs += (defs.empty() ? "" : ", ") + def.name;
  throw ProgramError(fmt::format("{} {}: '{}' is neither a variable ({}) nor a definition ({})",
                                 option, name, name, known.empty() ? "none" : known,
                                 defs.empty() ? "none" : defs));
}

nlohmann::json to_json(const Explanation& e) {
  nlohmann::json j{{"wrt", e.wrt},
                   {"output", e.output},
                   {"reachable", e.reachable},
                   {"total", number(e.total)},
                   {"path_count", number(e.path_count)},
                   {"linear_view", e.linear_view}};
  if (!e.linear_view) j["path_sum"] = number(e.path_sum);
  nlohmann::json paths = nlohmann::json::array();
  for (const ExplainPath& p : e.paths) {
    nlohmann::json local = nlohmann::json::array(), ops = nlohmann::json::array();
    for (const ExplainFactor& f : p.factors) {
      local.push_back(number(f.local));
      ops.push_back(f.op);
    }
    nlohmann::json jp{{"nodes", p.nodes},
                      {"ops", std::move(ops)},
                      {"local", std::move(local)},
                      {"product", number(p.product)}};
    if (!p.zero_factor.empty()) jp["zero_factor"] = p.zero_factor;
    paths.push_back(std::move(jp));
  }
  j["paths"] = std::move(paths);
  if (e.linear_view) {
    nlohmann::json adjoints = nlohmann::json::array();
    for (const TraceStep& s : e.adjoints) adjoints.push_back(step_json(s));
    j["adjoints"] = std::move(adjoints);
  }
  return j;
}

nlohmann::json to_json(const BackwardTrace& t) {
  nlohmann::json steps = nlohmann::json::array();
  for (const TraceStep& s : t.steps) steps.push_back(step_json(s));
  return {{"output", t.output}, {"steps", std::move(steps)}};
}

nlohmann::json to_json(const std::vector<Kink>& kinks) {
  nlohmann::json out = nlohmann::json::array();
  for (const Kink& k : kinks) {
    out.push_back({{"node", k.node}, {"op", k.op}, {"input", number(k.input)}, {"state", k.state}});
  }
  return out;
}

std::string kinks_text(const std::vector<Kink>& kinks, const std::string& indent) {
  if (kinks.empty()) return indent + "no relu or abs in the graph\n";
  std::string out;
  for (const Kink& k : kinks) {
    out += fmt::format("{}{}: {} input {:.6g}, {}\n", indent, k.node, k.op, k.input + 0.0, k.state);
  }
  return out;
}

std::string indented(const std::string& text, const std::string& indent) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::size_t stop = end == std::string::npos ? text.size() : end;
    if (stop > start) out += indent;
    out.append(text, start, stop - start);
    out += '\n';
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace ag::expr
