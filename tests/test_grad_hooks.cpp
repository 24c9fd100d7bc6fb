// Grad-ready hooks: when they run (each leaf once its gradient is final, last layer first),
// what they see, removal, errors, and a throwing hook leaving the graph usable.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using ag::Tensor;

namespace {

struct Mlp {
  Tensor w1, b1, w2, b2;
  explicit Mlp(std::uint64_t seed) {
    ag::Generator gen(seed);
    w1 = ag::randn({3, 4}, gen, ag::float64).requires_grad_();
    b1 = ag::randn({4}, gen, ag::float64).requires_grad_();
    w2 = ag::randn({4, 2}, gen, ag::float64).requires_grad_();
    b2 = ag::randn({2}, gen, ag::float64).requires_grad_();
  }
  Tensor loss(const Tensor& x) const {
    return ag::linear(ag::tanh(ag::linear(x, w1, b1)), w2, b2).pow(2.0).sum();
  }
};

Tensor input() {
  ag::Generator gen(7);
  return ag::randn({5, 3}, gen, ag::float64);
}

}  // namespace

BOOST_AUTO_TEST_CASE(hooks_run_last_layer_first_with_final_gradients) {
  // The gradients a plain backward produces: what each hook must already see.
  Mlp reference(1);
  reference.loss(input()).backward();

  Mlp net(1);
  std::vector<std::string> order;
  std::vector<std::vector<double>> seen;
  auto watch = [&](Tensor& p, const char* name) {
    p.add_grad_ready_hook([&, name](const Tensor& leaf) {
      order.push_back(name);
      seen.push_back(leaf.grad().to_vector());
    });
  };
  watch(net.w1, "w1");
  watch(net.b1, "b1");
  watch(net.w2, "w2");
  watch(net.b2, "b2");
  net.loss(input()).backward();
  // The second layer's parameters are final before the first layer's backward has run.
  BOOST_TEST(order == (std::vector<std::string>{"b2", "w2", "b1", "w1"}));
  BOOST_REQUIRE(seen.size() == 4);
  BOOST_TEST(seen[0] == reference.b2.grad().to_vector());
  BOOST_TEST(seen[1] == reference.w2.grad().to_vector());
  BOOST_TEST(seen[2] == reference.b1.grad().to_vector());
  BOOST_TEST(seen[3] == reference.w1.grad().to_vector());
}

BOOST_AUTO_TEST_CASE(a_leaf_used_twice_fires_once_with_the_sum) {
  Tensor w = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
  int calls = 0;
  std::vector<double> grad;
  w.add_grad_ready_hook([&](const Tensor& leaf) {
    ++calls;
    grad = leaf.grad().to_vector();
  });
  ((w * w).sum() + (w * 3.0).sum()).backward();  // d/dw = 2w + 3
  BOOST_TEST(calls == 1);
  BOOST_TEST(grad == (std::vector<double>{5.0, 7.0}));
  (w * 2.0).sum().backward();  // accumulates: the hook sees the running total
  BOOST_TEST(calls == 2);
  BOOST_TEST(grad == (std::vector<double>{7.0, 9.0}));
}

// backward(create_graph=true) runs hooks too, last layer first, each with the gradient that
// has history (a hook may hand it on to be differentiated again); ag::grad, which leaves
// leaves' gradients alone, runs none.
BOOST_AUTO_TEST_CASE(hooks_run_in_a_create_graph_backward_with_the_gradient_that_has_history) {
  Tensor a = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
  Tensor b = ag::tensor({3.0}, ag::float64).requires_grad_();
  std::vector<std::string> order;
  std::vector<Tensor> seen;
  a.add_grad_ready_hook([&](const Tensor& leaf) {
    order.push_back("a");
    seen.push_back(leaf.grad());
    BOOST_TEST(!(leaf.grad() * 2.0).requires_grad());  // hooks run without recording
  });
  b.add_grad_ready_hook([&](const Tensor& leaf) {
    order.push_back("b");
    seen.push_back(leaf.grad());
  });
  Tensor y = ((a * a * a).sum() * b).sum();  // dy/da = 3a^2 b, dy/db = sum(a^3)
  y.backward(Tensor(), false, /*create_graph=*/true);
  BOOST_TEST(order == (std::vector<std::string>{"b", "a"}));
  BOOST_REQUIRE(seen.size() == 2);
  BOOST_TEST(seen[0].to_vector() == (std::vector<double>{9.0}));
  BOOST_TEST(seen[1].to_vector() == (std::vector<double>{9.0, 36.0}));
  BOOST_TEST(seen[1].requires_grad());
  // The gradient the hook saw is differentiable: d/da sum(3a^2 b) = 6ab.
  const Tensor h = ag::grad(seen[1].sum(), {a}, {}, /*retain_graph=*/true)[0];
  BOOST_TEST(h.to_vector() == (std::vector<double>{18.0, 36.0}));
  Tensor z = (a * b).sum();
  ag::grad(z, {a, b}, {}, false, /*create_graph=*/true);
  BOOST_TEST(order.size() == 2u);
  seen.clear();
  a.zero_grad();  // break the leaf <-> gradient reference cycles
  b.zero_grad();
}

BOOST_AUTO_TEST_CASE(hooks_run_in_order_added_and_can_be_removed) {
  Tensor w = ag::tensor({1.0}, ag::float64).requires_grad_();
  std::string log;
  const auto a = w.add_grad_ready_hook([&](const Tensor&) { log += "a"; });
  w.add_grad_ready_hook([&](const Tensor&) { log += "b"; });
  (w * 2.0).sum().backward();
  BOOST_TEST(log == "ab");
  w.remove_grad_ready_hook(a);
  w.remove_grad_ready_hook(12345);  // unknown: ignored
  (w * 2.0).sum().backward();
  BOOST_TEST(log == "abb");
}

BOOST_AUTO_TEST_CASE(hooks_run_without_recording) {
  Tensor w = ag::tensor({1.0}, ag::float64).requires_grad_();
  bool recorded = true;
  w.add_grad_ready_hook([&](const Tensor& leaf) { recorded = (leaf * 2.0).requires_grad(); });
  (w * 2.0).sum().backward();
  BOOST_TEST(!recorded);
}

BOOST_AUTO_TEST_CASE(only_leaves_that_require_grad_take_hooks) {
  Tensor w = ag::tensor({1.0}, ag::float64).requires_grad_();
  Tensor c = ag::tensor({1.0}, ag::float64);
  ag_test::expect_error([&] { (w * 2.0).add_grad_ready_hook([](const Tensor&) {}); },
                        {"add_grad_ready_hook", "[1]", "not a leaf"});
  ag_test::expect_error([&] { c.add_grad_ready_hook([](const Tensor&) {}); },
                        {"add_grad_ready_hook", "does not require grad"});
  ag_test::expect_error([&] { w.add_grad_ready_hook(nullptr); }, {"empty function"});
}

BOOST_AUTO_TEST_CASE(a_throwing_hook_stops_backward_and_leaves_the_graph_usable) {
  Mlp net(2);
  bool fail = true;
  net.w2.add_grad_ready_hook([&](const Tensor&) {
    if (fail) throw ag::Error("test", "hook failed");
  });
  Tensor loss = net.loss(input());
  ag_test::expect_error([&] { loss.backward(Tensor(), /*retain_graph=*/true); }, {"hook failed"});
  BOOST_TEST(!net.w1.grad().defined());  // backward stopped before the first layer
  fail = false;
  net.w2.zero_grad();
  net.b2.zero_grad();
  loss.backward();  // the walk's marks were cleared: a full pass works
  Mlp reference(2);
  reference.loss(input()).backward();
  BOOST_TEST(net.w1.grad().to_vector() == reference.w1.grad().to_vector());
}

BOOST_AUTO_TEST_CASE(a_dead_leaf_takes_its_hooks_with_it) {
  int calls = 0;
  {
    Tensor w = ag::tensor({1.0}, ag::float64).requires_grad_();
    w.add_grad_ready_hook([&](const Tensor&) { ++calls; });
  }
  // A new leaf may reuse the freed node: it must not inherit the hook.
  Tensor v = ag::tensor({1.0}, ag::float64).requires_grad_();
  (v * 2.0).sum().backward();
  BOOST_TEST(calls == 0);
}
