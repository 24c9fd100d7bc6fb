// The scalar face: micrograd's expression, every op's value and derivative, edge cases.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <optional>
#include <string>

using ag::Value;

BOOST_AUTO_TEST_CASE(micrograd_expression) {
  // micrograd's README example; values computed by micrograd and PyTorch alike.
  Value x = -4.0;
  auto z = 2 * x + 2 + x;
  auto q = relu(z) + z * x;
  auto h = relu(z * z);
  auto y = h + q + q * x;
  y.backward();
  BOOST_TEST(y.data() == -20.0);
  BOOST_TEST(x.grad() == 46.0);
}

BOOST_AUTO_TEST_CASE(micrograd_second_expression) {
  // micrograd's test_more_ops: g = 24.70408163265306, a.grad 138.83381924198252, b.grad
  // 645.5772594752186
  Value a = -4.0, b = 2.0;
  auto c = a + b;
  auto d = a * b + pow(b, 3);
  c += c + 1;
  c += 1 + c + (-a);
  d += d * 2 + relu(b + a);
  d += 3 * d + relu(b - a);
  auto e = c - d;
  auto f = pow(e, 2);
  auto g = f / 2.0;
  g += 10.0 / f;
  g.backward();
  const auto tol = boost::test_tools::tolerance(1e-12);
  BOOST_TEST(g.data() == 24.70408163265306, tol);
  BOOST_TEST(a.grad() == 138.83381924198252, tol);
  BOOST_TEST(b.grad() == 645.5772594752186, tol);
}

BOOST_AUTO_TEST_CASE(op_values_and_hand_derivatives) {
  const auto tol = boost::test_tools::tolerance(1e-14);
  struct Case {
    const char* name;
    Value (*f)(const Value&);
    double x, value, derivative;
  };
  const double k = std::sqrt(2.0 / M_PI);  // gelu's
  const Case cases[] = {
      {"exp", [](const Value& v) { return exp(v); }, 1.0, std::exp(1.0), std::exp(1.0)},
      {"log", [](const Value& v) { return log(v); }, 2.0, std::log(2.0), 0.5},
      {"sqrt", [](const Value& v) { return sqrt(v); }, 4.0, 2.0, 0.25},
      {"tanh", [](const Value& v) { return tanh(v); }, 0.5, std::tanh(0.5),
       1 - std::tanh(0.5) * std::tanh(0.5)},
      {"sigmoid", [](const Value& v) { return sigmoid(v); }, 0.0, 0.5, 0.25},
      {"relu+", [](const Value& v) { return relu(v); }, 3.0, 3.0, 1.0},
      {"relu-", [](const Value& v) { return relu(v); }, -3.0, 0.0, 0.0},
      {"relu0", [](const Value& v) { return relu(v); }, 0.0, 0.0, 0.0},
      {"abs-", [](const Value& v) { return abs(v); }, -2.0, 2.0, -1.0},
      {"neg", [](const Value& v) { return -v; }, 2.0, -2.0, -1.0},
      {"pow3", [](const Value& v) { return pow(v, 3.0); }, 2.0, 8.0, 12.0},
      {"c/x", [](const Value& v) { return 1.0 / v; }, 4.0, 0.25, -1.0 / 16},
      {"c-x", [](const Value& v) { return 5.0 - v; }, 2.0, 3.0, -1.0},
      {"x/c", [](const Value& v) { return v / 4.0; }, 2.0, 0.5, 0.25},
      {"sin", [](const Value& v) { return sin(v); }, 0.5, std::sin(0.5), std::cos(0.5)},
      {"cos", [](const Value& v) { return cos(v); }, 0.5, std::cos(0.5), -std::sin(0.5)},
      {"log1p", [](const Value& v) { return log1p(v); }, 1e-10, 1e-10 - 5e-21, 1 / (1 + 1e-10)},
      {"expm1", [](const Value& v) { return expm1(v); }, 1e-10, 1e-10 + 5e-21, std::exp(1e-10)},
      {"softplus", [](const Value& v) { return softplus(v); }, 0.0, std::log(2.0), 0.5},
      {"softplus far", [](const Value& v) { return softplus(v); }, 800.0, 800.0, 1.0},
      {"leaky_relu-", [](const Value& v) { return leaky_relu(v); }, -2.0, -0.02, 0.01},
      {"leaky_relu+", [](const Value& v) { return leaky_relu(v, 0.2); }, 3.0, 3.0, 1.0},
      {"gelu0", [](const Value& v) { return gelu(v); }, 0.0, 0.0, 0.5},
      {"gelu1", [](const Value& v) { return gelu(v); }, 1.0, 0.5 * (1 + std::tanh(k * 1.044715)),
       0.5 * (1 + std::tanh(k * 1.044715)) +
           0.5 * (1 - std::tanh(k * 1.044715) * std::tanh(k * 1.044715)) * k * (1 + 3 * 0.044715)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Value x = c.x;
      Value y = c.f(x);
      y.backward();
      BOOST_TEST(y.data() == c.value, tol);
      BOOST_TEST(x.grad() == c.derivative, tol);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_op_against_finite_differences) {
  using Fn = std::function<Value(const std::vector<Value>&)>;
  const std::vector<std::pair<const char*, Fn>> fns = {
      {"add", [](auto& v) { return v[0] + v[1]; }},
      {"sub", [](auto& v) { return v[0] - v[1]; }},
      {"mul", [](auto& v) { return v[0] * v[1]; }},
      {"div", [](auto& v) { return v[0] / v[1]; }},
      {"scalar both sides",
       [](auto& v) { return (2.0 + v[0]) * (3.0 - v[1]) / 1.5 - 4.0 / v[1] + v[0] * 0.5; }},
      {"pow value", [](auto& v) { return pow(v[0], v[1]); }},
      {"pow const", [](auto& v) { return pow(v[0], 2.5); }},
      {"exp log", [](auto& v) { return exp(v[0]) + log(v[1]); }},
      {"sqrt tanh", [](auto& v) { return sqrt(v[0]) * tanh(v[1]); }},
      {"sigmoid relu abs", [](auto& v) { return sigmoid(v[0]) + relu(v[1]) * abs(v[0] - 3.0); }},
      {"shared subexpression",
       [](auto& v) {
         Value s = v[0] * v[1];
         return s * s + s;
       }},
  };
  for (const auto& [name, f] : fns) {
    BOOST_TEST_CONTEXT(name) {
      auto r = ag::gradcheck(f, {1.3, 0.7});
      BOOST_TEST(r.ok, r.summary());
    }
  }
}

BOOST_AUTO_TEST_CASE(stable_at_extremes) {
  for (double x : {1000.0, -1000.0}) {
    Value a = x, b = x;
    Value t = tanh(a), s = sigmoid(b);
    t.backward();
    s.backward();
    BOOST_TEST(std::isfinite(t.data()));
    BOOST_TEST(std::isfinite(s.data()));
    BOOST_TEST(a.grad() == 0.0);
    BOOST_TEST(b.grad() == 0.0);
  }
  Value big = -1000.0;
  BOOST_TEST(sigmoid(big).data() >= 0.0);
  BOOST_TEST(sigmoid(Value(1000.0)).data() == 1.0);
}

BOOST_AUTO_TEST_CASE(compound_assignment_rebinds) {
  Value x = 3.0;
  Value y = x;  // shares x's node
  Value keep = x * 2;
  x += 1;
  BOOST_TEST(x.data() == 4.0);
  BOOST_TEST(y.data() == 3.0);  // the node y holds did not change
  BOOST_TEST(keep.data() == 6.0);
  x *= x;
  x.backward();
  BOOST_TEST(x.data() == 16.0);
  BOOST_TEST(y.grad() == 8.0);  // d((y+1)^2)/dy
}

BOOST_AUTO_TEST_CASE(domain_errors_name_the_op_and_value) {
  Value neg = -3.0;
  BOOST_CHECK_EXCEPTION(log(neg), ag::Error, [](const ag::Error& e) {
    return e.op() == "log" && std::string(e.what()).find("-3") != std::string::npos;
  });
  BOOST_CHECK_THROW(sqrt(neg), ag::Error);
  BOOST_CHECK_THROW(pow(neg, 0.5), ag::Error);
  BOOST_TEST(pow(neg, 2.0).data() == 9.0);
  BOOST_TEST(neg.data() == -3.0);  // untouched
}

BOOST_AUTO_TEST_CASE(set_data_steps_a_leaf) {
  Value w = 2.0;
  Value loss = (w - 5.0) * (w - 5.0);
  loss.backward();
  w.set_data(w.data() - 0.1 * w.grad());  // one SGD step: 2 - 0.1 * (-6)
  BOOST_TEST(w.data() == 2.6, boost::test_tools::tolerance(1e-15));
  BOOST_CHECK_EXCEPTION(loss.set_data(0.0), ag::Error,
                        [](const ag::Error& e) { return e.op() == "set_data"; });
}

BOOST_AUTO_TEST_CASE(labels) {
  Value w("w1" == std::string("w1") ? 1.0 : 0.0, "w1");
  BOOST_TEST(w.label() == "w1");
  Value y = w * 2;
  BOOST_TEST(y.label() == "");
  y.set_label("y");
  BOOST_TEST(y.label() == "y");
}

// An op's common case takes a hot path and every other case a general one (scalar_ops.cpp);
// anomaly mode forces the general path. Both must record the same graph: the same values,
// gradients and picture, in the dynamic graph and on a tape (whose reverse sweep may sum a
// leaf's gradient in another order than the walker, so each is compared with its own kind).
BOOST_AUTO_TEST_CASE(hot_and_general_paths_record_the_same_graph) {
  using Fn = Value (*)(const Value&, const Value&);
  const std::pair<const char*, Fn> ops[] = {
      {"a+b", [](const Value& a, const Value& b) { return a + b; }},
      {"a-b", [](const Value& a, const Value& b) { return a - b; }},
      {"a*b", [](const Value& a, const Value& b) { return a * b; }},
      {"a/b", [](const Value& a, const Value& b) { return a / b; }},
      {"consts", [](const Value& a, const Value&) { return (a + 1.5) - 2.0 + (3.0 - a) * 0.5; }},
      {"consts2", [](const Value& a, const Value&) { return 2.0 * a / 4.0 + 1.0 / a - (-a); }},
      {"pow", [](const Value& a, const Value& b) { return pow(a, 3.0) + pow(b, 0.5) + pow(a, b); }},
      {"exp log sqrt", [](const Value& a, const Value& b) { return exp(a) * log(b) + sqrt(a); }},
      {"tanh sigmoid relu abs",
       [](const Value& a, const Value& b) { return tanh(a) + sigmoid(b) * relu(a) - abs(b); }},
      {"sin cos log1p expm1",
       [](const Value& a, const Value& b) { return sin(a) * cos(b) + log1p(a) / expm1(b); }},
      {"softplus leaky gelu",
       [](const Value& a, const Value& b) { return softplus(a) + leaky_relu(-b, 0.2) * gelu(a); }},
      {"min max", [](const Value& a, const Value& b) { return minimum(a, b) * maximum(a, b); }},
  };
  struct Run {
    double y, a_grad, b_grad;
    std::string dot;
  };
  auto run = [](Fn f, bool on_tape, bool general) {
    Value a(0.7, "a"), b(1.3, "b");  // leaves from outside any tape
    std::optional<ag::Tape> tape;
    if (on_tape) tape.emplace();
    std::optional<ag::AnomalyModeGuard> anomaly;
    if (general) anomaly.emplace();
    Value y = f(a, b) * f(a, b);  // on a tape, the second call finds a and b kept already
    anomaly.reset();              // backward as usual
    y.backward();
    return Run{y.data(), a.grad(), b.grad(), ag::to_dot({y})};
  };
  for (const auto& [name, f] : ops) {
    for (const bool on_tape : {false, true}) {
      BOOST_TEST_CONTEXT(name << (on_tape ? ", on a tape" : "")) {
        const Run hot = run(f, on_tape, false), general = run(f, on_tape, true);
        BOOST_TEST(std::isfinite(hot.y));
        BOOST_TEST(hot.a_grad != 0.0);
        BOOST_TEST(general.y == hot.y);
        BOOST_TEST(general.a_grad == hot.a_grad);
        BOOST_TEST(general.b_grad == hot.b_grad);
        BOOST_TEST(general.dot == hot.dot);
      }
    }
  }
}
