// The replayable text form of a graph, and the names of check outcomes.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ostream>
#include <sstream>
#include <stdexcept>

#include "internal.hpp"

namespace ag::fuzz {

const char* name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pass:
      return "pass";
    case Outcome::Invalid:
      return "invalid";
    case Outcome::Exception:
      return "exception";
    case Outcome::WrongShape:
      return "wrong shape";
    case Outcome::GradMismatch:
      return "gradient mismatch";
    case Outcome::LeafMismatch:
      return "leaf gradient mismatch";
    case Outcome::GradGradMismatch:
      return "second-order mismatch";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, Outcome outcome) { return out << name(outcome); }

std::string CheckResult::signature() const { return fmt::format("{}:{}", name(outcome), op); }

std::string to_text(const RandomGraph& g) {
  std::string s;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    s += fmt::format("n{} = {}", i, n.op);
    for (int a : n.args) s += fmt::format(" n{}", a);
    const detail::OpInfo* info = detail::find_op(n.op);
    if (!n.ints.empty() || (info && info->op == detail::Op::TensorIn))
      s += fmt::format(" [{}]", fmt::join(n.ints, " "));
    if (!n.reals.empty()) {
      s += " {";
      for (std::size_t k = 0; k < n.reals.size(); ++k)
        s += fmt::format("{}{:.17g}", k ? " " : "", n.reals[k]);
      s += "}";
    }
    s += "\n";
  }
  return s;
}

RandomGraph parse_graph(std::string_view text) {
  RandomGraph g;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    // Brackets become separate tokens.
    std::string spaced;
    for (char ch : line) {
      if (ch == '[' || ch == ']' || ch == '{' || ch == '}' || ch == '=') {
        spaced += ' ';
        spaced += ch;
        spaced += ' ';
      } else {
        spaced += ch;
      }
    }
    std::istringstream tokens(spaced);
    std::vector<std::string> tok;
    for (std::string t; tokens >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error(fmt::format("random graph line {}: {}: '{}'", line_no, why, line));
    };
    if (tok.size() < 3 || tok[1] != "=") fail("expected 'nK = op ...'");
    if (tok[0] != fmt::format("n{}", g.nodes.size()))
      fail(fmt::format("expected node name n{}", g.nodes.size()));
    NodeSpec spec;
    spec.op = tok[2];
    if (!detail::find_op(spec.op)) fail("unknown op '" + spec.op + "'");
    std::size_t k = 3;
    try {
      for (; k < tok.size() && tok[k][0] == 'n'; ++k)
        spec.args.push_back(std::stoi(tok[k].substr(1)));
      if (k < tok.size() && tok[k] == "[") {
        for (++k; k < tok.size() && tok[k] != "]"; ++k) spec.ints.push_back(std::stoll(tok[k]));
        if (k == tok.size()) fail("unclosed '['");
        ++k;
      }
      if (k < tok.size() && tok[k] == "{") {
        for (++k; k < tok.size() && tok[k] != "}"; ++k) spec.reals.push_back(std::stod(tok[k]));
        if (k == tok.size()) fail("unclosed '{'");
        ++k;
      }
    } catch (const std::logic_error&) {  // stoi/stod: invalid_argument, out_of_range
      fail("bad number '" + tok[k] + "'");
    }
    if (k != tok.size()) fail("unexpected '" + tok[k] + "'");
    g.nodes.push_back(std::move(spec));
  }
  return g;
}

}  // namespace ag::fuzz
