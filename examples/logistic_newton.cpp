// Exact Newton steps for a small logistic regression: the Hessian comes from the engine
// (ag::hessian) and is checked against the textbook formula H = X^T diag(p (1 - p)) X / n.
// Newton's method converges quadratically: the gradient norm roughly squares each step.
#include <autograd/autograd.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "command_line/options.hpp"

namespace {

constexpr int kRows = 40, kCols = 3;  // two features and a constant 1 (the bias)

// Solves A d = b (A is kCols x kCols, row-major) by Gaussian elimination with pivoting.
std::vector<double> solve(std::vector<double> A, std::vector<double> b) {
  const int n = static_cast<int>(b.size());
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(A[r * n + c]) > std::abs(A[pivot * n + c])) pivot = r;
    for (int k = 0; k < n; ++k) std::swap(A[c * n + k], A[pivot * n + k]);
    std::swap(b[c], b[pivot]);
    for (int r = c + 1; r < n; ++r) {
      const double m = A[r * n + c] / A[c * n + c];
      for (int k = c; k < n; ++k) A[r * n + k] -= m * A[c * n + k];
      b[r] -= m * b[c];
    }
  }
  std::vector<double> d(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= A[r * n + k] * d[k];
    d[r] = s / A[r * n + r];
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Exact Newton steps for a logistic regression, engine Hessian vs the closed form"};
  int steps = 6;
  long long seed = 7;
  options.add("--steps", steps, "Newton steps after the start (step 0)")
      .range(0, 100)
      .show_default();
  options.add("--seed", seed, "seed of the generated data").range(0LL, 4294967295LL).show_default();
  if (auto status = options.parse(argc, argv)) return *status;

  // Noisy labels from a known direction, so the data are rarely separable (the minimum exists).
  ag::Generator gen(static_cast<std::uint64_t>(seed));
  std::vector<double> xs, ys;
  const double truth[kCols] = {1.5, -2.0, 0.5};
  for (int i = 0; i < kRows; ++i) {
    double z = truth[2];
    for (int j = 0; j < 2; ++j) {
      const double v = gen.normal();
      xs.push_back(v);
      z += truth[j] * v;
    }
    xs.push_back(1.0);
    ys.push_back(gen.uniform() < 1.0 / (1.0 + std::exp(-z)) ? 1.0 : 0.0);
  }
  const ag::Tensor X = ag::tensor(xs, {kRows, kCols}, ag::float64);
  const ag::Tensor y = ag::tensor(ys, {kRows}, ag::float64);
  // Mean negative log-likelihood; 1 - sigmoid(z) = sigmoid(-z).
  auto loss = [&](const ag::Tensor& w) {
    ag::Tensor z = ag::matmul(X, w);
    return -(y * z.sigmoid().log() + (1.0 - y) * (-z).sigmoid().log()).mean();
  };

  std::vector<double> w(kCols, 0.0);
  bool hessians_match = true;
  for (int step = 0; step <= steps; ++step) {
    for (double v : w)
      if (!std::isfinite(v)) {
        std::fprintf(stderr,
                     "logistic_newton: step %d is not finite (a singular Hessian: the data of "
                     "seed %lld may be separable, so no minimum exists)\n",
                     step, seed);
        return 1;
      }
    ag::Tensor wt = ag::tensor(w, {kCols}, ag::float64).requires_grad_();
    ag::Tensor L = loss(wt);
    const std::vector<double> g = ag::grad(L, {wt})[0].to_vector();
    const std::vector<double> H = ag::hessian(loss, wt).to_vector();
    // The closed form, from the probabilities p = sigmoid(X w).
    double worst = 0.0;
    std::vector<double> closed(kCols * kCols, 0.0);
    for (int i = 0; i < kRows; ++i) {
      double z = 0.0;
      for (int j = 0; j < kCols; ++j) z += xs[i * kCols + j] * w[j];
      const double p = 1.0 / (1.0 + std::exp(-z));
      for (int a = 0; a < kCols; ++a)
        for (int b = 0; b < kCols; ++b)
          closed[a * kCols + b] += xs[i * kCols + a] * xs[i * kCols + b] * p * (1 - p) / kRows;
    }
    for (int k = 0; k < kCols * kCols; ++k) worst = std::max(worst, std::abs(H[k] - closed[k]));
    hessians_match = hessians_match && worst < 1e-12;
    double norm = 0.0;
    for (double v : g) norm += v * v;
    std::printf(
        "step %d: loss %.12f  |grad| %.3e  max |H - X^T D X / n| %.1e  w = (%.6f, %.6f, "
        "%.6f)\n",
        step, L.item(), std::sqrt(norm), worst, w[0], w[1], w[2]);
    const std::vector<double> d = solve(H, g);
    for (int j = 0; j < kCols; ++j) w[j] -= d[j];
  }
  std::printf("engine Hessian = closed form at every step (to 1e-12): %s\n",
              hessians_match ? "yes" : "NO");
}
