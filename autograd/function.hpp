#pragma once
// User-defined differentiable ops, in the manner of PyTorch's torch.autograd.Function: a
// forward that computes the result and a backward that returns one gradient per input.
//
//   struct Swish : ag::Function<Swish> {
//     static constexpr const char* name = "swish";
//     static ag::Tensor forward(ag::FunctionContext& ctx, const ag::Tensor& x) {
//       ctx.save_for_backward({x});
//       return x * ag::sigmoid(x);
//     }
//     static std::vector<ag::Tensor> backward(ag::FunctionContext& ctx, const ag::Tensor& g) {
//       const ag::Tensor x = ctx.saved_tensors()[0];
//       const ag::Tensor s = ag::sigmoid(x);
//       return {g * (s + x * s * (1.0 - s))};
//     }
//   };
//   ag::Tensor y = Swish::apply(x);   // recorded as one node named "swish"
//
// forward runs with gradient recording off; its tensor arguments become the node's inputs
// (other arguments, like a clipping bound, are passed through). backward gets the gradient
// of the output and returns one gradient per tensor input, of that input's shape, or an
// undefined Tensor for "none". A tensor saved for backward and then written in place (an
// optimizer step, mutable_data_ptr) makes backward refuse with an ag::Error naming the op.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag {

class FunctionContext {
 public:
  // Keeps tensors for backward, with their storage versions.
  void save_for_backward(std::initializer_list<Tensor> tensors);
  // The saved tensors, in order. Throws an ag::Error naming the op if one was modified in
  // place since it was saved. Saved inputs come back as the inputs themselves; other saved
  // tensors (the output, temporaries) come back without history.
  std::vector<Tensor> saved_tensors() const;
  // Numbers backward needs (a bound, a scale): ctx.values["bound"] = 1.0.
  std::vector<double> values;

 private:
  friend struct FunctionAccess;
  std::string name_;
  std::vector<Tensor> inputs_;
  struct Saved {
    Tensor tensor;
    int input = -1;  // index into inputs_, or -1
    std::uint64_t version = 0;
  };
  std::vector<Saved> saved_;
};

namespace detail {
Tensor apply_function(const char* name, std::vector<Tensor> inputs,
                      const std::function<Tensor(FunctionContext&)>& forward,
                      std::vector<Tensor> (*backward)(FunctionContext&, const Tensor&));
}  // namespace detail

template <class Derived>
struct Function {
  // Runs Derived::forward(ctx, args...) and records one node whose backward is
  // Derived::backward. Every Tensor argument is an input of the node.
  template <class... Args>
  static Tensor apply(const Args&... args) {
    std::vector<Tensor> inputs;
    (
        [&] {
          if constexpr (std::is_same_v<Args, Tensor>) inputs.push_back(args);
        }(),
        ...);
    return detail::apply_function(
        Derived::name, std::move(inputs),
        [&](FunctionContext& ctx) { return Derived::forward(ctx, args...); }, &Derived::backward);
  }
};

}  // namespace ag
