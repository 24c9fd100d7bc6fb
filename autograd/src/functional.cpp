// jacobian, hessian and hvp, built on ag::grad (engine.cpp): one backward per row of a
// Jacobian, two backward passes for a Hessian-vector product.
#include "autograd/functional.hpp"

#include <fmt/format.h>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"

namespace ag {
namespace {

// A fresh leaf with x's values that requires grad: f is differentiated there, and the
// caller's x is never part of the graph.
Tensor variable_at(const char* op, const Tensor& x) {
  if (!x.defined()) throw Error(op, "x is an undefined tensor");
  return x.detach().clone().requires_grad_();
}

Shape concat(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

// Rows d(y[j])/dx for every element j of y, stacked into y.shape ++ x.shape.
Tensor stack_rows(const Tensor& y, const Tensor& x) {
  const std::int64_t rows = y.numel(), cols = x.numel();
  std::vector<double> out(static_cast<std::size_t>(rows * cols), 0.0);
  if (y.requires_grad()) {
    for (std::int64_t j = 0; j < rows; ++j) {
      Tensor seed = zeros(y.shape(), y.dtype());
      if (y.dtype() == float64) {
        seed.mutable_data_ptr<double>()[j] = 1.0;
      } else {
        seed.mutable_data_ptr<float>()[j] = 1.0f;
      }
      Tensor g = grad(y, {x}, seed, /*retain_graph=*/true, /*create_graph=*/false,
                      /*allow_unused=*/true)[0];
      if (!g.defined()) continue;
      const std::vector<double> row = g.to_vector();
      std::copy(row.begin(), row.end(), out.begin() + j * cols);
    }
  }
  return tensor(out, concat(y.shape(), x.shape()), x.dtype());
}

Tensor one_element(const char* op, const Tensor& y) {
  if (!y.defined() || y.numel() != 1) {
    throw Error(op, fmt::format("f must return a one-element tensor, got {}",
                                y.defined() ? to_string(y.shape()) : "an undefined tensor"));
  }
  return y;
}

}  // namespace

Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  EnableGradGuard with_grad;
  Tensor at = variable_at("jacobian", x);
  Tensor y = f(at);
  if (!y.defined()) throw Error("jacobian", "f returned an undefined tensor");
  return stack_rows(y, at);
}

Tensor hessian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  EnableGradGuard with_grad;
  Tensor at = variable_at("hessian", x);
  Tensor y = one_element("hessian", f(at));
  if (!y.requires_grad()) return zeros(concat(x.shape(), x.shape()), x.dtype());
  Tensor g = grad(y, {at}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  return stack_rows(g, at);
}

Tensor hvp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, const Tensor& v) {
  EnableGradGuard with_grad;
  Tensor at = variable_at("hvp", x);
  if (!v.defined() || v.shape() != x.shape()) {
    throw Error("hvp", fmt::format("v must have x's shape {}, got {}", to_string(x.shape()),
                                   v.defined() ? to_string(v.shape()) : "an undefined tensor"));
  }
  Tensor y = one_element("hvp", f(at));
  if (!y.requires_grad()) return zeros_like(x);
  Tensor g = grad(y, {at}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  if (!g.requires_grad()) return zeros_like(x);  // f is linear in x
  Tensor hv = grad(g, {at}, v.detach().to(g.dtype()), false, false, /*allow_unused=*/true)[0];
  return hv.defined() ? hv : zeros_like(x);
}

}  // namespace ag
