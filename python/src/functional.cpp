// agrad.grad, jacobian, hessian and hvp (autograd/functional.hpp: gradients as values and
// higher-order derivatives), where the engine has them; the module then simply lacks them.
// The umbrella header first: its content changes when the engine gains these headers, which
// is what tells make and ccache to rebuild this file (an absent header is in no dependency list).
#include <autograd/autograd.hpp>

#include "bindings.hpp"

#if __has_include(<autograd/functional.hpp>)
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <autograd/functional.hpp>
#include <vector>

#include "convert.hpp"
#endif

namespace agrad {

void bind_functional([[maybe_unused]] py::module_& m) {
#if __has_include(<autograd/functional.hpp>)
  m.def(
      "grad",
      [](const py::object& output, const py::list& inputs, const py::object& grad_output,
         bool retain_graph, bool create_graph, bool allow_unused) -> py::list {
        py::list out;
        if (py::isinstance<ag::Value>(output)) {
          const auto xs = inputs.cast<std::vector<ag::Value>>();
          const auto& y = output.cast<const ag::Value&>();
          std::vector<ag::Value> gs;
          {
            const py::gil_scoped_release unlocked;
            gs = ag::grad(y, xs, retain_graph, create_graph, allow_unused);
          }
          for (auto& g : gs) out.append(py::cast(std::move(g)));
          return out;
        }
        const auto xs = inputs.cast<std::vector<ag::Tensor>>();
        const auto& y = output.cast<const ag::Tensor&>();
        const ag::Tensor seed =
            grad_output.is_none() ? ag::Tensor() : tensor_from(grad_output, y.dtype());
        std::vector<ag::Tensor> gs;
        {
          const py::gil_scoped_release unlocked;
          gs = ag::grad(y, xs, seed, retain_graph, create_graph, allow_unused);
        }
        for (auto& g : gs) out.append(g.defined() ? py::cast(std::move(g)) : py::none());
        return out;
      },
      py::arg("output"), py::arg("inputs"), py::arg("grad_output") = py::none(),
      py::arg("retain_graph") = false, py::arg("create_graph") = false,
      py::arg("allow_unused") = false,
      "d(output)/d(input) for each input, without touching .grad (torch.autograd.grad). With "
      "create_graph the results have history and can be differentiated again.");
  using TensorFn = std::function<ag::Tensor(const ag::Tensor&)>;
  m.def(
      "jacobian", [](const TensorFn& f, const ag::Tensor& x) { return ag::jacobian(f, x); },
      py::arg("f"), py::arg("x"), "The Jacobian of f at x: shape f(x).shape + x.shape.");
  m.def(
      "hessian", [](const TensorFn& f, const ag::Tensor& x) { return ag::hessian(f, x); },
      py::arg("f"), py::arg("x"), "The Hessian of a one-element f at x: shape x.shape + x.shape.");
  m.def(
      "hvp",
      [](const TensorFn& f, const ag::Tensor& x, const ag::Tensor& v) { return ag::hvp(f, x, v); },
      py::arg("f"), py::arg("x"), py::arg("v"),
      "Hessian of f at x times v, in two backward passes.");
#endif
}

}  // namespace agrad
