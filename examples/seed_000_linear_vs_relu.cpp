// Seed 000, "Why we need activation functions", with the engine.
//
// The seed builds a 2-layer net by hand, shows that without activations it collapses into one
// affine map (weight 0.3, bias 10.1), adds ReLU (130.1), measures the squared error against 420
// and then "learns" by adding the learning rate to every parameter, giving up when the loss
// rises. Here every number is recomputed with ag::Value, the collapse is read off the engine's
// gradient, and the seed's naive updates are replaced by real gradient descent.
#include <fmt/format.h>

#include <autograd/autograd.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

#include "command_line/options.hpp"

namespace {

// One line: what, the seed's printed value, the engine's value.
void row(const char* what, const char* seed, double engine) {
  fmt::print("  {:<48} seed {:>20}   engine {:>14.4f}\n", what, seed, engine);
}

struct Params {
  ag::Value b1, w1, w2, b2, w3, w4;
  std::vector<ag::Value*> all() { return {&b1, &w1, &w2, &b2, &w3, &w4}; }
};

Params seed_start() { return {7.0, 2.0, -1.0, 8.0, 0.2, 0.1}; }

ag::Value linear_net(const Params& p, const ag::Value& x) {
  const ag::Value layer_1 = x * p.w1 + x * p.w2 + p.b1;
  return layer_1 * p.w3 + layer_1 * p.w4 + p.b2;
}

ag::Value relu_net(const Params& p, const ag::Value& x) {
  const ag::Value layer_1 = relu(x * p.w1) + relu(x * p.w2) + p.b1;
  return relu(layer_1 * p.w3) + relu(layer_1 * p.w4) + p.b2;
}

ag::Value squared_error(const ag::Value& pred, double truth) { return pow(pred - truth, 2.0); }

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Seed 000: why activations; a linear net collapses, a ReLU net does not"};
  int steps = 12;
  options.add("--steps", steps, "gradient-descent steps from the seed's start")
      .range(1, 100000)
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  const double x_in = 200.0;
  const double true_y = 420.0;

  fmt::print("1. The 2-layer linear net at x = 200\n");
  Params p = seed_start();
  ag::Value x = x_in;
  const ag::Value linear_out = linear_net(p, x);
  row("layer_1 = x*w1 + x*w2 + b1", "207", (x * p.w1 + x * p.w2 + p.b1).data());
  row("output = layer_1*w3 + layer_1*w4 + b2", "70.10000000000001", linear_out.data());

  fmt::print("\n2. It collapses into one affine map y = weight * x + bias\n");
  const ag::Value final_weight = (p.w3 + p.w4) * (p.w1 + p.w2);
  const ag::Value final_bias = (p.w3 + p.w4) * p.b1 + p.b2;
  row("final_weight = (w3 + w4) * (w1 + w2)", "0.30000000000000004", final_weight.data());
  row("final_bias = (w3 + w4) * b1 + b2", "10.100000000000001", final_bias.data());
  // The engine finds the same map without algebra: dy/dx is the weight, y(0) the bias.
  linear_out.backward();
  row("engine: dy/dx of the net (backward)", "0.3", x.grad());
  ag::Value zero = 0.0;
  row("engine: the net at x = 0", "10.1", linear_net(p, zero).data());
  const double at_minus_50 = linear_net(p, ag::Value(-50.0)).data();
  row("engine: the net at x = -50 (= 0.3 * -50 + 10.1)", "-4.9", at_minus_50);

  fmt::print("\n3. With ReLU activations the net is no longer one line\n");
  const ag::Value relu_out = relu_net(p, ag::Value(x_in));
  row("relu net at x = 200", "130.10000000000002", relu_out.data());

  fmt::print("\n4. Squared error against true_y = 420\n");
  const double start_loss = squared_error(relu_out, true_y).data();
  row("(130.1 - 420)^2", "84042.00999999998", start_loss);

  fmt::print("\n5. The seed's naive update: add learning_rate = 0.2 to every parameter\n");
  Params naive = seed_start();
  const char* seed_losses[] = {"9753.537599999987", "15510.211600000019"};
  for (int update = 1; update <= 2; ++update) {
    for (ag::Value* v : naive.all()) *v = ag::Value(v->data() + 0.2);
    const double loss = squared_error(relu_net(naive, ag::Value(x_in)), true_y).data();
    row(fmt::format("naive update {}: loss", update).c_str(), seed_losses[update - 1], loss);
  }
  fmt::print("  the loss rose on update 2, where the seed stops.\n");

  fmt::print("\n6. Gradient descent from the same start, with the engine's gradients\n");
  // d loss/d param, not a fixed +0.2: each parameter moves by how much it matters. w2 gets no
  // gradient (relu(200 * -1) = 0: a dead unit), exactly as the math says.
  const double learning_rate = 1e-6;
  Params gd = seed_start();
  fmt::print("  lr = {:g}\n  {:>4} {:>14} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
             learning_rate, "step", "loss", "output", "b1", "w1", "w2", "b2", "w3", "w4");
  double previous = INFINITY;
  bool always_fell = true;
  double loss_value = 0.0;
  for (int step = 0; step <= steps; ++step) {
    const ag::Value out = relu_net(gd, ag::Value(x_in));
    const ag::Value loss = squared_error(out, true_y);
    loss_value = loss.data();
    fmt::print(
        "  {:>4} {:>14.6g} {:>10.4f} {:>9.5f} {:>9.5f} {:>9.5f} {:>9.5f} {:>9.5f} {:>9.5f}\n", step,
        loss_value, out.data(), gd.b1.data(), gd.w1.data(), gd.w2.data(), gd.b2.data(),
        gd.w3.data(), gd.w4.data());
    if (step > 0 && !(loss_value < previous)) always_fell = false;
    previous = loss_value;
    if (step == steps) break;
    loss.backward();
    // New leaves: a Value node is never modified in place.
    for (ag::Value* v : gd.all()) *v = ag::Value(v->data() - learning_rate * v->grad());
  }
  fmt::print("  loss fell at every step: {}; from {:.4f} to {:.3g}\n", always_fell ? "yes" : "no",
             start_loss, loss_value);
  return always_fell && loss_value < 1.0 ? 0 : 1;
}
