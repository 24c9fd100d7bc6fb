#pragma once
// The agrad module is bound one face per file: values, tensors, nn, graphs (pictures,
// gradcheck). Each file adds its classes and functions to the module in its bind_* function.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>

namespace agrad {

namespace py = pybind11;

void bind_errors(py::module_& m);  // module.cpp: agrad.Error, grad mode, threads, memory
void bind_value(py::module_& m);   // value.cpp: agrad.Value
void bind_tensor(py::module_& m);  // tensor.cpp: agrad.Tensor, NumPy, factories, ops
void bind_nn(py::module_& m);      // nn.cpp: agrad.nn (modules, losses, optimizers, checkpoints)
void bind_graph(py::module_& m);   // graph.cpp: to_dot, SVG, gradcheck
// Bound only where the engine has them (__has_include), so the module builds either way:
void bind_explain(py::module_& m);     // explain.cpp: explain, backward_trace
void bind_functional(py::module_& m);  // functional.cpp: grad, jacobian, hessian, hvp

// Releases the GIL for work big enough to be worth letting other Python threads run (a
// backward, a large kernel); tiny ops keep it, since releasing costs more than they do.
// The engine's rule still holds with the GIL released: one graph is used by one thread at a time.
class ReleaseGilIf {
 public:
  explicit ReleaseGilIf(bool release) {
    if (release) released_.emplace();
  }

 private:
  std::optional<py::gil_scoped_release> released_;
};

// Elements from which a tensor kernel runs without the GIL.
inline constexpr std::int64_t kReleaseGilElements = 1 << 15;

}  // namespace agrad
