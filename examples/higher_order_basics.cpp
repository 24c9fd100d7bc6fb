// The snippet of docs/higher_order.md, as a program (a test checks the page quotes it as is).
#include <autograd/autograd.hpp>
#include <cstdio>

#include "command_line/options.hpp"

int main(int argc, char** argv) {
  command_line::Options options{"Gradients of gradients: ag::grad with create_graph, hessian, hvp"};
  if (auto status = options.parse(argc, argv)) return *status;  // --help; nothing else to set

  ag::Tensor x = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
  ag::Tensor y = (x * x * x).sum();  // y = x0^3 + x1^3

  // First derivative, with history: 3x^2 = [3, 12].
  ag::Tensor g = ag::grad(y, {x}, {}, /*retain_graph=*/false, /*create_graph=*/true)[0];
  // Differentiate it again: d/dx sum(3x^2) = 6x = [6, 12].
  ag::Tensor h = ag::grad(g.sum(), {x})[0];
  // The whole Hessian, and a Hessian-vector product without forming it.
  auto cube = [](const ag::Tensor& v) { return (v * v * v).sum(); };
  ag::Tensor H = ag::hessian(cube, x);                                    // [[6, 0], [0, 12]]
  ag::Tensor Hv = ag::hvp(cube, x, ag::tensor({1.0, 1.0}, ag::float64));  // [6, 12]

  std::printf("g = %s\nh = %s\nH = %s\nHv = %s\n", ag::to_string(g).c_str(),
              ag::to_string(h).c_str(), ag::to_string(H).c_str(), ag::to_string(Hv).c_str());
}
