// Tests of autograd::nn: modules, losses, optimizers, initialisers, metrics and data helpers.
// Gradients are checked against finite differences (ag::gradcheck, float64); loss values and
// optimizer trajectories against PyTorch (tests/data/nn_refs.txt, made by
// tools/make_nn_refs.py) or against values computed by hand.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <nn/nn.hpp>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

namespace nn = ag::nn;
using ag::Tensor;

namespace {

// name -> values from nn_refs.txt ("name count v1 v2 ...").
const std::map<std::string, std::vector<double>>& refs() {
  static const std::map<std::string, std::vector<double>> table = [] {
    std::map<std::string, std::vector<double>> out;
    const std::string path = ag_test::data_file("nn_refs.txt").string();
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string name;
      std::size_t count = 0;
      fields >> name >> count;
      std::vector<double> values(count);
      for (double& v : values) fields >> v;
      if (!fields) throw std::runtime_error("bad line for " + name + " in " + path);
      out[name] = std::move(values);
    }
    return out;
  }();
  return table;
}

const std::vector<double>& ref_values(const std::string& name) {
  const auto it = refs().find(name);
  if (it == refs().end()) throw std::runtime_error("no reference named " + name);
  return it->second;
}

Tensor ref_tensor(const std::string& name, const ag::Shape& shape, bool grad = false) {
  Tensor t = ag::tensor(ref_values(name), shape, ag::float64);
  if (grad) t.requires_grad_();
  return t;
}

std::vector<std::int64_t> ref_labels(const std::string& name) {
  std::vector<std::int64_t> out;
  for (double v : ref_values(name)) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

void check_close(const std::vector<double>& actual, const std::vector<double>& expected,
                 double tol) {
  BOOST_TEST_REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    BOOST_TEST(
        std::abs(actual[i] - expected[i]) <= tol * (1.0 + std::abs(expected[i])),
        "element " << i << ": " << std::setprecision(17) << actual[i] << " vs " << expected[i]);
  }
}

void check_gradcheck(const ag::GradcheckResult& result) { BOOST_TEST(result.ok, result.summary()); }

// What an ag::Error raised by `f` says, or "" when it raised none.
template <class F>
std::string error_of(F&& f, const std::string& op) {
  try {
    f();
  } catch (const ag::Error& e) {
    BOOST_TEST(e.op() == op);
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A user module with named members, as a subclass would write it.
class TwoLayer : public nn::Module {
 public:
  explicit TwoLayer(ag::Generator& gen)
      : dense1(2, 4, nn::Init::HeNormal, gen, ag::float64),
        dense2(4, 1, nn::Init::XavierNormal, gen, ag::float64) {
    register_module("dense1", dense1);
    register_module("dense2", dense2);
  }
  Tensor forward(const Tensor& x) override { return dense2(ag::tanh(dense1(x))); }
  std::string describe() const override { return "TwoLayer"; }
  nn::Dense dense1, dense2;
};

}  // namespace

// ---------------------------------------------------------------- modules

BOOST_AUTO_TEST_SUITE(modules)

BOOST_AUTO_TEST_CASE(dense_forward_by_hand) {
  ag::Generator gen(1);
  nn::Dense dense(2, 3, nn::Init::Zeros, gen, ag::float64);
  dense.weight = ag::tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, ag::float64);
  dense.bias = ag::tensor({0.5, -0.5, 1.0}, ag::float64);
  const Tensor y = dense(ag::tensor(std::vector<double>{1, 2, -1, 0}, {2, 2}, ag::float64));
  BOOST_TEST(y.shape() == (ag::Shape{2, 3}));
  // [1, 2] @ W = [9, 12, 15]; [-1, 0] @ W = [-1, -2, -3]; plus bias.
  check_close(y.to_vector(), {9.5, 11.5, 16.0, -0.5, -2.5, -2.0}, 1e-15);
  // A 1-d input gives a 1-d output, like np.dot(inputs, weights) + biases.
  BOOST_TEST(dense(ag::tensor({1.0, 2.0}, ag::float64)).shape() == (ag::Shape{3}));
}

BOOST_AUTO_TEST_CASE(dense_rejects_wrong_width) {
  ag::Generator gen(1);
  nn::Dense dense(3, 2, nn::Init::Nnfs, gen);
  const std::string message = error_of([&] { dense(ag::zeros({4, 5})); }, "nn::Dense");
  BOOST_TEST(contains(message, "[4, 5]"), message);
  BOOST_TEST(contains(message, "3"), message);
  BOOST_TEST(!error_of(
                  [] {
                    ag::Generator g(1);
                    nn::Dense bad(0, 2, nn::Init::Nnfs, g);
                  },
                  "nn::Dense")
                  .empty());
}

BOOST_AUTO_TEST_CASE(sequential_names_and_counts) {
  ag::Generator gen(0);
  nn::Sequential net;
  net.emplace<nn::Dense>(2, 64, nn::Init::HeNormal, gen);
  net.emplace<nn::ReLU>();
  net.emplace<nn::Dense>(64, 3, nn::Init::XavierNormal, gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : net.named_parameters()) {
    names.push_back(name);
    BOOST_TEST(p.requires_grad());
    BOOST_TEST(p.is_leaf());
  }
  BOOST_TEST(names == (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(net.num_parameters() == 2 * 64 + 64 + 64 * 3 + 3);
  BOOST_TEST(net.size() == 3u);
  BOOST_TEST(net(ag::zeros({5, 2})).shape() == (ag::Shape{5, 3}));
  BOOST_TEST(
      !error_of([&] { net.add("0", std::make_shared<nn::ReLU>()); }, "nn::Sequential").empty());
}

namespace {
// A ReLU subclass that counts its calls: Sequential must not fuse it (it may override forward).
struct CountingReLU : nn::ReLU {
  int calls = 0;
  Tensor forward(const Tensor& x) override {
    ++calls;
    return nn::ReLU::forward(x);
  }
};

std::multiset<std::string> ops_of(const Tensor& root) {
  std::multiset<std::string> ops;
  for (const auto& node : ag::collect_graph({root})) ops.emplace(node.op);
  return ops;
}
}  // namespace

BOOST_AUTO_TEST_CASE(sequential_fuses_dense_then_relu) {
  for (ag::Dtype dtype : {ag::float64, ag::float32}) {
    BOOST_TEST_CONTEXT(ag::name(dtype)) {
      ag::Generator gen(7);
      nn::Sequential net;
      auto& d1 = net.emplace<nn::Dense>(3, 5, nn::Init::HeNormal, gen, dtype);
      net.emplace<nn::ReLU>();
      auto& d2 = net.emplace<nn::Dense>(5, 2, nn::Init::XavierNormal, gen, dtype);
      d1.bias = ag::tensor({0.1, -0.2, 0.3, -0.4, 0.5}, dtype).requires_grad_();  // some units off
      const Tensor x = ag::randn({8, 3}, gen, dtype);
      const Tensor out = net(x);
      const auto ops = ops_of(out);
      BOOST_TEST(ops.count("linear_relu") == 1u);
      BOOST_TEST(ops.count("relu") == 0u);
      out.sum().backward();
      std::vector<std::vector<double>> fused_grads;
      for (const auto& p : net.parameters()) fused_grads.push_back(p.grad().to_vector());
      net.zero_grad();
      // The same network as separate ops.
      const Tensor composed =
          ag::linear(ag::relu(ag::linear(x, d1.weight, d1.bias)), d2.weight, d2.bias);
      composed.sum().backward();
      BOOST_TEST(out.to_vector() == composed.to_vector(), boost::test_tools::per_element());
      const auto params = net.parameters();
      for (std::size_t i = 0; i < params.size(); ++i) {
        BOOST_TEST(fused_grads[i] == params[i].grad().to_vector(),
                   boost::test_tools::per_element());
      }
    }
  }
  // Not fused: a ReLU subclass, and a ReLU that does not follow a Dense.
  ag::Generator gen(8);
  nn::Sequential net;
  net.emplace<nn::Dense>(2, 3, nn::Init::HeNormal, gen);
  auto& counting = net.emplace<CountingReLU>();
  net.emplace<nn::ReLU>();
  const Tensor out = net(ag::ones({4, 2}));
  BOOST_TEST(counting.calls == 1);
  const auto ops = ops_of(out);
  BOOST_TEST(ops.count("linear") == 1u);
  BOOST_TEST(ops.count("relu") == 2u);
}

BOOST_AUTO_TEST_CASE(user_module_dotted_names_train_eval_zero_grad) {
  ag::Generator gen(0);
  TwoLayer model(gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) names.push_back(name);
  BOOST_TEST(names == (std::vector<std::string>{"dense1.weight", "dense1.bias", "dense2.weight",
                                                "dense2.bias"}),
             boost::test_tools::per_element());
  // Nested: a Sequential holding the user module.
  nn::Sequential outer;
  outer.add("body", std::make_shared<TwoLayer>(gen));
  BOOST_TEST(outer.named_parameters()[2].first == "body.dense2.weight");

  BOOST_TEST(model.is_training());
  model.eval();
  BOOST_TEST(!model.is_training());
  BOOST_TEST(!model.dense1.is_training());
  model.train();
  BOOST_TEST(model.dense2.is_training());

  ag::sum(model(ag::ones({3, 2}, ag::float64))).backward();
  for (const auto& [name, p] : model.named_parameters()) BOOST_TEST(p.grad().defined(), name);
  model.zero_grad();
  for (const auto& [name, p] : model.named_parameters()) {
    const Tensor g = p.grad();
    BOOST_TEST((!g.defined() || ag::sum(ag::abs(g)).item() == 0.0), name);
  }
}

BOOST_AUTO_TEST_CASE(reassigned_member_is_the_parameter) {
  ag::Generator gen(0);
  nn::Dense dense(2, 2, nn::Init::Nnfs, gen, ag::float64);
  const Tensor replacement = ag::ones({2, 2}, ag::float64).requires_grad_();
  dense.weight = replacement;
  BOOST_TEST(dense.named_parameters()[0].second.node() == replacement.node());
}

BOOST_AUTO_TEST_CASE(activations_by_name_and_values) {
  const Tensor x = ag::tensor({-2.0, 0.0, 1.5}, ag::float64);
  check_close(nn::make_activation("relu")->forward(x).to_vector(), {0.0, 0.0, 1.5}, 0);
  check_close(nn::make_activation("linear")->forward(x).to_vector(), {-2.0, 0.0, 1.5}, 0);
  check_close(nn::make_activation("sigmoid")->forward(x).to_vector(),
              {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-1.5))}, 1e-15);
  check_close(nn::make_activation("tanh")->forward(x).to_vector(),
              {std::tanh(-2.0), 0.0, std::tanh(1.5)}, 1e-15);
  // Seed 001's softmax of [4.8, 1.21, 2.385] (NumPy's, with np.exp; the seed's 17-digit
  // values used E = 2.71828182846 and differ from 1e-12 on).
  check_close(nn::Softmax(0)(ag::tensor({4.8, 1.21, 2.385}, ag::float64)).to_vector(),
              {0.8952826639572619, 0.02470830678209937, 0.0800090292606387}, 1e-15);
  const std::string message = error_of([] { nn::make_activation("swish"); }, "nn::make_activation");
  BOOST_TEST(contains(message, "swish"), message);
}

BOOST_AUTO_TEST_CASE(module_gradients_match_finite_differences) {
  ag::Generator gen(7);
  const Tensor x = ag::randn({4, 3}, gen, ag::float64);
  nn::Dense dense(3, 2, nn::Init::XavierUniform, gen, ag::float64);
  check_gradcheck(ag::gradcheck(
      [&](const std::vector<Tensor>& in) {
        dense.weight = in[1];
        dense.bias = in[2];
        return dense(in[0]);
      },
      {x, ag::randn({3, 2}, gen, ag::float64), ag::randn({2}, gen, ag::float64)}));

  // Inputs kept away from ReLU's kink at 0.
  const Tensor away =
      ag::tensor(std::vector<double>{-1.3, 0.7, 2.1, -0.4, 0.9, -2.2}, {2, 3}, ag::float64);
  for (const char* name : {"relu", "sigmoid", "tanh", "linear"}) {
    auto module = nn::make_activation(name);
    BOOST_TEST_CONTEXT(name) {
      check_gradcheck(ag::gradcheck(
          [&](const std::vector<Tensor>& in) { return module->forward(in[0]); }, {away}));
    }
  }
  for (std::int64_t dim : {0, 1, -1}) {
    nn::Softmax softmax(dim);
    BOOST_TEST_CONTEXT("softmax dim " << dim) {
      check_gradcheck(
          ag::gradcheck([&](const std::vector<Tensor>& in) { return softmax(in[0]); }, {away}));
    }
  }

  // A whole Sequential with respect to its input.
  nn::Sequential net;
  net.emplace<nn::Dense>(3, 5, nn::Init::HeNormal, gen, ag::float64);
  net.emplace<nn::Tanh>();
  net.emplace<nn::Dense>(5, 2, nn::Init::XavierNormal, gen, ag::float64);
  net.emplace<nn::Softmax>(1);
  check_gradcheck(ag::gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, {x}));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- losses

BOOST_AUTO_TEST_SUITE(losses)

BOOST_AUTO_TEST_CASE(values_and_gradients_match_pytorch) {
  {
    Tensor pred = ref_tensor("mse.pred", {3, 2}, true);
    const Tensor loss = nn::mse_loss(pred, ref_tensor("mse.target", {3, 2}));
    loss.backward();
    check_close({loss.item()}, ref_values("mse.loss"), 1e-14);
    check_close(pred.grad().to_vector(), ref_values("mse.grad"), 1e-14);
  }
  {
    Tensor logits = ref_tensor("ce.logits", {4, 3}, true);
    const Tensor loss = nn::cross_entropy(logits, ref_labels("ce.labels"));
    loss.backward();
    check_close({loss.item()}, ref_values("ce.loss"), 1e-14);
    check_close(logits.grad().to_vector(), ref_values("ce.grad"), 1e-13);
  }
  {
    Tensor probs = ref_tensor("bce.probs", {6}, true);
    const Tensor loss = nn::binary_cross_entropy(probs, ref_tensor("bce.targets", {6}));
    loss.backward();
    check_close({loss.item()}, ref_values("bce.loss"), 1e-14);
    check_close(probs.grad().to_vector(), ref_values("bce.grad"), 1e-12);
  }
  {
    // Logits 0, +-40 and +-700: finite values, exact gradients (sigmoid(x) - t) / n.
    Tensor logits = ref_tensor("bcel.logits", {8}, true);
    const Tensor loss =
        nn::binary_cross_entropy_with_logits(logits, ref_tensor("bcel.targets", {8}));
    loss.backward();
    check_close({loss.item()}, ref_values("bcel.loss"), 1e-14);
    check_close(logits.grad().to_vector(), ref_values("bcel.grad"), 1e-14);
  }
}

BOOST_AUTO_TEST_CASE(values_by_hand) {
  // Uniform logits: every class has probability 1/3, loss log(3).
  BOOST_TEST(
      nn::cross_entropy(ag::zeros({2, 3}, ag::float64), std::vector<std::int64_t>{0, 2}).item() ==
          std::log(3.0),
      boost::test_tools::tolerance(1e-15));
  // p = 0.5: loss log 2 whatever the target.
  BOOST_TEST(nn::binary_cross_entropy(ag::full({4}, 0.5, ag::float64),
                                      ag::tensor({0.0, 1.0, 1.0, 0.0}, ag::float64))
                     .item() == std::log(2.0),
             boost::test_tools::tolerance(1e-15));
  // Clamping: p = 0 with target 1 costs -log(1e-7), not infinity; p = 1, target 1 costs ~0.
  BOOST_TEST(nn::binary_cross_entropy(ag::tensor({0.0, 1.0}, ag::float64),
                                      ag::tensor({1.0, 1.0}, ag::float64))
                     .item() == (-std::log(1e-7) - std::log(1 - 1e-7)) / 2,
             boost::test_tools::tolerance(1e-12));
  // MSE: ((1-0)^2 + (2-4)^2) / 2.
  BOOST_TEST(nn::mse_loss(ag::tensor({1.0, 2.0}, ag::float64), ag::tensor({0.0, 4.0}, ag::float64))
                 .item() == 2.5);
  // Logit loss at x = 0 is log 2 for any target.
  BOOST_TEST(nn::binary_cross_entropy_with_logits(ag::zeros({3}, ag::float64),
                                                  ag::tensor({0.0, 1.0, 0.3}, ag::float64))
                     .item() == std::log(2.0),
             boost::test_tools::tolerance(1e-15));
  // Large logits on float32 stay finite.
  const double big =
      nn::binary_cross_entropy_with_logits(ag::tensor({-200.0, 200.0}), ag::tensor({1.0, 0.0}))
          .item();
  BOOST_TEST(big == 200.0, boost::test_tools::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(loss_gradients_match_finite_differences) {
  ag::Generator gen(11);
  const Tensor target = ag::randn({3, 4}, gen, ag::float64);
  check_gradcheck(
      ag::gradcheck([&](const std::vector<Tensor>& in) { return nn::mse_loss(in[0], target); },
                    {ag::randn({3, 4}, gen, ag::float64)}));
  const std::vector<std::int64_t> labels{3, 0, 1};
  check_gradcheck(
      ag::gradcheck([&](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], labels); },
                    {ag::randn({3, 4}, gen, ag::float64) * 3.0}));
  const Tensor t = ag::tensor({1.0, 0.0, 1.0, 0.25}, ag::float64);
  check_gradcheck(ag::gradcheck(
      [&](const std::vector<Tensor>& in) { return nn::binary_cross_entropy(in[0], t); },
      {ag::tensor({0.2, 0.6, 0.9, 0.45}, ag::float64)}));
  check_gradcheck(ag::gradcheck(
      [&](const std::vector<Tensor>& in) { return nn::binary_cross_entropy_with_logits(in[0], t); },
      {ag::tensor({0.0, -3.0, 2.5, 0.7}, ag::float64)}));
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_named) {
  const Tensor logits = ag::zeros({2, 3});
  std::string m = error_of(
      [&] {
        nn::cross_entropy(logits, std::vector<std::int64_t>{0, 3});
      },
      "nn::cross_entropy");
  BOOST_TEST(contains(m, "label 3"), m);
  // ag::cross_entropy's check, renamed: one prefix, this entry point's.
  BOOST_TEST(m.rfind("ag::nn::cross_entropy: label 3", 0) == 0u, m);
  BOOST_TEST(!contains(m, "ag::cross_entropy"), m);
  m = error_of([&] { nn::cross_entropy(logits, std::vector<std::int64_t>{0}); },
               "nn::cross_entropy");
  BOOST_TEST(contains(m, "1 labels"), m);
  m = error_of([] { nn::mse_loss(ag::zeros({4, 1}), ag::zeros({4})); }, "nn::mse_loss");
  BOOST_TEST((contains(m, "[4, 1]") && contains(m, "[4]")), m);
  m = error_of([] { nn::binary_cross_entropy(ag::zeros({2}), ag::zeros({3})); },
               "nn::binary_cross_entropy");
  BOOST_TEST(contains(m, "[3]"), m);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- optimizers

BOOST_AUTO_TEST_SUITE(optimizers)

namespace {

// Five steps on PyTorch's least-squares problem; returns (w, b) afterwards.
template <class MakeOptimizer>
std::pair<std::vector<double>, std::vector<double>> run_steps(MakeOptimizer make,
                                                              ag::Dtype dtype = ag::float64) {
  const Tensor a = ref_tensor("opt.A", {4, 3}).to(dtype);
  const Tensor y = ref_tensor("opt.Y", {4, 2}).to(dtype);
  Tensor w = ag::tensor(ref_values("opt.w0"), {3, 2}, dtype).requires_grad_();
  Tensor b = ag::tensor(ref_values("opt.b0"), {2}, dtype).requires_grad_();
  auto optimizer = make(std::vector<Tensor>{w, b});
  const ag::detail::Node* w_node = w.node();
  for (int step = 0; step < 5; ++step) {
    optimizer->zero_grad();
    const Tensor diff = ag::matmul(a, w) + b - y;
    ag::mean(diff * diff).backward();
    optimizer->step();
  }
  BOOST_TEST(optimizer->steps() == 5);
  // Updated in place: the same leaf node, still tracking gradients, no history attached.
  BOOST_TEST(w.node() == w_node);
  BOOST_TEST(w.is_leaf());
  BOOST_TEST(w.requires_grad());
  BOOST_TEST(ag::graph_size(std::vector<ag::GraphRoot>{w}) == 1u);
  return {w.to_vector(), b.to_vector()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(trajectories_match_pytorch) {
  using Ptr = std::unique_ptr<nn::Optimizer>;
  const std::map<std::string, std::function<Ptr(std::vector<Tensor>)>> cases{
      {"sgd", [](auto p) -> Ptr { return std::make_unique<nn::SGD>(p, 0.1); }},
      {"sgd_momentum", [](auto p) -> Ptr { return std::make_unique<nn::SGD>(p, 0.1, 0.9, 0.01); }},
      {"adam", [](auto p) -> Ptr { return std::make_unique<nn::Adam>(p, 0.05); }},
      {"adam_decay",
       [](auto p) -> Ptr { return std::make_unique<nn::Adam>(p, 0.05, 0.8, 0.99, 1e-7, 0.5); }},
  };
  for (const auto& [name, make] : cases) {
    BOOST_TEST_CONTEXT(name) {
      const auto [w, b] = run_steps(make);
      check_close(w, ref_values(name + ".w"), 1e-12);
      check_close(b, ref_values(name + ".b"), 1e-12);
      // float32 follows the same path within float32 rounding.
      const auto [w32, b32] = run_steps(make, ag::float32);
      check_close(w32, ref_values(name + ".w"), 2e-5);
      check_close(b32, ref_values(name + ".b"), 2e-5);
    }
  }
}

BOOST_AUTO_TEST_CASE(sgd_step_by_hand_and_skips_missing_grads) {
  Tensor p = ag::tensor({1.0, -2.0}, ag::float64).requires_grad_();
  Tensor unused = ag::tensor({5.0}, ag::float64).requires_grad_();
  nn::SGD sgd(std::vector<Tensor>{p, unused}, 0.5);
  ag::sum(p * p).backward();  // grad 2p = [2, -4]
  sgd.step();
  check_close(p.to_vector(), {0.0, 0.0}, 0);
  check_close(unused.to_vector(), {5.0}, 0);  // no grad: untouched
  sgd.zero_grad();
  const Tensor g = p.grad();
  BOOST_TEST((!g.defined() || ag::sum(ag::abs(g)).item() == 0.0));
}

BOOST_AUTO_TEST_CASE(adam_state_and_decay) {
  ag::Generator gen(0);
  nn::Dense dense(2, 1, nn::Init::Nnfs, gen, ag::float64);
  nn::Adam adam(dense.named_parameters(), 0.1, 0.9, 0.999, 1e-7, 0.5);
  BOOST_TEST(adam.current_lr() == 0.1);
  ag::sum(dense(ag::ones({1, 2}, ag::float64))).backward();
  adam.step();
  adam.step();
  BOOST_TEST(adam.current_lr() == 0.1 / (1 + 0.5 * 2), boost::test_tools::tolerance(1e-15));
  std::set<std::string> names;
  for (const auto& [name, t] : adam.named_state()) names.insert(name);
  // Named by index, whether the optimizer got named_parameters() or parameters().
  BOOST_TEST((names == std::set<std::string>{"0.exp_avg", "0.exp_avg_sq", "1.exp_avg",
                                             "1.exp_avg_sq", "step"}));
  nn::Adam unnamed(dense.parameters());
  std::set<std::string> unnamed_names;
  for (const auto& [name, t] : unnamed.named_state()) unnamed_names.insert(name);
  BOOST_TEST((unnamed_names == names));
  for (const auto& [name, t] : adam.named_state()) {
    if (name == "step") BOOST_TEST(t.item() == 2.0);
    // Constant gradient 1 for the bias: m = 1 - 0.9^2 after two steps.
    if (name == "1.exp_avg") check_close(t.to_vector(), {1 - 0.81}, 1e-15);
  }
}

namespace {
// The Adam rule of nn/optim.hpp written out plainly, in T, for one element: the reference the
// optimizer must follow step for step.
template <class T>
struct ReferenceAdam {
  double lr, b1, b2, eps;
  T m = 0, v = 0;
  int t = 0;
  T step(T p, T g) {
    ++t;
    m = static_cast<T>(b1) * m + static_cast<T>(1.0 - b1) * g;
    v = static_cast<T>(b2) * v + static_cast<T>(1.0 - b2) * g * g;
    const T step_size = static_cast<T>(lr / (1.0 - std::pow(b1, t)));
    const T inv_c2 = static_cast<T>(1.0 / (1.0 - std::pow(b2, t)));
    return p - step_size * m / (std::sqrt(v * inv_c2) + static_cast<T>(eps));
  }
};

template <class T>
void check_adam_against_reference(ag::Dtype dtype) {
  // Parameter 0 gets gradient g0 * k every step; parameter 1 gets a gradient once, then 0
  // (a dead unit): its first moment decays by 0.9 per step into the subnormal range.
  Tensor live = ag::tensor({0.5, -1.25}, dtype).requires_grad_();
  Tensor dead = ag::tensor({2.0}, dtype).requires_grad_();
  nn::Adam adam(std::vector<Tensor>{live, dead}, 0.05, 0.9, 0.999, 1e-7);
  std::vector<ReferenceAdam<T>> ref(3, ReferenceAdam<T>{0.05, 0.9, 0.999, 1e-7});
  std::vector<T> expected = {T(0.5), T(-1.25), T(2.0)};
  bool saw_tiny_reference = false;
  const int steps = std::is_same_v<T, float> ? 1000 : 7000;
  for (int k = 1; k <= steps; ++k) {
    adam.zero_grad();
    const double gdead = k == 1 ? 0.75 : 0.0;
    Tensor loss = (live * ag::tensor({0.3 * k, -0.01}, dtype)).sum() + dead.sum() * gdead;
    loss.backward();  // after the first step `dead` gets a gradient of exact zeros
    adam.step();
    expected[0] = ref[0].step(expected[0], static_cast<T>(0.3 * k));
    expected[1] = ref[1].step(expected[1], static_cast<T>(-0.01));
    expected[2] = ref[2].step(expected[2], static_cast<T>(gdead));
    saw_tiny_reference |= ref[2].m != 0 && std::abs(ref[2].m) < std::numeric_limits<T>::min();
  }
  BOOST_TEST(saw_tiny_reference);  // the reference's moment went subnormal
  const auto got_live = live.to_vector();
  BOOST_TEST(got_live[0] == static_cast<double>(expected[0]));
  BOOST_TEST(got_live[1] == static_cast<double>(expected[1]));
  // The dead parameter: equal to the reference (the flushed subnormal moment moved it by
  // less than one ulp), and its stored moments are never subnormal.
  BOOST_TEST(dead.to_vector()[0] == static_cast<double>(expected[2]));
  for (const auto& [name, state] : adam.named_state()) {
    for (double x : state.to_vector()) {
      BOOST_TEST((x == 0.0 || std::abs(x) >= std::numeric_limits<T>::min()), name);
    }
  }
}
}  // namespace

namespace {
template <class T>
void check_sgd_momentum_against_reference(ag::Dtype dtype) {
  // torch.optim.SGD's rule: buf = momentum buf + g; p -= lr buf. Parameter `dead` gets a
  // gradient once, then 0: its buffer decays by 0.9 per step into the subnormal range.
  Tensor live = ag::tensor({0.5, -1.25}, dtype).requires_grad_();
  Tensor dead = ag::tensor({2.0}, dtype).requires_grad_();
  nn::SGD sgd(std::vector<Tensor>{live, dead}, 0.05, 0.9);
  std::vector<T> p = {T(0.5), T(-1.25), T(2.0)}, buf(3, T(0));
  const T lr = static_cast<T>(0.05), momentum = static_cast<T>(0.9);
  bool saw_tiny_reference = false;
  const int steps = std::is_same_v<T, float> ? 1000 : 7000;
  for (int k = 1; k <= steps; ++k) {
    sgd.zero_grad();
    const double gdead = k == 1 ? 0.75 : 0.0;
    Tensor loss = (live * ag::tensor({0.3, -0.01}, dtype)).sum() + dead.sum() * gdead;
    loss.backward();
    sgd.step();
    const T g[3] = {static_cast<T>(0.3), static_cast<T>(-0.01), static_cast<T>(gdead)};
    for (int j = 0; j < 3; ++j) {
      buf[j] = momentum * buf[j] + g[j];
      p[j] -= lr * buf[j];
    }
    saw_tiny_reference |= buf[2] != 0 && std::abs(buf[2]) < std::numeric_limits<T>::min();
  }
  BOOST_TEST(saw_tiny_reference);  // the reference's buffer went subnormal
  BOOST_TEST(live.to_vector()[0] == static_cast<double>(p[0]));
  BOOST_TEST(live.to_vector()[1] == static_cast<double>(p[1]));
  // The dead parameter equals the reference (the flushed buffer moved it by less than one
  // ulp), and no stored buffer is subnormal.
  BOOST_TEST(dead.to_vector()[0] == static_cast<double>(p[2]));
  for (const auto& [name, state] : sgd.named_state()) {
    for (double x : state.to_vector()) {
      BOOST_TEST((x == 0.0 || std::abs(x) >= std::numeric_limits<T>::min()), name);
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_momentum_follows_the_plain_rule_and_never_goes_subnormal) {
  check_sgd_momentum_against_reference<double>(ag::float64);
  check_sgd_momentum_against_reference<float>(ag::float32);
}

BOOST_AUTO_TEST_CASE(adam_follows_the_plain_rule_step_for_step) {
  check_adam_against_reference<double>(ag::float64);
  check_adam_against_reference<float>(ag::float32);
}

BOOST_AUTO_TEST_CASE(rejects_bad_settings) {
  Tensor p = ag::zeros({2}).requires_grad_();
  BOOST_TEST(!error_of([&] { nn::Adam(std::vector<Tensor>{p}, 0.1, 1.0); }, "nn::Adam").empty());
  BOOST_TEST(!error_of([&] { nn::SGD(std::vector<Tensor>{p}, -1.0); }, "nn::SGD").empty());
  const Tensor not_leaf = p * 2.0;
  const std::string m = error_of([&] { nn::SGD(std::vector<Tensor>{not_leaf}, 0.1); }, "nn::SGD");
  BOOST_TEST(contains(m, "leaf"), m);
}

BOOST_AUTO_TEST_CASE(training_reaches_stated_loss) {
  // Spiral data, Dense(2,64)-ReLU-Dense(64,3), cross-entropy, Adam: from loss log(3) ~ 1.1
  // to below 0.3 in 500 full-batch steps (seed 0; measured 0.206).
  ag::Generator gen(0);
  const nn::Dataset data = nn::spiral_data(100, 3, gen);
  nn::Sequential net;
  net.emplace<nn::Dense>(2, 64, nn::Init::HeNormal, gen);
  net.emplace<nn::ReLU>();
  net.emplace<nn::Dense>(64, 3, nn::Init::XavierNormal, gen);
  nn::Adam adam(net.named_parameters(), 0.05, 0.9, 0.999, 1e-7, 5e-7);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 500; ++step) {
    const Tensor loss = nn::cross_entropy(net(data.X), data.y);
    if (step == 0) first = loss.item();
    last = loss.item();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  BOOST_TEST_MESSAGE("spiral training loss " << first << " -> " << last);
  BOOST_TEST(first > 1.0);
  BOOST_TEST(last < 0.3);
  BOOST_TEST(nn::accuracy(net(data.X), data.y) > 0.8);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- init, metrics, data

BOOST_AUTO_TEST_SUITE(init_metrics_data)

BOOST_AUTO_TEST_CASE(initialisers_have_their_spread) {
  auto stats = [](const Tensor& t) {
    const std::vector<double> v = t.to_vector();
    double mean = 0, sq = 0, max_abs = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    for (double x : v) {
      sq += (x - mean) * (x - mean);
      max_abs = std::max(max_abs, std::abs(x));
    }
    return std::array<double, 3>{mean, std::sqrt(sq / static_cast<double>(v.size())), max_abs};
  };
  ag::Generator gen(5);
  const std::int64_t in = 200, out = 300;  // 60000 draws: std within ~1%
  auto [m1, s1, a1] = stats(nn::init_weight(nn::Init::XavierNormal, in, out, gen));
  BOOST_TEST(s1 == std::sqrt(2.0 / 500), boost::test_tools::tolerance(0.02));
  BOOST_TEST(std::abs(m1) < 0.01 * s1 * 3);
  auto [m2, s2, a2] = stats(nn::init_weight(nn::Init::XavierUniform, in, out, gen));
  BOOST_TEST(a2 <= std::sqrt(6.0 / 500));
  BOOST_TEST(s2 == std::sqrt(6.0 / 500) / std::sqrt(3.0), boost::test_tools::tolerance(0.02));
  auto [m3, s3, a3] = stats(nn::init_weight(nn::Init::HeNormal, in, out, gen));
  BOOST_TEST(s3 == std::sqrt(2.0 / 200), boost::test_tools::tolerance(0.02));
  auto [m4, s4, a4] = stats(nn::init_weight(nn::Init::Nnfs, in, out, gen));
  BOOST_TEST(s4 == 0.01, boost::test_tools::tolerance(0.02));
  auto [m5, s5, a5] = stats(nn::init_weight(nn::Init::Normal, in, out, gen));
  BOOST_TEST(s5 == 0.05, boost::test_tools::tolerance(0.02));
  BOOST_TEST(stats(nn::init_weight(nn::Init::Zeros, 3, 4, gen))[2] == 0.0);
  // Same seed, same weights.
  ag::Generator g1(9), g2(9);
  BOOST_TEST(nn::Dense(3, 4, nn::Init::HeNormal, g1).weight.to_vector() ==
                 nn::Dense(3, 4, nn::Init::HeNormal, g2).weight.to_vector(),
             boost::test_tools::per_element());
  (void)m2;
  (void)m3;
  (void)m4;
  (void)m5;
  (void)a1;
  (void)a3;
  (void)a4;
  (void)a5;
}

BOOST_AUTO_TEST_CASE(accuracy_by_hand) {
  const Tensor scores = ag::tensor(std::vector<double>{0.1, 0.7, 0.2, 3, 1, 2, 0, 0, 5, 1, 2, 3},
                                   {4, 3}, ag::float64);
  BOOST_TEST(nn::accuracy(scores, std::vector<std::int64_t>{1, 0, 2, 0}) == 0.75);
  const Tensor probs = ag::tensor(std::vector<double>{0.9, 0.4, 0.51, 0.2}, {4, 1});
  BOOST_TEST(nn::accuracy(probs, std::vector<std::int64_t>{1, 0, 0, 0}) == 0.75);
  const std::string m =
      error_of([&] { nn::accuracy(probs, std::vector<std::int64_t>{1}); }, "nn::accuracy");
  BOOST_TEST(contains(m, "[4, 1]"), m);
}

BOOST_AUTO_TEST_CASE(numpy_random_matches_numpy) {
  nn::NumpyRandom rng(0);
  // np.random.seed(0); np.random.randn(5)
  check_close(rng.randn(5),
              {1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458,
               1.8675579901499675},
              1e-15);
  nn::NumpyRandom rng2(0);
  BOOST_TEST(rng2.random_sample() == 0.5488135039273248);
}

BOOST_AUTO_TEST_CASE(spiral_data_matches_nnfs) {
  // NNFS's spiral_data(100, 3) after np.random.seed(0), values from NumPy.
  nn::NumpyRandom rng(0);
  const nn::Dataset data = nn::spiral_data(100, 3, rng, 0.2, ag::float64);
  BOOST_TEST(data.X.shape() == (ag::Shape{300, 2}));
  BOOST_TEST(data.y.size() == 300u);
  BOOST_TEST(data.y[0] == 0);
  BOOST_TEST(data.y[150] == 1);
  BOOST_TEST(data.y[299] == 2);
  const std::vector<double> x = data.X.to_vector();
  check_close({x[0], x[1]}, {0.0, 0.0}, 0);
  check_close({x[2], x[3]}, {0.0029955566779434326, 0.009646607966012542}, 1e-15);
  check_close({x[300], x[301]}, {0.3220980813838847, -0.38901007521732733}, 1e-15);
  check_close({x[598], x[599]}, {-0.9427887647158079, 0.33339067942226763}, 1e-15);
  // The ag::Generator overload: same layout, every arm ends on the unit circle.
  ag::Generator gen(1);
  const nn::Dataset d2 = nn::spiral_data(50, 4, gen);
  const std::vector<double> v = d2.X.to_vector();
  for (int arm = 0; arm < 4; ++arm) {
    const std::size_t last = static_cast<std::size_t>(arm * 50 + 49);
    BOOST_TEST(std::hypot(v[2 * last], v[2 * last + 1]) == 1.0, boost::test_tools::tolerance(1e-6));
  }
}

BOOST_AUTO_TEST_CASE(parabolas_and_minibatches) {
  const nn::Dataset data = nn::parabolas(5, ag::float64);
  BOOST_TEST(data.X.shape() == (ag::Shape{10, 2}));
  const std::vector<double> x = data.X.to_vector();
  check_close({x[0], x[1], x[4], x[5], x[10], x[11]}, {-1, 1, 0, 0, -1, 0.5}, 1e-15);
  BOOST_TEST(data.y[4] == 0);
  BOOST_TEST(data.y[5] == 1);

  ag::Generator gen(3);
  const auto batches = nn::shuffled_batches(10, 4, gen);
  BOOST_TEST(batches.size() == 3u);
  BOOST_TEST(batches[2].size() == 2u);
  std::set<std::int64_t> seen;
  for (const auto& b : batches) seen.insert(b.begin(), b.end());
  BOOST_TEST(seen.size() == 10u);
  BOOST_TEST(*seen.rbegin() == 9);
  ag::Generator same(3);
  BOOST_TEST(nn::shuffled_batches(10, 4, same) == batches);
  const std::vector<std::int64_t> rows{2, 0};
  check_close(nn::take_rows(data.X, rows).to_vector(), {0, 0, -1, 1}, 0);
  BOOST_TEST(nn::take(data.y, std::vector<std::int64_t>{9, 0}) == (std::vector<std::int64_t>{1, 0}),
             boost::test_tools::per_element());
  const std::string m =
      error_of([&] { nn::take_rows(data.X, std::vector<std::int64_t>{10}); }, "nn::take_rows");
  BOOST_TEST(contains(m, "[10, 2]"), m);
}

BOOST_AUTO_TEST_SUITE_END()
