#pragma once
// One --check of agexpr, reported as text and as JSON (schema: docs/agexpr.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/explain.hpp"
#include "tools/expr/program.hpp"

namespace ag::expr {

struct CheckRequest {
  std::string name;          // "x" or "h1" (df/dNAME), or "x,y" (d2f/dxdy)
  std::string formula_text;  // as typed
  Expr formula;
};

struct CheckReport {
  std::string text;
  nlohmann::json json;
  bool ok = false;  // compared at least one point and agreed at all of them
};

// Runs check_partial or check_second_partial and reports it; at most max_report
// disagreements are described. `order` is the order variables are printed in. Throws
// ProgramError for a name the check cannot use.
CheckReport report_check(const Program& program, const CheckRequest& request,
                         const std::vector<double>& point, const std::vector<std::size_t>& order,
                         const CheckOptions& options, std::size_t max_report,
                         const ExplainOptions& explain_options);

}  // namespace ag::expr
