// Uses both libraries through their installed headers; prints values checked by CTest.
#include <autograd/autograd.hpp>
#include <nn/nn.hpp>

int main() {
  ag::Value x = -4.0;
  auto z = 2 * x + 2 + x;
  auto q = relu(z) + z * x;
  auto h = relu(z * z);
  auto y = h + q + q * x;
  y.backward();
  ag::Generator gen(1);
  ag::nn::Dense dense(3, 2, ag::nn::Init::XavierNormal, gen, ag::float64);
  ag::Tensor out = dense(ag::ones({4, 3}, ag::float64)).sum();
  out.backward();
  fmt::print("y={} dx={} bias_grad={}\n", y.data(), x.grad(), dense.bias.grad().to_vector()[0]);
  return 0;
}
