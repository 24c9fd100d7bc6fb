// Seed 002, "Neural Networks - Activation Functions" (D. V. Godoy), with the engine.
//
// The seed's Keras experiment: a 2-2-1 network (hidden activation of your choice, sigmoid
// output), binary cross-entropy, SGD with learning rate 0.05, minibatches of 16, 150 epochs,
// Glorot-normal hidden weights and normal (stddev 0.05) output weights. The data is the
// lesson's two parabolas (class 0 on x2 = x1^2, class 1 on x2 = x1^2 - 0.5), which no line
// separates. With a linear hidden layer the net is one affine map and fails; sigmoid, tanh and
// ReLU bend the feature space until a line separates the classes.
//
//   seed_002_activation_functions [linear|sigmoid|tanh|relu ...] [--epochs N] [--seed S]
#include <fmt/format.h>

#include <autograd/autograd.hpp>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "command_line/options.hpp"

namespace {

namespace nn = ag::nn;

struct Result {
  std::string activation;
  double loss = 0.0;
  double accuracy = 0.0;
};

// A 1-d or 2-d tensor as NumPy prints nested lists: [[a, b], [c, d]].
std::string nested(const ag::Tensor& t) {
  const std::vector<double> v = t.to_vector();
  const std::size_t cols = t.dim() == 2 ? static_cast<std::size_t>(t.size(1)) : v.size();
  std::string out = t.dim() == 2 ? "[" : "";
  for (std::size_t r = 0; r < v.size() / cols; ++r) {
    out += r ? ", [" : "[";
    for (std::size_t c = 0; c < cols; ++c)
      out += fmt::format("{}{:.7f}", c ? ", " : "", v[r * cols + c]);
    out += "]";
  }
  return t.dim() == 2 ? out + "]" : out;
}

Result train(const std::string& activation, const nn::Dataset& data, int epochs,
             std::uint64_t seed) {
  ag::Generator gen(seed);
  auto hidden = std::make_shared<nn::Dense>(2, 2, nn::Init::XavierNormal, gen);
  auto output = std::make_shared<nn::Dense>(2, 1, nn::Init::Normal, gen);
  nn::Sequential model{hidden, nn::make_activation(activation), output,
                       std::make_shared<nn::Sigmoid>()};
  nn::SGD sgd(model.named_parameters(), 0.05);
  const ag::Tensor targets = nn::labels_to_tensor(data.y);  // [N, 1] of 0/1
  const std::int64_t n = data.X.size(0);

  fmt::print("\n== hidden activation: {} ==\n  {:>6} {:>9} {:>9}\n", activation, "epoch", "loss",
             "accuracy");
  Result result{activation};
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    // Keras shuffles the training set every epoch.
    for (const auto& rows : nn::shuffled_batches(n, 16, gen)) {
      const ag::Tensor probs = model(nn::take_rows(data.X, rows));
      const ag::Tensor loss = nn::binary_cross_entropy(probs, nn::take_rows(targets, rows));
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
    if (epoch == 1 || epoch % 25 == 0) {
      ag::NoGradGuard no_grad;
      const ag::Tensor probs = model(data.X);
      result.loss = nn::binary_cross_entropy(probs, targets).item();
      result.accuracy = nn::accuracy(probs, data.y);
      fmt::print("  {:>6} {:>9.4f} {:>9.4f}\n", epoch, result.loss, result.accuracy);
    }
  }
  // The layout of Keras's model.get_weights(): kernel [in, out] then bias, per layer.
  fmt::print("  weights: hidden kernel {} bias {}\n           output kernel {} bias {}\n",
             nested(hidden->weight), nested(hidden->bias), nested(output->weight),
             nested(output->bias));
  fmt::print("  accuracy {}: {:.4f}\n", activation, result.accuracy);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Seed 002: a 2-2-1 network with each hidden activation on the parabolas"};
  std::vector<std::string> activations;
  int epochs = 150;
  std::uint64_t seed = 42;
  options.add("activation", activations, "hidden activations (default: all four)")
      .one_of({"linear", "sigmoid", "tanh", "relu"});
  options.add("--epochs", epochs, "epochs").range(1, 1000000).show_default();
  options.add("--seed", seed, "generator seed for weights and shuffling")
      .non_negative()
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  if (activations.empty()) activations = {"linear", "sigmoid", "tanh", "relu"};

  const nn::Dataset data = nn::parabolas(1000);
  fmt::print("data: two parabolas, {} points, batch 16, SGD lr 0.05, {} epochs, seed {}\n",
             data.X.size(0), epochs, seed);
  std::vector<Result> results;
  for (const auto& activation : activations)
    results.push_back(train(activation, data, epochs, seed));

  fmt::print("\nsummary\n  {:<8} {:>9} {:>9}  separated?\n", "hidden", "loss", "accuracy");
  for (const auto& r : results) {
    fmt::print("  {:<8} {:>9.4f} {:>9.4f}  {}\n", r.activation, r.loss, r.accuracy,
               r.accuracy >= 0.99 ? "yes" : "no");
  }
  return 0;
}
