// One --check of agexpr, reported: the comparison over the sample points, then at each
// disagreement the kinks' sides and the engine's chain rule there, as text and as JSON.
#include "tools/expr/check_report.hpp"

#include <fmt/format.h>

#include "autograd/error.hpp"
#include "tools/expr/report.hpp"
#include "tools/expr/second_order.hpp"

namespace ag::expr {
namespace {

using nlohmann::json;
std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string describe_point(const Program& program, const Disagreement& d,
                           const std::vector<std::size_t>& order) {
  std::string s;
  for (const std::size_t i : order) {
    s += fmt::format("{}{}={}", s.empty() ? "" : ",", program.variables()[i],
                     text_number(d.point[i]));
  }
  if (!program.definitions().empty()) {
    s += " (";
    for (std::size_t i = 0; i < program.definitions().size(); ++i) {
      s += fmt::format("{}{}={}", i ? ", " : "", program.definitions()[i].name,
                       text_number(d.definition_values[i]));
    }
    s += ")";
  }
  return s;
}

json point_json(const Program& program, const std::vector<double>& point) {
  json j = json::object();
  for (std::size_t i = 0; i < point.size(); ++i) j[program.variables()[i]] = json_number(point[i]);
  return j;
}

}  // namespace

CheckReport report_check(const Program& program, const CheckRequest& request,
                         const std::vector<double>& point, const std::vector<std::size_t>& order,
                         const CheckOptions& co, std::size_t max_report,
                         const ExplainOptions& explain_options) {
  const std::string& name = request.name;
  const std::string& text = request.formula_text;
  const Expr& formula = request.formula;
  CheckReport report;
  std::string& out = report.text;
  // "x,y=..." is a second partial d2f/dxdy: explained as d(df/dx)/dy.
  const std::size_t comma = name.find(',');
  const std::string a = trim(name.substr(0, comma));
  const std::string b = comma == npos ? "" : trim(name.substr(comma + 1));
  const std::string what = comma == npos ? "df/d" + a
                           : a == b      ? fmt::format("d2f/d{}2", a)
                                         : fmt::format("d2f/d{}d{}", a, b);
  const CheckResult r = comma == npos ? check_partial(program, name, formula, point, co)
                                      : check_second_partial(program, a, b, formula, point, co);
  auto explained = [&](const Program::Graph& at) {
    if (comma == npos)
      return ag::explain(at.output, node_named(program, at, name, "--check"), explain_options);
    const std::size_t i = program.variable_index(a), j = program.variable_index(b);
    return ag::explain(first_partial_with_history(at, i), at.variables[j], explain_options);
  };
  json jc{{"variable", comma == npos ? name : a + "," + b},
          {"order", comma == npos ? 1 : 2},
          {"formula", text},
          {"points", r.points},
          {"skipped_points", r.skipped_points},
          {"samples", co.samples},
          {"seed", co.seed},
          {"range", co.range},
          {"given_point_agrees", r.given_point_agrees}};
  out += (fmt::format("\ncheck {} = {}\n", what, text));
  out +=
      (fmt::format("  {} points (the --at point and {} random ones, seed {}, each variable within "
                   "+-{} of its --at value); {} skipped outside the domain\n",
                   r.points, co.samples, co.seed, co.range, r.skipped_points));
  json jd = json::array();
  std::size_t shown = 0;
  for (const auto& d : r.disagreements) {
    if (shown++ == max_report) break;
    out += (fmt::format("  DISAGREE at {}{}:\n    formula {}, engine {}, finite difference {}\n",
                        d.given_point ? "the --at point " : "", describe_point(program, d, order),
                        text_number(d.formula), text_number(d.engine),
                        text_number(d.finite_difference)));
    // Why the engine says what it says there: every kink's side, and the paths.
    Program::Graph at = program.build(d.point);
    const auto kinks = kinks_of(at.output);
    out += ("    kinks there:\n" + kinks_text(kinks, "      "));
    json je = nullptr;
    try {
      const ag::Explanation e = explained(at);
      out += ("    the engine's chain rule there:\n" + indented(e.text(), "      "));
      je = to_json(e);
    } catch (const ag::Error&) {  // df/da is a constant: nothing to explain
      out +=
          (fmt::format("    the engine's df/d{} there is a constant: its derivatives are 0\n", a));
    }
    jd.push_back({{"point", point_json(program, d.point)},
                  {"given_point", d.given_point},
                  {"formula", json_number(d.formula)},
                  {"engine", json_number(d.engine)},
                  {"finite_difference", json_number(d.finite_difference)},
                  {"kinks", to_json(kinks)},
                  {"explain", std::move(je)}});
  }
  jc["disagreements"] = std::move(jd);
  jc["disagreement_count"] = r.disagreements.size();
  if (r.disagreements.size() > max_report) {
    out += (fmt::format("  ... and {} more disagreements\n", r.disagreements.size() - max_report));
  }
  if (!r.finite_difference_only.empty()) {
    const auto& d = r.finite_difference_only.front();
    out +=
        (fmt::format("  note: at {} points formula and engine agree but finite differences do not "
                     "(a kink such as relu at 0?), e.g. at {}: {} vs finite difference {}\n",
                     r.finite_difference_only.size(), describe_point(program, d, order),
                     text_number(d.engine), text_number(d.finite_difference)));
  }
  jc["finite_difference_only"] = r.finite_difference_only.size();
  bool ok = r.disagreements.empty() && r.points > 0;
  if (r.points == 0) {
    out +=
        (fmt::format("FAIL: {}: no point where f, the formula and the engine are all finite "
                     "(all {} skipped): nothing was compared\n",
                     what, r.skipped_points));
  } else if (ok) {
    out +=
        (fmt::format("OK: {} formula agrees with the engine at all {} points\n", what, r.points));
  } else {
    out += (fmt::format("FAIL: {} formula disagrees with the engine at {} of {} points{}\n", what,
                        r.disagreements.size(), r.points,
                        r.given_point_agrees ? " (it agrees at the --at point)" : ""));
  }
  jc["ok"] = ok;
  report.ok = ok;
  report.json = std::move(jc);
  return report;
}

}  // namespace ag::expr
