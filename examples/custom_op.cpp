// A user-defined op: swish(x) = x * sigmoid(x) with its own backward, checked against finite
// differences; and a clipped-gradient op (identity forward, backward clamps the gradient).
#include <autograd/autograd.hpp>
#include <autograd/function.hpp>
#include <cstdint>
#include <iostream>

#include "command_line/options.hpp"

// [swish]
struct Swish : ag::Function<Swish> {
  static constexpr const char* name = "swish";
  static ag::Tensor forward(ag::FunctionContext& ctx, const ag::Tensor& x) {
    ctx.save_for_backward({x});
    return x * ag::sigmoid(x);
  }
  static std::vector<ag::Tensor> backward(ag::FunctionContext& ctx, const ag::Tensor& g) {
    const ag::Tensor x = ctx.saved_tensors()[0];
    const ag::Tensor s = ag::sigmoid(x);
    return {g * (s + x * s * (1.0 - s))};  // d/dx x s(x) = s + x s (1 - s)
  }
};

// Identity forward; backward clamps the incoming gradient into [-bound, bound].
struct ClipGradient : ag::Function<ClipGradient> {
  static constexpr const char* name = "clip_gradient";
  static ag::Tensor forward(ag::FunctionContext& ctx, const ag::Tensor& x, double bound) {
    ctx.values = {bound};
    return x.clone();
  }
  static std::vector<ag::Tensor> backward(ag::FunctionContext& ctx, const ag::Tensor& g) {
    return {ag::clamp(g, -ctx.values[0], ctx.values[0])};
  }
};
// [swish]

int main(int argc, char** argv) {
  command_line::Options options{
      "User-defined ops: swish checked by gradcheck, and a clipped-gradient op"};
  long long seed = 1;
  double bound = 0.5;
  options.add("--seed", seed, "seed of the random 3 x 4 input of the gradient check")
      .range(0LL, 4294967295LL)
      .show_default();
  options.add("--bound", bound, "the clipped-gradient op clamps gradients into [-bound, bound]")
      .range(0.001, 1000.0)
      .show_default();
  if (auto status = options.parse(argc, argv)) return *status;

  ag::Generator gen(static_cast<std::uint64_t>(seed));
  const ag::Tensor x = ag::randn({3, 4}, gen, ag::float64);
  const auto check =
      ag::gradcheck([](const std::vector<ag::Tensor>& in) { return Swish::apply(in[0]); }, {x});
  std::cout << "swish gradcheck: " << (check.ok ? "ok" : check.summary()) << "\n";

  ag::Tensor w = ag::tensor({1.0, -2.0, 3.0}, ag::float64).requires_grad_();
  (ClipGradient::apply(w, bound) * 10.0).sum().backward();
  std::cout << "clipped gradient:";
  for (double v : w.grad().to_vector()) std::cout << " " << v;  // min(bound, 10), not 10
  std::cout << "\n";
  return check.ok ? 0 : 1;
}
