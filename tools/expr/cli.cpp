#include "tools/expr/cli.hpp"

#include <charconv>
#include <cmath>

namespace ag::expr {

// A CLI11 check: a finite number above zero (CLI::PositiveNumber lets NaN through).
const CLI::Validator kFinitePositive(
    [](std::string& s) -> std::string {
      double v = 0;
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v <= 0) {
        return "must be a finite number above 0, got '" + s + "'";
      }
      return "";
    },
    "POSITIVE");
// Unsigned options refuse '-1' (which would wrap to 18446744073709551615).
const CLI::Validator kCount(
    [](std::string& s) -> std::string {
      if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return "must be a whole number >= 0, got '" + s + "'";
      }
      return "";
    },
    "COUNT");

// An expression that starts with '-' ('-x^2') is not an option: a leading space keeps CLI11
// from reading it as one (the parser skips spaces).
void protect_negative_expression(std::vector<std::string>& args, const CLI::App& app) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return;
    if (a.size() < 2 || a[0] != '-' || a[1] == '-' || a == "-h") continue;
    const bool after_option = i > 0 && args[i - 1].rfind("--", 0) == 0 &&
                              args[i - 1].find('=') == std::string::npos &&
                              app.get_option_no_throw(args[i - 1]) != nullptr &&
                              app.get_option_no_throw(args[i - 1])->get_items_expected_max() > 0;
    if (!after_option) args[i] = " " + a;
  }
}

}  // namespace ag::expr
