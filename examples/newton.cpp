// Newton's method with second derivatives from the engine, printed next to the closed form.
//
// Newton's step jumps to the minimum of the local quadratic model: x <- x - f'(x) / f''(x)
// (for several parameters: w <- w - H^-1 grad). The engine computes f'' by differentiating
// the gradient itself: ag::grad with create_graph=true returns a gradient that has history.
#include <autograd/autograd.hpp>
#include <cmath>
#include <cstdio>

#include "command_line/options.hpp"

namespace {

// 1-D: f(x) = x^4 - 3x^2 + 2, f' = 4x^3 - 6x, f'' = 12x^2 - 6; minimum at sqrt(3/2).
// Returns false (after saying why) when a step is undefined: f'' = 0 at +-sqrt(1/2).
bool one_dimension(double x0, int steps) {
  std::printf("f(x) = x^4 - 3x^2 + 2, from x = %g\n", x0);
  double x_engine = x0, x_closed = x0;
  for (int step = 1; step <= steps; ++step) {
    ag::Value x = x_engine;
    ag::Value f = ag::pow(x, 4.0) - 3.0 * x * x + 2.0;
    ag::Value df = ag::grad(f, {x}, false, /*create_graph=*/true)[0];  // has history
    ag::Value d2f = ag::grad(df, {x})[0];                              // d(f')/dx
    if (std::abs(d2f.data()) < 1e-9) {
      std::fprintf(stderr, "newton: f''(%.10f) = %g: the Newton step is undefined there\n",
                   x_engine, d2f.data());
      return false;
    }
    x_engine -= df.data() / d2f.data();
    x_closed -= (4 * std::pow(x_closed, 3) - 6 * x_closed) / (12 * x_closed * x_closed - 6);
    std::printf("  step %d: f'' = %.10f  x = %.10f  (closed form %.10f)\n", step, d2f.data(),
                x_engine, x_closed);
  }
  std::printf("  minimum sqrt(3/2) = %.10f\n", std::sqrt(1.5));
  return true;
}

// 2 parameters: L(a, b) = (a - 1)^2 + 10 (b - a^2)^2, minimum at (1, 1).
//   dL/da = 2(a - 1) - 40a(b - a^2)   dL/db = 20(b - a^2)
//   H = [[2 - 40b + 120a^2, -40a], [-40a, 20]]
void two_parameters(int steps) {
  std::printf("L(a, b) = (a - 1)^2 + 10 (b - a^2)^2, from (a, b) = (-1, 2)\n");
  auto loss = [](const ag::Tensor& w) {
    ag::Tensor v = w.reshape({1, 2});
    ag::Tensor a = ag::pick(v, std::vector<std::int64_t>{0});
    ag::Tensor b = ag::pick(v, std::vector<std::int64_t>{1});
    ag::Tensor r = b - a * a;
    return ((a - 1.0) * (a - 1.0) + 10.0 * r * r).sum();
  };
  std::vector<double> w_engine{-1.0, 2.0}, w_closed{-1.0, 2.0};
  for (int step = 1; step <= steps; ++step) {
    ag::Tensor w = ag::tensor(w_engine, {2}, ag::float64).requires_grad_();
    ag::Tensor g = ag::grad(loss(w), {w})[0];
    ag::Tensor h = ag::hessian(loss, w);  // [2, 2]
    const auto gv = g.to_vector(), hv = h.to_vector();
    // Solve H d = g for the 2 x 2 case.
    const double det = hv[0] * hv[3] - hv[1] * hv[2];
    w_engine[0] -= (hv[3] * gv[0] - hv[1] * gv[1]) / det;
    w_engine[1] -= (hv[0] * gv[1] - hv[2] * gv[0]) / det;
    const double a = w_closed[0], b = w_closed[1];
    const double ga = 2 * (a - 1) - 40 * a * (b - a * a), gb = 20 * (b - a * a);
    const double haa = 2 - 40 * b + 120 * a * a, hab = -40 * a, hbb = 20;
    const double dc = haa * hbb - hab * hab;
    w_closed[0] -= (hbb * ga - hab * gb) / dc;
    w_closed[1] -= (haa * gb - hab * ga) / dc;
    std::printf(
        "  step %d: H = [[%.4f, %.4f], [%.4f, %.4f]]  (a, b) = (%.10f, %.10f)  "
        "(closed form (%.10f, %.10f))\n",
        step, hv[0], hv[1], hv[2], hv[3], w_engine[0], w_engine[1], w_closed[0], w_closed[1]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  command_line::Options options{
      "Newton's method with second derivatives from the engine, next to the closed form"};
  int steps = 6;
  double x0 = 2.0;
  options.add("--steps", steps, "Newton steps of each of the two problems")
      .range(1, 100)
      .show_default();
  options.add("--x0", x0, "start of the 1-D problem").range(-100.0, 100.0).show_default();
  if (auto status = options.parse(argc, argv)) return *status;
  if (!one_dimension(x0, steps)) return 1;
  two_parameters(steps);
}
