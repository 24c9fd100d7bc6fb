// agrad.explain and agrad.backward_trace: why a gradient is what it is (ag::explain), where the
// engine has them; the module then simply lacks the two functions.
// The umbrella header first: its content changes when the engine gains these headers, which
// is what tells make and ccache to rebuild this file (an absent header is in no dependency list).
#include <autograd/autograd.hpp>

#include "bindings.hpp"

#if __has_include(<autograd/explain.hpp>)
#include <pybind11/stl.h>

#include <autograd/explain.hpp>

#include "convert.hpp"
#endif

namespace agrad {

void bind_explain([[maybe_unused]] py::module_& m) {
#if __has_include(<autograd/explain.hpp>)
  py::class_<ag::ExplainFactor>(m, "ExplainFactor", "One edge of a path: d node / d input.")
      .def_readonly("node", &ag::ExplainFactor::node)
      .def_readonly("op", &ag::ExplainFactor::op)
      .def_readonly("node_value", &ag::ExplainFactor::node_value)
      .def_readonly("input_value", &ag::ExplainFactor::input_value)
      .def_readonly("local", &ag::ExplainFactor::local)
      .def_readonly("why_zero", &ag::ExplainFactor::why_zero);
  py::class_<ag::ExplainPath>(m, "ExplainPath", "A path from wrt to the output and its product.")
      .def_readonly("nodes", &ag::ExplainPath::nodes)
      .def_readonly("ids", &ag::ExplainPath::ids)
      .def_readonly("factors", &ag::ExplainPath::factors)
      .def_readonly("product", &ag::ExplainPath::product)
      .def_readonly("zero_factor", &ag::ExplainPath::zero_factor);
  py::class_<ag::AdjointTerm>(m, "AdjointTerm")
      .def_readonly("user", &ag::AdjointTerm::user)
      .def_readonly("user_id", &ag::AdjointTerm::user_id)
      .def_readonly("user_adjoint", &ag::AdjointTerm::user_adjoint)
      .def_readonly("local", &ag::AdjointTerm::local);
  py::class_<ag::TraceStep>(m, "TraceStep", "A node backward visits, its adjoint and terms.")
      .def_readonly("id", &ag::TraceStep::id)
      .def_readonly("name", &ag::TraceStep::name)
      .def_readonly("op", &ag::TraceStep::op)
      .def_readonly("is_scalar", &ag::TraceStep::is_scalar)
      .def_readonly("value", &ag::TraceStep::value)
      .def_readonly("adjoint", &ag::TraceStep::adjoint)
      .def_readonly("terms", &ag::TraceStep::terms)
      .def_readonly("shape", &ag::TraceStep::shape)
      .def_readonly("has_grad", &ag::TraceStep::has_grad)
      .def_readonly("grad_norm", &ag::TraceStep::grad_norm)
      .def_readonly("grad_max_abs", &ag::TraceStep::grad_max_abs)
      .def_readonly("zero_fraction", &ag::TraceStep::zero_fraction);
  py::class_<ag::BackwardTrace>(m, "BackwardTrace")
      .def_readonly("output", &ag::BackwardTrace::output)
      .def_readonly("steps", &ag::BackwardTrace::steps)
      .def("text", &ag::BackwardTrace::text, py::arg("precision") = 6)
      .def("__str__", [](const ag::BackwardTrace& t) { return t.text(); })
      .def("__repr__", [](const ag::BackwardTrace& t) { return t.text(); });
  py::class_<ag::Explanation>(m, "Explanation")
      .def_readonly("output", &ag::Explanation::output)
      .def_readonly("wrt", &ag::Explanation::wrt)
      .def_readonly("wrt_value", &ag::Explanation::wrt_value)
      .def_readonly("total", &ag::Explanation::total)
      .def_readonly("path_sum", &ag::Explanation::path_sum)
      .def_readonly("path_count", &ag::Explanation::path_count)
      .def_readonly("reachable", &ag::Explanation::reachable)
      .def_readonly("linear_view", &ag::Explanation::linear_view)
      .def_readonly("paths", &ag::Explanation::paths)
      .def_readonly("adjoints", &ag::Explanation::adjoints)
      .def("text", &ag::Explanation::text, py::arg("precision") = 6)
      .def("__str__", [](const ag::Explanation& e) { return e.text(); })
      .def("__repr__", [](const ag::Explanation& e) { return e.text(); });
  m.def(
      "explain",
      [](const py::object& output, const py::object& wrt, std::size_t max_paths) {
        ag::ExplainOptions options;
        options.max_paths = max_paths;
        return ag::explain(root_from(output, "explain"), root_from(wrt, "explain"), options);
      },
      py::arg("output"), py::arg("wrt"), py::arg("max_paths") = 64,
      "Every path from wrt to output with its chain-rule factors, and the total that one "
      "backward() adds into wrt's gradient. print() it for the text a learner reads.");
  m.def(
      "backward_trace",
      [](const py::object& output) {
        return ag::backward_trace(root_from(output, "backward_trace"));
      },
      py::arg("output"), "Every node backward() visits, its adjoint as a sum over its users.");
#endif
}

}  // namespace agrad
