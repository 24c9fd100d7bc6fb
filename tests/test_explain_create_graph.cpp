// ag::explain, ag::backward_trace and DOT on graphs that a create_graph backward built: a
// gradient with history is an ordinary output, so its paths must sum to what ag::grad of it
// gives (the next derivative), and its picture must be well-formed DOT.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/dot.hpp"

namespace {

// f = x^2 y + sin(x) at (x, y) = (0.7, -1.3), with hand derivatives:
//   df/dx = 2xy + cos x        df/dy = x^2
//   d2f/dx2 = 2y - sin x       d2f/dxdy = 2x       d3f/dx3 = -cos x
constexpr double kX = 0.7, kY = -1.3;

struct FirstPartials {
  ag::Value x{kX, "x"}, y{kY, "y"};
  ag::Value dfdx, dfdy;
  FirstPartials() {
    const ag::Value f = x * x * y + sin(x);
    const std::vector<ag::Value> g =
        ag::grad(f, {x, y}, /*retain_graph=*/true, /*create_graph=*/true);
    dfdx = g[0];
    dfdy = g[1];
  }
};

double close(double a, double b) { return std::abs(a - b) <= 1e-12 * (1.0 + std::abs(b)); }

// Well-formed DOT: one digraph, balanced braces and quotes, every edge's ends declared.
void check_well_formed(const std::string& dot) {
  BOOST_TEST(dot.rfind("digraph autograd {\n", 0) == 0u);
  BOOST_TEST(dot.substr(dot.size() - 2) == "}\n");
  std::set<std::string> declared;
  const std::regex node_line(R"(^  ([a-z][0-9]+) \[)");
  const std::regex edge_line(R"(^  ([a-z][0-9]+) -> ([a-z][0-9]+)( \[|;))");
  std::size_t edges = 0, pos = 0;
  while (pos < dot.size()) {
    const std::size_t end = dot.find('\n', pos);
    const std::string line = dot.substr(pos, end - pos);
    pos = end + 1;
    std::size_t quotes = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') {
        ++i;
      } else if (line[i] == '"') {
        ++quotes;
      }
    }
    BOOST_TEST(quotes % 2 == 0u, line);
    std::smatch m;
    if (std::regex_search(line, m, edge_line)) {
      ++edges;
      BOOST_TEST(declared.count(m[1]) == 1u, line);
      BOOST_TEST(declared.count(m[2]) == 1u, line);
    } else if (std::regex_search(line, m, node_line)) {
      declared.insert(m[1]);
    }
  }
  BOOST_TEST(edges > 0u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(explain_of_a_first_partial_sums_to_the_second_partials) {
  FirstPartials p;
  BOOST_TEST(close(p.dfdx.data(), 2 * kX * kY + std::cos(kX)));
  const ag::Explanation ex = ag::explain(p.dfdx, p.x);
  const ag::Explanation ey = ag::explain(p.dfdx, p.y);
  const std::vector<ag::Value> second = ag::grad(p.dfdx, {p.x, p.y}, /*retain_graph=*/true);
  BOOST_TEST(close(second[0].data(), 2 * kY - std::sin(kX)));
  BOOST_TEST(close(second[1].data(), 2 * kX));
  // The engine's own number, bit for bit, and the paths' sum up to rounding.
  BOOST_TEST(ex.total == second[0].data());
  BOOST_TEST(ey.total == second[1].data());
  BOOST_TEST(close(ex.path_sum, second[0].data()));
  BOOST_TEST(close(ey.path_sum, second[1].data()));
  BOOST_TEST(ex.reachable);
  BOOST_TEST(ex.path_count > 1.0);  // x reaches 2xy + cos x along several paths
  // d/dy of df/dy = x^2 is 0, and y is not in x^2's graph at all.
  const ag::Explanation eyy = ag::explain(p.dfdy, p.y);
  BOOST_TEST(!eyy.reachable);
  BOOST_TEST(eyy.total == 0.0);
  // Explaining changed no gradient: the leaves never had one.
  BOOST_TEST(p.x.grad() == 0.0);
}

BOOST_AUTO_TEST_CASE(explain_of_a_second_partial_gives_the_third) {
  FirstPartials p;
  const ag::Value d2fdx2 = ag::grad(p.dfdx, {p.x}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  BOOST_TEST(close(d2fdx2.data(), 2 * kY - std::sin(kX)));
  const ag::Explanation e = ag::explain(d2fdx2, p.x);
  const double third = ag::grad(d2fdx2, {p.x}, /*retain_graph=*/true)[0].data();
  BOOST_TEST(close(third, -std::cos(kX)));
  BOOST_TEST(e.total == third);
  BOOST_TEST(close(e.path_sum, third));
  // d/dy of 2y - sin x is 2.
  BOOST_TEST(ag::explain(d2fdx2, p.y).total == 2.0);
}

BOOST_AUTO_TEST_CASE(trace_adjoints_of_a_gradient_equal_ag_grad) {
  FirstPartials p;
  const ag::BackwardTrace t = ag::backward_trace(p.dfdx);
  const std::vector<ag::GraphNode> nodes = ag::collect_graph({p.dfdx});
  BOOST_TEST(t.steps.front().id == nodes.size() - 1);  // the output first, adjoint 1
  BOOST_TEST(t.steps.front().adjoint == 1.0);
  std::size_t checked = 0;
  for (const ag::TraceStep& s : t.steps) {
    if (!nodes.at(s.id).requires_grad) continue;
    const ag::Value& v = *nodes.at(s.id).value;
    // Every adjoint is d(df/dx)/d(node), which ag::grad computes for intermediates too.
    const double expected = ag::grad(p.dfdx, {v}, /*retain_graph=*/true)[0].data();
    BOOST_TEST(s.adjoint == expected, s.name);
    ++checked;
    if (s.name == "x") BOOST_TEST(close(s.adjoint, 2 * kY - std::sin(kX)));
    if (s.name == "y") BOOST_TEST(close(s.adjoint, 2 * kX));
  }
  BOOST_TEST(checked > 4u);
}

BOOST_AUTO_TEST_CASE(one_element_tensor_gradients_explain_like_values) {
  auto x = ag::full({1}, kX, ag::float64).requires_grad_();
  auto y = ag::full({1}, kY, ag::float64).requires_grad_();
  const ag::Tensor f = (x * x * y + ag::sin(x)).sum();
  const ag::Tensor dfdx = ag::grad(f, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const ag::Explanation e = ag::explain(dfdx, x);
  const double second = ag::grad(dfdx.sum(), {x}, {}, /*retain_graph=*/true)[0].item();
  BOOST_TEST(close(second, 2 * kY - std::sin(kX)));
  BOOST_TEST(e.total == second);
  BOOST_TEST(close(e.path_sum, second));
  BOOST_TEST(close(ag::explain(dfdx, y).total, 2 * kX));
}

BOOST_AUTO_TEST_CASE(dot_of_a_gradient_graph_is_well_formed) {
  FirstPartials p;
  ag::DotOptions options;
  options.edge_derivatives = true;
  options.highlight_from = p.x;
  const std::string scalar = ag::to_dot({p.dfdx, p.dfdy}, options);
  check_well_formed(scalar);
  // The picture shows the gradient's value: 2xy + cos x at the point.
  const std::string value = fmt::format("data {:.4g}", 2 * kX * kY + std::cos(kX));
  BOOST_TEST(scalar.find(value) != std::string::npos, value << "\n" << scalar);
  options.view = ag::DotView::Tensor;
  check_well_formed(ag::to_dot({p.dfdx}, options));
}
