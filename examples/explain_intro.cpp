// Why is df/dw what it is? ag::explain lists every path from w to f with its local
// derivatives; ag::backward_trace writes each adjoint as the sum over its users.
#include <autograd/autograd.hpp>
#include <iostream>

int main() {
  ag::Value w(0.5, "w"), x(2.0, "x");
  ag::Value f = relu(w * x - 0.3) * w;
  f.set_label("f");
  f.backward();
  std::cout << "w.grad() = " << w.grad() << "\n\n";
  std::cout << ag::explain(f, w).text() << "\n";
  std::cout << ag::backward_trace(f).text();
}
