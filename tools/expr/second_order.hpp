#pragma once
// Second partial derivatives of an agexpr program: the Hessian over its variables, and the
// check of a hand-derived d2f/dadb against the engine and finite differences.
#include <cstddef>
#include <string>
#include <vector>

#include "tools/expr/program.hpp"

namespace ag::expr {

// df/d(variable a) as a Value with history (ag::grad with create_graph) in graph g: what
// d2f/dadb differentiates, and what ag::explain(first, b) explains.
Value first_partial_with_history(const Program::Graph& g, std::size_t a);

// H[i][j] = d2f/d(variables[i]) d(variables[j]) at `point`: the first partials with history,
// then ag::grad of each; a variable absent from a first partial's graph gives 0.
std::vector<std::vector<double>> hessian_at(const Program& program,
                                            const std::vector<double>& point,
                                            const std::vector<std::size_t>& variables);

// The variable index of `name` for a second partial; ProgramError for a definition or an
// unknown name, naming the variables.
std::size_t second_partial_variable(const Program& program, const std::string& name);

// Compares `formula` (a hand-derived d2f/dadb, a and b variables) with the engine's second
// partial and with central second differences of f, over the points check_partial uses.
CheckResult check_second_partial(const Program& program, const std::string& a, const std::string& b,
                                 const Expr& formula, const std::vector<double>& at,
                                 const CheckOptions& options = {});

}  // namespace ag::expr
