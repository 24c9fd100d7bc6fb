// The scalar ops' differentiable backward rules (OpInfo::backward_graph, what create_graph
// runs): for every Value op, the recorded adjoints equal the fast rule's gradients, and their
// own gradients (second derivatives) match finite differences of the first derivatives.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>

#include "autograd/src/node.hpp"

using ag::Value;
using Fn = std::function<Value(const std::vector<Value>&)>;

namespace {

// The adjoints of y's inputs for seed 1, as recorded Values (y must be one op of inputs).
std::vector<Value> adjoints(const Value& y) {
  auto& node = *y.node();
  const auto* op = node.op;
  BOOST_TEST_REQUIRE(op->backward_graph != nullptr, "op " << op->name << " has none");
  std::vector<Value> grad_in(node.num_inputs);
  op->backward_graph(node, Value(1.0), grad_in.data());
  return grad_in;
}

void check(const std::string& name, const Fn& op, const std::vector<double>& point) {
  BOOST_TEST_CONTEXT(name) {
    // First order: the recorded adjoints are the fast rule's gradients.
    std::vector<Value> xs(point.begin(), point.end());
    Value y = op(xs);
    y.backward();
    const std::vector<Value> d = adjoints(y);
    BOOST_TEST_REQUIRE(d.size() == xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i)
      BOOST_TEST(d[i].data() == xs[i].grad(), boost::test_tools::tolerance(1e-14));
    // Second order: T = sum_i (1 + i) d_i, recorded, against central differences of T.
    auto total = [&](const std::vector<Value>& v) {
      const std::vector<Value> g = adjoints(op(v));
      Value t = g[0];
      for (std::size_t i = 1; i < g.size(); ++i) t = t + g[i] * (1.0 + i);
      return t;
    };
    std::vector<Value> leaves(point.begin(), point.end());
    // A leaf total (add's adjoint is the seed itself) does not depend on x: all zeros.
    if (const Value t = total(leaves); !t.is_leaf()) t.backward();
    const double eps = 1e-6;
    for (std::size_t i = 0; i < point.size(); ++i) {
      std::vector<double> hi = point, lo = point;
      hi[i] += eps;
      lo[i] -= eps;
      const double numeric =
          (total({hi.begin(), hi.end()}).data() - total({lo.begin(), lo.end()}).data()) / (2 * eps);
      BOOST_TEST(
          std::abs(leaves[i].grad() - numeric) <= 1e-5 + 1e-4 * std::abs(numeric),
          "d2/dx" << i << ": recorded " << leaves[i].grad() << ", finite differences " << numeric);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_value_op) {
  ag::Generator gen(5);
  for (const ag::OpEntry& op : ag::op_registry()) {
    if (!op.on_values) continue;
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<double> point;
      for (int k = 0; k < op.arity; ++k) {
        double x;
        do {
          x = op.domain.lo + (op.domain.hi - op.domain.lo) * gen.uniform();
        } while (op.domain.near_kink(x, 0.1) || (k == 1 && std::abs(x - point[0]) < 0.1));
        point.push_back(x);
      }
      const std::vector<double> params(op.num_params, 0.5 * (op.param_lo + op.param_hi));
      check(
          std::string(op.name),
          [&](const std::vector<Value>& v) { return op.on_values(v, params); }, point);
    }
  }
}

BOOST_AUTO_TEST_CASE(arithmetic_with_constants_and_pow) {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"x + c", [](auto& v) { return v[0] + 2.0; }},
      {"x - c", [](auto& v) { return v[0] - 2.0; }},
      {"c + x", [](auto& v) { return 2.0 + v[0]; }},
      {"c - x", [](auto& v) { return 2.0 - v[0]; }},
      {"x * c", [](auto& v) { return v[0] * 3.0; }},
      {"c * x", [](auto& v) { return 3.0 * v[0]; }},
      {"x / c", [](auto& v) { return v[0] / 4.0; }},
      {"c / x", [](auto& v) { return 4.0 / v[0]; }},
      {"neg", [](auto& v) { return -v[0]; }},
      {"pow 3", [](auto& v) { return pow(v[0], 3.0); }},
      {"pow -1.5", [](auto& v) { return pow(v[0], -1.5); }},
      {"pow x^y", [](auto& v) { return pow(v[0], v[1]); }},
  };
  for (const auto& [name, f] : ops)
    check(
        name, f,
        std::string(name) == "pow x^y" ? std::vector<double>{1.3, 0.7} : std::vector<double>{1.3});
  // x^0: derivative 0 at 0 too, and so is its derivative.
  Value x = 0.0;
  const auto d = adjoints(pow(x, 0.0));
  BOOST_TEST(d[0].data() == 0.0);
}

// Tensor closures run with grad mode on (create_graph): the gradient they return carries
// history, equals the first-order result, and differentiates to the second derivative.
BOOST_AUTO_TEST_CASE(tensor_closures_are_differentiable) {
  using ag::Tensor;
  ag::Generator gen(9);
  for (const ag::OpEntry& op : ag::op_registry()) {
    if (op.kind == ag::OpKind::Other) continue;
    BOOST_TEST_CONTEXT(op.name) {
      const std::vector<double> params(op.num_params, 0.5 * (op.param_lo + op.param_hi));
      std::vector<double> values;
      for (int i = 0; i < 6; ++i) {
        double x;
        do {
          x = op.domain.lo + (op.domain.hi - op.domain.lo) * gen.uniform();
        } while (op.domain.near_kink(x, 0.1));
        values.push_back(x);
      }
      // Binary ops: b is a [3] row, a is [2, 3], apart from each other where ties matter.
      std::vector<double> row;
      for (int j = 0; j < 3; ++j)
        row.push_back(op.domain.kink_at_ties ? values[j] + 0.5 : values[j] * 0.5 + 0.6);
      auto first_order = [&](const std::vector<double>& a) {
        std::vector<Tensor> in = {ag::tensor(a, {2, 3}, ag::float64).requires_grad_()};
        if (op.arity == 2) in.push_back(ag::tensor(row, {3}, ag::float64).requires_grad_());
        Tensor y = op.on_tensors(in, params);
        auto& node = ag::detail::as_tensor(*y.node());
        ag::NoGradGuard no_grad;
        return node.backward(ag::ones(y.shape(), ag::float64))[0].to_vector();
      };
      Tensor a = ag::tensor(values, {2, 3}, ag::float64).requires_grad_();
      std::vector<Tensor> in = {a};
      if (op.arity == 2) in.push_back(ag::tensor(row, {3}, ag::float64).requires_grad_());
      Tensor y = op.on_tensors(in, params);
      auto& node = ag::detail::as_tensor(*y.node());
      const Tensor ga = node.backward(ag::ones(y.shape(), ag::float64))[0];  // grad mode on
      const std::vector<double> want = first_order(values);
      const std::vector<double> got = ga.to_vector();
      for (std::size_t i = 0; i < want.size(); ++i)
        BOOST_TEST(got[i] == want[i], boost::test_tools::tolerance(1e-12));
      if (ga.is_leaf()) continue;  // constant derivative (add, sub): nothing to differentiate
      ga.sum().backward();
      // Undefined: ga does not depend on a (mul's g * b).
      const std::vector<double> second =
          a.grad().defined() ? a.grad().to_vector() : std::vector<double>(values.size(), 0.0);
      const double eps = 1e-6;
      for (std::size_t i = 0; i < values.size(); ++i) {
        std::vector<double> hi = values, lo = values;
        hi[i] += eps;
        lo[i] -= eps;
        // d/da_i of sum_j ga_j: ga_j depends on a_i only for j == i (elementwise).
        const double numeric = (first_order(hi)[i] - first_order(lo)[i]) / (2 * eps);
        BOOST_TEST(
            std::abs(second[i] - numeric) <= 1e-5 + 1e-4 * std::abs(numeric),
            "d2/da" << i << ": recorded " << second[i] << ", finite differences " << numeric);
      }
    }
  }
}
