#pragma once
// agexpr's command-line details: numeric option checks and the leading-minus rule.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ag::expr {

// A finite number above zero (CLI::PositiveNumber lets NaN through).
extern const CLI::Validator kFinitePositive;
// A whole number >= 0: unsigned options refuse '-1' (which would wrap to 18446744073709551615).
extern const CLI::Validator kCount;

// An expression that starts with '-' ('-x^2') is not an option: a leading space keeps CLI11
// from reading it as one (the parser skips spaces). Arguments that are an option's value stay.
void protect_negative_expression(std::vector<std::string>& args, const CLI::App& app);

}  // namespace ag::expr
