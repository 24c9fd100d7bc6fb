// Finite-difference gradient checking (float64, central differences). One checker: the Value
// form runs through the tensor form by bridging each input into a 0-d tensor.
#include "autograd/gradcheck.hpp"

#include <fmt/format.h>

#include <cmath>

#include "autograd/error.hpp"
#include "autograd/functional.hpp"
#include "autograd/grad_mode.hpp"

namespace ag {

std::string GradcheckResult::summary() const {
  if (ok) return fmt::format("gradcheck passed (max abs error {:.3g})", max_abs_error);
  return fmt::format("gradcheck failed: {} mismatches (max abs error {:.3g})\n  {}",
                     mismatches.size(), max_abs_error, fmt::join(mismatches, "\n  "));
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || inputs[i].dtype() != float64) {
      throw Error("gradcheck", fmt::format("input {} must be a defined float64 tensor", i));
    }
  }
  // Private copies: the caller's tensors are never touched.
  std::vector<std::vector<double>> point;
  point.reserve(inputs.size());
  for (const auto& t : inputs) point.push_back(t.to_vector());
  auto make_inputs = [&](bool grad) {
    std::vector<Tensor> xs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      xs.push_back(tensor(point[i], inputs[i].shape(), float64));
      if (grad) xs.back().requires_grad_();
    }
    return xs;
  };
  // A fixed random weighting makes every output element matter: L = sum(f(x) * w).
  std::vector<Tensor> xs = make_inputs(true);
  Tensor y = f(xs);
  if (!y.defined() || y.dtype() != float64)
    throw Error("gradcheck", "f must return a defined float64 tensor");
  Generator gen(0x5eed);
  // A one-element output is checked as it is (w = 1), so analytic/numeric are df/dx.
  const Tensor w = y.numel() == 1 ? ones(y.shape(), float64) : rand(y.shape(), gen, float64) + 0.5;
  auto objective = [&](const std::vector<Tensor>& x) {
    NoGradGuard no_grad;
    return (f(x) * w).sum().item();
  };
  (y * w).sum().backward();

  GradcheckResult result;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor g = xs[i].grad();
    const std::vector<double> analytic =
        g.defined() ? g.to_vector() : std::vector<double>(point[i].size(), 0.0);
    result.analytic.push_back(analytic);
    result.numeric.emplace_back();
    for (std::size_t j = 0; j < point[i].size(); ++j) {
      const double x0 = point[i][j];
      point[i][j] = x0 + options.eps;
      const double up = objective(make_inputs(false));
      point[i][j] = x0 - options.eps;
      const double down = objective(make_inputs(false));
      point[i][j] = x0;
      const double numeric = (up - down) / (2 * options.eps);
      result.numeric.back().push_back(numeric);
      const double err = std::abs(analytic[j] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, std::isnan(err) ? INFINITY : err);
      if (!(err <= options.atol + options.rtol * std::abs(numeric))) {
        result.ok = false;
        result.mismatches.push_back(
            fmt::format("input {} element {} (x = {}): analytic {} vs numeric {}", i, j, x0,
                        analytic[j], numeric));
      }
    }
  }
  return result;
}

namespace {
// A scalar function of Values as a function of 0-d float64 tensors (the bridges carry the
// gradients), and its point as those tensors: both checkers then serve Values too.
using ValueFn = std::function<Value(const std::vector<Value>&)>;
using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;
TensorFn on_tensors(const ValueFn& f) {
  return [&f](const std::vector<Tensor>& xs) {
    std::vector<Value> values;
    values.reserve(xs.size());
    for (const auto& t : xs) values.emplace_back(t);
    return Tensor(f(values));
  };
}
std::vector<Tensor> as_tensors(const std::vector<double>& point) {
  std::vector<Tensor> inputs;
  inputs.reserve(point.size());
  for (double x : point) inputs.push_back(scalar_tensor(x, float64));
  return inputs;
}
}  // namespace

GradcheckResult gradcheck(const ValueFn& f, const std::vector<double>& point,
                          GradcheckOptions options) {
  return gradcheck(on_tensors(f), as_tensors(point), options);
}

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs, GradcheckOptions options) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || inputs[i].dtype() != float64) {
      throw Error("gradgradcheck", fmt::format("input {} must be a defined float64 tensor", i));
    }
  }
  Tensor weights;  // the output gradient v, fixed for every evaluation
  {
    NoGradGuard no_grad;
    const Tensor y = f(inputs);
    if (!y.defined() || y.dtype() != float64)
      throw Error("gradgradcheck", "f must return a defined float64 tensor");
    Generator gen(0xd0d0);
    weights = rand(y.shape(), gen, float64) + 0.5;
  }
  // inputs -> all first derivatives, flattened into one vector. gradcheck calls it with
  // leaves that require grad (then the result has history: its backward gives second
  // derivatives) and, for finite differences, with plain tensors under NoGradGuard.
  auto first_derivatives = [&](const std::vector<Tensor>& xs) {
    EnableGradGuard with_grad;
    bool differentiate_again = false;
    std::vector<Tensor> at;
    for (const Tensor& x : xs) {
      differentiate_again = differentiate_again || x.requires_grad();
      at.push_back(x.requires_grad() ? x : x.detach().requires_grad_());
    }
    const Tensor y = f(at);
    std::vector<Tensor> gs;
    if (y.requires_grad())
      gs = grad(y, at, weights, false, differentiate_again, /*allow_unused=*/true);
    gs.resize(at.size());
    std::vector<Tensor> flat;
    Tensor anchor = scalar_tensor(0.0, float64);
    for (std::size_t i = 0; i < at.size(); ++i) {
      flat.push_back((gs[i].defined() ? gs[i] : zeros_like(at[i])).reshape({-1}));
      if (differentiate_again) anchor = anchor + at[i].sum() * 0.0;
    }
    // The 0 * inputs term makes a gradient without history (f linear in an input) a function
    // of the inputs whose derivative is 0, so that it is checked rather than refused.
    return cat(flat, 0) + anchor;
  };
  GradcheckResult result = gradcheck(first_derivatives, inputs, options);
  return result;
}

GradcheckResult gradgradcheck(const ValueFn& f, const std::vector<double>& point,
                              GradcheckOptions options) {
  return gradgradcheck(on_tensors(f), as_tensors(point), options);
}

}  // namespace ag
