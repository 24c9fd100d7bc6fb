// The vectorised float32 exp and log (autograd/src/vector_math.hpp) against the correctly rounded
// value, float(f(x)) with f taken in float64, over a sweep of float bit patterns through the whole
// range and at the edges: overflow, underflow into subnormals, infinities, NaN, -0, negatives.
// The suite also runs in the x86-64 and AVX2 variants (tests/core.cmake).
#include <algorithm>
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

namespace {

// The scalar steps short_row_exponentials replaces: std::max over the row, x - max, exp_in_place,
// the sum in k order, the division.
struct RowSums {
  std::vector<float> q, maxima, totals;
};
RowSums scalar_row_exponentials(const std::vector<float>& x, std::int64_t rows, std::int64_t n,
                                bool normalise) {
  RowSums s{std::vector<float>(x.size()), std::vector<float>(static_cast<std::size_t>(rows)),
            std::vector<float>(static_cast<std::size_t>(rows))};
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * n;
    float m = row[0];
    for (std::int64_t k = 1; k < n; ++k) m = std::max(m, row[k]);
    for (std::int64_t k = 0; k < n; ++k) s.q[static_cast<std::size_t>(r * n + k)] = row[k] - m;
    s.maxima[static_cast<std::size_t>(r)] = m;
  }
  ag::detail::exp_in_place(s.q.data(), static_cast<std::int64_t>(s.q.size()));
  for (std::int64_t r = 0; r < rows; ++r) {
    float total = 0;
    for (std::int64_t k = 0; k < n; ++k) total += s.q[static_cast<std::size_t>(r * n + k)];
    s.totals[static_cast<std::size_t>(r)] = total;
    if (normalise) {
      for (std::int64_t k = 0; k < n; ++k) s.q[static_cast<std::size_t>(r * n + k)] /= total;
    }
  }
  return s;
}

std::size_t differing(const std::vector<float>& got, const std::vector<float>& want) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < got.size(); ++i) wrong += same_float(got[i], want[i]) ? 0 : 1;
  return wrong;
}

}  // namespace

// Several rows per vector give the scalar steps' floats bit for bit: every row length it takes,
// row counts around each variant's vector and the 64-row chunks, both forms, and rows with NaN,
// infinities, signed zeros, huge and tiny logits.
BOOST_AUTO_TEST_CASE(short_rows_give_the_scalar_steps_floats) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> specials = {nan,   inf,   -inf,   0.0f,   -0.0f,   1e4f,
                                       -1e4f, 88.8f, -104.f, 1e-40f, 3.4e38f, -3.4e38f};
  std::uint32_t state = 12345;
  const auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(state >> 8) / 16777216.0f;  // [0, 1)
  };
  std::size_t compared = 0;
  for (std::int64_t n = 1; n <= ag::detail::kShortRow; ++n) {
    for (std::int64_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 63, 64, 65, 130}) {
      std::vector<float> x(static_cast<std::size_t>(rows * n));
      for (float& v : x) v = (next() - 0.5f) * 40.0f;
      // One element in four of the later rows a special value (the first rows stay plain).
      for (std::size_t i = static_cast<std::size_t>(n); i < x.size(); ++i) {
        if (next() < 0.25f) x[i] = specials[static_cast<std::size_t>(next() * 12.0f) % 12];
      }
      for (bool normalise : {false, true}) {
        BOOST_TEST_CONTEXT("n = " << n << ", rows = " << rows << ", normalise = " << normalise) {
          const RowSums want = scalar_row_exponentials(x, rows, n, normalise);
          RowSums got{std::vector<float>(x.size(), -1.0f),
                      std::vector<float>(static_cast<std::size_t>(rows), -1.0f),
                      std::vector<float>(static_cast<std::size_t>(rows), -1.0f)};
          const std::vector<float> before = x;
          ag::detail::short_row_exponentials(x.data(), got.q.data(), got.maxima.data(),
                                             got.totals.data(), rows, n, normalise);
          BOOST_TEST(differing(got.q, want.q) == 0u);
          BOOST_TEST(differing(got.maxima, want.maxima) == 0u);
          BOOST_TEST(differing(got.totals, want.totals) == 0u);
          BOOST_TEST(differing(x, before) == 0u);  // the input is read only
          compared += got.q.size();
        }
      }
    }
  }
  BOOST_TEST(compared > 10'000u);
}

// Known values: a row of equal logits is uniform, and [0, ln 2, ln 3] gives 1/6, 2/6, 3/6.
BOOST_AUTO_TEST_CASE(short_rows_known_softmax_values) {
  const std::vector<float> x = {5.0f, 5.0f, 5.0f, 0.0f, std::log(2.0f), std::log(3.0f)};
  std::vector<float> q(6), maxima(2), totals(2);
  ag::detail::short_row_exponentials(x.data(), q.data(), maxima.data(), totals.data(), 2, 3, true);
  for (int k = 0; k < 3; ++k) BOOST_TEST(q[static_cast<std::size_t>(k)] == 1.0f / 3.0f);
  BOOST_TEST(q[3] == 1.0f / 6.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(q[4] == 2.0f / 6.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(q[5] == 3.0f / 6.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(maxima[0] == 5.0f);
  BOOST_TEST(maxima[1] == std::log(3.0f));
  BOOST_TEST(totals[0] == 3.0f);
  BOOST_TEST(totals[1] == 2.0f, boost::test_tools::tolerance(1e-6f));  // (1 + 2 + 3) / 3
}
