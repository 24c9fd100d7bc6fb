// Seed 001, NNFS chapter 4 "Activation Functions", with the engine.
//
// Reproduces the seed's printed numbers (ReLU of a list, softmax, sums over axes, and the
// Dense-ReLU-Dense-Softmax forward pass on spiral data, bit for bit with NumPy's generator),
// then goes where the chapter cannot yet: trains a Dense(2,64)-ReLU-Dense(64,3) classifier on
// the spiral with cross-entropy and Adam, because the engine supplies the gradients.
//
//   seed_001_activations [--epochs N | N]     (default 2000; --help lists the options)
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

// The first `rows` rows of a [N, C] tensor, one per line, in NumPy's %.8e style.
void print_rows(const ag::Tensor& t, std::int64_t rows, const char* spec) {
  const std::vector<double> v = t.to_vector();
  const std::int64_t cols = t.size(1);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(v.begin() + r * cols, v.begin() + (r + 1) * cols);
    fmt::print("    {}\n", join(row, spec));
  }
}

// A layer with NNFS's 0.01 * np.random.randn(in, out) weights, drawn from NumPy's generator.
void numpy_init(ag::nn::Dense& layer, ag::nn::NumpyRandom& rng) {
  const std::vector<double> w = rng.randn(layer.in_features() * layer.out_features());
  std::vector<double> scaled;
  for (double v : w) scaled.push_back(0.01 * v);
  layer.weight =
      ag::tensor(scaled, {layer.in_features(), layer.out_features()}, ag::float64).requires_grad_();
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Seed 001 (NNFS chapter 4): activations, softmax, then a spiral classifier trained with "
      "Adam"};
  int epochs = 2000;
  options.add("epochs,--epochs", epochs, "training epochs of the spiral classifier")
      .range(1, 1000000)
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  namespace nn = ag::nn;

  fmt::print("1. ReLU of the seed's list\n");
  const ag::Tensor inputs = ag::tensor({0, 2, -1, 3.3, -2.7, 1.1, 2.2, -100}, ag::float64);
  fmt::print("  seed   [0, 2, 0, 3.3, 0, 1.1, 2.2, 0]\n  engine {}\n",
             join(ag::relu(inputs).to_vector()));

  fmt::print("\n2. Softmax of the layer outputs [4.8, 1.21, 2.385]\n");
  const ag::Tensor layer_outputs = ag::tensor({4.8, 1.21, 2.385}, ag::float64);
  fmt::print("  exponentiated seed   [121.51041752, 3.35348465, 10.85906266]\n");
  fmt::print("  exponentiated engine {}\n", join(ag::exp(layer_outputs).to_vector(), "{:.8f}"));
  const ag::Tensor probs = ag::softmax(layer_outputs, 0);
  fmt::print("  softmax seed   [0.89528266, 0.02470831, 0.08000903]\n");
  fmt::print("  softmax engine {}\n", join(probs.to_vector(), "{:.8f}"));
  fmt::print("  sum of softmax: seed 1.0, engine {:.8f}\n", probs.sum().item());

  fmt::print("\n3. Sums of the seed's 3x3 layer outputs\n");
  const ag::Tensor batch =
      ag::tensor(std::vector<double>{4.8, 1.21, 2.385, 8.9, -1.81, 0.2, 1.41, 1.051, 0.026}, {3, 3},
                 ag::float64);
  fmt::print("  sum            seed 18.172                engine {:.3f}\n", batch.sum().item());
  fmt::print("  sum axis 0     seed [15.11, 0.451, 2.611] engine {}\n",
             join(batch.sum(0).to_vector(), "{:.4g}"));
  fmt::print("  sum axis 1     seed [8.395, 7.29, 2.487]  engine {}\n",
             join(batch.sum(1).to_vector(), "{:.4g}"));
  const ag::Tensor keep = batch.sum(1, true);
  fmt::print("  keepdim shape  seed (3, 1)                engine {}\n",
             ag::to_string(keep.shape()));
  // The max subtraction is what keeps softmax finite where np.exp(1000) would overflow.
  const ag::Tensor big = ag::softmax(ag::tensor({1000.0, 999.0, 998.0}, ag::float64), 0);
  fmt::print("  softmax([1000, 999, 998]) = {} (finite: exp(1000) is not)\n",
             join(big.to_vector(), "{:.8f}"));

  fmt::print("\n4. Dense(2,3) + ReLU on spiral data (np.random.seed(0), noise 0.05)\n");
  {
    nn::NumpyRandom rng(0);
    const nn::Dataset data = nn::spiral_data(100, 3, rng, 0.05, ag::float64);
    ag::Generator unused(0);
    nn::Dense dense1(2, 3, nn::Init::Zeros, unused, ag::float64);
    numpy_init(dense1, rng);
    nn::ReLU activation1;
    const ag::Tensor out = activation1(dense1(data.X));
    fmt::print(
        "  seed   [0, 0, 0] [0, 9.17448014e-05, 0] [0, 2.34361157e-04, 0] "
        "[0, 4.45243326e-04, 0] [0, 6.15104009e-04, 0]\n  engine\n");
    print_rows(out, 5, "{:.8e}");
  }

  fmt::print("\n5. Dense(2,3)-ReLU-Dense(3,3)-Softmax, the seed's full code (noise 0.2)\n");
  {
    nn::NumpyRandom rng(0);
    const nn::Dataset data = nn::spiral_data(100, 3, rng, 0.2, ag::float64);
    ag::Generator unused(0);
    nn::Dense dense1(2, 3, nn::Init::Zeros, unused, ag::float64);
    nn::Dense dense2(3, 3, nn::Init::Zeros, unused, ag::float64);
    numpy_init(dense1, rng);
    numpy_init(dense2, rng);
    nn::ReLU activation1;
    nn::Softmax activation2(1);
    const ag::Tensor out = activation2(dense2(activation1(dense1(data.X))));
    fmt::print(
        "  seed   [0.33333333 0.33333333 0.33333333] [0.33333317 0.33333318 0.33333364] "
        "[0.33333289 0.33333292 0.3333342] ...\n  engine\n");
    print_rows(out, 5, "{:.8f}");
    fmt::print("  untrained accuracy: {:.3f} (chance is 1/3)\n", nn::accuracy(out, data.y));
  }

  fmt::print(
      "\n6. Beyond the seed: train Dense(2,64)-ReLU-Dense(64,3) with cross-entropy + Adam\n");
  ag::Generator gen(0);
  const nn::Dataset data = nn::spiral_data(100, 3, gen);
  nn::Dense dense1(2, 64, nn::Init::HeNormal, gen);
  nn::ReLU activation1;
  nn::Dense dense2(64, 3, nn::Init::XavierNormal, gen);
  std::vector<ag::Tensor> params{dense1.weight, dense1.bias, dense2.weight, dense2.bias};
  nn::Adam optimizer(params, 0.02, 0.9, 0.999, 1e-7, 5e-7);
  double loss_value = 0.0, acc = 0.0;
  fmt::print("  {:>6} {:>9} {:>9} {:>10}\n", "epoch", "loss", "accuracy", "lr");
  for (int epoch = 0; epoch <= epochs; ++epoch) {
    const ag::Tensor logits = dense2(activation1(dense1(data.X)));
    const ag::Tensor loss = nn::cross_entropy(logits, data.y);
    loss_value = loss.item();
    acc = nn::accuracy(logits, data.y);
    if (epoch % (epochs / 10 > 0 ? epochs / 10 : 1) == 0) {
      fmt::print("  {:>6} {:>9.4f} {:>9.3f} {:>10.6f}\n", epoch, loss_value, acc,
                 optimizer.current_lr());
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
