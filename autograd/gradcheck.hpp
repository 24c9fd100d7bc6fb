#pragma once
// Finite-difference gradient checking, the way PyTorch's gradcheck does it: float64, central
// differences. Used by the library's own tests for every op; public so users check theirs.
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"

namespace ag {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  // One line per mismatching element: input, index, analytic and numeric values.
  std::vector<std::string> mismatches;
  // Per input, per element (row-major): the engine's gradient and the finite difference.
  std::vector<std::vector<double>> analytic;
  std::vector<std::vector<double>> numeric;
  std::string summary() const;
};

// Checks d(sum(f(inputs) * w))/d(inputs) for a fixed random weighting w against central
// differences (w = 1 for a one-element output, so the numbers are plain df/dx). Inputs must be
// float64; they are not modified.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});
// The same for scalar functions of Values.
GradcheckResult gradcheck(const std::function<Value(const std::vector<Value>&)>& f,
                          const std::vector<double>& point, GradcheckOptions options = {});

// Second derivatives, the way PyTorch's gradgradcheck does it: gradcheck of the function
// inputs -> ag::grad(f(inputs), inputs, v, create_graph=true) for a fixed random v, i.e. the
// analytic Hessian-vector products against central differences of the analytic gradient.
// Same tolerances as gradcheck. Inputs must be float64; they are not modified.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs, GradcheckOptions options = {});
// The same for scalar functions of Values.
GradcheckResult gradgradcheck(const std::function<Value(const std::vector<Value>&)>& f,
                              const std::vector<double>& point, GradcheckOptions options = {});

}  // namespace ag
