// Weight tying: a module added in two places, or one tensor held by two modules, is one
// parameter. It is listed once under its first name (as torch's named_parameters does),
// stepped once per optimizer step, counted once and stored once in checkpoints; its gradient
// is the sum over every use.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "nn/nn.hpp"
#include "test_support.hpp"

namespace {

using ag::nn::Dense;
using ag::nn::Init;

std::vector<std::string> names_of(const ag::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, p] : m.named_parameters()) out.push_back(name);
  return out;
}

// A 2 -> 2 -> 2 net applying the same layer twice.
struct TiedNet {
  ag::Generator gen{7};
  std::shared_ptr<Dense> shared =
      std::make_shared<Dense>(2, 2, Init::XavierNormal, gen, ag::float64);
  ag::nn::Sequential net;
  TiedNet() {
    net.add(shared);
    net.add(std::make_shared<ag::nn::Tanh>());
    net.add(shared);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_module_added_twice_is_listed_once_under_its_first_name) {
  TiedNet t;
  BOOST_TEST(names_of(t.net) == std::vector<std::string>({"0.weight", "0.bias"}));
  BOOST_TEST(t.net.num_parameters() == 6);
  BOOST_TEST(t.net.parameters().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_tied_weight_is_stepped_once_per_step) {
  TiedNet t;
  const ag::Tensor x = ag::tensor({0.5, -1.0, 2.0, 0.25}, ag::float64).reshape({2, 2});
  t.net(x).sum().backward();
  const std::vector<double> w0 = t.shared->weight.to_vector();
  const std::vector<double> g = t.shared->weight.grad().to_vector();  // both uses summed
  const double lr = 0.1;
  ag::nn::SGD sgd(t.net.parameters(), lr);
  sgd.step();
  const std::vector<double> w1 = t.shared->weight.to_vector();
  for (std::size_t i = 0; i < w0.size(); ++i) BOOST_TEST(w1[i] == w0[i] - lr * g[i]);
  // The same through a hand-made list that names the tensor twice.
  ag::nn::SGD twice({t.shared->weight, t.shared->weight}, lr);
  BOOST_TEST(twice.named_params().size() == 1u);
  twice.step();
  const std::vector<double> w2 = t.shared->weight.to_vector();
  for (std::size_t i = 0; i < w0.size(); ++i) BOOST_TEST(w2[i] == w1[i] - lr * g[i]);
}

BOOST_AUTO_TEST_CASE(a_tensor_held_by_two_modules_is_one_parameter) {
  ag::Generator gen(3);
  ag::nn::Sequential net;
  auto& a = net.emplace<Dense>(3, 3, Init::XavierNormal, gen, ag::float64);
  auto& b = net.emplace<Dense>(3, 3, Init::XavierNormal, gen, ag::float64);
  b.weight = a.weight;  // tied by assignment
  BOOST_TEST(names_of(net) == std::vector<std::string>({"0.weight", "0.bias", "1.bias"}));
  BOOST_TEST(net.num_parameters() == 15);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_stores_a_tied_weight_once_and_restores_it) {
  ag_test::TempDir dir("ag-tying");
  const auto path = dir.path / "tied.safetensors";
  TiedNet t;
  ag::nn::save_checkpoint(path, t.net);
  const auto file = ag::nn::load_safetensors(path);
  std::vector<std::string> stored;
  for (const auto& [name, tensor] : file.tensors) stored.push_back(name);
  BOOST_TEST(stored == std::vector<std::string>({"0.bias", "0.weight"}));
  BOOST_TEST(file.at("0.weight").to_vector() == t.shared->weight.to_vector());
  TiedNet fresh;
  fresh.shared->weight.mutable_data_ptr<double>()[0] = 42.0;
  ag::nn::load_checkpoint(path, fresh.net);
  BOOST_TEST(fresh.shared->weight.to_vector() == t.shared->weight.to_vector());
}
