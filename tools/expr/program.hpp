#pragma once
// agexpr's model: an expression with named sub-expressions (definitions), evaluated in plain
// doubles or built as an ag::Value graph, and the check of a hand-derived partial derivative.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/value.hpp"
#include "tools/expr/parser.hpp"

namespace ag::expr {

// "No such index": what variable_index and the tool's searches return for a name not found.
inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

// A definition that cannot be used (bad name, duplicate, cycle) or a name nobody defines.
class ProgramError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Definition {
  std::string name;
  Expr expr;
};

class Program {
 public:
  // Orders definitions so each comes after the ones it uses; throws ProgramError on a cycle,
  // a duplicate, or a definition named like a function.
  Program(Expr main, std::vector<Definition> definitions);

  const Expr& main() const { return main_; }
  const std::vector<Definition>& definitions() const { return definitions_; }  // dependency order
  // Free names of the main expression and the definitions it uses, in order of appearance.
  const std::vector<std::string>& variables() const { return variables_; }
  std::size_t variable_index(const std::string& name) const;  // npos when not a variable
  std::size_t definition_index(const std::string& name) const;

  // Plain double evaluation (NaN where a function is undefined). `definition_values`, when
  // given, receives each definition's value. `held_definition` (an index) takes the value
  // `held_value` instead of its formula: the partial with respect to a definition.
  double evaluate(const std::vector<double>& point,
                  std::vector<double>* definition_values = nullptr,
                  std::size_t held_definition = static_cast<std::size_t>(-1),
                  double held_value = 0.0) const;
  // Evaluates another expression (a derivative formula) over the same variables and
  // definitions; throws ProgramError if it names anything else.
  double evaluate_other(const Expr& formula, const std::vector<double>& point) const;
  void validate_other(const Expr& formula) const;

  // The expression as an ag::Value graph. Variables are labelled leaves, definitions labelled
  // intermediates, the result is labelled "f". Constant subexpressions fold into doubles.
  struct Graph {
    Value output;
    std::vector<Value> variables;    // in variables() order
    std::vector<Value> definitions;  // in definitions() order
  };
  Graph build(const std::vector<double>& point) const;

 private:
  Expr main_;
  std::vector<Definition> definitions_;
  std::vector<std::string> variables_;
};

struct CheckOptions {
  std::size_t samples = 1000;  // random points besides the given one
  std::uint64_t seed = 1;
  double range = 2.0;  // each variable drawn within +-range of its given value (step 0.01)
  double atol = 1e-8;  // formula vs engine: |a - b| <= atol + rtol * max(|a|, |b|)
  double rtol = 1e-6;
  double fd_atol = 1e-5;  // finite differences vs engine, looser (truncation error)
  double fd_rtol = 1e-4;
};

struct Disagreement {
  std::vector<double> point;              // variables() order
  std::vector<double> definition_values;  // definitions() order
  bool given_point = false;               // the point of --at (else a random one)
  double formula = 0, engine = 0, finite_difference = 0;
};

struct CheckResult {
  std::string variable;
  std::size_t points = 0;          // points where f, the formula and the engine are finite
  std::size_t skipped_points = 0;  // outside the domain (log of a negative, division by 0, ...)
  std::vector<Disagreement> disagreements;  // formula differs from the engine
  // Formula and engine agree but finite differences do not: non-differentiable points (a relu
  // at exactly 0) or an ill-conditioned difference.
  std::vector<Disagreement> finite_difference_only;
  bool given_point_agrees = false;
};

// Compares `formula` (a hand-derived df/d`variable`, where `variable` may also name a
// definition: the partial holding the variables the definition does not use) with the
// engine's gradient and central finite differences at `at` and at options.samples seeded
// random points. Zero compared points is the caller's failure to report (CheckResult::points).
CheckResult check_partial(const Program& program, const std::string& variable, const Expr& formula,
                          const std::vector<double>& at, const CheckOptions& options = {});

// The machinery every check shares: at `at` and at options.samples seeded random points,
// compares `formula` with `engine` (the derivative the engine computes there) and `engine`
// with `difference` (finite differences). A point where f, the formula or the engine is not
// finite, or where the engine throws ag::Error, is skipped.
using PointFunction = std::function<double(const std::vector<double>& point)>;
CheckResult compare_at_samples(const Program& program, const Expr& formula,
                               const std::vector<double>& at, const CheckOptions& options,
                               const PointFunction& engine, const PointFunction& difference);

}  // namespace ag::expr
