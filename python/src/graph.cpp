// Graph faces: DOT text, SVG pictures (agrad.draw, _repr_svg_ for Jupyter) through the
// in-process Graphviz renderer, and gradcheck with Python functions.
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <autograd/autograd.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"

namespace agrad {

ag::GraphRoot root_from(const py::handle& obj, const char* op) {
  if (py::isinstance<ag::Value>(obj)) return {obj.cast<const ag::Value&>()};
  if (py::isinstance<ag::Tensor>(obj)) return {obj.cast<const ag::Tensor&>()};
  throw ag::Error(
      op, "expected a Value or a Tensor, got " + py::str(py::type::of(obj)).cast<std::string>());
}

namespace {

std::vector<ag::GraphRoot> roots_from(const py::handle& obj) {
  std::vector<ag::GraphRoot> roots;
  auto add = [&](const py::handle& item) { roots.push_back(root_from(item, "draw")); };
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    for (const auto& item : obj) add(item);
  } else {
    add(obj);
  }
  if (roots.empty()) throw ag::Error("draw", "no roots given");
  return roots;
}

// The picture options as Python keywords, with the C++ to_dot's names and defaults.
struct DrawArgs {
  std::string view = "auto";
  std::size_t collapse_above = 300;
  std::size_t max_nodes = 100000;
  std::int64_t max_elements_shown = 8;
  int precision = 4;
  bool edge_derivatives = false;
  py::object highlight = py::none();
};

// Sets the options the engine may not have (edge labels and path highlighting come with the
// explanations); a template so that the field checks compile against either DotOptions.
template <class Options>
void set_explain_options(Options& o, const DrawArgs& a) {
  if constexpr (requires { o.edge_derivatives = true; }) {
    o.edge_derivatives = a.edge_derivatives;
  } else if (a.edge_derivatives) {
    throw ag::Error("draw", "edge_derivatives=True needs an engine with ag::explain");
  }
  if (a.highlight.is_none()) return;
  if constexpr (requires { o.highlight_from = root_from(a.highlight, "draw"); }) {
    o.highlight_from = root_from(a.highlight, "draw");
  } else {
    throw ag::Error("draw", "highlight= needs an engine with ag::explain");
  }
}

ag::DotOptions options_from(const DrawArgs& a) {
  ag::DotOptions o;
  if (a.view == "auto") {
    o.view = ag::DotView::Auto;
  } else if (a.view == "scalar" || a.view == "values") {
    o.view = ag::DotView::Scalar;
  } else if (a.view == "tensor" || a.view == "shapes") {
    o.view = ag::DotView::Tensor;
  } else {
    throw ag::Error("draw",
                    "view must be 'auto', 'scalar' (values and grads) or 'tensor' "
                    "(shapes), got '" +
                        a.view + "'");
  }
  o.collapse_above = a.collapse_above;
  o.max_nodes = a.max_nodes;
  o.max_elements_shown = a.max_elements_shown;
  o.precision = a.precision;
  set_explain_options(o, a);
  return o;
}

// Renders through ag::render_dot into a private temporary file, read back whole.
std::string svg_of(const std::string& dot) {
  std::string pattern = (std::filesystem::temp_directory_path() / "agrad-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw ag::Error("draw", "cannot create a temporary directory");
  const std::filesystem::path dir = pattern;
  const std::filesystem::path file = dir / "graph.svg";
  std::string svg;
  try {
    ag::render_dot(dot, file);
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    svg = text.str();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    throw;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return svg;
}

#define AG_DOT_ARGS                                                                         \
  py::arg("view") = "auto", py::arg("collapse_above") = 300, py::arg("max_nodes") = 100000, \
  py::arg("max_elements_shown") = 8, py::arg("precision") = 4,                              \
  py::arg("edge_derivatives") = false, py::arg("highlight") = py::none()

std::string dot_of(const py::object& roots, const DrawArgs& args) {
  const auto r = roots_from(roots);
  return ag::to_dot(r, options_from(args));
}

std::string draw(const py::object& roots, const DrawArgs& args) {
  const std::string dot = dot_of(roots, args);
  const py::gil_scoped_release unlocked;  // layout is slow; the graph is not touched any more
  return svg_of(dot);
}

// Python's keywords into DrawArgs.
template <class F>
auto with_args(F f) {
  return [f](const py::object& roots, std::string view, std::size_t collapse_above,
             std::size_t max_nodes, std::int64_t max_elements_shown, int precision,
             bool edge_derivatives, py::object highlight) {
    return f(roots, DrawArgs{std::move(view), collapse_above, max_nodes, max_elements_shown,
                             precision, edge_derivatives, std::move(highlight)});
  };
}

}  // namespace

void bind_graph(py::module_& m) {
  m.def("to_dot", with_args(&dot_of), py::arg("roots"), AG_DOT_ARGS,
        "Graphviz DOT text of the graph behind roots (a Value, a Tensor or a list of them). "
        "view: 'auto', 'scalar' (micrograd: data and grad per node) or 'tensor' (shapes); "
        "edge_derivatives labels edges with d(user)/d(input) and highlight=x draws the paths "
        "from x in red (both where the engine has ag::explain).");
  m.def("draw", with_args(&draw), py::arg("roots"), AG_DOT_ARGS,
        "The graph as SVG text, laid out in-process by Graphviz (same options as to_dot). In "
        "Jupyter: IPython.display.SVG(agrad.draw(y)), or just evaluate y.");
  m.def(
      "render_dot",
      [](const std::string& dot, const std::string& path) { ag::render_dot(dot, path); },
      py::arg("dot"), py::arg("path"), "Renders DOT text to a .png, .svg or .pdf file.");
  // Jupyter shows a Value or Tensor as its graph.
  for (const char* cls : {"Value", "Tensor"}) {
    m.attr(cls).attr("_repr_svg_") = py::cpp_function(
        [](const py::object& self) { return draw(self, DrawArgs{}); }, py::is_method(m.attr(cls)));
  }

  py::class_<ag::GradcheckResult>(m, "GradcheckResult")
      .def_readonly("ok", &ag::GradcheckResult::ok)
      .def_readonly("max_abs_error", &ag::GradcheckResult::max_abs_error)
      .def_readonly("mismatches", &ag::GradcheckResult::mismatches)
      .def_readonly("analytic", &ag::GradcheckResult::analytic)
      .def_readonly("numeric", &ag::GradcheckResult::numeric)
      .def("summary", &ag::GradcheckResult::summary)
      .def("__bool__", [](const ag::GradcheckResult& r) { return r.ok; })
      .def("__repr__", &ag::GradcheckResult::summary);
  m.def(
      "gradcheck",
      [](const py::function& f, const py::list& inputs, double eps, double atol, double rtol) {
        const ag::GradcheckOptions options{eps, atol, rtol};
        bool numbers = true;
        for (const auto& x : inputs) numbers = numbers && !py::isinstance<ag::Tensor>(x);
        if (numbers) {
          const auto point = inputs.cast<std::vector<double>>();
          return ag::gradcheck(
              [&](const std::vector<ag::Value>& xs) { return f(py::cast(xs)).cast<ag::Value>(); },
              point, options);
        }
        const auto tensors = inputs.cast<std::vector<ag::Tensor>>();
        return ag::gradcheck(
            [&](const std::vector<ag::Tensor>& xs) { return f(py::cast(xs)).cast<ag::Tensor>(); },
            tensors, options);
      },
      py::arg("f"), py::arg("inputs"), py::arg("eps") = 1e-6, py::arg("atol") = 1e-5,
      py::arg("rtol") = 1e-3,
      "Checks f's gradients against central differences. inputs: float64 Tensors (f takes a "
      "list of Tensors, returns a Tensor) or numbers (f takes a list of Values, returns a "
      "Value). Returns a GradcheckResult (truthy when it passed).");
}

}  // namespace agrad
