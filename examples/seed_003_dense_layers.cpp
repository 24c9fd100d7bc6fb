// Seed 003, "Neural networks from scratch (part 2)": dense layers as objects, ReLU, softmax.
//
// Reproduces the seed's ReLU and softmax numbers for the input [1.1, -0.4, 3.1] and runs its
// Dense(3,7) -> Dense(7,2) networks (the seed's weights came from an unseeded np.random.randn,
// so only their shapes can be compared). Then it builds the same kind of network as an
// ag::nn::Sequential with named layers and trains one on 3-class spiral data with cross-entropy
// and Adam, printing loss and accuracy.
//
//   seed_003_dense_layers [--epochs N | N]     (default 2000; --help lists the options)
#include <fmt/format.h>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "command_line/options.hpp"

namespace {

std::string join(const std::vector<double>& values, const char* spec = "{:.8g}") {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += fmt::format(fmt::runtime(spec), values[i]);
  }
  return out + "]";
}

// The seed's Dense_Layer draws np.random.randn(in, out): a unit normal, no 0.01 factor.
std::shared_ptr<ag::nn::Dense> seed_layer(std::int64_t in, std::int64_t out, ag::Generator& gen) {
  auto layer = std::make_shared<ag::nn::Dense>(in, out, ag::nn::Init::Zeros, gen, ag::float64);
  layer->weight = ag::randn({in, out}, gen, ag::float64).requires_grad_();
  return layer;
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Seed 003: dense layers as objects, then a named Sequential trained on spiral data"};
  int epochs = 2000;
  options.add("epochs,--epochs", epochs, "training epochs of the spiral classifier")
      .range(1, 1000000)
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  namespace nn = ag::nn;
  ag::Generator gen(3);
  const ag::Tensor inputs = ag::tensor({1.1, -0.4, 3.1}, ag::float64);

  fmt::print("1. Two dense layers as objects: Dense(3,7) -> Dense(7,2) on [1.1, -0.4, 3.1]\n");
  nn::Sequential linear{seed_layer(3, 7, gen), seed_layer(7, 2, gen)};
  const ag::Tensor linear_out = linear(inputs);
  fmt::print(
      "  seed   array([[-0.48563807,  0.87077944]])  (unseeded np.random: not repeatable)\n");
  fmt::print("  engine {} of shape {}\n", join(linear_out.to_vector()),
             ag::to_string(linear_out.shape()));

  fmt::print("\n2. ReLU of the inputs\n");
  fmt::print("  seed   [1.1, 0, 3.1]\n  engine {}\n", join(ag::relu(inputs).to_vector()));

  fmt::print("\n3. The same layers with ReLU after each\n");
  nn::Sequential with_relu{seed_layer(3, 7, gen), std::make_shared<nn::ReLU>(),
                           seed_layer(7, 2, gen), std::make_shared<nn::ReLU>()};
  fmt::print("  seed   array([[0.        , 0.57219852]])  (unseeded)\n  engine {}\n",
             join(with_relu(inputs).to_vector()));

  fmt::print("\n4. Softmax of [1.1, -0.4, 3.1]\n");
  fmt::print(
      "  exponentiated seed   [3.0041660239464334, 0.6703200460356393, 22.197951281441632]\n");
  fmt::print("  exponentiated engine {}\n", join(ag::exp(inputs).to_vector(), "{:.15g}"));
  nn::Softmax softmax(-1);
  const ag::Tensor normalized = softmax(inputs);
  fmt::print(
      "  normalized seed   [0.11611453467414118, 0.02590865471740153, 0.8579768106084572]\n");
  fmt::print("  normalized engine {}\n", join(normalized.to_vector(), "{:.15g}"));
  // The seed's Softmax class subtracts the row max "to prevent exploding values".
  const ag::Tensor rows =
      ag::tensor(std::vector<double>{1.1, -0.4, 3.1, 1001.1, 999.6, 1003.1}, {2, 3}, ag::float64);
  fmt::print("  per row, a row shifted by 1000: {} (equal rows: softmax ignores shifts)\n",
             join(softmax(rows).to_vector(), "{:.8f}"));

  fmt::print("\n5. Beyond the seed: a named Sequential trained on spiral data\n");
  const nn::Dataset data = nn::spiral_data(100, 3, gen);
  nn::Sequential net;
  net.add("dense1", std::make_shared<nn::Dense>(2, 64, nn::Init::HeNormal, gen));
  net.add("relu", std::make_shared<nn::ReLU>());
  net.add("dense2", std::make_shared<nn::Dense>(64, 3, nn::Init::XavierNormal, gen));
  fmt::print("{}", nn::summary(net));
  for (const auto& [name, p] : net.named_parameters()) {
    fmt::print("  {:<14} {}\n", name, ag::to_string(p.shape()));
  }
  nn::Adam optimizer(net.named_parameters(), 0.02, 0.9, 0.999, 1e-7, 5e-7);
  double loss_value = 0.0, acc = 0.0;
  fmt::print("  {:>6} {:>9} {:>9}\n", "epoch", "loss", "accuracy");
  for (int epoch = 0; epoch <= epochs; ++epoch) {
    const ag::Tensor logits = net(data.X);
    const ag::Tensor loss = nn::cross_entropy(logits, data.y);
    loss_value = loss.item();
    acc = nn::accuracy(logits, data.y);
    if (epoch % (epochs / 10 > 0 ? epochs / 10 : 1) == 0) {
      fmt::print("  {:>6} {:>9.4f} {:>9.3f}\n", epoch, loss_value, acc);
    }
    if (epoch == epochs) break;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  fmt::print("  final: loss {:.4f}, accuracy {:.3f} ({} 0.9)\n", loss_value, acc,
             acc >= 0.9 ? ">=" : "<");
  return acc >= 0.9 ? 0 : 1;
}
