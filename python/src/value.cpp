// agrad.Value: a differentiable double (micrograd's Value), operators with Python numbers on
// either side.
#include <pybind11/operators.h>

#include <autograd/autograd.hpp>
#include <string>

#include "bindings.hpp"
#include "convert.hpp"

namespace agrad {

void bind_value(py::module_& m) {
  using ag::Value;
  py::class_<Value>(m, "Value",
                    "A differentiable double: y = relu(2 * x + 2) + x * x; y.backward(); x.grad")
      .def(py::init([](double data, const std::string& label) {
             return label.empty() ? Value(data) : Value(data, label);
           }),
           py::arg("data") = 0.0, py::arg("label") = "")
      .def(py::init<const ag::Tensor&>(), py::arg("tensor"),
           "The single element of a one-element tensor, differentiably.")
      .def_property("data", &Value::data, &Value::set_data,
                    "The value; assigning it updates a leaf in place (an optimizer step).")
      .def_property_readonly("grad", &Value::grad,
                             "d(output)/d(this) from the last backward() reaching this value.")
      .def_property(
          "label", &Value::label, [](Value& v, const std::string& label) { v.set_label(label); },
          "Name shown in pictures and errors.")
      .def(
          "set_label",
          [](Value& v, const std::string& label) -> Value& { return v.set_label(label); },
          py::arg("label"), py::return_value_policy::reference_internal)
      .def(
          "backward",
          [](const Value& v, bool retain_graph, bool create_graph) {
            run_backward(v, retain_graph, create_graph);
          },
          py::arg("retain_graph") = false, py::arg("create_graph") = false,
          py::call_guard<py::gil_scoped_release>(),
          "Backpropagates from this value (seed 1); leaves accumulate into .grad.")
      .def("zero_grad", &Value::zero_grad)
      .def("detach", &Value::detach)
      .def_property_readonly("is_leaf", &Value::is_leaf)
      .def("__float__", &Value::data)
      .def("__repr__", [](const Value& v) { return ag::to_string(v); })
      .def(py::self + py::self)
      .def(py::self - py::self)
      .def(py::self * py::self)
      .def(py::self / py::self)
      .def(py::self + double())
      .def(py::self - double())
      .def(py::self * double())
      .def(py::self / double())
      .def(double() + py::self)
      .def(double() - py::self)
      .def(double() * py::self)
      .def(double() / py::self)
      .def(-py::self)
      .def("__pow__", [](const Value& a, double b) { return ag::pow(a, b); })
      .def("__pow__", [](const Value& a, const Value& b) { return ag::pow(a, b); })
      .def("__rpow__", [](const Value& b, double a) { return ag::pow(Value(a), b); })
      .def("relu", [](const Value& x) { return ag::relu(x); })
      .def("tanh", [](const Value& x) { return ag::tanh(x); })
      .def("exp", [](const Value& x) { return ag::exp(x); })
      .def("log", [](const Value& x) { return ag::log(x); })
      .def("sqrt", [](const Value& x) { return ag::sqrt(x); })
      .def("sigmoid", [](const Value& x) { return ag::sigmoid(x); })
      .def("abs", [](const Value& x) { return ag::abs(x); })
      .def(
          "pow", [](const Value& x, double e) { return ag::pow(x, e); }, py::arg("exponent"))
      .def(
          "pow", [](const Value& x, const Value& e) { return ag::pow(x, e); }, py::arg("exponent"))
      // Bound operators hand out new handles; the node is shared, never copied.
      .def("__copy__", [](const Value& v) { return v; })
      .def("__deepcopy__", [](const Value& v, py::dict) { return v; });
  py::implicitly_convertible<double, Value>();
  py::implicitly_convertible<int, Value>();

  // Free functions for Values; the Tensor overloads are added by tensor.cpp.
  m.def("relu", [](const Value& x) { return ag::relu(x); });
  m.def("tanh", [](const Value& x) { return ag::tanh(x); });
  m.def("exp", [](const Value& x) { return ag::exp(x); });
  m.def("log", [](const Value& x) { return ag::log(x); });
  m.def("sqrt", [](const Value& x) { return ag::sqrt(x); });
  m.def("sigmoid", [](const Value& x) { return ag::sigmoid(x); });
  m.def("abs", [](const Value& x) { return ag::abs(x); });
}

}  // namespace agrad
