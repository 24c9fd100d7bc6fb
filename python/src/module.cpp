// The agrad extension module: the C++ engine (ag::Value, ag::Tensor, ag::nn) from Python.
#include <autograd/autograd.hpp>
#include <memory>

#include "bindings.hpp"

namespace agrad {
namespace {

// `with agrad.no_grad():` records nothing inside (ag::NoGradGuard, per thread).
class NoGrad {
 public:
  void enter() { guard_ = std::make_unique<ag::NoGradGuard>(); }
  void exit() { guard_.reset(); }

 private:
  std::unique_ptr<ag::NoGradGuard> guard_;
};

class DetectAnomaly {
 public:
  explicit DetectAnomaly(bool on) : on_(on) {}
  void enter() { guard_ = std::make_unique<ag::AnomalyModeGuard>(on_); }
  void exit() { guard_.reset(); }

 private:
  bool on_;
  std::unique_ptr<ag::AnomalyModeGuard> guard_;
};

}  // namespace

void bind_errors(py::module_& m) {
  // agrad.Error carries ag::Error's message (str(e)) and the op at fault (e.op).
  static py::exception<ag::Error> error(m, "Error", PyExc_RuntimeError);
  error.doc() =
      "The engine's one error type: str(e) is the message, e.g. \"ag::add: shapes [2, 3] and "
      "[4] do not broadcast\"; e.op names the op at fault.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ag::Error& e) {
      py::object instance = py::reinterpret_borrow<py::object>(error.ptr())(e.what());
      instance.attr("op") = e.op();
      PyErr_SetObject(error.ptr(), instance.ptr());
    }
  });

  py::class_<NoGrad>(m, "no_grad",
                     "Context manager: ops inside record no graph (results need no gradient).")
      .def(py::init<>())
      .def("__enter__", [](NoGrad& self) { self.enter(); })
      .def("__exit__", [](NoGrad& self, py::args) { self.exit(); });
  m.def("is_grad_enabled", &ag::grad_enabled, "False inside `with no_grad()`.");

  py::class_<DetectAnomaly>(m, "detect_anomaly",
                            "Context manager: every op and gradient is checked for NaN/Inf; "
                            "the first one raises agrad.Error naming the op.")
      .def(py::init<bool>(), py::arg("on") = true)
      .def("__enter__", [](DetectAnomaly& self) { self.enter(); })
      .def("__exit__", [](DetectAnomaly& self, py::args) { self.exit(); });

  m.def("set_num_threads", &ag::set_num_threads, py::arg("n"),
        "Threads of the engine's kernels (BLAS included).");
  m.def("num_threads", &ag::num_threads);
  m.def("release_cached_memory", &ag::release_cached_memory,
        "Gives this thread's cached tensor buffers and scalar nodes back to the system.");
}

}  // namespace agrad

PYBIND11_MODULE(_core, m) {
  m.doc() = "The autograd C++ engine: Value, Tensor, nn, graph pictures and checks.";
  agrad::bind_errors(m);
  agrad::bind_value(m);
  agrad::bind_tensor(m);
  agrad::bind_graph(m);
  agrad::bind_explain(m);
  agrad::bind_functional(m);
  pybind11::module_ nn = m.def_submodule("nn", "Modules, losses, optimizers and checkpoints.");
  agrad::bind_nn(nn);
}
