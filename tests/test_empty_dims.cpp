// Size-0 dims through every kernel, forward and backward, as PyTorch treats them: reductions
// that have an identity give it (sum of nothing is 0), those without one (max, argmax) refuse,
// products over an empty inner dim are zeros, and gradients keep their inputs' empty shapes.
// Two deliberate differences from PyTorch: mean and cross_entropy of nothing are ag::Errors
// (PyTorch returns NaN; this library never returns a silent NaN).
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/nn.hpp"
#include "test_support.hpp"

namespace {

using ag::Shape;
using ag_test::expect_error;

ag::Tensor leaf(const Shape& shape, double value = 1.0) {
  return ag::full(shape, value, ag::float64).requires_grad_();
}

// The gradient of a leaf after backward: defined, with the leaf's shape.
std::vector<double> grad_of(const ag::Tensor& t) {
  BOOST_REQUIRE(t.grad().defined());
  BOOST_TEST(t.grad().shape() == t.shape());
  return t.grad().to_vector();
}

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_over_a_size_0_dim_is_empty_both_ways) {
  // Inner size 100: the kernel used to read a slice's first element even when it had none,
  // 100 floats past a 64-byte block (caught by ASan).
  for (const bool log_form : {false, true}) {
    const ag::Tensor x = leaf({1, 0, 100});
    const ag::Tensor y = log_form ? ag::log_softmax(x, 1) : ag::softmax(x, 1);
    BOOST_TEST(y.shape() == Shape({1, 0, 100}));
    y.sum().backward();
    BOOST_TEST(grad_of(x).empty());
  }
  const ag::Tensor rows = leaf({0, 3});
  BOOST_TEST(ag::softmax(rows, 1).shape() == Shape({0, 3}));
}

BOOST_AUTO_TEST_CASE(reductions_with_an_identity_give_it_others_refuse) {
  const ag::Tensor x = leaf({0, 3});
  const ag::Tensor total = x.sum();
  BOOST_TEST(total.item() == 0.0);
  total.backward();
  BOOST_TEST(grad_of(x).empty());
  BOOST_TEST(x.sum(0).to_vector() == std::vector<double>({0, 0, 0}));
  BOOST_TEST(x.sum(1).shape() == Shape({0}));
  BOOST_TEST(x.max(1).shape() == Shape({0}));  // reduces 0 slices of 3: fine
  BOOST_TEST(ag::argmax(x, 1).empty());
  expect_error([&] { x.max(); }, {"ag::max", "empty", "[0, 3]"});
  expect_error([&] { x.max(0); }, {"ag::max", "empty", "[0, 3]"});
  expect_error([&] { ag::argmax(ag::zeros({2, 0}), 1); }, {"ag::argmax", "[2, 0]"});
  expect_error([&] { x.mean(); }, {"ag::mean", "[0, 3]"});
  expect_error([&] { x.mean(0); }, {"ag::mean", "[0, 3]"});
  BOOST_TEST(x.mean(1).shape() == Shape({0}));
}

BOOST_AUTO_TEST_CASE(products_over_an_empty_inner_dim_are_zeros) {
  const ag::Tensor a = leaf({2, 0});
  const ag::Tensor b = leaf({0, 3});
  const ag::Tensor c = ag::matmul(a, b);
  BOOST_TEST(c.to_vector() == std::vector<double>(6, 0.0));
  c.sum().backward();
  BOOST_TEST(grad_of(a).empty());
  BOOST_TEST(grad_of(b).empty());
  // No rows: the weight's gradient sums over nothing.
  const ag::Tensor none = leaf({0, 4});
  const ag::Tensor w = leaf({4, 3});
  ag::matmul(none, w).sum().backward();
  BOOST_TEST(grad_of(w) == std::vector<double>(12, 0.0));
  const ag::Tensor v = leaf({0});
  BOOST_TEST(ag::matmul(v, v).item() == 0.0);
}

BOOST_AUTO_TEST_CASE(linear_with_no_in_features_is_its_bias) {
  // Used to fail in backward: the row count was taken as numel / in_features.
  const ag::Tensor x = leaf({4, 0});
  const ag::Tensor w = leaf({0, 3});
  const ag::Tensor b = ag::tensor({1.0, 2.0, 3.0}, ag::float64).requires_grad_();
  const ag::Tensor y = ag::linear(x, w, b);
  BOOST_TEST(y.to_vector() == std::vector<double>({1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}));
  y.sum().backward();
  BOOST_TEST(grad_of(b) == std::vector<double>({4, 4, 4}));
  BOOST_TEST(grad_of(x).empty());
  BOOST_TEST(grad_of(w).empty());
  // No rows at all.
  const ag::Tensor none = leaf({0, 2});
  const ag::Tensor w2 = leaf({2, 3});
  ag::linear(none, w2).sum().backward();
  BOOST_TEST(grad_of(w2) == std::vector<double>(6, 0.0));
}

BOOST_AUTO_TEST_CASE(shape_ops_carry_empty_pieces) {
  const ag::Tensor a = leaf({0, 3});
  const ag::Tensor b = leaf({2, 3}, 2.0);
  const ag::Tensor c = ag::cat({a, b}, 0);
  BOOST_TEST(c.to_vector() == std::vector<double>(6, 2.0));
  (c * c).sum().backward();
  BOOST_TEST(grad_of(a).empty());
  BOOST_TEST(grad_of(b) == std::vector<double>(6, 4.0));
  BOOST_TEST(a.transpose(0, 1).shape() == Shape({3, 0}));
  BOOST_TEST(a.reshape({3, 0}).shape() == Shape({3, 0}));
  BOOST_TEST(a.reshape({-1}).shape() == Shape({0}));
  expect_error([&] { a.reshape({-1, 0}); }, {"ag::reshape", "[-1, 0]"});  // ambiguous, as torch
  const std::vector<std::int64_t> no_labels;
  BOOST_TEST(ag::pick(a, no_labels).shape() == Shape({0}));
  expect_error([&] { ag::cross_entropy(a, no_labels); }, {"ag::cross_entropy", "[0, 3]"});
  BOOST_TEST(ag::clamp(a, 0, 1).shape() == Shape({0, 3}));
  BOOST_TEST(ag::to_string(ag::zeros({2, 0})) == "tensor([[],\n        []], dtype=float32)");
}

BOOST_AUTO_TEST_CASE(elementwise_ops_broadcast_into_empty_results) {
  const ag::Tensor a = leaf({2, 1}, 3.0);
  const ag::Tensor b = leaf({1, 0});
  const ag::Tensor y = a * b;
  BOOST_TEST(y.shape() == Shape({2, 0}));
  y.sum().backward();
  BOOST_TEST(grad_of(a) == std::vector<double>({0, 0}));  // summed over an empty dim
  BOOST_TEST(grad_of(b).empty());
  const ag::Tensor e = leaf({0});
  for (const ag::Tensor& r : {e.exp(), e.log(), e.sqrt(), e.tanh(), e.sigmoid(), e.relu(), e.abs(),
                              e.pow(2.5), e / 2.0, 1.0 - e, ag::pow(e, e)})
    BOOST_TEST(r.shape() == Shape({0}));
}

BOOST_AUTO_TEST_CASE(metrics_on_empty_class_dims_are_errors) {
  // Used to read past an empty vector.
  const std::vector<std::int64_t> labels{0, 1};
  expect_error(
      [&] {
        ag::nn::accuracy(ag::zeros({2, 0}), labels);
      },
      {"ag::nn::accuracy", "[2, 0]"});
}
