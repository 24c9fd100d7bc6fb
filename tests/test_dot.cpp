// DOT export: golden files for both views, hand-checked numbers in them, determinism, scope
// collapsing, the node limit and deep chains.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/dot.hpp"
#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/render.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using ag_test::read_file;

// Compares with tests/data/dot/<name>; AG_UPDATE_GOLDEN=1 rewrites the file instead.
void check_golden(const std::string& name, const std::string& text) {
  const fs::path path = ag_test::data_file("dot") / name;
  if (std::getenv("AG_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << text;
    BOOST_TEST_MESSAGE("rewrote " << path);
    return;
  }
  BOOST_REQUIRE_MESSAGE(fs::exists(path), "missing golden file " << path);
  BOOST_TEST(text == read_file(path));
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// micrograd's README example, smaller: L = (a * b + c) * f.
std::string scalar_example() {
  ag::Value a(2.0, "a"), b(-3.0, "b"), c(10.0, "c"), f(-2.0, "f");
  ag::Value e = a * b;
  e.set_label("e");
  ag::Value d = e + c;
  d.set_label("d");
  ag::Value L = d * f;
  L.set_label("L");
  L.backward();
  return ag::to_dot({L});
}

}  // namespace

BOOST_AUTO_TEST_CASE(scalar_view_matches_golden_and_hand_computed_gradients) {
  const std::string dot = scalar_example();
  check_golden("scalar_small.dot", dot);
  // d = 4, L = -8; dL/dd = f = -2, dL/df = d = 4, dL/da = -2 * b = 6, dL/db = -2 * a = -4.
  BOOST_TEST(dot.find("rankdir=TB") != std::string::npos);  // fits a screen; LR on request
  BOOST_TEST(dot.find("label=\"a | data 2 | grad 6\"") != std::string::npos);
  BOOST_TEST(dot.find("label=\"b | data -3 | grad -4\"") != std::string::npos);
  BOOST_TEST(dot.find("label=\"c | data 10 | grad -2\"") != std::string::npos);
  BOOST_TEST(dot.find("label=\"f | data -2 | grad 4\"") != std::string::npos);
  BOOST_TEST(dot.find("label=\"d | data 4 | grad -2\"") != std::string::npos);
  BOOST_TEST(dot.find("label=\"L | data -8 | grad 1\"") != std::string::npos);
  // 7 value records, 3 op nodes, and 2 + 2 + 2 input edges plus 3 op -> value edges.
  BOOST_TEST(count(dot, "shape=record") == 7u);
  BOOST_TEST(count(dot, " -> ") == 9u);
}

BOOST_AUTO_TEST_CASE(same_graph_gives_same_bytes) {
  BOOST_TEST(scalar_example() == scalar_example());
}

BOOST_AUTO_TEST_CASE(tensor_view_matches_golden) {
  const ag::Tensor w =
      ag::tensor(std::vector<double>{1, -2, 3, 4}, {2, 2}, ag::float64).requires_grad_();
  ag::Tensor weight = w;
  weight.set_label("dense1.weight");
  const ag::Tensor x = ag::ones({1, 2}, ag::float64);
  ag::Tensor big = ag::zeros({10, 10}, ag::float64).requires_grad_();
  big.set_label("big");
  const ag::Tensor y = ag::matmul(x, weight).relu().sum() + big.sum();
  y.backward();
  const std::string dot = ag::to_dot({y});
  check_golden("tensor_small.dot", dot);
  BOOST_TEST(dot.find("rankdir=TB") != std::string::npos);
  // x @ w = [4, 2]: both positive, so dy/dw = x^T * [1, 1] = all ones.
  BOOST_TEST(dot.find("dense1.weight\\n[2, 2] float64\\ndata [[1, -2], [3, 4]]\\ngrad [[1, 1], "
                      "[1, 1]]\", style=filled, fillcolor=lightblue") != std::string::npos);
  // 100 elements: shape and dtype only.
  BOOST_TEST(dot.find("big\\n[10, 10] float64\", style=filled") != std::string::npos);
  BOOST_TEST(dot.find("fillcolor=darkolivegreen1") != std::string::npos);
  BOOST_TEST(dot.find("\"constant\\n[1, 2] float64") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(labels_are_escaped) {
  ag::Value v(1.0, "a\"{b}|<c>\\");
  const ag::Value out = v * 2.0;
  const std::string dot = ag::to_dot({out});
  BOOST_TEST(dot.find("\"a\\\"\\{b\\}\\|\\<c\\>\\\\ | data 1") != std::string::npos);
  ag::DotOptions tensor_view;
  tensor_view.view = ag::DotView::Tensor;
  BOOST_TEST(ag::to_dot({out}, tensor_view).find("label=\"a\\\"{b}|<c>\\\\\\n[] float64") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(scopes_collapse_above_the_limit) {
  ag::Value x(0.5, "x");
  ag::Value h = x;
  {
    ag::ScopeGuard scope("layer1");
    for (int i = 0; i < 400; ++i) h = ag::tanh(h * 1.01);
  }
  const ag::Value out = h + 1.0;  // outside any scope
  const std::string collapsed = ag::to_dot({out});
  BOOST_TEST(count(collapsed, "shape=box3d") == 1u);
  BOOST_TEST(collapsed.find("s0 [shape=box3d, style=filled, fillcolor=lightyellow, "
                            "label=\"layer1\\n800 nodes\"]") != std::string::npos);
  BOOST_TEST(collapsed.find("v0 -> s0;") != std::string::npos);
  BOOST_TEST(count(collapsed, "shape=record") == 2u);  // x and out
  // Wrapped: the summary node takes no rank of the rows, and Graphviz lays the graph out.
  ag::DotOptions wrapped;
  wrapped.layout = ag::DotLayout::Wrapped;
  const std::string rows = ag::to_dot({out}, wrapped);
  BOOST_TEST(rows.find("rankdir=LR") != std::string::npos);
  ag_test::TempDir dir;
  ag::render_graph({out}, dir.path / "rows.svg", wrapped);
  BOOST_TEST(fs::file_size(dir.path / "rows.svg") > 1000u);
  ag::DotOptions keep;
  keep.collapse_above = 10'000;
  const std::string full = ag::to_dot({out}, keep);
  BOOST_TEST(count(full, "shape=box3d") == 0u);
  BOOST_TEST(count(full, "shape=record") == 802u);
}

BOOST_AUTO_TEST_CASE(ten_million_node_chain_is_refused_naming_the_limit) {
  ag::Value x(1.0, "x");
  ag::Value y = x;
  for (int i = 0; i < 10'000'000; ++i) y = y + 1.0;
  try {
    (void)ag::to_dot({y});
    BOOST_FAIL("expected ag::Error");
  } catch (const ag::Error& e) {
    const std::string msg = e.what();
    BOOST_TEST(e.op() == "to_dot");
    BOOST_TEST(msg.find("10000001 nodes") != std::string::npos, msg);
    BOOST_TEST(msg.find("DotOptions::max_nodes = 100000") != std::string::npos, msg);
    BOOST_TEST(msg.find("raise max_nodes") != std::string::npos, msg);
  }
}

BOOST_AUTO_TEST_CASE(deep_chain_exports_when_the_limit_is_raised) {
  ag::Value x(1.0, "x");
  ag::Value y = x;
  constexpr int kOps = 300'000;
  for (int i = 0; i < kOps; ++i) y = y + 1.0;
  ag::DotOptions options;
  options.max_nodes = 1'000'000;
  options.precision = 7;
  const std::string dot = ag::to_dot({y}, options);
  BOOST_TEST(count(dot, "shape=record") == static_cast<std::size_t>(kOps + 1));
  BOOST_TEST(count(dot, " -> ") == static_cast<std::size_t>(2 * kOps));
  BOOST_TEST(dot.find("label=\"data 300001 | grad 0\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(write_dot_is_whole_or_nothing) {
  const fs::path dir = fs::temp_directory_path() / ("ag_test_dot_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ag::Value a(3.0, "a");
  const ag::Value b = a * a;
  ag::write_dot(dir / "g.dot", {b});
  BOOST_TEST(read_file(dir / "g.dot") == ag::to_dot({b}));
  BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  BOOST_CHECK_THROW(ag::write_dot(dir / "missing" / "g.dot", {b}), ag::Error);
  ag::DotOptions tiny;
  tiny.max_nodes = 1;
  BOOST_CHECK_THROW(ag::write_dot(dir / "refused.dot", {b}, tiny), ag::Error);
  BOOST_TEST(!fs::exists(dir / "refused.dot"));
  BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(empty_root_is_an_error) {
  const ag::Tensor undefined;
  BOOST_CHECK_THROW(ag::to_dot({undefined}), ag::Error);
}

BOOST_AUTO_TEST_CASE(op_nodes_show_their_constants) {
  ag::Value x(3.0, "x");
  ag::Value y = pow(x * 2.0, 3.0) + 1.0 - (10.0 / x);
  const std::string dot = ag::to_dot({y});
  BOOST_TEST(dot.find("[label=\"* 2\"]") != std::string::npos, dot);
  BOOST_TEST(dot.find("[label=\"**3\"]") != std::string::npos, dot);
  BOOST_TEST(dot.find("[label=\"+ 1\"]") != std::string::npos, dot);
  BOOST_TEST(dot.find("[label=\"10 /\"]") != std::string::npos, dot);
  BOOST_TEST(dot.find("[label=\"-\"]") != std::string::npos, dot);  // Value - Value: no constant
}

// Tensor ops with a constant show it as the Value ops do, also after backward has released
// the nodes' saved values (the constant is kept for pictures, not in the closure).
BOOST_AUTO_TEST_CASE(tensor_op_nodes_show_their_constants) {
  ag::Tensor x = ag::tensor({1.0, 2.0}).requires_grad_();
  ag::Tensor y = ag::leaky_relu(ag::pow(x, 3.0), 0.1) + ag::pow(x, 0.5);
  ag::Tensor loss = ag::sum(y);
  const std::string before = ag::to_dot({loss});
  BOOST_TEST(before.find("label=\"**3\\n") != std::string::npos, before);
  BOOST_TEST(before.find("label=\"**0.5\\n") != std::string::npos, before);
  BOOST_TEST(before.find("label=\"leaky_relu(0.1)\\n") != std::string::npos, before);
  loss.backward();
  const std::string after = ag::to_dot({loss});
  BOOST_TEST(after.find("label=\"**3\\n") != std::string::npos, after);
  BOOST_TEST(after.find("label=\"leaky_relu(0.1)\\n") != std::string::npos, after);
  // Same labels as the scalar ops': pow(x, 3) of a Value is "**3" too.
  ag::Value v(2.0, "v");
  BOOST_TEST(ag::to_dot({ag::pow(v, 3.0)}).find("[label=\"**3\"]") != std::string::npos);
}

// Pictures a learner reads: local derivatives on the edges, the explained paths in red,
// `x - 2` as written, differentiated leaves apart from constants, layouts.
BOOST_AUTO_TEST_CASE(edge_derivatives_highlight_and_readable_ops) {
  ag::Value w(0.5, "w"), x(2.0, "x");
  ag::Value u = w * x - 0.3;  // recorded as w*x + (-0.3)
  ag::Value f = ag::relu(u) * w;
  f.set_label("f");
  const ag::Value constant = ag::Value(3.0).detach();
  ag::DotOptions options;
  options.edge_derivatives = true;
  options.highlight_from = x;
  const std::string dot = ag::to_dot({f}, options);
  BOOST_TEST(dot.find("[label=\"- 0.3\", color=red") != std::string::npos);
  // d(w*x)/dw = x = 2 and d(w*x)/dx = w = 0.5 on the edges into the product (op node o2).
  BOOST_TEST(dot.find("v0 -> o2 [label=\"2\"]") != std::string::npos);
  BOOST_TEST(dot.find("v1 -> o2 [label=\"0.5\", color=red") != std::string::npos);
  // df/drelu = w = 0.5 (on x's path: red); df/dw directly = relu(0.7) = 0.7 (w is not x's
  // path: plain).
  BOOST_TEST(dot.find("-> o5 [label=\"0.5\", color=red") != std::string::npos);
  BOOST_TEST(dot.find("v0 -> o5 [label=\"0.7\"]") != std::string::npos);
  // Red: x, the 4 ops on its path and their 4 value records; 4 input edges, 4 op -> value.
  BOOST_TEST(count(dot, "penwidth=2]") == 9u);
  BOOST_TEST(count(dot, "penwidth=2.5") == 8u);
  BOOST_TEST(dot.find("rankdir=TB") != std::string::npos);
  ag::DotOptions wide;
  wide.layout = ag::DotLayout::LeftToRight;
  const std::string lr = ag::to_dot({f}, wide);
  BOOST_TEST(lr.find("rankdir=LR") != std::string::npos);
  BOOST_TEST(lr.find("label=\"{ f | data 0.35 | grad 0 }\"") != std::string::npos);

  // A constant leaf (no gradient) is drawn white, apart from the blue variables.
  const ag::Value g = w * ag::Value(3.0).detach();
  const std::string with_constant = ag::to_dot({g});
  BOOST_TEST(with_constant.find("data 3 | grad 0\", style=filled, fillcolor=white") !=
             std::string::npos);
  BOOST_TEST(with_constant.find("w | data 0.5 | grad 0\", style=filled, fillcolor=lightblue") !=
             std::string::npos);
}

// Rendering a graph Graphviz cannot lay out in seconds is refused, naming the limit, and
// writes nothing; the DOT text of the same graph still exports.
BOOST_AUTO_TEST_CASE(render_refuses_graphs_above_max_render_nodes) {
  ag::Value x(0.5, "x");
  ag::Value h = x;
  for (int i = 0; i < 2500; ++i) h = h * 1.001;
  ag_test::TempDir dir;
  const fs::path png = dir.path / "big.png";
  ag_test::expect_error(
      [&] { ag::render_graph({h}, png); },
      {"render", "2501 nodes", "DotOptions::max_render_nodes = 2000", "write_dot"});
  BOOST_TEST(!fs::exists(png));
  BOOST_TEST(dir.entries() == 0u);
  BOOST_TEST(!ag::to_dot({h}).empty());
}

// Wrapped: a chain cut into rows of wrap_ranks ranks. x -> o1 -> v1 -> o2 -> v2 ... with 4
// ranks a row: x at rank 0, op k at rank 2k - 1, its record at 2k; ranks 0 and 4, 8, ... share
// a column. Edges into a new row do not constrain ranks.
BOOST_AUTO_TEST_CASE(wrapped_layout_cuts_a_chain_into_rows) {
  ag::Value x(0.5, "x");
  ag::Value h = x;
  for (int i = 0; i < 5; ++i) h = h * 2.0;
  ag::DotOptions options;
  options.layout = ag::DotLayout::Wrapped;
  options.wrap_ranks = 4;
  const std::string dot = ag::to_dot({h}, options);
  BOOST_TEST(dot.find("rankdir=LR") != std::string::npos);
  BOOST_TEST(dot.find("{ rank=same; v0; v2; v4; }") != std::string::npos, dot);
  BOOST_TEST(dot.find("{ rank=same; o1; o3; o5; }") != std::string::npos, dot);
  BOOST_TEST(dot.find("{ rank=same; v1; v3; v5; }") != std::string::npos, dot);
  BOOST_TEST(dot.find("{ rank=same; o2; o4; }") != std::string::npos, dot);
  // Rows start at ranks 4 and 8: the records v2 and v4 (the edges o2 -> v2, o4 -> v4).
  BOOST_TEST(dot.find("o2 -> v2 [constraint=false]") != std::string::npos);
  BOOST_TEST(dot.find("o4 -> v4 [constraint=false]") != std::string::npos);
  BOOST_TEST(count(dot, "constraint=false") == 2u);
  // An odd count is rounded up in the scalar view (ops and records alternate): 3 gives 4.
  options.wrap_ranks = 3;
  BOOST_TEST(ag::to_dot({h}, options) == dot);
  // The tensor view has one box per node: 3 ranks a row.
  options.view = ag::DotView::Tensor;
  const std::string boxes = ag::to_dot({h}, options);
  BOOST_TEST(boxes.find("{ rank=same; n0; n3; }") != std::string::npos, boxes);
  BOOST_TEST(boxes.find("n2 -> n3 [constraint=false]") != std::string::npos);
  options.wrap_ranks = 0;
  ag_test::expect_error([&] { (void)ag::to_dot({h}, options); }, {"to_dot", "wrap_ranks"});
}
