// Seed 004: the hand-derived gradients of a 2-2-1 ReLU network, checked by the engine.
//
// The seed notebook derives the nine partial derivatives of (relu(...) - target)^2 by hand
// and takes one SGD step. This program computes the same nine numbers three ways (the seed's
// formulas, backward(), finite differences), reproduces the seed's step, then searches for a
// point where the seed's formulas for w2, w4 and bias2 go wrong: they use node 1's ReLU
// derivative where node 2's belongs, which only shows when node 2 is inactive and node 1 is not.
// There it explains the engine's gradients of w2 and w5 path by path (ag::explain), prints the
// backward trace (ag::backward_trace) and draws the graph with w2's paths in red.
//
//   seed_004_relu_net [--graph FILE.png|.svg|.pdf] [--search-seed N]
#include <fmt/format.h>

#include <array>
#include <autograd/autograd.hpp>
#include <cmath>
#include <optional>
#include <string>

#include "command_line/options.hpp"

namespace {

constexpr std::array<const char*, 9> kNames = {"w1", "w2",    "w3",    "w4",   "w5",
                                               "w6", "bias1", "bias2", "bias3"};

// A point of the problem: parameters in kNames order, the inputs and the target.
struct Point {
  std::array<double, 9> p;
  double input1, input2, target;
};

// The network, written once with ag::Value, for any of the parameters as leaves.
ag::Value loss_of(const std::vector<ag::Value>& p, const Point& at) {
  const auto &w1 = p[0], &w2 = p[1], &w3 = p[2], &w4 = p[3], &w5 = p[4], &w6 = p[5];
  const auto &b1 = p[6], &b2 = p[7], &b3 = p[8];
  ag::Value node1 = relu(at.input1 * w1 + at.input2 * w3 + b1);
  ag::Value node2 = relu(at.input1 * w2 + at.input2 * w4 + b2);
  ag::Value node3 = relu(node1 * w5 + node2 * w6 + b3);
  node1.set_label("node_1_output");  // the seed's names, shown by explain and the picture
  node2.set_label("node_2_output");
  node3.set_label("node_3_output");
  ag::Value loss = pow(node3 - at.target, 2.0);
  loss.set_label("loss");
  return loss;
}

double relu_d(double x) {
  return x > 0 ? 1.0 : 0.0;
}  // the seed's activation_ReLu_partial_derivative

// The seed notebook's nine formulas, verbatim (cells 179-190), as functions of the point.
std::array<double, 9> seed_formulas(const Point& at) {
  const auto [w1, w2, w3, w4, w5, w6, bias1, bias2, bias3] = at.p;
  const double input1 = at.input1, input2 = at.input2, true_value = at.target;
  const double node_1_output = std::max(0.0, input1 * w1 + input2 * w3 + bias1);
  const double node_2_output = std::max(0.0, input1 * w2 + input2 * w4 + bias2);
  const double err = node_1_output * w5 + node_2_output * w6 + bias3 - true_value;
  const double node1_d = relu_d(input1 * w1 + input2 * w3 + bias1);
  return {
      2 * w5 * err * node1_d * input1,  // w1
      2 * w6 * err * node1_d * input1,  // w2: the seed uses node 1's ReLU derivative here
      2 * w5 * err * node1_d * input2,  // w3
      2 * w6 * err * node1_d * input2,  // w4: and here
      2 * node_1_output * err,          // w5
      2 * node_2_output * err,          // w6
      2 * w5 * err * node1_d * 1,       // bias1
      2 * w6 * err * node1_d * 1,       // bias2: and here
      2 * 1 * err,                      // bias3
  };
}

struct Gradients {
  std::array<double, 9> seed, engine, finite_difference;
  double loss;
};

Gradients gradients_at(const Point& at) {
  Gradients g{};
  g.seed = seed_formulas(at);
  std::vector<ag::Value> params;
  for (std::size_t i = 0; i < 9; ++i) params.emplace_back(at.p[i], kNames[i]);
  ag::Value loss = loss_of(params, at);
  loss.backward();
  g.loss = loss.data();
  for (std::size_t i = 0; i < 9; ++i) g.engine[i] = params[i].grad();
  auto check = ag::gradcheck([&](const std::vector<ag::Value>& p) { return loss_of(p, at); },
                             std::vector<double>(at.p.begin(), at.p.end()));
  for (std::size_t i = 0; i < 9; ++i) g.finite_difference[i] = check.numeric[i][0];
  return g;
}

void print_table(const Gradients& g) {
  fmt::print("  {:<6} {:>12} {:>12} {:>14}\n", "param", "seed", "engine", "finite diff");
  for (std::size_t i = 0; i < 9; ++i) {
    const bool wrong = std::abs(g.seed[i] - g.engine[i]) > 1e-9;
    // + 0.0 prints -0 as 0
    fmt::print("  {:<6} {:>12.6g} {:>12.6g} {:>14.6g}{}\n", kNames[i], g.seed[i] + 0.0,
               g.engine[i] + 0.0, g.finite_difference[i] + 0.0,
               wrong ? "   <-- seed's formula disagrees" : "");
  }
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Seed 004: the hand-derived gradients of a 2-2-1 ReLU network, checked and "
      "explained by the engine"};
  std::string graph_file = "seed_004_graph.png";
  std::uint64_t search_seed = 2024;
  options
      .add("--graph", graph_file, "Picture of the graph at the failing point (.png, .svg or .pdf)")
      .show_default();
  options.add("--search-seed", search_seed, "Seed of the search for a failing point")
      .check(
          [](std::string& v) {
            return v.find_first_not_of("0123456789") == std::string::npos && !v.empty()
                       ? std::string()
                       : "must be a whole number >= 0, got '" + v + "'";
          },
          "COUNT")
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  const Point seed_point{{1, 0.5, 1, -0.5, 1, 1, 0.5, 0, 0.5}, 1, 0, 2};

  fmt::print("Seed 004: 2-2-1 ReLU network, input (1, 0), target 2, squared error\n\n");
  Gradients g = gradients_at(seed_point);
  fmt::print("loss = {}  (seed: 0.25)\n\n", g.loss);
  fmt::print(
      "Gradients at the seed's point: the seed's hand formulas, backward(), finite differences\n");
  print_table(g);

  // One SGD step with the engine's gradients, as in the seed (LR 0.01).
  const double lr = 0.01;
  const std::array<double, 9> seed_new = {0.99, 0.49, 1.0, -0.5, 0.985, 0.995, 0.49, -0.01, 0.49};
  fmt::print("\nOne SGD step, LR {}: new weights (engine vs the seed's printed values)\n", lr);
  bool step_matches = true;
  for (std::size_t i = 0; i < 9; ++i) {
    const double updated = seed_point.p[i] - lr * g.engine[i];
    step_matches = step_matches && std::abs(updated - seed_new[i]) < 1e-12;
    fmt::print("  {:<6} {:>8.6g}   seed {:>8.6g}\n", kNames[i], updated, seed_new[i]);
  }
  fmt::print("SGD step matches the seed: {}\n", step_matches ? "yes" : "no");

  // At the seed's point both hidden nodes are active, so the mix-up is invisible. Search for
  // a point where node 2 is inactive, node 1 active, and the output node active.
  fmt::print("\nWhere hand derivation goes wrong: searching for a point with node 2 inactive...\n");
  ag::Generator gen(search_seed);
  std::optional<Point> failing;
  for (int attempt = 1; attempt <= 100000 && !failing; ++attempt) {
    Point at = seed_point;
    auto quarter = [&] { return std::round((gen.uniform() * 4 - 2) * 4) / 4; };  // readable numbers
    for (double& v : at.p) v = quarter();
    at.input1 = quarter();
    at.input2 = quarter();  // non-zero, or w4's formula is hidden behind a factor input2 = 0
    if (at.input2 == 0.0) continue;
    const double pre1 = at.input1 * at.p[0] + at.input2 * at.p[2] + at.p[6];
    const double pre2 = at.input1 * at.p[1] + at.input2 * at.p[3] + at.p[7];
    const double pre3 = std::max(0.0, pre1) * at.p[4] + std::max(0.0, pre2) * at.p[5] + at.p[8];
    if (!(pre1 > 0.1 && pre2 < -0.1 && pre3 > 0.1 && std::abs(pre3 - at.target) > 0.1)) continue;
    fmt::print("found after {} tries: input ({}, {}), target {}, ", attempt, at.input1, at.input2,
               at.target);
    for (std::size_t i = 0; i < 9; ++i) fmt::print("{}={} ", kNames[i], at.p[i]);
    fmt::print(
        "\n  node 1 pre-activation {:+.3g} (active), node 2 {:+.3g} (inactive), output {:+.3g}\n",
        pre1, pre2, pre3);
    Gradients bad = gradients_at(at);
    print_table(bad);
    fmt::print(
        "The seed's w2, w4 and bias2 formulas multiply by relu'(node 1) = 1, but node 2 is off:\n"
        "their true gradients are 0, as backward() and finite differences agree.\n"
        "(The seed's formulas also leave out the output node's ReLU derivative: right only while\n"
        "node 3 is active, as it is at both points above.)\n");
    failing = at;
  }
  if (!failing) {
    fmt::print(stderr, "no failing point found with --search-seed {}\n", search_seed);
    return 1;
  }

  // Why: the engine's chain rule at the failing point, path by path, then the whole backward.
  std::vector<ag::Value> params;
  for (std::size_t i = 0; i < 9; ++i) params.emplace_back(failing->p[i], kNames[i]);
  ag::Value loss = loss_of(params, *failing);
  loss.backward();
  fmt::print("\nWhy backward() gives w2 a zero gradient there: every path from w2 to the loss\n");
  fmt::print("{}", ag::explain(loss, params[1]).text());
  fmt::print("\nand w5, whose formula (2 * node_1_output * err) the seed got right:\n");
  fmt::print("{}", ag::explain(loss, params[4]).text());
  fmt::print("\nThe backward trace: each node's adjoint as the sum over its users\n");
  fmt::print("{}", ag::backward_trace(loss).text());

  // The picture: local derivatives on the edges, w2's paths in red.
  ag::DotOptions picture;
  picture.edge_derivatives = true;
  picture.highlight_from = params[1];
  try {
    ag::render_graph({loss}, graph_file, picture);
    fmt::print("\nGraph of the loss written to {} (w2's path in red)\n", graph_file);
  } catch (const ag::Error& e) {
    fmt::print(stderr, "could not render the graph: {}\n", e.what());
    return 1;
  }
  return step_matches ? 0 : 1;
}
