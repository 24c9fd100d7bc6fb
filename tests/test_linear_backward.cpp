// linear's first-order backward when its input and weight both need gradients and it has one to
// four outputs (a classifier's logits): both products in one pass over the rows
// (linear_grad.hpp). Finite differences in float64; bit for bit against the products the other
// paths compute (only the input, or only the weight, needing a gradient); in every CPU variant
// (tests/core.cmake).
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cstring>

#include "test_support.hpp"

using ag::Tensor;
using ag_test::inputs;

namespace {

struct Case {
  std::int64_t rows, in, out;
  bool relu, bias;
};

std::vector<double> grad_of(const Tensor& t) { return t.grad().to_vector(); }

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(few_outputs_against_finite_differences) {
  for (const Case c : {Case{5, 3, 1, true, true}, Case{4, 7, 3, false, false},
                       Case{6, 18, 4, true, false}, Case{3, 2, 2, false, true}}) {
    BOOST_TEST_CONTEXT(c.rows << "x" << c.in << "x" << c.out << " relu " << c.relu << " bias "
                              << c.bias) {
      const auto act = c.relu ? ag::Activation::relu : ag::Activation::none;
      auto xs = c.bias ? inputs({{c.rows, c.in}, {c.in, c.out}, {c.out}}, 720)
                       : inputs({{c.rows, c.in}, {c.in, c.out}}, 721);
      const auto r = ag::gradcheck(
          [&](const std::vector<Tensor>& x) {
            return ag::linear(x[0], x[1], c.bias ? x[2] : Tensor(), act);
          },
          xs);
      BOOST_TEST(r.ok, r.summary());
    }
  }
  // A 3-d input: its rows are the leading dims.
  const auto r =
      ag::gradcheck([](const std::vector<Tensor>& x) { return ag::linear(x[0], x[1], x[2]); },
                    inputs({{2, 3, 5}, {5, 2}, {2}}, 722));
  BOOST_TEST(r.ok, r.summary());
}

// Widths of x that reach each block of the pass (as wide as the registers hold, single
// vectors, a part-vector, in each dtype and CPU variant), one row, and a product past the small
// kernels' threshold (the two products then, on both sides).
BOOST_AUTO_TEST_CASE(few_outputs_give_the_bits_of_the_two_products) {
  std::uint64_t seed = 730;
  for (const Case c :
       {Case{300, 64, 3, false, true}, Case{300, 64, 3, true, true}, Case{7, 70, 1, false, true},
        Case{33, 19, 2, true, false}, Case{5, 130, 4, false, false}, Case{1, 3, 4, true, true},
        Case{64, 16, 3, false, true}, Case{12, 1, 2, true, true}, Case{300, 64, 4, false, true}}) {
    for (ag::Dtype dtype : {ag::float32, ag::float64}) {
      BOOST_TEST_CONTEXT(ag::name(dtype) << " " << c.rows << "x" << c.in << "x" << c.out << " relu "
                                         << c.relu << " bias " << c.bias) {
        const auto act = c.relu ? ag::Activation::relu : ag::Activation::none;
        auto xs = inputs({{c.rows, c.in}, {c.in, c.out}, {c.out}, {c.rows, c.out}}, seed++);
        for (auto& x : xs) x = x.to(dtype);
        const Tensor& upstream = xs[3];
        // Both need gradients (the one pass), then each alone (the products).
        auto run = [&](bool need_x, bool need_w) {
          const Tensor x = xs[0].detach().requires_grad_(need_x);
          const Tensor w = xs[1].detach().requires_grad_(need_w);
          const Tensor b = c.bias ? xs[2].detach().requires_grad_() : Tensor();
          const Tensor y = ag::linear(x, w, b, act);
          (y * upstream).sum().backward();
          return std::vector<std::vector<double>>{need_x ? grad_of(x) : std::vector<double>{},
                                                  need_w ? grad_of(w) : std::vector<double>{},
                                                  c.bias ? grad_of(b) : std::vector<double>{},
                                                  y.to_vector()};
        };
        const auto both = run(true, true), x_only = run(true, false), w_only = run(false, true);
        BOOST_TEST(same_bits(both[0], x_only[0]));
        BOOST_TEST(same_bits(both[1], w_only[1]));
        BOOST_TEST(same_bits(both[2], x_only[2]));
        // And the sums themselves, in float64 by hand, within a sum's rounding.
        const auto xv = xs[0].to_vector(), wv = xs[1].to_vector(), gv = upstream.to_vector();
        const auto& yv = both[3];
        const double eps = dtype == ag::float64 ? 1.2e-16 : 6e-8;
        std::size_t masked = 0;
        auto gz = [&](std::int64_t r, std::int64_t j) {
          const auto at = static_cast<std::size_t>(r * c.out + j);
          return c.relu && !(yv[at] > 0.0) ? 0.0 : gv[at];
        };
        for (std::int64_t r = 0; r < c.rows; ++r) {
          for (std::int64_t i = 0; i < c.in; ++i) {
            double want = 0, scale = 0;
            for (std::int64_t j = 0; j < c.out; ++j) {
              want += gz(r, j) * wv[static_cast<std::size_t>(i * c.out + j)];
              scale += std::abs(gz(r, j) * wv[static_cast<std::size_t>(i * c.out + j)]);
            }
            const double got = both[0][static_cast<std::size_t>(r * c.in + i)];
            BOOST_TEST(std::abs(got - want) <= 4 * eps * (scale + 1e-30));
          }
          for (std::int64_t j = 0; j < c.out; ++j) masked += gz(r, j) == 0.0;
        }
        for (std::int64_t i = 0; i < c.in; ++i) {
          for (std::int64_t j = 0; j < c.out; ++j) {
            double want = 0, scale = 0;
            for (std::int64_t r = 0; r < c.rows; ++r) {
              const double term = xv[static_cast<std::size_t>(r * c.in + i)] * gz(r, j);
              want += term;
              scale += std::abs(term);
            }
            const double got = both[1][static_cast<std::size_t>(i * c.out + j)];
            BOOST_TEST(std::abs(got - want) <=
                       static_cast<double>(c.rows + 1) * eps * (scale + 1e-30));
          }
        }
        if (c.relu && c.rows * c.out > 4) BOOST_TEST(masked > 0u);  // the mask is exercised
      }
    }
  }
}
