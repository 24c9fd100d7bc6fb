// The cost of a Hessian-vector product relative to a gradient, on an MLP's loss with respect
// to its first layer (forward included in both).
//
//   hvp_cost [reps]          times both in one process and prints hvp / gradient
//   hvp_cost grad|hvp reps   runs one kind only (for valgrind --tool=callgrind counts)
#include <autograd/autograd.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Mlp {
  ag::Tensor x, w1, b1, w2, b2, w3;
  std::vector<std::int64_t> labels;
  ag::Tensor loss(const ag::Tensor& first) const {
    ag::Tensor h = ag::linear(x, first, b1).tanh();
    h = ag::linear(h, w2, b2).tanh();
    return ag::cross_entropy(ag::matmul(h, w3), labels);
  }
};

Mlp make_mlp() {
  ag::Generator gen(3);
  const std::int64_t batch = 32, in = 64, h1 = 32, h2 = 16, classes = 10;
  Mlp m{ag::randn({batch, in}, gen, ag::float64),
        ag::randn({in, h1}, gen, ag::float64) * 0.1,
        ag::randn({h1}, gen, ag::float64) * 0.1,
        ag::randn({h1, h2}, gen, ag::float64) * 0.1,
        ag::randn({h2}, gen, ag::float64) * 0.1,
        ag::randn({h2, classes}, gen, ag::float64) * 0.1,
        {}};
  for (std::int64_t i = 0; i < batch; ++i) m.labels.push_back(i % classes);
  return m;
}

double run(const Mlp& m, bool hvp, int reps) {
  const ag::Tensor v = ag::ones(m.w1.shape(), ag::float64);
  double checksum = 0.0;
  for (int r = 0; r < reps; ++r) {
    if (hvp) {
      checksum += ag::hvp([&](const ag::Tensor& w) { return m.loss(w); }, m.w1, v).sum().item();
    } else {
      ag::Tensor w = m.w1.detach().clone().requires_grad_();
      checksum += ag::grad(m.loss(w), {w})[0].sum().item();
    }
  }
  return checksum;
}

double seconds(const Mlp& m, bool hvp, int reps) {
  const auto t0 = std::chrono::steady_clock::now();
  run(m, hvp, reps);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Mlp m = make_mlp();
  if (argc == 3) {
    const bool hvp = std::string(argv[1]) == "hvp";
    std::printf("%s checksum %.12g\n", argv[1], run(m, hvp, std::atoi(argv[2])));
    return 0;
  }
  const int reps = argc > 1 ? std::atoi(argv[1]) : 200;
  run(m, false, 5);  // warm the caches
  run(m, true, 5);
  double grad_s = 0, hvp_s = 0;
  for (int round = 0; round < 5; ++round) {  // interleaved, so load changes hit both alike
    grad_s += seconds(m, false, reps);
    hvp_s += seconds(m, true, reps);
  }
  std::printf("gradient %.1f us, hvp %.1f us, hvp / gradient = %.2f\n", grad_s / (5 * reps) * 1e6,
              hvp_s / (5 * reps) * 1e6, hvp_s / grad_s);
}
