#pragma once
// Gradients as values, and higher-order derivatives (PyTorch's torch.autograd.grad and
// torch.autograd.functional).
//
//   auto x = ag::tensor({1.0, 2.0}, ag::float64).requires_grad_();
//   auto y = (x * x * x).sum();
//   auto g = ag::grad(y, {x}, {}, false, /*create_graph=*/true)[0];  // 3x^2, with history
//   auto h = ag::grad(g.sum(), {x})[0];                               // 6x
//
// Gradients computed with create_graph are ordinary graphs: differentiate them again (any
// order), draw them, or put them in a loss (a gradient penalty).
#include <functional>
#include <vector>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"

namespace ag {

// d(output)/d(input) for each input, weighted by grad_output (needed unless output has one
// element), without touching any tensor's grad(). Inputs may be leaves or intermediates; each
// must require grad. With create_graph the results require grad and carry history; without
// it they are plain tensors. retain_graph (implied by create_graph) keeps the graph's saved
// values for another backward. An input that the output does not depend on is an error
// (PyTorch's rule) unless allow_unused, which gives an undefined tensor for it; an input that
// is reached but receives no gradient (only max's losers, say) gets zeros.
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const Tensor& grad_output = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);
// The same for Values. An unused input with allow_unused gets a constant 0.
std::vector<Value> grad(const Value& output, const std::vector<Value>& inputs,
                        bool retain_graph = false, bool create_graph = false,
                        bool allow_unused = false);

// The Jacobian of f at x: shape f(x).shape ++ x.shape, one backward per output element.
// Plain numbers (no history); x is not modified.
Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x);
// The Hessian of a one-element f at x: shape x.shape ++ x.shape.
Tensor hessian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x);
// The Hessian of a one-element f at x times v (v has x's shape), in two backward passes
// (never forming the Hessian): d/dx <df/dx, v>.
Tensor hvp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, const Tensor& v);

}  // namespace ag
