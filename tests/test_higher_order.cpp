// Higher-order gradients: ag::grad and create_graph against hand-derived values, gradgradcheck
// (finite differences of the analytic gradient) over every tensor op, every broadcasting case
// and every scalar op, jacobian/hessian/hvp, and the errors of bad calls.
#include <array>
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "test_support.hpp"

using ag::Shape;
using ag::Tensor;
using ag::Value;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
using ValueFn = std::function<Value(const std::vector<Value>&)>;
namespace tt = boost::test_tools;

namespace {

using ag_test::inputs;

void check_second_order(const std::string& name, const Fn& f, const std::vector<Tensor>& xs) {
  auto r = ag::gradgradcheck(f, xs);
  BOOST_CHECK_MESSAGE(r.ok, name << ": " << r.summary());
  // Not vacuous: the analytic second derivatives were compared element by element.
  BOOST_CHECK(!r.analytic.empty());
}

Tensor f64(std::initializer_list<double> v) { return ag::tensor(v, ag::float64); }

}  // namespace

BOOST_AUTO_TEST_SUITE(api)

BOOST_AUTO_TEST_CASE(grad_of_a_cube_and_of_its_gradient) {
  Tensor x = f64({1.0, 2.0, -3.0}).requires_grad_();
  Tensor y = (x * x * x).sum();
  Tensor g = ag::grad(y, {x}, {}, false, /*create_graph=*/true)[0];
  BOOST_TEST(g.requires_grad());
  BOOST_TEST(g.to_vector() == std::vector<double>({3.0, 12.0, 27.0}), tt::per_element());
  Tensor h = ag::grad(g.sum(), {x})[0];  // d/dx sum(3x^2) = 6x
  BOOST_TEST(h.to_vector() == std::vector<double>({6.0, 12.0, -18.0}), tt::per_element());
  BOOST_TEST(!h.requires_grad());
  BOOST_TEST(!x.grad().defined());  // ag::grad never touches grad()
}

BOOST_AUTO_TEST_CASE(third_derivative) {
  Tensor x = ag::scalar_tensor(2.0, ag::float64).requires_grad_();
  Tensor y = ag::pow(x, 4.0);
  Tensor d1 = ag::grad(y, {x}, {}, false, true)[0];   // 4x^3 = 32
  Tensor d2 = ag::grad(d1, {x}, {}, false, true)[0];  // 12x^2 = 48
  Tensor d3 = ag::grad(d2, {x})[0];                   // 24x = 48
  BOOST_TEST(d1.item() == 32.0);
  BOOST_TEST(d2.item() == 48.0);
  BOOST_TEST(d3.item() == 48.0);
}

BOOST_AUTO_TEST_CASE(backward_with_create_graph_gives_leaves_a_gradient_with_history) {
  Tensor x = f64({0.5, -1.0}).requires_grad_();
  Tensor y = (x.exp() * x).sum();  // dy/dx = e^x (1 + x); d2y/dx2 = e^x (2 + x)
  y.backward({}, false, /*create_graph=*/true);
  Tensor g = x.grad();
  BOOST_TEST(g.requires_grad());
  BOOST_TEST(g.to_vector()[0] == std::exp(0.5) * 1.5, tt::tolerance(1e-12));
  BOOST_TEST(g.to_vector()[1] == 0.0, tt::tolerance(1e-12));
  // The gradient's graph shares nodes with y's: keep them for the second backward below.
  Tensor h = ag::grad(g.sum(), {x}, {}, /*retain_graph=*/true)[0];
  BOOST_TEST(h.to_vector()[0] == std::exp(0.5) * 2.5, tt::tolerance(1e-12));
  BOOST_TEST(h.to_vector()[1] == std::exp(-1.0), tt::tolerance(1e-12));
  // A second create_graph backward accumulates, as grad() always does.
  y.backward({}, false, true);
  BOOST_TEST(x.grad().to_vector()[0] == 2 * std::exp(0.5) * 1.5, tt::tolerance(1e-12));
  x.zero_grad();  // breaks the x <-> gradient reference cycle
  BOOST_TEST(!x.grad().defined());
}

BOOST_AUTO_TEST_CASE(values_grad_with_history) {
  Value x = 3.0, y = 2.0;
  Value f = x * x * y;  // df/dx = 2xy = 12, df/dy = x^2 = 9
  std::vector<Value> g = ag::grad(f, {x, y}, false, /*create_graph=*/true);
  BOOST_TEST(g[0].data() == 12.0);
  BOOST_TEST(g[1].data() == 9.0);
  std::vector<Value> h = ag::grad(g[0], {x, y});  // d(2xy)/dx = 2y, d(2xy)/dy = 2x
  BOOST_TEST(h[0].data() == 4.0);
  BOOST_TEST(h[1].data() == 6.0);
  BOOST_TEST(x.grad() == 0.0);  // untouched
}

BOOST_AUTO_TEST_CASE(value_backward_with_create_graph) {
  Value x = 3.0;
  Value f = x * x * x;
  f.backward(false, /*create_graph=*/true);
  BOOST_TEST(x.grad() == 27.0);
  Value g = x.grad_value();
  BOOST_TEST(g.data() == 27.0);
  BOOST_TEST(ag::grad(g, {x})[0].data() == 18.0);  // d(3x^2)/dx = 6x
  x.zero_grad();
  BOOST_TEST(x.grad_value().data() == 0.0);
}

BOOST_AUTO_TEST_CASE(grad_with_respect_to_an_intermediate) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = (h * h).sum();  // dy/dh = 2h = 6x
  Tensor gh = ag::grad(y, {h})[0];
  BOOST_TEST(gh.to_vector() == std::vector<double>({6.0, 12.0}), tt::per_element());
}

BOOST_AUTO_TEST_CASE(grad_output_weights_a_non_scalar_output) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor y = x * x;
  Tensor g = ag::grad(y, {x}, f64({10.0, 100.0}))[0];
  BOOST_TEST(g.to_vector() == std::vector<double>({20.0, 400.0}), tt::per_element());
  // A gradient that is the seed itself is a copy: writing to it leaves the caller's intact.
  Tensor seed = f64({1.0, 2.0});
  Tensor same = ag::grad(x + 0.0, {x}, seed)[0];
  same.mutable_data_ptr<double>()[0] = 7.0;
  BOOST_TEST(seed.to_vector()[0] == 1.0);
  BOOST_TEST(same.to_vector()[1] == 2.0);
}

BOOST_AUTO_TEST_CASE(allow_unused_gives_an_undefined_gradient) {
  Tensor x = f64({1.0}).requires_grad_(), z = f64({2.0}).requires_grad_();
  Tensor y = (x * 2.0).sum();
  std::vector<Tensor> g = ag::grad(y, {x, z}, {}, false, false, /*allow_unused=*/true);
  BOOST_TEST(g[0].item() == 2.0);
  BOOST_TEST(!g[1].defined());
}

BOOST_AUTO_TEST_CASE(jacobian_hessian_hvp_by_hand) {
  const Tensor x = f64({2.0, 3.0});
  // f(x) = [x0 x1, x0^2]: J = [[x1, x0], [2 x0, 0]]
  Tensor j = ag::jacobian(
      [](const Tensor& v) {
        Tensor r = v.reshape({1, 2});
        Tensor a = ag::pick(r, std::vector<std::int64_t>{0});
        Tensor b = ag::pick(r, std::vector<std::int64_t>{1});
        return ag::cat({a * b, a * a}, 0);
      },
      x);
  BOOST_TEST(j.shape() == Shape({2, 2}), tt::per_element());
  BOOST_TEST(j.to_vector() == std::vector<double>({3.0, 2.0, 4.0, 0.0}), tt::per_element());
  // f(x) = sum(x^3): H = diag(6x); Hv = 6x * v
  auto cube = [](const Tensor& v) { return (v * v * v).sum(); };
  Tensor h = ag::hessian(cube, x);
  BOOST_TEST(h.to_vector() == std::vector<double>({12.0, 0.0, 0.0, 18.0}), tt::per_element());
  Tensor hv = ag::hvp(cube, x, f64({1.0, -2.0}));
  BOOST_TEST(hv.to_vector() == std::vector<double>({12.0, -36.0}), tt::per_element());
  // x0^2 x1: H = [[2 x1, 2 x0], [2 x0, 0]]
  Tensor h2 = ag::hessian(
      [](const Tensor& v) {
        Tensor r = v.reshape({1, 2});
        Tensor a = ag::pick(r, std::vector<std::int64_t>{0});
        Tensor b = ag::pick(r, std::vector<std::int64_t>{1});
        return (a * a * b).sum();
      },
      x);
  BOOST_TEST(h2.to_vector() == std::vector<double>({6.0, 4.0, 4.0, 0.0}), tt::per_element());
  // A linear function has a zero Hessian.
  BOOST_TEST(ag::hessian([](const Tensor& v) { return (v * 2.0).sum(); }, x).to_vector() ==
                 std::vector<double>(4, 0.0),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(gradgradcheck_catches_a_wrong_second_derivative) {
  // d/dx (x * detach(x)) is detach(x): numerically the gradient changes with x (slope 1),
  // analytically it has no history (slope 0). gradgradcheck must say so.
  auto r = ag::gradgradcheck([](auto& v) { return v[0] * v[0].detach(); }, {f64({0.5, 2.0})});
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.mismatches.size() == 2u);
  BOOST_TEST(r.numeric[0][0] > 0.2);  // v0 * w0 for the checker's two random weights
  BOOST_TEST(r.analytic[0][0] == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(input_not_in_the_graph) {
  Tensor x = f64({1.0}).requires_grad_(), z = ag::zeros({2, 3}, ag::float64).requires_grad_();
  Tensor y = (x * 2.0).sum();
  ag_test::expect_error(
      [&] {
        ag::grad(y, {x, z});
      },
      {"ag::grad", "input 1", "[2, 3]", "not used", "allow_unused"});
  Value a = 1.0, b = 2.0;
  Value f = a * 3.0;
  ag_test::expect_error([&] { ag::grad(f, {b}); }, {"ag::grad", "input 0", "not used"});
}

BOOST_AUTO_TEST_CASE(input_that_does_not_require_grad) {
  Tensor x = f64({1.0}).requires_grad_(), c = f64({1.0});
  Tensor y = (x * c).sum();
  ag_test::expect_error([&] { ag::grad(y, {c}); },
                        {"ag::grad", "input 0", "does not require grad"});
}

BOOST_AUTO_TEST_CASE(non_scalar_output_without_grad_output) {
  Tensor x = ag::ones({2, 3}, ag::float64).requires_grad_();
  Tensor y = x * 2.0;
  ag_test::expect_error([&] { ag::grad(y, {x}); }, {"ag::grad", "[2, 3]", "6 elements"});
  ag_test::expect_error([&] { ag::grad(y, {x}, f64({1.0})); }, {"ag::grad", "[1]", "[2, 3]"});
}

BOOST_AUTO_TEST_CASE(second_order_through_a_released_graph) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor y = (x.exp() * x).sum();
  ag::grad(y, {x});  // first order, graph not retained
  ag_test::expect_error([&] { ag::grad(y, {x}, {}, false, true); },
                        {"ag::backward", "already backpropagated", "retain_graph"});
  // With create_graph the first pass keeps the graph (retain_graph is implied).
  Tensor x2 = f64({1.0, 2.0}).requires_grad_();
  Tensor y2 = (x2.exp() * x2).sum();
  Tensor g = ag::grad(y2, {x2}, {}, false, true)[0];
  BOOST_CHECK_NO_THROW(ag::grad(y2, {x2}, {}, /*retain_graph=*/true));
  BOOST_CHECK_NO_THROW(ag::grad(g.sum(), {x2}));
  // That last pass released y2's nodes too (g's graph uses them), as in PyTorch.
  ag_test::expect_error([&] { ag::grad(y2, {x2}); }, {"already backpropagated"});
}

// Anomaly mode covers create_graph passes as it does first-order ones: sqrt's backward at 0
// is 0.5 / sqrt(0) = inf, and every kind of backward names sqrt for it.
BOOST_AUTO_TEST_CASE(anomaly_mode_names_the_op_in_a_create_graph_backward) {
  const std::vector<std::string> expected = {"ag::sqrt", "anomaly in the backward pass",
                                             "gradient of input 0 ([2])", "inf at element 1"};
  Tensor x = f64({1.0, 0.0}).requires_grad_();
  ag::AnomalyModeGuard anomaly;
  Tensor y = ag::sqrt(x).sum();
  ag_test::expect_error([&] { y.backward(Tensor(), /*retain_graph=*/true); }, expected);
  ag_test::expect_error([&] { ag::grad(y, {x}, {}, true, /*create_graph=*/true); }, expected);
  ag_test::expect_error([&] { y.backward(Tensor(), true, /*create_graph=*/true); }, expected);
  ag_test::expect_error([&] { ag::grad(y, {x}, {}, /*retain_graph=*/true); }, expected);
  // Scalars: the same rule on Values.
  Value v = 0.0;
  ag_test::expect_error([&] { ag::grad(ag::sqrt(v) * 2.0, {v}, false, true); },
                        {"sqrt", "anomaly in the backward pass", "inf"});
  // Off, the infinity propagates as IEEE arithmetic says.
  ag::AnomalyModeGuard off(false);
  Tensor g = ag::grad(y, {x}, {}, true, true)[0];
  BOOST_TEST(g.to_vector()[0] == 0.5);
  BOOST_TEST(std::isinf(g.to_vector()[1]));
}

BOOST_AUTO_TEST_CASE(hessian_of_a_non_scalar_function) {
  ag_test::expect_error(
      [] {
        ag::hessian([](const Tensor& v) { return v * v; }, f64({1.0, 2.0}));
      },
      {"ag::hessian", "one-element", "[2]"});
  ag_test::expect_error(
      [] {
        ag::hvp([](const Tensor& v) { return v.sum(); }, f64({1.0, 2.0}), f64({1.0}));
      },
      {"ag::hvp", "[2]", "[1]"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gradgradcheck_tensor_ops)

BOOST_AUTO_TEST_CASE(elementwise_binary_with_every_broadcasting_case) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}},       {{2, 3}, {2, 1}}, {{1, 3}, {2, 1}},      {{2, 3}, {}},
      {{}, {2, 3}},     {{4, 1, 3}, {2, 1}}, {{3}, {2, 3}},    {{2, 1, 1}, {1, 3, 2}}};
  std::uint64_t seed = 1;
  for (const auto& [sa, sb] : cases) {
    const std::string shapes = ag::to_string(sa) + " " + ag::to_string(sb);
    auto xs = inputs({sa, sb}, seed++);
    check_second_order(
        "add " + shapes, [](auto& v) { return (v[0] + v[1]) * v[0]; }, xs);
    check_second_order(
        "sub " + shapes, [](auto& v) { return (v[0] - v[1]) * v[1]; }, xs);
    check_second_order(
        "mul " + shapes, [](auto& v) { return v[0] * v[1]; }, xs);
    check_second_order(
        "div " + shapes, [](auto& v) { return v[0] / v[1]; }, xs);
    auto pos = inputs({sa, sb}, seed++, 0.3, 2.0);
    check_second_order(
        "pow " + shapes, [](auto& v) { return ag::pow(v[0], v[1]); }, pos);
  }
}

BOOST_AUTO_TEST_CASE(elementwise_unary) {
  auto xs = inputs({{2, 3}}, 11);
  auto pos = inputs({{2, 3}}, 12, 0.2, 2.0);
  check_second_order(
      "neg", [](auto& v) { return -v[0] * v[0]; }, xs);
  check_second_order(
      "pow 3", [](auto& v) { return ag::pow(v[0], 3.0); }, xs);
  check_second_order(
      "pow 2", [](auto& v) { return ag::pow(v[0], 2.0); }, xs);
  check_second_order(
      "pow -1.5", [](auto& v) { return ag::pow(v[0], -1.5); }, pos);
  check_second_order(
      "exp", [](auto& v) { return v[0].exp(); }, xs);
  check_second_order(
      "log", [](auto& v) { return v[0].log(); }, pos);
  check_second_order(
      "sqrt", [](auto& v) { return v[0].sqrt(); }, pos);
  check_second_order(
      "tanh", [](auto& v) { return v[0].tanh(); }, xs);
  check_second_order(
      "sigmoid", [](auto& v) { return v[0].sigmoid(); }, xs);
  // Piecewise linear: second derivative 0 away from the kinks (PyTorch's relu'' = 0); the
  // product makes the first derivative depend on x.
  check_second_order(
      "relu", [](auto& v) { return v[0].relu() * v[0]; }, xs);
  check_second_order(
      "abs", [](auto& v) { return v[0].abs() * v[0]; }, xs);
  check_second_order(
      "clamp", [](auto& v) { return ag::clamp(v[0], -0.7, 0.8) * v[0]; }, xs);
  check_second_order(
      "clone", [](auto& v) { return v[0].clone() * v[0]; }, xs);
  check_second_order(
      "to", [](auto& v) { return v[0].to(ag::float64) * v[0]; }, xs);
}

BOOST_AUTO_TEST_CASE(reductions) {
  auto xs = inputs({{2, 3, 4}}, 21);
  check_second_order(
      "sum", [](auto& v) { return (v[0] * v[0]).sum() * v[0]; }, xs);
  check_second_order(
      "sum dim", [](auto& v) { return (v[0] * v[0]).sum(1) * v[0].sum(1); }, xs);
  check_second_order(
      "sum keepdim", [](auto& v) { return (v[0] * v[0]).sum(-1, true) * v[0]; }, xs);
  check_second_order(
      "mean", [](auto& v) { return (v[0] * v[0]).mean() * v[0]; }, xs);
  check_second_order(
      "mean dim", [](auto& v) { return (v[0] * v[0]).mean(0) * v[0]; }, xs);
  check_second_order(
      "max", [](auto& v) { return (v[0] * v[0]).max() * v[0]; }, xs);
  check_second_order(
      "max dim", [](auto& v) { return (v[0] * v[0]).max(2, true) * v[0]; }, xs);
}

BOOST_AUTO_TEST_CASE(linear_algebra) {
  auto ab = inputs({{2, 3}, {3, 4}}, 31);
  check_second_order(
      "matmul 2-d", [](auto& v) { return ag::matmul(v[0], v[1]).tanh(); }, ab);
  check_second_order(
      "matmul self", [](auto& v) { return ag::matmul(v[0], v[0].t()); }, inputs({{3, 2}}, 32));
  auto batched = inputs({{2, 1, 2, 3}, {3, 3, 2}}, 33);
  check_second_order(
      "matmul batched broadcast",
      [](auto& v) { return ag::matmul(v[0], v[1]) * ag::matmul(v[0], v[1]); }, batched);
  auto vecs = inputs({{3}, {3, 2}, {2}}, 34);
  check_second_order(
      "matmul 1-d",
      [](auto& v) {
        return ag::matmul(ag::matmul(v[0], v[1]).tanh(), v[2]) * ag::matmul(v[1], v[2]).sum();
      },
      vecs);
  auto lin = inputs({{2, 2, 3}, {3, 4}, {4}}, 35);
  check_second_order(
      "linear", [](auto& v) { return ag::linear(v[0], v[1], v[2]).tanh(); }, lin);
  check_second_order(
      "linear 1-d input",
      [](auto& v) { return ag::linear(v[0].sum(0).sum(0), v[1], v[2]).sigmoid(); }, lin);
  auto nobias = inputs({{3, 3}, {3, 2}}, 36);
  check_second_order(
      "linear no bias", [](auto& v) { return ag::linear(v[0], v[1]) * v[1].sum(); }, nobias);
  // The fused relu: relu'' = 0 away from the kinks, so the products make the second
  // derivatives depend on the mask (random inputs: no pre-activation at a kink).
  check_second_order(
      "linear relu",
      [](auto& v) { return ag::linear(v[0], v[1], v[2], ag::Activation::relu) * v[1].sum(); }, lin);
  check_second_order(
      "linear relu no bias",
      [](auto& v) {
        Tensor h = ag::linear(v[0], v[1], Tensor(), ag::Activation::relu);
        return h * h;
      },
      nobias);
}

BOOST_AUTO_TEST_CASE(shape_ops) {
  auto xs = inputs({{2, 3}, {2, 2}}, 41);
  check_second_order(
      "reshape",
      [](auto& v) {
        return v[0].reshape({3, 2}) * v[0].reshape({3, 2});
      },
      xs);
  check_second_order(
      "transpose", [](auto& v) { return v[0].t() * v[0].t().tanh(); }, xs);
  check_second_order(
      "cat",
      [](auto& v) {
        Tensor c = ag::cat({v[0], v[1]}, 1);
        return c * c;
      },
      xs);
  check_second_order(
      "cat dim 0",
      [](auto& v) {
        Tensor c = ag::cat({v[0].t(), v[1], v[0].t()}, 0);
        return c.tanh() * c;
      },
      xs);
  const std::vector<std::int64_t> labels{2, 0};
  check_second_order(
      "pick",
      [&](auto& v) {
        Tensor p = ag::pick(v[0] * v[0], labels);
        return p * p;
      },
      xs);
}

BOOST_AUTO_TEST_CASE(softmax_family) {
  auto xs = inputs({{3, 4}}, 51);
  check_second_order(
      "softmax dim 1", [](auto& v) { return v[0].softmax(1); }, xs);
  check_second_order(
      "softmax dim 0", [](auto& v) { return v[0].softmax(0); }, xs);
  check_second_order(
      "log_softmax", [](auto& v) { return v[0].log_softmax(-1); }, xs);
  const std::vector<std::int64_t> labels{1, 3, 0};
  check_second_order(
      "cross_entropy", [&](auto& v) { return ag::cross_entropy(v[0], labels); }, xs);
  check_second_order(
      "cross_entropy of a product", [&](auto& v) { return ag::cross_entropy(v[0] * v[0], labels); },
      xs);
}

BOOST_AUTO_TEST_CASE(value_tensor_bridges) {
  auto xs = inputs({{2, 2}, {}}, 61);
  check_second_order(
      "Value(tensor) and Tensor(value)",
      [](auto& v) {
        Value s(v[1]);  // Tensor -> Value
        Value q = s * s + ag::tanh(s);
        return v[0] * Tensor(q) + Tensor(Value(v[0].sum()) * s);  // Value -> Tensor
      },
      xs);
}

BOOST_AUTO_TEST_CASE(a_small_network) {
  auto xs = inputs({{4, 3}, {3, 5}, {5}, {5, 2}}, 71);
  const std::vector<std::int64_t> labels{0, 1, 1, 0};
  check_second_order(
      "mlp",
      [&](auto& v) {
        Tensor h = ag::linear(v[0], v[1], v[2]).tanh();
        return ag::cross_entropy(ag::matmul(h, v[3]), labels);
      },
      xs);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(random_composites)

// Random straight-line programs over three inputs of broadcastable shapes, drawn from every
// smooth tensor op, each checked to second order: the property test's second-order share.
BOOST_AUTO_TEST_CASE(random_graphs_to_second_order) {
  using Unary = Tensor (*)(const Tensor&);
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<Unary> unary = {
      [](const Tensor& x) { return x.tanh(); },
      [](const Tensor& x) { return x.sigmoid(); },
      [](const Tensor& x) { return (x * 0.5).exp(); },
      [](const Tensor& x) { return (x * x + 0.5).log(); },
      [](const Tensor& x) { return (x * x + 0.5).sqrt(); },
      [](const Tensor& x) { return ag::pow(x, 3.0); },
      [](const Tensor& x) { return x.softmax(-1); },
      [](const Tensor& x) { return x.log_softmax(-1); },
      [](const Tensor& x) { return x.sum(-1, true); },
      [](const Tensor& x) { return x.mean(0, true); },
      [](const Tensor& x) { return -x; },
  };
  const std::vector<Binary> binary = {
      [](const Tensor& a, const Tensor& b) { return a + b; },
      [](const Tensor& a, const Tensor& b) { return a - b; },
      [](const Tensor& a, const Tensor& b) { return a * b; },
      [](const Tensor& a, const Tensor& b) { return a / (b * b + 1.0); },
  };
  std::mt19937_64 rng(99);
  int checked = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const std::vector<Shape> shapes = {{2, 3}, {3}, {2, 1}};
    auto xs = inputs(shapes, 1000 + seed, -1.0, 1.0);
    std::vector<std::pair<int, std::array<std::size_t, 3>>> program;  // op kind, operands
    const int steps = 2 + static_cast<int>(rng() % 4);
    for (int k = 0; k < steps; ++k) {
      const bool is_binary = rng() % 2 == 0;
      program.push_back({is_binary ? 1 : 0,
                         {rng() % (xs.size() + k), rng() % (xs.size() + k),
                          is_binary ? rng() % binary.size() : rng() % unary.size()}});
    }
    auto f = [&](const std::vector<Tensor>& in) {
      std::vector<Tensor> values = in;
      for (const auto& [kind, a] : program) {
        values.push_back(kind == 1 ? binary[a[2]](values[a[0]], values[a[1]])
                                   : unary[a[2]](values[a[0]]));
      }
      Tensor out = values.back();
      for (const Tensor& v : values) out = out + v.sum() * 0.1;  // every node matters
      return out;
    };
    check_second_order("random graph " + std::to_string(seed), f, xs);
    ++checked;
  }
  BOOST_TEST(checked == 40);
}

BOOST_AUTO_TEST_CASE(the_graph_of_a_gradient_is_an_ordinary_graph) {
  Tensor x = f64({0.5, 1.5}).requires_grad_();
  Tensor g = ag::grad((x.tanh() * x).sum(), {x}, {}, false, true)[0];
  BOOST_TEST(ag::graph_size(std::vector<ag::GraphRoot>{g}) > 3u);
  const std::string dot = ag::to_dot({g});
  BOOST_TEST(dot.find("tanh") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gradgradcheck_scalar_ops)

BOOST_AUTO_TEST_CASE(every_scalar_op) {
  const std::vector<std::pair<std::string, ValueFn>> ops = {
      {"+", [](auto& v) { return (v[0] + v[1]) * v[0]; }},
      {"-", [](auto& v) { return (v[0] - v[1]) * v[1]; }},
      {"*", [](auto& v) { return v[0] * v[1]; }},
      {"/", [](auto& v) { return v[0] / v[1]; }},
      {"pow", [](auto& v) { return ag::pow(v[0], v[1]); }},
      {"+ c", [](auto& v) { return (v[0] + 2.0) * (3.0 + v[0]) * v[1]; }},
      {"- c", [](auto& v) { return (v[0] - 2.0) * (3.0 - v[0]) * v[1]; }},
      {"* c", [](auto& v) { return (v[0] * 2.0) * (3.0 * v[1]) * v[0]; }},
      {"/ c", [](auto& v) { return (v[0] / 2.0) * (3.0 / v[1]); }},
      {"neg", [](auto& v) { return -v[0] * v[1]; }},
      {"pow c",
       [](auto& v) {
         return ag::pow(v[0], 3.0) + ag::pow(v[1], -1.5) + ag::pow(v[0], 1.0) * v[1];
       }},
      {"exp", [](auto& v) { return ag::exp(v[0] * v[1]); }},
      {"log", [](auto& v) { return ag::log(v[0] * v[1]); }},
      {"sqrt", [](auto& v) { return ag::sqrt(v[0] * v[1]); }},
      {"tanh", [](auto& v) { return ag::tanh(v[0] * v[1]); }},
      {"sigmoid", [](auto& v) { return ag::sigmoid(v[0] * v[1]); }},
      {"relu", [](auto& v) { return ag::relu(v[0] - v[1]) * v[0]; }},
      {"abs", [](auto& v) { return ag::abs(v[0] - v[1]) * v[1]; }},
  };
  for (const auto& [name, f] : ops) {
    auto r = ag::gradgradcheck(f, {1.3, 0.7});
    BOOST_CHECK_MESSAGE(r.ok, name << ": " << r.summary());
  }
}

BOOST_AUTO_TEST_SUITE_END()
