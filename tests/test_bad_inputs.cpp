// Bad inputs: every row of the table in the README (Hardening, Bad inputs). Each gets an ag::Error
// whose op() names the op and whose message names the shapes, dtypes, values or file at fault, and
// the caller's tensors are left as they were.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/dot.hpp"
#include "autograd/render.hpp"
#include "nn/nn.hpp"

namespace {

// Runs `f`, which must throw ag::Error from `op` with every fragment in its message.
template <class F>
void expect_error(F&& f, const std::string& op, std::initializer_list<std::string> fragments) {
  try {
    f();
    BOOST_ERROR("no ag::Error from " << op);
  } catch (const ag::Error& e) {
    BOOST_TEST(e.op() == op, e.what());
    for (const auto& fragment : fragments)
      BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos,
                 "'" << fragment << "' missing from: " << e.what());
  }
}

std::filesystem::path scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() / "ag_test_bad_inputs";
  std::filesystem::create_directories(dir);
  return dir;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

BOOST_AUTO_TEST_CASE(shape_mismatches) {
  auto a = ag::ones({2, 3}, ag::float64), b = ag::ones({4}, ag::float64);
  expect_error([&] { (void)(a + b); }, "add", {"[2, 3]", "[4]", "broadcast"});
  expect_error([&] { (void)(a * b); }, "mul", {"[2, 3]", "[4]"});
  expect_error(
      [&] {
        (void)ag::matmul(a, ag::ones({4, 5}, ag::float64));
      },
      "matmul", {"[2, 3]", "[4, 5]"});
  expect_error([&] { (void)ag::reshape(a, {4}); }, "reshape", {"[2, 3]", "[4]"});
  expect_error(
      [&] {
        (void)ag::cat({a, ag::ones({3, 2}, ag::float64)}, 0);
      },
      "cat", {"[3, 2]", "[2, 3]"});
  expect_error([&] { (void)ag::sum(a, 2); }, "sum", {"dim 2", "rank 2"});
  expect_error([&] { (void)ag::transpose(b, 0, 1); }, "transpose", {"[4]"});
  // Value(tensor) reports through item(), the op it uses.
  expect_error([&] { (void)ag::Value(a); }, "Value", {"one-element", "[2, 3]"});
  expect_error([&] { (void)a.item(); }, "item", {"[2, 3]"});
  expect_error(
      [&] {
        (void)ag::tensor(std::vector<double>{1, 2, 3}, {2, 2});
      },
      "tensor", {"3 values", "[2, 2]"});
  // The operands are untouched.
  BOOST_TEST(a.to_vector() == std::vector<double>(6, 1.0));
  BOOST_TEST(a.shape() == ag::Shape({2, 3}));
}

BOOST_AUTO_TEST_CASE(mixed_dtypes) {
  auto f = ag::ones({2}, ag::float32), d = ag::ones({2}, ag::float64);
  expect_error([&] { (void)(f + d); }, "add", {"float32", "float64", "[2]"});
  expect_error([&] { (void)ag::matmul(f, d); }, "matmul", {"float32", "float64"});
  expect_error([&] { (void)d.data_ptr<float>(); }, "data_ptr", {"float32", "float64"});
  expect_error(
      [&] { (void)ag::gradcheck([](const std::vector<ag::Tensor>& x) { return x[0]; }, {f}); },
      "gradcheck", {"input 0", "float64"});
}

BOOST_AUTO_TEST_CASE(nan_and_huge_inputs) {
  // Without anomaly mode NaN and Inf propagate as in IEEE arithmetic (like PyTorch)...
  auto x = ag::tensor({1.0, kNaN, 1000.0}, ag::float64);
  auto y = ag::exp(x);
  BOOST_TEST(std::isnan(y.to_vector()[1]));
  BOOST_TEST(std::isinf(y.to_vector()[2]));
  // ...softmax and cross-entropy stay finite for huge finite logits...
  auto huge = ag::tensor({1e300, -1e300, 0.0}, ag::float64);
  for (double p : ag::softmax(huge, 0).to_vector()) BOOST_TEST(std::isfinite(p));
  const std::vector<std::int64_t> label = {1};
  BOOST_TEST(std::isfinite(ag::nn::cross_entropy(ag::reshape(huge, {1, 3}), label).item()));
  // ...and anomaly mode names the op, the element and the shape where they first appear.
  ag::AnomalyModeGuard anomaly;
  expect_error([&] { (void)ag::exp(x); }, "exp", {"forward", "[3]"});
  expect_error(
      [&] {
        (void)ag::log(ag::tensor({1.0, 0.0}, ag::float64));
      },
      "log", {"element 1", "inf", "[2]"});
  auto leaf = ag::tensor({0.0}, ag::float64).requires_grad_();
  auto r = ag::sqrt(leaf);  // sqrt(0) = 0 is fine forward, its gradient is inf
  expect_error([&] { r.sum().backward(); }, "sqrt", {"backward", "inf"});
}

BOOST_AUTO_TEST_CASE(domain_errors_name_the_value) {
  expect_error(
      [] {
        (void)ag::log(ag::tensor({1.0, -2.0}, ag::float64));
      },
      "log", {"element 1", "-2", "[2]"});
  expect_error([] { (void)ag::sqrt(ag::Value(-1.0)); }, "sqrt", {"-1"});
  expect_error([] { (void)ag::clamp(ag::ones({1}), 2.0, 1.0); }, "clamp", {"lo=2", "hi=1"});
  expect_error([] { ag::set_num_threads(0); }, "set_num_threads", {"got 0"});
}

BOOST_AUTO_TEST_CASE(empty_tensors) {
  auto empty = ag::zeros({0, 3}, ag::float64).requires_grad_();
  auto s = ag::sum(empty);  // the empty sum is 0, and backward gives an empty gradient
  BOOST_TEST(s.item() == 0.0);
  s.backward();
  BOOST_TEST(empty.grad().shape() == ag::Shape({0, 3}));
  BOOST_TEST(ag::sum(empty, 0).to_vector() == std::vector<double>(3, 0.0));
  expect_error([&] { (void)ag::max(empty); }, "max", {"empty", "[0, 3]"});
  expect_error([&] { (void)ag::max(empty, 0); }, "max", {"empty", "[0, 3]"});
  expect_error(
      [&] {
        (void)ag::nn::cross_entropy(ag::zeros({0, 3}), {});
      },
      "nn::cross_entropy", {"[0, 3]"});
}

BOOST_AUTO_TEST_CASE(bad_labels) {
  auto logits = ag::zeros({2, 3}, ag::float64);
  const std::vector<std::int64_t> out_of_range = {0, 3}, negative = {-1, 0}, too_few = {0};
  expect_error([&] { (void)ag::pick(logits, out_of_range); }, "pick",
               {"label 3", "[0, 3)", "[2, 3]"});
  expect_error([&] { (void)ag::pick(logits, negative); }, "pick", {"label -1", "[2, 3]"});
  expect_error([&] { (void)ag::pick(logits, too_few); }, "pick", {"1 labels", "[2, 3]"});
  expect_error([&] { (void)ag::nn::cross_entropy(logits, out_of_range); }, "nn::cross_entropy",
               {"label 3", "[2, 3]"});
}

BOOST_AUTO_TEST_CASE(backward_misuse) {
  auto w = ag::ones({2, 2}, ag::float64).requires_grad_();
  auto y = w * 2.0;
  expect_error([&] { y.backward(); }, "backward", {"[2, 2]"});
  expect_error([&] { y.backward(ag::ones({3}, ag::float64)); }, "backward", {"[3]", "[2, 2]"});
  expect_error([&] { (void)y.requires_grad_(); }, "requires_grad_", {"mul"});
  auto loss = ag::sum(ag::tanh(w));
  loss.backward();
  expect_error([&] { loss.backward(); }, "backward", {"retain_graph"});
  expect_error([&] { ag::sum(ag::ones({2})).backward(); }, "backward", {"does not require grad"});
}

BOOST_AUTO_TEST_CASE(malformed_files) {
  const auto dir = scratch_dir();
  const auto garbage = dir / "garbage.safetensors";
  std::ofstream(garbage) << "this is not a safetensors file";
  expect_error([&] { (void)ag::nn::load_safetensors(garbage); }, "safetensors",
               {"garbage.safetensors"});
  expect_error([&] { (void)ag::nn::load_safetensors(dir / "missing.safetensors"); }, "safetensors",
               {"missing.safetensors"});
  const auto bad_idx = dir / "bad-images-idx3-ubyte";
  std::ofstream(bad_idx) << "\x00\x00\x08\x04 not an idx file";
  expect_error([&] { (void)ag::nn::load_idx_images(bad_idx); }, "idx", {"bad-images-idx3-ubyte"});
  expect_error([&] { ag::render_dot("digraph { a -> }", dir / "broken.svg"); }, "render", {});
  BOOST_TEST(!std::filesystem::exists(dir / "broken.svg"));
}

BOOST_AUTO_TEST_CASE(unwritable_paths) {
  const std::filesystem::path nowhere = "/nonexistent_ag_dir/sub";
  auto x = ag::ones({2}, ag::float64).requires_grad_();
  auto y = ag::sum(x * x);
  expect_error([&] { ag::write_dot(nowhere / "g.dot", {y}); }, "write_dot",
               {"/nonexistent_ag_dir/sub/g.dot"});
  expect_error([&] { ag::render_graph({y}, nowhere / "g.png"); }, "render",
               {"/nonexistent_ag_dir/sub/g.png"});
  expect_error([&] { ag::render_graph({y}, scratch_dir() / "g.gif"); }, "render",
               {"g.gif", ".gif"});
  expect_error(
      [&] {
        ag::nn::save_safetensors(nowhere / "w.safetensors", {{"x", x}});
      },
      "safetensors", {"/nonexistent_ag_dir/sub/w.safetensors"});
  // A directory where the file should go.
  expect_error([&] { ag::write_dot(scratch_dir(), {y}); }, "write_dot", {"directory"});
  BOOST_TEST(x.to_vector() == std::vector<double>({1.0, 1.0}));
}
