// The vectorised float32 exp and log (autograd/src/vector_math.hpp) against the correctly rounded
// value, float(f(x)) with f taken in float64, over a sweep of float bit patterns through the whole
// range and at the edges: overflow, underflow into subnormals, infinities, NaN, -0, negatives.
// The suite also runs in the x86-64 and AVX2 variants (tests/core.cmake).
#define BOOST_TEST_MODULE vector_math
#include <autograd/autograd.hpp>
#include <bit>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "autograd/src/vector_math.hpp"

namespace {

float reference_exp(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }
float reference_log(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

// How many of f(x) by the vectorised function differ from the reference (the first few named).
std::size_t mismatches(const std::vector<float>& x, void (*vectorised)(float*, std::int64_t),
                       float (*reference)(float), const char* name) {
  std::vector<float> y = x;
  vectorised(y.data(), static_cast<std::int64_t>(y.size()));
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!same_float(y[i], reference(x[i])) && ++wrong <= 5) {
      BOOST_ERROR(name << "(" << x[i] << ") = " << y[i] << ", want " << reference(x[i]));
    }
  }
  return wrong;
}

}  // namespace

BOOST_AUTO_TEST_CASE(exp_is_correctly_rounded_across_the_float_range) {
  // Every 509th bit pattern of each sign (509: odd, so the low mantissa bits vary), from 0 to
  // past the overflow and underflow thresholds.
  std::vector<float> x;
  for (std::uint32_t bits = 0; bits < 0x42D00000u; bits += 509) {  // 0 .. 104
    x.push_back(std::bit_cast<float>(bits));
    x.push_back(-std::bit_cast<float>(bits));
  }
  BOOST_TEST(mismatches(x, ag::detail::exp_in_place, reference_exp, "exp") == 0u);
  BOOST_TEST(x.size() > 4'000'000u);
}

BOOST_AUTO_TEST_CASE(exp_edges_overflow_underflow_and_specials) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float max_finite_input = 88.72283f;  // e^x just below FLT_MAX
  std::vector<float> x = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          max_finite_input,
                          88.72284f,
                          89.0f,
                          1000.0f,
                          inf,
                          -inf,
                          nan,
                          -87.33654f /* smallest normal */,
                          -100.0f,
                          -103.27893f /* the smallest subnormal */,
                          -103.97208f,
                          -104.0f,
                          -1e30f,
                          1e-30f,
                          -1e-30f,
                          std::numeric_limits<float>::denorm_min()};
  const std::vector<float> in = x;
  ag::detail::exp_in_place(x.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST_CONTEXT("x = " << in[i]) { BOOST_TEST(same_float(x[i], reference_exp(in[i]))); }
  }
  BOOST_TEST(x[0] == 1.0f);
  BOOST_TEST(x[1] == 1.0f);
  BOOST_TEST(std::isfinite(x[4]));
  BOOST_TEST(x[5] == inf);
  BOOST_TEST(x[8] == inf);
  BOOST_TEST(x[9] == 0.0f);
  BOOST_TEST(std::isnan(x[10]));
  BOOST_TEST(std::fpclassify(x[12]) == FP_SUBNORMAL);
  BOOST_TEST(x[15] == 0.0f);
}

// An element's result is the same wherever it sits: in the vector body, in the tail (padded
// through the same lanes) or alone.
BOOST_AUTO_TEST_CASE(exp_result_does_not_depend_on_position) {
  for (std::int64_t count : {0, 1, 3, 7, 8, 9, 15, 17, 33}) {
    std::vector<float> x(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i)
      x[static_cast<std::size_t>(i)] = -3.7f + 0.61f * static_cast<float>(i);
    std::vector<float> whole = x;
    ag::detail::exp_in_place(whole.data(), count);
    for (std::int64_t i = 0; i < count; ++i) {
      float alone = x[static_cast<std::size_t>(i)];
      ag::detail::exp_in_place(&alone, 1);
      BOOST_TEST(same_float(whole[static_cast<std::size_t>(i)], alone));
    }
  }
}

BOOST_AUTO_TEST_CASE(log_is_correctly_rounded_across_the_float_range) {
  // Every 509th positive bit pattern, subnormals included, up to +inf.
  std::vector<float> x;
  for (std::uint32_t bits = 0; bits <= 0x7F800000u; bits += 509)
    x.push_back(std::bit_cast<float>(bits));
  BOOST_TEST(mismatches(x, ag::detail::log_in_place, reference_log, "log") == 0u);
  BOOST_TEST(x.size() > 4'000'000u);
}

BOOST_AUTO_TEST_CASE(log_edges_and_specials) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {1.0f,
                          0.0f,
                          -0.0f,
                          -1.0f,
                          -inf,
                          inf,
                          nan,
                          std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          1.0000001f,
                          0.99999994f,
                          2.0f,
                          0.5f,
                          1.4142135f,
                          1.4142137f};
  const std::vector<float> in = x;
  ag::detail::log_in_place(x.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST_CONTEXT("x = " << in[i]) { BOOST_TEST(same_float(x[i], reference_log(in[i]))); }
  }
  BOOST_TEST(x[0] == 0.0f);
  BOOST_TEST(x[1] == -inf);
  BOOST_TEST(x[2] == -inf);
  BOOST_TEST(std::isnan(x[3]));
  BOOST_TEST(std::isnan(x[4]));
  BOOST_TEST(x[5] == inf);
  BOOST_TEST(std::isnan(x[6]));
  BOOST_TEST(x[12] == std::log(2.0f));
}
