// Every differentiable tensor op against finite differences (float64) through the one
// generic checker, with every broadcasting case; hand-computed values; error messages.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "test_support.hpp"

using ag::Shape;
using ag::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

using ag_test::inputs;

void check(const char* name, const Fn& f, const std::vector<Tensor>& xs) {
  BOOST_TEST_CONTEXT(name) {
    auto r = ag::gradcheck(f, xs);
    BOOST_TEST(r.ok, r.summary());
  }
}

// The broadcasting cases every binary op is checked with.
const std::vector<std::pair<Shape, Shape>> kBroadcastCases = {
    {{2, 3}, {2, 3}},     // same shape
    {{2, 3}, {}},         // 0-d on the right
    {{}, {2, 3}},         // 0-d on the left
    {{2, 3}, {3}},        // row vector, rank difference
    {{2, 3}, {2, 1}},     // column vector
    {{3, 1}, {1, 4}},     // both sides broadcast
    {{2, 3, 4}, {4}},     // rank difference of 2
    {{2, 1, 4}, {3, 1}},  // mixed
    {{1}, {2, 2}},        // one-element
};

}  // namespace

BOOST_AUTO_TEST_CASE(binary_ops_every_broadcast_case) {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"add", [](auto& x) { return x[0] + x[1]; }},
      {"sub", [](auto& x) { return x[0] - x[1]; }},
      {"mul", [](auto& x) { return x[0] * x[1]; }},
      {"div", [](auto& x) { return x[0] / x[1]; }},
      {"pow", [](auto& x) { return ag::pow(ag::abs(x[0]) + 0.5, x[1]); }},
  };
  std::uint64_t seed = 1;
  for (auto& [name, f] : ops) {
    for (auto& [a, b] : kBroadcastCases) {
      BOOST_TEST_CONTEXT(ag::to_string(a) << " with " << ag::to_string(b)) {
        check(name, f, inputs({a, b}, seed++));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(scalar_operands_both_sides) {
  check(
      "t+c, c-t, t*c, c/t, t/c, t-c, c+t, c*t",
      [](auto& x) {
        return (x[0] + 2.0) * (3.0 - x[0]) + 1.5 / x[0] + x[0] / 4.0 - (x[0] - 1.0) * 2.0 +
               (0.5 + x[0]) + 3.0 * x[0];
      },
      inputs({{2, 3}}, 50));
  check(
      "neg", [](auto& x) { return -x[0]; }, inputs({{4}}, 51));
}

BOOST_AUTO_TEST_CASE(unary_ops) {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"exp", [](auto& x) { return ag::exp(x[0]); }},
      {"log", [](auto& x) { return ag::log(ag::abs(x[0])); }},
      {"sqrt", [](auto& x) { return ag::sqrt(ag::abs(x[0])); }},
      {"tanh", [](auto& x) { return ag::tanh(x[0]); }},
      {"sigmoid", [](auto& x) { return ag::sigmoid(x[0]); }},
      {"relu", [](auto& x) { return ag::relu(x[0]); }},
      {"abs", [](auto& x) { return ag::abs(x[0]); }},
      {"pow 3", [](auto& x) { return ag::pow(x[0], 3.0); }},
      {"pow 0.5", [](auto& x) { return ag::pow(ag::abs(x[0]), 0.5); }},
      {"clamp", [](auto& x) { return ag::clamp(x[0], -0.7, 0.8); }},
      {"to float64 via float32 roundtrip-free", [](auto& x) { return x[0].to(ag::float64) * 2.0; }},
      {"clone", [](auto& x) { return x[0].clone() * x[0]; }},
  };
  std::uint64_t seed = 100;
  for (auto& [name, f] : ops) check(name, f, inputs({{3, 4}}, seed++));
}

BOOST_AUTO_TEST_CASE(reductions) {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"sum", [](auto& x) { return x[0].sum(); }},
      {"sum dim0", [](auto& x) { return x[0].sum(0); }},
      {"sum dim1 keepdim", [](auto& x) { return x[0].sum(1, true); }},
      {"sum dim -1", [](auto& x) { return x[0].sum(-1); }},
      {"mean", [](auto& x) { return x[0].mean(); }},
      {"mean dim1", [](auto& x) { return x[0].mean(1); }},
      {"mean dim0 keepdim", [](auto& x) { return x[0].mean(0, true); }},
      {"max", [](auto& x) { return x[0].max(); }},
      {"max dim1", [](auto& x) { return x[0].max(1); }},
      {"max dim2 keepdim", [](auto& x) { return x[0].max(2, true); }},
  };
  std::uint64_t seed = 200;
  for (auto& [name, f] : ops) check(name, f, inputs({{2, 3, 4}}, seed++));
}

BOOST_AUTO_TEST_CASE(reduction_values) {
  // Seed 003's matrix: sums over all, axis 0, axis 1.
  Tensor m = ag::tensor(std::vector<double>{4.8, 1.21, 2.385, 8.9, -1.81, 0.2, 1.41, 1.051, 0.026},
                        {3, 3}, ag::float64);
  BOOST_TEST(m.sum().item() == 18.172, boost::test_tools::tolerance(1e-12));
  auto s0 = m.sum(0).to_vector();
  BOOST_TEST(s0[0] == 15.11, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m.sum(1, true).shape() == (Shape{3, 1}));
  BOOST_TEST(m.max().item() == 8.9);
  auto mx = m.max(1).to_vector();
  BOOST_TEST(mx[2] == 1.41);
  BOOST_TEST(ag::argmax(m, 1) == (std::vector<std::int64_t>{0, 0, 0}));
  BOOST_TEST(m.mean().item() == 18.172 / 9, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(matmul_cases) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3}, {3, 4}}, {{2, 2, 3}, {2, 3, 4}}, {{2, 3, 4}, {4, 5}}, {{4}, {4, 3}}, {{2, 4}, {4}},
      {{3}, {3}},       {{1, 2, 3}, {4, 3, 2}},
  };
  std::uint64_t seed = 300;
  for (auto& [a, b] : cases) {
    BOOST_TEST_CONTEXT(ag::to_string(a) << " @ " << ag::to_string(b)) {
      check(
          "matmul", [](auto& x) { return ag::matmul(x[0], x[1]); }, inputs({a, b}, seed++));
    }
  }
  // A hand-computed product.
  Tensor a = ag::tensor(std::vector<double>{1, 2, 3, 4}, {2, 2}, ag::float64);
  Tensor b = ag::tensor(std::vector<double>{5, 6, 7, 8}, {2, 2}, ag::float64);
  BOOST_TEST(ag::matmul(a, b).to_vector() == (std::vector<double>{19, 22, 43, 50}));
  Tensor af = a.to(ag::float32), bf = b.to(ag::float32);
  BOOST_TEST(ag::matmul(af, bf).to_vector() == (std::vector<double>{19, 22, 43, 50}));
}

BOOST_AUTO_TEST_CASE(fused_linear_and_cross_entropy) {
  check(
      "linear", [](auto& x) { return ag::linear(x[0], x[1], x[2]); },
      inputs({{4, 3}, {3, 2}, {2}}, 700));
  check(
      "linear 3-d input", [](auto& x) { return ag::linear(x[0], x[1], x[2]); },
      inputs({{2, 4, 3}, {3, 5}, {5}}, 701));
  check(
      "linear without bias", [](auto& x) { return ag::linear(x[0], x[1]); },
      inputs({{4, 3}, {3, 2}}, 702));
  const std::vector<std::int64_t> labels = {1, 0, 2, 2};
  check(
      "cross_entropy", [&](auto& x) { return ag::cross_entropy(x[0], labels) * 3.0; },
      inputs({{4, 3}}, 703));
  // Same values as the unfused forms.
  auto xs = inputs({{4, 3}, {3, 2}, {2}}, 704);
  BOOST_TEST(
      ag::linear(xs[0], xs[1], xs[2]).to_vector() == (ag::matmul(xs[0], xs[1]) + xs[2]).to_vector(),
      boost::test_tools::per_element());
  const double fused = ag::cross_entropy(xs[0], std::vector<std::int64_t>{0, 2, 1, 1}).item();
  const double composed =
      -ag::mean(ag::pick(ag::log_softmax(xs[0], 1), std::vector<std::int64_t>{0, 2, 1, 1})).item();
  BOOST_TEST(fused == composed, boost::test_tools::tolerance(1e-14));
  // Finite at huge logits (the loss of a confident wrong answer is large, not inf).
  Tensor big =
      ag::tensor(std::vector<double>{1e4, -1e4, 0.0, 0.0}, {2, 2}, ag::float64).requires_grad_();
  Tensor loss = ag::cross_entropy(big, std::vector<std::int64_t>{1, 0});
  loss.backward();
  BOOST_TEST(loss.item() == (2e4 + std::log(2.0)) / 2, boost::test_tools::tolerance(1e-12));
  for (double g : big.grad().to_vector()) BOOST_TEST(std::isfinite(g));
  // A gradient element below the smallest normal number is 0, as Adam's moments are: e^-80 / 4
  // is normal in float32 and kept, e^-88 / 4 and e^-90 (a subnormal probability) become 0.
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    Tensor far = ag::tensor(std::vector<double>{0, -80, 0, -88, 0, -90, 0, 0}, {4, 2}, dtype)
                     .requires_grad_();
    ag::cross_entropy(far, std::vector<std::int64_t>{0, 0, 0, 0}).backward();
    const auto g = far.grad().to_vector();
    const bool f32 = dtype == ag::float32;
    BOOST_TEST(g[1] == static_cast<double>(static_cast<float>(std::exp(-80.0))) / 4,
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(g[3] == (f32 ? 0.0 : std::exp(-88.0) / 4), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(g[5] == (f32 ? 0.0 : std::exp(-90.0) / 4), boost::test_tools::tolerance(1e-12));
    if (f32) {
      for (double v : g) BOOST_TEST(std::fpclassify(static_cast<float>(v)) != FP_SUBNORMAL);
    }
  }
  BOOST_CHECK_THROW(ag::linear(ag::ones({4, 3}), ag::ones({2, 3})), ag::Error);
  BOOST_CHECK_THROW(ag::cross_entropy(ag::ones({2, 3}), std::vector<std::int64_t>{0, 3}),
                    ag::Error);
}

BOOST_AUTO_TEST_CASE(linear_with_fused_relu) {
  const auto relu = ag::Activation::relu;
  // Finite differences (random inputs: pre-activations sit at a kink with probability 0).
  check(
      "linear relu", [&](auto& x) { return ag::linear(x[0], x[1], x[2], relu); },
      inputs({{5, 3}, {3, 4}, {4}}, 710));
  check(
      "linear relu 3-d input", [&](auto& x) { return ag::linear(x[0], x[1], x[2], relu); },
      inputs({{2, 4, 3}, {3, 5}, {5}}, 711));
  check(
      "linear relu 1-d input, no bias",
      [&](auto& x) { return ag::linear(x[0], x[1], Tensor(), relu); }, inputs({{3}, {3, 4}}, 712));
  // Values and gradients equal the unfused relu(linear(...)) bit for bit, in both dtypes, at
  // widths that reach each block of the forward's epilogue and the backward's mask loop (1, 4,
  // 8 and 16 vectors and the scalar tail, in every CPU variant) and a product above the small
  // kernels' threshold (a library, then the epilogue's pass).
  struct Sizes {
    std::int64_t rows, in, out;
  };
  for (const Sizes sz :
       {Sizes{6, 3, 4}, Sizes{5, 7, 17}, Sizes{9, 2, 100}, Sizes{4, 3, 300}, Sizes{40, 64, 300}}) {
    for (ag::Dtype dtype : {ag::float64, ag::float32}) {
      BOOST_TEST_CONTEXT(ag::name(dtype) << " " << sz.rows << "x" << sz.in << "x" << sz.out) {
        auto xs = inputs({{sz.rows, sz.in}, {sz.in, sz.out}, {sz.out}}, 713);
        for (auto& x : xs) x = x.to(dtype).requires_grad_();
        const Tensor weight =
            ag::arange(static_cast<double>(sz.rows * sz.out), dtype).reshape({sz.rows, sz.out}) *
                0.25 -
            3.0;
        const Tensor fused = ag::linear(xs[0], xs[1], xs[2], relu);
        (fused * weight).sum().backward();
        std::vector<std::vector<double>> fused_grads;
        for (auto& x : xs) {
          fused_grads.push_back(x.grad().to_vector());
          x.zero_grad();
        }
        const Tensor composed = ag::relu(ag::linear(xs[0], xs[1], xs[2]));
        (composed * weight).sum().backward();
        BOOST_TEST(fused.to_vector() == composed.to_vector(), boost::test_tools::per_element());
        std::size_t masked = 0;
        for (double v : fused.to_vector()) masked += v == 0.0;
        BOOST_TEST(masked > 0u);  // the mask is exercised
        for (std::size_t i = 0; i < xs.size(); ++i) {
          BOOST_TEST(fused_grads[i] == xs[i].grad().to_vector(), boost::test_tools::per_element());
        }
      }
    }
  }
  // By hand: x = [1, -1], w = [[1, 2], [3, -1]], b = [0.5, 0.5]: z = [-1.5, 3.5], y = [0, 3.5].
  Tensor x = ag::tensor({1.0, -1.0}, ag::float64).requires_grad_();
  Tensor w = ag::tensor(std::vector<double>{1, 2, 3, -1}, {2, 2}, ag::float64).requires_grad_();
  Tensor b = ag::tensor({0.5, 0.5}, ag::float64).requires_grad_();
  Tensor y = ag::linear(x, w, b, relu);
  BOOST_TEST(y.to_vector() == (std::vector<double>{0.0, 3.5}), boost::test_tools::per_element());
  y.sum().backward(Tensor(), /*retain_graph=*/true);
  BOOST_TEST(b.grad().to_vector() == (std::vector<double>{0, 1}), boost::test_tools::per_element());
  BOOST_TEST(x.grad().to_vector() == (std::vector<double>{2, -1}),
             boost::test_tools::per_element());
  BOOST_TEST(w.grad().to_vector() == (std::vector<double>{0, 1, 0, -1}),
             boost::test_tools::per_element());
  // retain_graph: a second pass accumulates the same gradients.
  y.sum().backward();
  BOOST_TEST(b.grad().to_vector() == (std::vector<double>{0, 2}), boost::test_tools::per_element());
  // NaN stays NaN, as in ag::relu.
  Tensor nan_bias = ag::tensor({std::nan(""), -1.0}, ag::float64);
  const auto nan_out =
      ag::linear(ag::ones({1, 2}, ag::float64), ag::zeros({2, 2}, ag::float64), nan_bias, relu)
          .to_vector();
  BOOST_TEST(std::isnan(nan_out[0]));
  BOOST_TEST(nan_out[1] == 0.0);
  // The same over 70 columns, float32 and float64 (the vectorised loop and its tail): NaN stays,
  // -0 and negatives become +0.
  for (ag::Dtype dtype : {ag::float32, ag::float64}) {
    std::vector<double> wide_bias;
    for (int j = 0; j < 70; ++j) {
      const double cycle[] = {std::nan(""), -0.0, -1.0, 2.0};
      wide_bias.push_back(cycle[j % 4]);
    }
    const auto wide = ag::linear(ag::ones({3, 2}, dtype), ag::zeros({2, 70}, dtype),
                                 ag::tensor(wide_bias, {70}, dtype), relu)
                          .to_vector();
    BOOST_TEST_REQUIRE(wide.size() == 210u);
    for (std::size_t i = 0; i < wide.size(); ++i) {
      const std::size_t j = i % 70;
      if (j % 4 == 0) {
        BOOST_TEST(std::isnan(wide[i]));
      } else {
        BOOST_TEST(wide[i] == (j % 4 == 3 ? 2.0 : 0.0));
        BOOST_TEST(!std::signbit(wide[i]));
      }
    }
  }
  // The mask is read off the output: overwriting it in place makes backward refuse.
  Tensor out = ag::linear(x, w, b, relu);
  Tensor alias = out.detach();
  alias.mutable_data_ptr<double>()[0] = 1.0;
  BOOST_CHECK_THROW(out.sum().backward(), ag::Error);
  BOOST_CHECK_THROW(ag::linear(ag::ones({4, 3}), ag::ones({2, 3}), Tensor(), relu), ag::Error);
}

// A first layer (an input without gradient, at most 4 features) gets its weight's and bias's
// gradients from one pass that never stores the masked gradient: checked against sums in
// float64 by hand, at widths that reach each of its blocks (4 and 1 vectors, the scalar tail).
BOOST_AUTO_TEST_CASE(linear_relu_first_layer_gradients) {
  const auto relu = ag::Activation::relu;
  struct Sizes {
    std::int64_t rows, in, out;
  };
  for (const Sizes sz : {Sizes{7, 1, 5}, Sizes{300, 2, 64}, Sizes{9, 3, 17}, Sizes{33, 4, 100},
                         Sizes{1, 2, 1}, Sizes{12, 4, 64}}) {
    for (ag::Dtype dtype : {ag::float64, ag::float32}) {
      BOOST_TEST_CONTEXT(ag::name(dtype) << " " << sz.rows << "x" << sz.in << "x" << sz.out) {
        auto xs = inputs({{sz.rows, sz.in}, {sz.in, sz.out}, {sz.out}, {sz.rows, sz.out}}, 714);
        const Tensor x = xs[0].to(dtype);  // no gradient: the fused path
        const Tensor w = xs[1].to(dtype).requires_grad_(), b = xs[2].to(dtype).requires_grad_();
        const Tensor weight = xs[3].to(dtype);
        const Tensor y = ag::linear(x, w, b, relu);
        (y * weight).sum().backward();
        const auto xv = x.to_vector(), yv = y.to_vector(), gv = weight.to_vector();
        const auto dw = w.grad().to_vector(), db = b.grad().to_vector();
        // The rounding bound of a sum of `rows` terms.
        const double tol = static_cast<double>(sz.rows) * (dtype == ag::float64 ? 1.2e-16 : 6e-8);
        std::size_t masked = 0;
        for (std::int64_t j = 0; j < sz.out; ++j) {
          double bias_sum = 0.0, bias_scale = 0.0;
          std::vector<double> sums(sz.in), scales(sz.in);
          for (std::int64_t r = 0; r < sz.rows; ++r) {
            const auto at = static_cast<std::size_t>(r * sz.out + j);
            const double gz = yv[at] > 0.0 ? gv[at] : 0.0;
            masked += yv[at] == 0.0;
            bias_sum += gz;
            bias_scale += std::abs(gz);
            for (std::int64_t i = 0; i < sz.in; ++i) {
              const double xi = xv[static_cast<std::size_t>(r * sz.in + i)];
              sums[i] += xi * gz;
              scales[i] += std::abs(xi * gz);
            }
          }
          BOOST_TEST(std::abs(db[j] - bias_sum) <= tol * (bias_scale + 1.0));
          for (std::int64_t i = 0; i < sz.in; ++i) {
            BOOST_TEST(std::abs(dw[static_cast<std::size_t>(i * sz.out + j)] - sums[i]) <=
                       tol * (scales[i] + 1.0));
          }
        }
        if (sz.rows * sz.out > 4) BOOST_TEST(masked > 0u);  // the mask is exercised
        // The spiral's first layer: the same bits as the product of the unfused path (the
        // training figures in the docs depend on them).
        if (sz.rows == 300) {
          const Tensor xg = x.detach().requires_grad_();
          const Tensor w2 = w.detach().requires_grad_(), b2 = b.detach().requires_grad_();
          (ag::linear(xg, w2, b2, relu) * weight).sum().backward();
          BOOST_TEST(w2.grad().to_vector() == dw, boost::test_tools::per_element());
          BOOST_TEST(b2.grad().to_vector() == db, boost::test_tools::per_element());
        }
      }
    }
  }
}

// Without activation the bias's gradient is the column sums of the output's gradient, summed
// row after row: the same bits as that loop, at widths below, at and past a vector (whose last
// columns read on into the next row) and rows that reach the end of the buffer.
BOOST_AUTO_TEST_CASE(linear_bias_gradient_is_the_column_sums) {
  struct Sizes {
    std::int64_t rows, out;
  };
  for (const Sizes sz : {Sizes{1, 1}, Sizes{300, 3}, Sizes{5, 10}, Sizes{2, 17}, Sizes{7, 16},
                         Sizes{33, 131}, Sizes{1, 3}}) {
    for (ag::Dtype dtype : {ag::float64, ag::float32}) {
      BOOST_TEST_CONTEXT(ag::name(dtype) << " " << sz.rows << "x" << sz.out) {
        auto xs = inputs({{sz.rows, 2}, {2, sz.out}, {sz.out}, {sz.rows, sz.out}}, 715);
        const Tensor b = xs[2].to(dtype).requires_grad_();
        const Tensor g = xs[3].to(dtype);
        (ag::linear(xs[0].to(dtype), xs[1].to(dtype), b) * g).sum().backward();
        const auto gv = g.to_vector(), db = b.grad().to_vector();
        for (std::int64_t j = 0; j < sz.out; ++j) {
          double sum64 = 0.0;
          float sum32 = 0.0f;
          for (std::int64_t r = 0; r < sz.rows; ++r) {
            sum64 += gv[static_cast<std::size_t>(r * sz.out + j)];
            sum32 += static_cast<float>(gv[static_cast<std::size_t>(r * sz.out + j)]);
          }
          BOOST_TEST(db[j] == (dtype == ag::float64 ? sum64 : static_cast<double>(sum32)));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(shape_ops) {
  check(
      "reshape",
      [](auto& x) {
        return x[0].reshape({4, -1}) * x[0].reshape({4, 6});
      },
      inputs({{2, 3, 4}}, 400));
  check(
      "transpose", [](auto& x) { return x[0].transpose(0, 2) * 1.0; }, inputs({{2, 3, 4}}, 401));
  check(
      "transpose weighted", [](auto& x) { return ag::matmul(x[0].t(), x[0]); },
      inputs({{3, 2}}, 402));
  check(
      "cat dim0",
      [](auto& x) {
        return ag::cat({x[0], x[1]}, 0);
      },
      inputs({{2, 3}, {1, 3}}, 403));
  check(
      "cat dim1",
      [](auto& x) {
        return ag::cat({x[0], x[1], x[0]}, 1);
      },
      inputs({{2, 3}, {2, 2}}, 404));
  const std::vector<std::int64_t> labels = {2, 0, 1};
  check(
      "pick", [&](auto& x) { return ag::pick(x[0], labels); }, inputs({{3, 4}}, 405));
  Tensor t = ag::arange(6, ag::float64).reshape({2, 3}).transpose(0, 1);
  BOOST_TEST(t.to_vector() == (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor c = ag::cat({ag::ones({1, 2}), ag::zeros({2, 2})}, 0);
  BOOST_TEST(c.to_vector() == (std::vector<double>{1, 1, 0, 0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(softmax_family) {
  check(
      "softmax dim1", [](auto& x) { return ag::softmax(x[0], 1); }, inputs({{3, 4}}, 500));
  check(
      "softmax dim0", [](auto& x) { return ag::softmax(x[0], 0); }, inputs({{3, 4}}, 501));
  check(
      "log_softmax dim1", [](auto& x) { return ag::log_softmax(x[0], 1); }, inputs({{3, 4}}, 502));
  check(
      "log_softmax dim -2 (3-d)", [](auto& x) { return ag::log_softmax(x[0], -2); },
      inputs({{2, 3, 4}}, 503));
  // Seed 001's values.
  auto p = ag::softmax(ag::tensor({4.8, 1.21, 2.385}, ag::float64), 0).to_vector();
  // The seed prints 8 decimals: agree to half a unit in the last place.
  BOOST_TEST(std::abs(p[0] - 0.89528266) < 5e-9);
  BOOST_TEST(std::abs(p[1] - 0.02470831) < 5e-9);
  BOOST_TEST(std::abs(p[2] - 0.08000903) < 5e-9);
  // Finite at large logits, float32 too.
  for (auto dt : {ag::float32, ag::float64}) {
    Tensor big = ag::tensor({1e4, 0.0, -1e4}, dt).requires_grad_();
    Tensor ls = ag::log_softmax(big, 0);
    auto v = ls.to_vector();
    BOOST_TEST(v[0] == 0.0);
    BOOST_TEST(v[1] == -1e4, boost::test_tools::tolerance(1e-6));
    ag::pick(ls.reshape({1, 3}), std::vector<std::int64_t>{1}).sum().backward();
    for (double g : big.grad().to_vector()) BOOST_TEST(std::isfinite(g));
  }
}

BOOST_AUTO_TEST_CASE(values_join_tensor_expressions) {
  ag::Value s = 2.0;
  Tensor x = ag::tensor({1.0, 2.0, 3.0}, ag::float64).requires_grad_();
  Tensor y = (x * s + s).sum();  // sum(2x + 2) = 18
  ag::Value v(y);                // back to the scalar face
  ag::Value z = v * v;           // 324
  z.backward();
  BOOST_TEST(z.data() == 324.0);
  // dz/dx_i = 2*18*s = 72; dz/ds = 2*18*(sum(x)+3) = 324
  BOOST_TEST(x.grad().to_vector() == (std::vector<double>{72, 72, 72}));
  BOOST_TEST(s.grad() == 324.0);
  // float32 tensors take a Value as float32.
  Tensor f = ag::ones({2}) * s;
  BOOST_TEST((f.dtype() == ag::float32));
  check(
      "value bridge",
      [](auto& x) {
        ag::Value a(x[0].sum());
        return x[1] * (a * a);
      },
      inputs({{3}, {2}}, 600));
}

BOOST_AUTO_TEST_CASE(error_messages_name_op_and_shapes) {
  auto has = [](const std::string& op, const std::string& text) {
    return [=](const ag::Error& e) {
      BOOST_TEST_MESSAGE(e.what());
      return e.op() == op && std::string(e.what()).find(text) != std::string::npos;
    };
  };
  Tensor a = ag::ones({2, 3}), b = ag::ones({4}), d = ag::ones({2, 3}, ag::float64);
  BOOST_CHECK_EXCEPTION(a + b, ag::Error, has("add", "[2, 3] and [4]"));
  BOOST_CHECK_EXCEPTION(a * d, ag::Error, has("mul", "float32"));
  BOOST_CHECK_EXCEPTION(ag::matmul(a, a), ag::Error, has("matmul", "[2, 3] @ [2, 3]"));
  BOOST_CHECK_EXCEPTION(a.reshape({4, 2}), ag::Error, has("reshape", "[4, 2]"));
  BOOST_CHECK_EXCEPTION(a.sum(2), ag::Error, has("sum", "dim 2"));
  BOOST_CHECK_EXCEPTION(ag::log(ag::tensor({1.0, -2.0})), ag::Error, has("log", "-2"));
  BOOST_CHECK_EXCEPTION(ag::pick(a, std::vector<std::int64_t>{0, 3}), ag::Error,
                        has("pick", "label 3 of row 1"));
  BOOST_CHECK_EXCEPTION(ag::tensor(std::vector<double>{1, 2, 3}, {2, 2}), ag::Error,
                        has("tensor", "3 values"));
  BOOST_CHECK_EXCEPTION(ag::cat({a, b}, 0), ag::Error, has("cat", "tensor 1"));
  Tensor w = ag::ones({2, 3}).requires_grad_();
  BOOST_CHECK_EXCEPTION((w * 2.0).backward(), ag::Error,
                        has("backward", "pass a gradient of shape [2, 3]"));
  BOOST_CHECK_EXCEPTION(ag::ones({3}).sum().backward(), ag::Error,
                        has("backward", "does not require grad"));
  // Inputs are intact after failed ops.
  BOOST_TEST(a.to_vector() == std::vector<double>(6, 1.0));
  BOOST_TEST(!w.grad().defined());
}

BOOST_AUTO_TEST_CASE(factories_and_printing) {
  ag::Generator g1(7), g2(7);
  BOOST_TEST(ag::randn({5}, g1).to_vector() == ag::randn({5}, g2).to_vector());
  BOOST_TEST(ag::arange(1.0, 2.0, 0.25, ag::float64).to_vector() ==
             (std::vector<double>{1, 1.25, 1.5, 1.75}));
  BOOST_TEST(ag::full({2}, 3.5).to_vector() == (std::vector<double>{3.5, 3.5}));
  BOOST_TEST(ag::scalar_tensor(2.0).dim() == 0);
  Tensor t = ag::tensor(std::vector<double>{1, 2, 3, 4}, {2, 2});
  BOOST_TEST(fmt::format("{}", t) == "tensor([[1, 2],\n        [3, 4]], dtype=float32)");
  BOOST_TEST(fmt::format("{}", ag::arange(10, ag::float64)) ==
             "tensor([0, 1, 2, ..., 7, 8, 9], dtype=float64)");
  BOOST_TEST(fmt::format("{}", ag::Value(2.5)) == "Value(data=2.5, grad=0)");
}
