// Second-order results against PyTorch (tests/data/higher_order_refs.txt, written by
// tools/make_higher_order_refs.py): an MLP's Hessian with respect to its first layer and a
// Hessian-vector product, a gradient penalty L + 0.1 |dL/dx|^2 and its gradients, and the
// Hessian of log_softmax.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.hpp"

using ag::Tensor;

namespace {

std::map<std::string, Tensor> load_refs() {
  std::ifstream in(ag_test::data_file("higher_order_refs.txt"));
  BOOST_REQUIRE_MESSAGE(in, "cannot open higher_order_refs.txt");
  std::map<std::string, Tensor> refs;
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream line(text);
    std::string name;
    int ndim = 0;
    line >> name >> ndim;
    ag::Shape shape(static_cast<std::size_t>(ndim));
    for (auto& d : shape) line >> d;
    std::vector<double> values(static_cast<std::size_t>(ag::numel(shape)));
    for (double& v : values) line >> v;
    BOOST_REQUIRE_MESSAGE(!line.fail(), "malformed line for " << name);
    refs[name] = ag::tensor(values, shape, ag::float64);
  }
  return refs;
}

// Loaded per test case: a Tensor must not outlive main (the thread-local caches its
// destructor returns memory to are gone by then).
struct Refs {
  std::map<std::string, Tensor> table = load_refs();
  const Tensor& operator()(const std::string& name) const {
    auto it = table.find(name);
    BOOST_REQUIRE_MESSAGE(it != table.end(), "no reference " << name);
    return it->second;
  }
};

void check_close(const std::string& what, const Tensor& got, const Tensor& want) {
  BOOST_REQUIRE_MESSAGE(got.shape() == want.shape(), what << ": shape "
                                                          << ag::to_string(got.shape()) << " vs "
                                                          << ag::to_string(want.shape()));
  const auto g = got.to_vector(), w = want.to_vector();
  for (std::size_t i = 0; i < g.size(); ++i) {
    BOOST_CHECK_MESSAGE(std::abs(g[i] - w[i]) <= 1e-10 + 1e-9 * std::abs(w[i]),
                        what << "[" << i << "]: " << g[i] << " vs torch " << w[i]);
  }
}

std::vector<std::int64_t> labels_of(const Tensor& t) {
  std::vector<std::int64_t> out;
  for (double v : t.to_vector()) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mlp_hessian_with_respect_to_the_first_layer) {
  const Refs ref;
  const auto labels = labels_of(ref("mlp_labels"));
  auto loss = [&](const Tensor& w1) {
    Tensor h = ag::linear(ref("mlp_x"), w1, ref("mlp_b1")).tanh();
    return ag::cross_entropy(ag::matmul(h, ref("mlp_w2")), labels);
  };
  check_close("loss", loss(ref("mlp_w1")), ref("mlp_loss"));
  check_close("hessian", ag::hessian(loss, ref("mlp_w1")), ref("mlp_hessian_w1"));
  check_close("hvp", ag::hvp(loss, ref("mlp_w1"), ref("mlp_v")), ref("mlp_hvp"));
}

BOOST_AUTO_TEST_CASE(gradient_penalty) {
  const Refs ref;
  Tensor x = ref("gp_x").clone().requires_grad_();
  Tensor w = ref("gp_w").clone().requires_grad_();
  Tensor t = ag::matmul(x, w).tanh();
  Tensor L = (t * t).sum();
  Tensor dx = ag::grad(L, {x}, {}, false, /*create_graph=*/true)[0];
  Tensor P = L + 0.1 * (dx * dx).sum();
  check_close("penalised loss", P, ref("gp_p"));
  std::vector<Tensor> g = ag::grad(P, {w, x});
  check_close("dP/dw", g[0], ref("gp_grad_w"));
  check_close("dP/dx", g[1], ref("gp_grad_x"));
  // The same through backward(create_graph=true): leaves' grads carry the history.
  Tensor x2 = ref("gp_x").clone().requires_grad_();
  Tensor w2 = ref("gp_w").clone().requires_grad_();
  Tensor t2 = ag::matmul(x2, w2).tanh();
  Tensor L2 = (t2 * t2).sum();
  L2.backward({}, false, /*create_graph=*/true);
  Tensor dx2 = x2.grad();
  x2.zero_grad();
  w2.zero_grad();
  (L2 + 0.1 * (dx2 * dx2).sum()).backward();
  check_close("dP/dw via backward", w2.grad(), ref("gp_grad_w"));
  check_close("dP/dx via backward", x2.grad(), ref("gp_grad_x"));
}

BOOST_AUTO_TEST_CASE(hessian_of_log_softmax) {
  const Refs ref;
  const Tensor c = ref("lsm_c");
  check_close(
      "log_softmax hessian",
      ag::hessian([&](const Tensor& z) { return (z.log_softmax(0) * c).sum(); }, ref("lsm_z")),
      ref("lsm_hessian"));
  // softmax gives the same Hessian through log(softmax).
  check_close(
      "log(softmax) hessian",
      ag::hessian([&](const Tensor& z) { return (z.softmax(0).log() * c).sum(); }, ref("lsm_z")),
      ref("lsm_hessian"));
}
