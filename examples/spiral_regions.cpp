// The decision regions of a small classifier trained on NNFS's spiral data, as a PNG:
// the plane coloured by the predicted class, with the training points on top.
//
//   ./spiral_regions                        # writes spiral_regions.png
//   ./spiral_regions --epochs 2000 --out /tmp/regions.png
//
// The model and optimizer are those of NNFS chapter 10 (Dense 2-64-3, ReLU, softmax
// cross-entropy, Adam lr 0.05, decay 5e-7), trained full batch.
#include <cstdio>
#include <string>

#include "autograd/autograd.hpp"
#include "command_line/options.hpp"
#include "nn/nn.hpp"
#include "nn/plot.hpp"

int main(int argc, char** argv) {
  int epochs = 10000;
  std::int64_t points_per_class = 100;
  std::int64_t classes = 3;
  std::int64_t hidden = 64;
  std::uint64_t seed = 0;
  std::string out = "spiral_regions.png";
  command_line::Options options{"Train a classifier on spiral data and draw its decision regions"};
  options.add("--epochs", epochs, "full-batch training steps").range(1, 1000000).show_default();
  options.add("--points", points_per_class, "points per class").range(2, 100000).show_default();
  options.add("--classes", classes, "spiral arms (classes)").range(2, 10).show_default();
  options.add("--hidden", hidden, "hidden units").range(1, 4096).show_default();
  options.add("--seed", seed, "seed of the data and the weights").non_negative().show_default();
  options.add("--out", out, "PNG to write").show_default();
  if (auto status = options.parse(argc, argv)) return *status;

  try {
    ag::Generator gen(seed);
    const auto data = ag::nn::spiral_data(points_per_class, classes, gen);
    ag::nn::Sequential net;
    net.emplace<ag::nn::Dense>(2, hidden, ag::nn::Init::HeNormal, gen);
    net.emplace<ag::nn::ReLU>();
    net.emplace<ag::nn::Dense>(hidden, classes, ag::nn::Init::XavierNormal, gen);
    ag::nn::Adam adam(net.named_parameters(), 0.05, 0.9, 0.999, 1e-7, 5e-7);

    for (int epoch = 1; epoch <= epochs; ++epoch) {
      adam.zero_grad();
      const auto logits = net(data.X);
      auto loss = ag::nn::cross_entropy(logits, data.y);
      loss.backward();
      adam.step();
      if (epoch % (epochs >= 10 ? epochs / 10 : 1) == 0 || epoch == 1)
        std::printf("epoch %6d  loss %.4f  accuracy %.3f  lr %.6f\n", epoch, loss.item(),
                    ag::nn::accuracy(logits, data.y), adam.current_lr());
    }
    double accuracy = 0.0;
    {
      ag::NoGradGuard no_grad;
      accuracy = ag::nn::accuracy(net(data.X), data.y);
    }

    auto classify = [&](const ag::Tensor& points) {
      ag::NoGradGuard no_grad;
      return ag::argmax(net(points), 1);
    };
    char title[128];
    std::snprintf(title, sizeof title,
                  "Spiral data, Dense 2-%lld-%lld, %d Adam steps: training accuracy %.3f",
                  static_cast<long long>(hidden), static_cast<long long>(classes), epochs,
                  accuracy);
    ag::nn::plot_decision_regions(out, data.X, data.y, static_cast<int>(classes), classify, title);
    std::printf("training accuracy %.3f; decision regions: %s\n", accuracy, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spiral_regions: %s\n", e.what());
    return 1;
  }
  return 0;
}
