#pragma once
// What agexpr prints about a graph besides values: explanations, traces and kink states, as
// text for a learner and as JSON (schema: docs/agexpr.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/explain.hpp"
#include "tools/expr/program.hpp"

namespace ag::expr {

// Numbers as agexpr prints them: 12 significant digits, no "-0"; in JSON, null for NaN and
// infinities (JSON has neither).
std::string text_number(double v);
nlohmann::json json_number(double v);

// A kink of the graph at a point: a relu or abs node and which side of it the input is on.
struct Kink {
  std::string node;   // its label (a --def name) or "relu#id"
  std::string op;     // "relu" or "abs"
  double input;       // the input's value
  std::string state;  // "active", "inactive (derivative 0)", "at the kink (derivative 0)", ...
};
std::vector<Kink> kinks_of(const Value& output);

// The graph node named `name`: a variable or a definition. Throws ProgramError naming both
// lists if it is neither.
Value node_named(const Program& program, const Program::Graph& graph, const std::string& name,
                 const std::string& option);

nlohmann::json to_json(const Explanation& e);
nlohmann::json to_json(const BackwardTrace& t);
nlohmann::json to_json(const std::vector<Kink>& kinks);
std::string kinks_text(const std::vector<Kink>& kinks, const std::string& indent);

// Text indented by `indent` on every line.
std::string indented(const std::string& text, const std::string& indent);

}  // namespace ag::expr
