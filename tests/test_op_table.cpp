// Every registered op (ag::op_registry, built from the op table) against finite differences in
// float64 through one generic checker: unary ops at several shapes, binary ops at every
// broadcasting case, Value forms too; the coverage of the registry by the random-graph
// generator, the PyTorch references and the stored table; hand-computed values of the
// table's ops, and the PyTorch conventions at their edges.
#include <fmt/format.h>

#include <algorithm>
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <set>

#include "../tools/op_table_text.hpp"
#include "random_graph.hpp"
#include "test_support.hpp"

using ag::OpEntry;
using ag::OpKind;
using ag::Shape;
using ag::Tensor;
using ag::Value;

namespace {

constexpr double kMargin = 0.1;  // from kinks and ties: far beyond the FD step

const std::vector<std::pair<Shape, Shape>> kBroadcastCases = {
    {{2, 3}, {2, 3}}, {{2, 3}, {}},     {{}, {2, 3}},        {{2, 3}, {3}}, {{2, 3}, {2, 1}},
    {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 2}},
};
const std::vector<Shape> kUnaryShapes = {{3, 4}, {}, {5}};

// A number in the op's domain, off its kinks.
double draw(const OpEntry& op, ag::Generator& gen) {
  for (;;) {
    const double x = op.domain.lo + (op.domain.hi - op.domain.lo) * gen.uniform();
    if (!op.domain.near_kink(x, kMargin)) return x;
  }
}

Tensor draw_tensor(const OpEntry& op, const Shape& shape, ag::Generator& gen) {
  std::vector<double> v(static_cast<std::size_t>(ag::numel(shape)));
  for (double& x : v) x = draw(op, gen);
  return ag::tensor(v, shape, ag::float64);
}

// Operands for the op at these shapes; for ops with a kink at ties, redrawn until apart.
std::vector<Tensor> draw_operands(const OpEntry& op, const std::vector<Shape>& shapes,
                                  ag::Generator& gen) {
  for (;;) {
    std::vector<Tensor> xs;
    for (const Shape& s : shapes) xs.push_back(draw_tensor(op, s, gen));
    if (!op.domain.kink_at_ties || xs.size() < 2) return xs;
    ag::NoGradGuard no_grad;
    const auto d = (xs[0] - xs[1]).to_vector();
    if (std::all_of(d.begin(), d.end(), [](double x) { return std::abs(x) >= kMargin; })) return xs;
  }
}

std::vector<double> params_of(const OpEntry& op, ag::Generator& gen) {
  std::vector<double> p;
  for (int k = 0; k < op.num_params; ++k)
    p.push_back(op.param_lo + (op.param_hi - op.param_lo) * gen.uniform());
  return p;
}

std::vector<std::vector<Shape>> shape_cases(const OpEntry& op) {
  std::vector<std::vector<Shape>> cases;
  if (op.kind == OpKind::ElementwiseUnary)
    for (const Shape& s : kUnaryShapes) cases.push_back({s});
  else if (op.kind == OpKind::ElementwiseBinary)
    for (const auto& [a, b] : kBroadcastCases) cases.push_back({a, b});
  else
    cases = op.example_shapes;
  return cases;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_registered_op_matches_finite_differences) {
  ag::Generator gen(7);
  int checked = 0;
  for (const OpEntry& op : ag::op_registry()) {
    for (const auto& shapes : shape_cases(op)) {
      std::string context(op.name);
      // fmt, not " " + ...: GCC 12 warns falsely (-Wrestrict) on the latter.
      for (const Shape& s : shapes) context += fmt::format(" {}", ag::to_string(s));
      BOOST_TEST_CONTEXT(context) {
        const std::vector<double> params = params_of(op, gen);
        const auto r =
            ag::gradcheck([&](const std::vector<Tensor>& xs) { return op.on_tensors(xs, params); },
                          draw_operands(op, shapes, gen));
        BOOST_TEST(r.ok, r.summary());
        ++checked;
      }
    }
    if (!op.on_values) continue;
    BOOST_TEST_CONTEXT(op.name << " on Values") {
      for (int trial = 0; trial < 3; ++trial) {
        const std::vector<double> params = params_of(op, gen);
        std::vector<double> point;
        for (const Tensor& t : draw_operands(op, std::vector<Shape>(op.arity, Shape{}), gen))
          point.push_back(t.item());
        const auto r = ag::gradcheck(
            [&](const std::vector<Value>& xs) { return op.on_values(xs, params); }, point);
        BOOST_TEST(r.ok, r.summary());
        ++checked;
      }
    }
  }
  BOOST_TEST(checked >= 100);
}

// The Value form and the Tensor form are the same math: same value, same gradient.
BOOST_AUTO_TEST_CASE(value_and_tensor_forms_agree) {
  ag::Generator gen(11);
  for (const OpEntry& op : ag::op_registry()) {
    if (!op.on_values) continue;
    BOOST_TEST_CONTEXT(op.name) {
      const std::vector<double> params = params_of(op, gen);
      const auto xs = draw_operands(op, std::vector<Shape>(op.arity, Shape{}), gen);
      std::vector<Value> vs;
      std::vector<Tensor> ts;
      for (const Tensor& x : xs) {
        vs.emplace_back(x.item());
        ts.push_back(ag::tensor({x.item()}, ag::float64).reshape({}).requires_grad_());
      }
      Value v = op.on_values(vs, params);
      Tensor t = op.on_tensors(ts, params);
      v.backward();
      t.backward();
      BOOST_TEST(v.data() == t.item(), boost::test_tools::tolerance(1e-15));
      for (std::size_t i = 0; i < vs.size(); ++i)
        BOOST_TEST(vs[i].grad() == ts[i].grad().item(), boost::test_tools::tolerance(1e-15));
    }
  }
}

// One row is all an op needs: it is then fuzzed, checked against PyTorch and listed in the
// stored table the reference script reads. This fails for a row that misses any of them.
BOOST_AUTO_TEST_CASE(every_registered_op_is_fuzzed_and_has_a_torch_reference) {
  const auto fuzzed = ag::fuzz::op_names();
  const std::set<std::string> graph_ops(fuzzed.begin(), fuzzed.end());
  const std::string refs = ag_test::read_file(ag_test::data_file("torch_refs.txt"));
  for (const OpEntry& op : ag::op_registry()) {
    const std::string name(op.name);
    BOOST_TEST(graph_ops.contains(name), name << " has no random-graph entry");
    if (op.on_values)
      BOOST_TEST(graph_ops.contains("v_" + name), name << " has no Value random-graph entry");
    BOOST_TEST(refs.find("case op_" + name + "_0 ") != std::string::npos,
               name << " has no PyTorch reference (rerun tools/make_torch_refs.py)");
    if (op.on_values)
      BOOST_TEST(refs.find("case op_v_" + name + "_0 ") != std::string::npos,
                 name << " has no PyTorch reference for its Value form");
  }
}

BOOST_AUTO_TEST_CASE(stored_op_table_is_current) {
  BOOST_TEST(ag_test::read_file(ag_test::data_file("op_table.txt")) == ag::tools::op_table_text(),
             "tests/data/op_table.txt is stale: run build/tools/ag_op_table > "
             "tests/data/op_table.txt, then tools/make_torch_refs.py");
}

BOOST_AUTO_TEST_CASE(minimum_maximum_where_and_comparisons_by_hand) {
  Tensor a = ag::tensor({1.0, 5.0, -2.0}, ag::float64).requires_grad_();
  Tensor b = ag::tensor({3.0, 4.0, -2.5}, ag::float64).requires_grad_();
  Tensor lo = minimum(a, b), hi = maximum(a, b);
  BOOST_TEST(lo.to_vector() == (std::vector<double>{1.0, 4.0, -2.5}));
  BOOST_TEST(hi.to_vector() == (std::vector<double>{3.0, 5.0, -2.0}));
  (lo * 2.0 + hi).sum().backward();
  BOOST_TEST(a.grad().to_vector() == (std::vector<double>{2.0, 1.0, 1.0}));
  BOOST_TEST(b.grad().to_vector() == (std::vector<double>{1.0, 2.0, 2.0}));
  const double nan = std::nan("");
  BOOST_TEST(std::isnan(minimum(Value(nan), Value(1.0)).data()));
  BOOST_TEST(std::isnan(maximum(Value(1.0), Value(nan)).data()));

  Tensor x = ag::tensor({1.0, 2.0, 3.0}, ag::float64);
  BOOST_TEST(eq(x, 2.0).to_vector() == (std::vector<double>{0, 1, 0}));
  BOOST_TEST(lt(x, 2.0).to_vector() == (std::vector<double>{1, 0, 0}));
  BOOST_TEST(le(x, 2.0).to_vector() == (std::vector<double>{1, 1, 0}));
  BOOST_TEST(gt(x, 2.0).to_vector() == (std::vector<double>{0, 0, 1}));
  BOOST_TEST(ge(x, 2.0).to_vector() == (std::vector<double>{0, 1, 1}));
  BOOST_TEST(!gt(a, b).requires_grad());  // masks carry no gradient

  // where selects: the Inf and NaN of the branch not taken reach neither result nor gradient.
  Tensor p = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
  Tensor q = ag::tensor({INFINITY, nan}, ag::float64).requires_grad_();
  Tensor w = where(ag::tensor({1.0, 1.0}, ag::float64), p, q);
  w.sum().backward();
  BOOST_TEST(w.to_vector() == (std::vector<double>{1.0, 2.0}));
  BOOST_TEST(p.grad().to_vector() == (std::vector<double>{1.0, 1.0}));
  BOOST_TEST(q.grad().to_vector() == (std::vector<double>{0.0, 0.0}));
  // Broadcasting condition and operands: [2, 1] x [3] -> [2, 3].
  Tensor c = ag::tensor({1.0, 0.0}, ag::float64).reshape({2, 1});
  Tensor r =
      where(c, ag::tensor({1.0, 2.0, 3.0}, ag::float64), ag::scalar_tensor(-1.0, ag::float64));
  BOOST_TEST(r.to_vector() == (std::vector<double>{1, 2, 3, -1, -1, -1}));
}

// PyTorch's conventions at the edges, where a naive formula gives NaN or hides one.
BOOST_AUTO_TEST_CASE(pow_with_exponent_zero_has_zero_derivative_at_zero) {
  Value x = 0.0;
  Value y = pow(x, 0.0);
  y.backward();
  BOOST_TEST(y.data() == 1.0);
  BOOST_TEST(x.grad() == 0.0);  // 0 * 0^-1 would be NaN

  Tensor t = ag::tensor({0.0, 2.0}, ag::float64).requires_grad_();
  pow(t, 0.0).sum().backward();
  BOOST_TEST(t.grad().to_vector() == (std::vector<double>{0.0, 0.0}));

  Tensor base = ag::tensor({0.0, 0.0, 2.0}, ag::float64).requires_grad_();
  Tensor e = ag::tensor({0.0, 2.0, 0.0}, ag::float64);
  pow(base, e).sum().backward();
  BOOST_TEST(base.grad().to_vector() == (std::vector<double>{0.0, 0.0, 0.0}));
}

BOOST_AUTO_TEST_CASE(relu_keeps_nan_so_anomaly_mode_sees_it) {
  const double nan = std::nan("");
  BOOST_TEST(std::isnan(relu(Value(nan)).data()));
  BOOST_TEST(std::isnan(leaky_relu(Value(nan)).data()));
  BOOST_TEST(std::isnan(relu(ag::tensor({nan, 1.0}, ag::float64)).to_vector()[0]));
  BOOST_TEST(std::isnan(relu(ag::tensor({nan}, ag::float32)).to_vector()[0]));
  BOOST_TEST(relu(Value(-1.0)).data() == 0.0);
  ag::AnomalyModeGuard anomaly;
  BOOST_CHECK_THROW(relu(Value(nan)), ag::Error);
  BOOST_CHECK_THROW(relu(ag::tensor({nan}, ag::float64).requires_grad_()), ag::Error);
}

BOOST_AUTO_TEST_CASE(ops_on_an_empty_value_name_the_op) {
  Value x = 2.0;
  Value moved = std::move(x);
  for (const auto& op : std::vector<std::pair<std::string, std::function<Value()>>>{
           {"sin", [&] { return sin(x); }},
           {"exp", [&] { return exp(x); }},
           {"+", [&] { return x + moved; }},
           {"*", [&] { return 2.0 * x; }},
           {"pow", [&] { return pow(x, 2.0); }},
           {"minimum", [&] { return minimum(moved, x); }},
       }) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& name = op.first;
    BOOST_TEST_CONTEXT(name) {
      BOOST_CHECK_EXCEPTION(op.second(), ag::Error,
                            [&](const ag::Error& e) { return e.op() == name; });
    }
  }
}

BOOST_AUTO_TEST_CASE(domain_errors_name_the_op) {
  BOOST_CHECK_EXCEPTION(log1p(Value(-2.0)), ag::Error, [](const ag::Error& e) {
    return e.op() == "log1p" && std::string(e.what()).find("-2") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION(log1p(ag::tensor({0.5, -3.0}, ag::float64)), ag::Error,
                        [](const ag::Error& e) { return e.op() == "log1p"; });
  BOOST_CHECK_EXCEPTION(sin(Tensor()), ag::Error,
                        [](const ag::Error& e) { return e.op() == "sin"; });
}

BOOST_AUTO_TEST_CASE(indexing_and_view_ops_by_hand) {
  // x = [[0 1 2 3] [4 5 6 7] [8 9 10 11]]
  Tensor x = ag::arange(12.0, ag::float64).reshape({3, 4}).requires_grad_();
  BOOST_TEST(ag::slice(x, 1, 1, 100, 2).to_vector() == (std::vector<double>{1, 3, 5, 7, 9, 11}));
  BOOST_TEST(ag::slice(x, 0, -2, 3).to_vector() == (std::vector<double>{4, 5, 6, 7, 8, 9, 10, 11}));
  BOOST_TEST(ag::select(x, 1, -1).to_vector() == (std::vector<double>{3, 7, 11}));
  BOOST_TEST(ag::narrow(x, 0, 1, 1).shape() == (Shape{1, 4}));
  const std::int64_t rows[] = {2, 2, 0};
  Tensor picked = ag::index_select(x, 0, rows);
  BOOST_TEST(picked.to_vector() == (std::vector<double>{8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3}));
  picked.sum().backward();  // row 2 taken twice: gradient 2 there
  BOOST_TEST(x.grad().to_vector() == (std::vector<double>{1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2}));
  const std::int64_t cols[] = {3, 0, 1, 1};
  BOOST_TEST(ag::gather(x, 1, cols, {2, 2}).to_vector() == (std::vector<double>{3, 0, 5, 5}));
  BOOST_TEST(ag::squeeze(ag::unsqueeze(x, 0)).shape() == (Shape{3, 4}));
  BOOST_TEST(ag::unsqueeze(x, -1).shape() == (Shape{3, 4, 1}));
  BOOST_TEST(ag::flatten(ag::zeros({2, 3, 4})).shape() == (Shape{24}));
  BOOST_TEST(ag::stack({x, x}, 0).shape() == (Shape{2, 3, 4}));
  BOOST_TEST(ag::stack({x, x}, -1).shape() == (Shape{3, 4, 2}));
  BOOST_TEST(ag::min(x).item() == 0.0);
  BOOST_TEST(ag::min(x, 1).to_vector() == (std::vector<double>{0, 4, 8}));

  Tensor col = ag::tensor({1.0, 2.0}, ag::float64).reshape({2, 1}).requires_grad_();
  Tensor e = ag::expand(col, {3, -1, 4});
  BOOST_TEST(e.shape() == (Shape{3, 2, 4}));
  e.sum().backward();
  BOOST_TEST(col.grad().to_vector() == (std::vector<double>{12, 12}));

  auto names = [](const char* op) { return [op](const ag::Error& err) { return err.op() == op; }; };
  const std::int64_t bad[] = {3};
  BOOST_CHECK_EXCEPTION(ag::index_select(x, 0, bad), ag::Error, names("index_select"));
  BOOST_CHECK_EXCEPTION(ag::narrow(x, 1, 2, 3), ag::Error, names("narrow"));
  BOOST_CHECK_EXCEPTION(ag::select(x, 0, 3), ag::Error, names("select"));
  BOOST_CHECK_EXCEPTION(ag::slice(x, 0, 0, 2, 0), ag::Error, names("slice"));
  BOOST_CHECK_EXCEPTION(ag::gather(x, 1, bad, {1}), ag::Error, names("gather"));
  BOOST_CHECK_EXCEPTION(ag::expand(x, {3, 5}), ag::Error, names("expand"));
  BOOST_CHECK_EXCEPTION(ag::stack({x, col}, 0), ag::Error, names("stack"));
  BOOST_CHECK_EXCEPTION(ag::select(ag::scalar_tensor(1.0), 0, 0), ag::Error, names("select"));
}

// docs/ops.md: each ```cpp block is a verbatim copy of compiled code (a row of the op table,
// or examples/custom_op.cpp, which a test runs), and the op list names every registered op.
BOOST_AUTO_TEST_CASE(docs_snippets_are_compiled_code_and_the_list_is_complete) {
  const std::string doc = ag_test::read_file(ag_test::source_file("docs/ops.md"));
  const std::string sources =
      ag_test::read_file(ag_test::source_file("autograd/src/op_table.hpp")) +
      ag_test::read_file(ag_test::source_file("examples/custom_op.cpp"));
  int blocks = 0;
  for (std::size_t at = doc.find("```cpp\n"); at != std::string::npos;
       at = doc.find("```cpp\n", at + 1)) {
    const std::size_t begin = at + 7, end = doc.find("```", begin);
    const std::string block = doc.substr(begin, end - begin);
    BOOST_TEST(sources.find(block) != std::string::npos,
               "docs/ops.md block is not a copy of compiled code:\n"
                   << block);
    ++blocks;
  }
  BOOST_TEST(blocks >= 2);
  for (const OpEntry& op : ag::op_registry()) {
    std::string name(op.name);
    name = name.substr(0, name.find("_dim"));  // sum_dim, min_dim: listed as sum, min
    BOOST_TEST(doc.find(name) != std::string::npos, "docs/ops.md does not list " << name);
  }
}
