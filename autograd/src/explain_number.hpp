#pragma once
// How an explanation prints a number (explain.cpp's reasons, explain_text.cpp's lines): %g at
// the caller's precision, never "-0", and "?" for NaN (a value the graph could not give).
#include <fmt/format.h>

#include <cmath>
#include <string>

namespace ag::detail {

inline std::string explain_number(double v, int precision) {
  if (std::isnan(v)) return "?";
  if (v == 0.0) v = 0.0;  // no "-0"
  return fmt::format("{:.{}g}", v, precision);
}

}  // namespace ag::detail
