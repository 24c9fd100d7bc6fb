// Why is df/dw what it is? ag::explain lists every path from w to f with its local
// derivatives; ag::backward_trace writes each adjoint as the sum over its users.
#include <autograd/autograd.hpp>
#include <iostream>

#include "command_line/options.hpp"

int main(int argc, char** argv) {
  command_line::Options options{
      "Why is df/dw what it is? ag::explain and ag::backward_trace of f = relu(w x - 0.3) w"};
  double w_value = 0.5, x_value = 2.0;
  options.add("--w", w_value, "value of w").range(-1e6, 1e6).show_default();
  options.add("--x", x_value, "value of x").range(-1e6, 1e6).show_default();
  if (auto status = options.parse(argc, argv)) return *status;

  ag::Value w(w_value, "w"), x(x_value, "x");
  ag::Value f = relu(w * x - 0.3) * w;
  f.set_label("f");
  f.backward();
  std::cout << "w.grad() = " << w.grad() << "\n\n";
  std::cout << ag::explain(f, w).text() << "\n";
  std::cout << ag::backward_trace(f).text();
}
