// agexpr's parser, evaluator, graph builder and derivative checker.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <tuple>

#include "tools/expr/parser.hpp"
#include "tools/expr/program.hpp"
#include "tools/expr/second_order.hpp"

using ag::expr::ParseError;
using ag::expr::Program;

namespace {

double eval(const std::string& source) {
  const Program p(ag::expr::parse(source), {});
  return p.evaluate({});
}

std::size_t error_position(const std::string& source) {
  try {
    (void)ag::expr::parse(source);
  } catch (const ParseError& e) {
    return e.position();
  }
  BOOST_FAIL("no ParseError for '" << source << "'");
  return 0;
}

std::string error_message(const std::string& source) {
  try {
    (void)ag::expr::parse(source);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

// Seed 004's 2-2-1 ReLU network and squared error, at the seed's point.
Program seed004() {
  return Program(ag::expr::parse("(relu(h1*w5 + h2*w6 + b3) - y)^2"),
                 {{"h1", ag::expr::parse("relu(x1*w1 + x2*w3 + b1)")},
                  {"h2", ag::expr::parse("relu(x1*w2 + x2*w4 + b2)")}});
}

std::vector<double> seed004_point(const Program& p) {
  const std::vector<std::pair<std::string, double>> given = {
      {"x1", 1}, {"x2", 0}, {"w1", 1},   {"w2", 0.5}, {"w3", 1},   {"w4", -0.5},
      {"w5", 1}, {"w6", 1}, {"b1", 0.5}, {"b2", 0},   {"b3", 0.5}, {"y", 2}};
  std::vector<double> point(p.variables().size());
  for (const auto& [name, v] : given) point.at(p.variable_index(name)) = v;
  return point;
}

}  // namespace

BOOST_AUTO_TEST_CASE(precedence_and_associativity) {
  BOOST_TEST(eval("2 + 3*4^2") == 50.0);
  BOOST_TEST(eval("-2^2") == -4.0);  // unary minus binds looser than ^
  BOOST_TEST(eval("2^3^2") == 512.0);
  BOOST_TEST(eval("2**-1") == 0.5);
  BOOST_TEST(eval("8/4/2") == 1.0);
  BOOST_TEST(eval("10 - 4 - 3") == 3.0);
  BOOST_TEST(eval("--3") == 3.0);
  BOOST_TEST(eval("(1 + 2) * 3") == 9.0);
  BOOST_TEST(eval("1.5e2 + .5") == 150.5);
  BOOST_TEST(eval("relu(-1) + abs(-2) + step(3) + step(0)") == 3.0);
  BOOST_TEST(eval("sigmoid(0)") == 0.5);
  BOOST_TEST(std::abs(eval("exp(log(7)) - sqrt(49) + tanh(0)")) < 1e-12);
}

BOOST_AUTO_TEST_CASE(errors_point_at_the_fault) {
  BOOST_TEST(error_position("relu(x1*w1 + ") == 13u);
  BOOST_TEST(error_message("relu(x1*w1 + ") ==
             "expected a number, a name or '(' but the expression ended");
  BOOST_TEST(error_position("1 + foo(x)") == 4u);
  BOOST_TEST(error_position("2x") == 1u);
  BOOST_TEST(error_position("x y") == 2u);
  BOOST_TEST(error_position(")") == 0u);
  BOOST_TEST(error_position("") == 0u);
  BOOST_TEST(error_position("(x + 1") == 6u);
  BOOST_TEST(error_message("(x + 1") == "missing ')' for the '(' at column 1");
  BOOST_TEST(error_position("1e+") == 3u);
  BOOST_TEST(error_position("1..2") == 0u);
  BOOST_TEST(error_position("exp + 1") == 0u);
  BOOST_TEST(error_position("x $ 1") == 2u);
  BOOST_TEST(error_position("sqrt()") == 5u);
  BOOST_TEST(error_message(std::string("x\0", 2)) ==
             "unexpected byte 0x00 after a complete expression");
  BOOST_TEST(ag::expr::caret_message("bad", "ab\tc", 3) == "bad\n  ab c\n     ^");
}

BOOST_AUTO_TEST_CASE(nesting_is_capped_not_a_stack_overflow) {
  const int depth = ag::expr::kMaxDepth;
  BOOST_TEST(eval(std::string(depth - 1, '(') + "1" + std::string(depth - 1, ')')) == 1.0);
  for (const std::string& deep : {std::string(100000, '(') + "1" + std::string(100000, ')'),
                                  std::string(100000, '-') + "1", [] {
                                    std::string s;
                                    for (int i = 0; i < 100000; ++i) s += "exp(";
                                    return s + "1";
                                  }()}) {
    BOOST_TEST(error_message(deep).find("nested deeper than 200 levels") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(definitions_are_ordered_and_checked) {
  const Program p(ag::expr::parse("a + b"),
                  {{"a", ag::expr::parse("b * 2")}, {"b", ag::expr::parse("x + 1")}});
  BOOST_TEST(p.definitions()[0].name == "b");
  BOOST_TEST(p.definitions()[1].name == "a");
  BOOST_TEST(p.variables() == std::vector<std::string>{"x"});
  BOOST_TEST(p.evaluate({2.0}) == 9.0);  // b = 3, a = 6
  auto make = [](std::vector<ag::expr::Definition> defs) {
    return Program(ag::expr::parse("p"), std::move(defs));
  };
  BOOST_CHECK_THROW(make({{"p", ag::expr::parse("q")}, {"q", ag::expr::parse("p")}}),
                    ag::expr::ProgramError);
  BOOST_CHECK_THROW(make({{"p", ag::expr::parse("p + 1")}}), ag::expr::ProgramError);
  BOOST_CHECK_THROW(make({{"p", ag::expr::parse("1")}, {"p", ag::expr::parse("2")}}),
                    ag::expr::ProgramError);
  BOOST_CHECK_THROW(make({{"exp", ag::expr::parse("1")}}), ag::expr::ProgramError);
  BOOST_CHECK_THROW(make({{"2a", ag::expr::parse("1")}}), ag::expr::ProgramError);
}

BOOST_AUTO_TEST_CASE(engine_partials_of_seed004_match_hand_computation) {
  const Program p = seed004();
  const auto point = seed004_point(p);
  Program::Graph g = p.build(point);
  g.output.backward();
  // h1 = 1.5, h2 = 0.5, out = 2.5, L = 0.25, dL/dout = 1; all three ReLUs active.
  BOOST_TEST(g.output.data() == 0.25);
  BOOST_TEST(g.definitions[0].data() == 1.5);
  BOOST_TEST(g.definitions[1].data() == 0.5);
  auto grad = [&](const char* name) { return g.variables[p.variable_index(name)].grad(); };
  BOOST_TEST(grad("w5") == 1.5);  // dL/dw5 = h1
  BOOST_TEST(grad("w6") == 0.5);  // h2
  BOOST_TEST(grad("w1") == 1.0);  // w5 * x1
  BOOST_TEST(grad("w2") == 1.0);  // w6 * x1
  BOOST_TEST(grad("w4") == 0.0);  // w6 * x2 = 0
  BOOST_TEST(grad("x1") == 1.5);  // w5 * w1 + w6 * w2
  BOOST_TEST(grad("y") == -1.0);
}

BOOST_AUTO_TEST_CASE(constants_fold_and_step_has_zero_derivative) {
  const Program p(ag::expr::parse("x * step(x) * (2^3 - 7) + 0*y"), {});
  Program::Graph g = p.build({1.5, 4.0});
  g.output.backward();
  BOOST_TEST(g.output.data() == 1.5);
  BOOST_TEST(g.variables[0].grad() == 1.0);
  BOOST_TEST(g.variables[1].grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(seed004_formula_for_w2_gets_a_counterexample) {
  const Program p = seed004();
  // The seed's hand derivation: node 1's ReLU derivative where node 2's belongs.
  const auto wrong = ag::expr::parse("2*w6*(h1*w5 + h2*w6 + b3 - y)*step(x1*w1 + x2*w3 + b1)*x1");
  const auto r = ag::expr::check_partial(p, "w2", wrong, seed004_point(p));
  BOOST_TEST(r.points == 1001u);
  BOOST_TEST(r.given_point_agrees);  // both nodes are active at the seed's point
  BOOST_TEST(!r.disagreements.empty());
  bool node2_off_node1_on = false;
  for (const auto& d : r.disagreements) {
    const double h1 = d.definition_values[0], h2 = d.definition_values[1];
    if (h1 > 0 && h2 == 0) {
      node2_off_node1_on = true;
      BOOST_TEST(d.engine == 0.0);  // no gradient reaches w2 through an inactive node 2
      BOOST_TEST(d.finite_difference == 0.0);
      BOOST_TEST(d.formula != 0.0);
    }
  }
  BOOST_TEST(node2_off_node1_on);

  const auto right = ag::expr::parse(
      "2*(relu(h1*w5 + h2*w6 + b3) - y)*step(h1*w5 + h2*w6 + b3)*w6*step(x1*w2 + x2*w4 + b2)*x1");
  const auto ok = ag::expr::check_partial(p, "w2", right, seed004_point(p));
  BOOST_TEST(ok.disagreements.empty());
  BOOST_TEST(ok.points == 1001u);
}

BOOST_AUTO_TEST_CASE(check_rejects_unknown_names) {
  const Program p = seed004();
  BOOST_CHECK_THROW(ag::expr::check_partial(p, "zz", ag::expr::parse("1"), seed004_point(p)),
                    ag::expr::ProgramError);
  BOOST_CHECK_THROW(ag::expr::check_partial(p, "w2", ag::expr::parse("q"), seed004_point(p)),
                    ag::expr::ProgramError);
}

BOOST_AUTO_TEST_CASE(functions_a_learner_types) {
  BOOST_TEST(eval("max(2, 3) + max(3, 2)") == 6.0);
  BOOST_TEST(eval("min(2, 3) + min(3, 2)") == 4.0);
  BOOST_TEST(eval("max(0, -1.5)") == 0.0);
  BOOST_TEST(eval("pow(2, 3) + pow(4, 0.5)") == 10.0);
  BOOST_TEST(eval("EXP(0) + Relu(-1) + Abs(-2)") == 3.0);  // names case-insensitive in calls
  BOOST_TEST(eval("e") == std::exp(1.0));
  BOOST_TEST(eval("e^2") == std::exp(2.0));  // exp(2), not pow(e, 2)
  BOOST_TEST(eval("2*e^-1") == 2.0 * std::exp(-1.0));
  BOOST_TEST(error_message("max(1)") == "function 'max' takes two arguments, separated by ','");
  BOOST_TEST(error_message("exp(1, 2)") == "function 'exp' takes one argument");
  BOOST_TEST(error_message("min()") == "function 'min' needs two arguments");
  BOOST_TEST(error_message("foo(1)") ==
             "unknown function 'foo' (known: exp log sqrt tanh sigmoid relu abs sin cos log1p "
             "expm1 softplus gelu minimum maximum step max min pow)");
  BOOST_CHECK_THROW(Program(ag::expr::parse("e"), {{"e", ag::expr::parse("1")}}),
                    ag::expr::ProgramError);
}

BOOST_AUTO_TEST_CASE(max_and_min_gradients_at_ties_go_to_the_first_argument) {
  const Program p(ag::expr::parse("max(x, y) + 10*min(x, y)"), {});
  for (const auto& [at, dx, dy] : {std::tuple{std::vector<double>{1, 2}, 10.0, 1.0},
                                   std::tuple{std::vector<double>{2, 1}, 1.0, 10.0},
                                   std::tuple{std::vector<double>{2, 2}, 11.0, 0.0}}) {
    Program::Graph g = p.build(at);
    g.output.backward();
    BOOST_TEST(g.variables[0].grad() == dx);
    BOOST_TEST(g.variables[1].grad() == dy);
  }
  // max(0, x) is relu(x): one node, derivative 0 at 0.
  const Program relu_like(ag::expr::parse("max(0, x)"), {});
  Program::Graph g = relu_like.build({0.0});
  g.output.backward();
  BOOST_TEST(g.variables[0].grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(partials_with_respect_to_a_definition_are_checked) {
  const Program p = seed004();
  // dL/dh1 = 2 (out - y) relu'(pre3) w5, holding the variables h1 does not use.
  const auto right =
      ag::expr::parse("2*(relu(h1*w5 + h2*w6 + b3) - y)*step(h1*w5 + h2*w6 + b3)*w5");
  const auto ok = ag::expr::check_partial(p, "h1", right, seed004_point(p));
  BOOST_TEST(ok.points == 1001u);
  BOOST_TEST(ok.disagreements.empty());
  BOOST_TEST(ok.finite_difference_only.size() < 5u);
  // The seed's form leaves out relu'(pre3): wrong wherever the output ReLU is off.
  const auto wrong = ag::expr::parse("2*(h1*w5 + h2*w6 + b3 - y)*w5");
  const auto bad = ag::expr::check_partial(p, "h1", wrong, seed004_point(p));
  BOOST_TEST(!bad.disagreements.empty());
  for (const auto& d : bad.disagreements) BOOST_TEST(d.engine == 0.0);
}

// Second partials of f = x^2 y + sin(x), by hand: d2f/dx2 = 2y - sin x, d2f/dxdy = 2x,
// d2f/dy2 = 0; and of g = x + y (linear): every second partial 0, though df/dx = 1 has no graph.
BOOST_AUTO_TEST_CASE(hessian_and_second_partial_checks) {
  const Program p(ag::expr::parse("x^2*y + sin(x)"), {});
  const double x = 0.7, y = -1.3;
  const auto h = ag::expr::hessian_at(p, {x, y}, {0, 1});
  BOOST_TEST(std::abs(h[0][0] - (2 * y - std::sin(x))) < 1e-14);
  BOOST_TEST(h[0][1] == 2 * x);
  BOOST_TEST(h[1][0] == 2 * x);
  BOOST_TEST(h[1][1] == 0.0);
  const auto reversed = ag::expr::hessian_at(p, {x, y}, {1, 0});
  BOOST_TEST(reversed[0][0] == 0.0);
  BOOST_TEST(reversed[1][0] == 2 * x);
  const Program linear(ag::expr::parse("x + y"), {});
  for (const auto& row : ag::expr::hessian_at(linear, {1.0, 2.0}, {0, 1})) {
    for (const double v : row) BOOST_TEST(v == 0.0);
  }

  ag::expr::CheckOptions options;
  options.samples = 200;
  const auto ok =
      ag::expr::check_second_partial(p, "x", "y", ag::expr::parse("2*x"), {x, y}, options);
  BOOST_TEST(ok.variable == "x,y");
  BOOST_TEST(ok.points == 201u);
  BOOST_TEST(ok.disagreements.empty());
  BOOST_TEST(ok.finite_difference_only.empty());  // second differences agree with the engine
  const auto diagonal =
      ag::expr::check_second_partial(p, "x", "x", ag::expr::parse("2*y - sin(x)"), {x, y}, options);
  BOOST_TEST(diagonal.disagreements.empty());
  BOOST_TEST(diagonal.finite_difference_only.empty());
  // x^2 + 1 for d2f/dy2 = 0: wrong at every point.
  const auto wrong =
      ag::expr::check_second_partial(p, "y", "y", ag::expr::parse("x^2 + 1"), {x, y}, options);
  BOOST_TEST(wrong.disagreements.size() == 201u);
  BOOST_TEST(wrong.disagreements.front().engine == 0.0);
  BOOST_CHECK_THROW(ag::expr::check_second_partial(p, "x", "z", ag::expr::parse("1"), {x, y}),
                    ag::expr::ProgramError);
}
