// agrad.Tensor: NumPy in (one copy into engine storage) and out (zero-copy views that keep the
// tensor alive), broadcasting ops with Tensors, Values, numbers and arrays on either side.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <autograd/autograd.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"

namespace agrad {

using ag::Dtype;
using ag::Tensor;
using ag::Value;

std::optional<Dtype> dtype_from(const py::object& obj) {
  if (obj.is_none()) return std::nullopt;
  if (py::isinstance<Dtype>(obj)) return obj.cast<Dtype>();
  const py::dtype dt = py::dtype::from_args(obj);
  if (dt.is(py::dtype::of<float>())) return ag::float32;
  if (dt.is(py::dtype::of<double>())) return ag::float64;
  throw ag::Error("tensor", "dtype " + py::str(obj).cast<std::string>() +
                                " is not supported: use float32 or float64");
}

namespace {

template <class T>
void copy_into(Tensor& t, const py::array& source) {
  auto contiguous = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(source);
  if (!contiguous) throw py::error_already_set();
  const auto bytes = static_cast<std::size_t>(contiguous.nbytes());
  T* out = t.mutable_data_ptr<T>();
  const ReleaseGilIf unlocked(t.numel() >= kReleaseGilElements);
  if (bytes) std::memcpy(out, contiguous.data(), bytes);
}

}  // namespace

Tensor tensor_from(const py::handle& data, std::optional<Dtype> dtype) {
  if (py::isinstance<Tensor>(data)) {
    const Tensor& t = data.cast<const Tensor&>();
    return dtype ? t.detach().to(*dtype) : t;
  }
  if (py::isinstance<Value>(data)) return Tensor(data.cast<const Value&>());
  py::array array = py::array::ensure(data);
  if (!array) throw py::error_already_set();
  const char kind = array.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
    throw ag::Error("tensor", std::string("cannot make a tensor from NumPy dtype ") +
                                  py::str(array.dtype()).cast<std::string>() +
                                  ": only real numbers (float, int, bool) convert");
  }
  const Dtype dt =
      dtype ? *dtype : (array.dtype().is(py::dtype::of<float>()) ? ag::float32 : ag::float64);
  ag::Shape shape(array.shape(), array.shape() + array.ndim());
  Tensor t = ag::zeros(shape, dt);
  if (dt == ag::float32) {
    copy_into<float>(t, array);
  } else {
    copy_into<double>(t, array);
  }
  return t;
}

// A NumPy array over the tensor's own storage. The array's base owns a handle to the tensor,
// so the memory lives as long as the array does, whatever happens to the Python Tensor.
py::array numpy_view(const Tensor& t, bool writable) {
  if (!t.defined()) throw ag::Error("numpy", "the tensor is undefined");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  const auto item = static_cast<py::ssize_t>(ag::size_of(t.dtype()));
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = item;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<py::ssize_t>(shape[i], 1);
  }
  Tensor handle = t;
  void* data = nullptr;
  py::dtype dt = t.dtype() == ag::float32 ? py::dtype::of<float>() : py::dtype::of<double>();
  if (t.dtype() == ag::float32) {
    data = writable ? handle.mutable_data_ptr<float>() : const_cast<float*>(t.data_ptr<float>());
  } else {
    data = writable ? handle.mutable_data_ptr<double>() : const_cast<double*>(t.data_ptr<double>());
  }
  py::capsule owner(new Tensor(std::move(handle)), [](void* p) { delete static_cast<Tensor*>(p); });
  py::array array(dt, shape, strides, data, owner);
  if (!writable) array.attr("flags").attr("writeable") = false;
  return array;
}

std::vector<std::int64_t> labels_from(const py::handle& labels, const char* op) {
  py::array array = py::array::ensure(labels);
  if (!array) throw py::error_already_set();
  const char kind = array.dtype().kind();
  if (array.size() > 0 && kind != 'i' && kind != 'u') {
    throw ag::Error(op, "labels must be integers, got NumPy dtype " +
                            py::str(array.dtype()).cast<std::string>());
  }
  auto ints = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!ints) throw py::error_already_set();
  return {ints.data(), ints.data() + ints.size()};
}

namespace {

ag::Shape shape_from(const py::args& args) {
  // reshape(2, 3) or reshape((2, 3))
  if (args.size() == 1 && !py::isinstance<py::int_>(args[0])) return args[0].cast<ag::Shape>();
  return args.cast<ag::Shape>();
}

bool big(const Tensor& a) { return a.numel() >= kReleaseGilElements; }
bool big(const Tensor& a, const Tensor& b) { return a.numel() + b.numel() >= kReleaseGilElements; }

// Runs f(x) without the GIL when x is large.
template <class F>
auto unary(F f) {
  return [f](const Tensor& x) {
    const ReleaseGilIf unlocked(big(x));
    return f(x);
  };
}

py::object grad_or_none(const Tensor& t) {
  Tensor g = t.grad();
  if (!g.defined()) return py::none();
  return py::cast(std::move(g));
}

// A Python number, Value, Tensor or array as an operand of a tensor op.
Tensor operand(const py::handle& x, const Tensor& like) {
  if (py::isinstance<Tensor>(x)) return x.cast<Tensor>();
  if (py::isinstance<Value>(x)) return Tensor(x.cast<const Value&>()).to(like.dtype());
  return tensor_from(x, like.dtype());
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::enum_<Dtype>(m, "dtype", "Element type of a Tensor.")
      .value("float32", ag::float32)
      .value("float64", ag::float64)
      .def("__str__", [](Dtype d) { return std::string(ag::name(d)); });
  m.attr("float32") = ag::float32;
  m.attr("float64") = ag::float64;

  py::class_<ag::Generator>(m, "Generator", "Seeded random source: same seed, same tensors.")
      .def(py::init<std::uint64_t>(), py::arg("seed"))
      .def("uniform", &ag::Generator::uniform)
      .def("normal", &ag::Generator::normal);

  py::class_<Tensor> cls(m, "Tensor", py::buffer_protocol(),
                         "An n-d array of float32/float64 and a node of the graph.");
  cls.def(py::init([](const py::object& data, const py::object& dtype, bool requires_grad) {
            Tensor t = tensor_from(data, dtype_from(dtype));
            if (requires_grad) t.requires_grad_();
            return t;
          }),
          py::arg("data"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
          "From an array-like (copied once), a Value (differentiably) or a Tensor. Float32 "
          "arrays stay float32, anything else becomes float64 unless dtype says otherwise.")
      .def_buffer([](const Tensor& t) {
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        const auto item = static_cast<py::ssize_t>(ag::size_of(t.dtype()));
        std::vector<py::ssize_t> strides(shape.size());
        py::ssize_t stride = item;
        for (std::size_t i = shape.size(); i-- > 0;) {
          strides[i] = stride;
          stride *= std::max<py::ssize_t>(shape[i], 1);
        }
        void* data = t.dtype() == ag::float32
                         ? static_cast<void*>(const_cast<float*>(t.data_ptr<float>()))
                         : static_cast<void*>(const_cast<double*>(t.data_ptr<double>()));
        return py::buffer_info(data, item,
                               t.dtype() == ag::float32 ? py::format_descriptor<float>::format()
                                                        : py::format_descriptor<double>::format(),
                               static_cast<py::ssize_t>(shape.size()), shape, strides,
                               /*readonly=*/true);
      })
      .def("numpy", &numpy_view, py::arg("writable") = false,
           "A NumPy view of this tensor's memory (no copy); it keeps the tensor alive. "
           "Read-only unless writable=True: writes through a writable view are not seen by "
           "backward's check for overwritten saved values, so make it only for data outside a "
           "graph (inputs, parameters between steps).")
      .def(
          "__array__",
          [](const Tensor& t, const py::object& dtype) {
            py::array view = numpy_view(t, false);
            return dtype.is_none() ? view : py::array(view.attr("astype")(dtype));
          },
          py::arg("dtype") = py::none())
      .def_property_readonly("shape",
                             [](const Tensor& t) { return py::tuple(py::cast(t.shape())); })
      .def_property_readonly("ndim", &Tensor::dim)
      .def("dim", &Tensor::dim)
      .def(
          "size", [](const Tensor& t, std::int64_t d) { return t.size(d); }, py::arg("dim"))
      .def("numel", &Tensor::numel)
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
             return t.size(0);
           })
      .def_property_readonly("dtype", &Tensor::dtype)
      .def("item", &Tensor::item)
      .def("__float__", &Tensor::item)
      .def("tolist", [](const Tensor& t) { return numpy_view(t, false).attr("tolist")(); })
      .def_property("requires_grad", &Tensor::requires_grad,
                    [](Tensor& t, bool on) { t.requires_grad_(on); })
      .def(
          "requires_grad_",
          [](py::object self, bool on) {
            self.cast<Tensor&>().requires_grad_(on);
            return self;
          },
          py::arg("requires_grad") = true)
      .def_property_readonly("is_leaf", &Tensor::is_leaf)
      .def_property_readonly("grad", &grad_or_none,
                             "The accumulated gradient (a Tensor), or None before any backward.")
      .def("zero_grad", &Tensor::zero_grad)
      .def("retain_grad",
           [](py::object self) {
             self.cast<Tensor&>().retain_grad();
             return self;
           })
      .def(
          "backward",
          [](const Tensor& t, const py::object& gradient, bool retain_graph, bool create_graph) {
            const Tensor g = gradient.is_none() ? Tensor() : operand(gradient, t);
            const py::gil_scoped_release unlocked;
            run_backward(t, retain_graph, create_graph, g);
          },
          py::arg("gradient") = py::none(), py::arg("retain_graph") = false,
          py::arg("create_graph") = false,
          "Backpropagates (without the GIL). A non-scalar output needs `gradient`.")
      .def("detach", &Tensor::detach)
      .def("clone", &Tensor::clone)
      .def(
          "to", [](const Tensor& t, const py::object& dt) { return t.to(*dtype_from(dt)); },
          py::arg("dtype"))
      .def("float", [](const Tensor& t) { return t.to(ag::float32); })
      .def("double", [](const Tensor& t) { return t.to(ag::float64); })
      .def_property("label", &Tensor::label,
                    [](Tensor& t, const std::string& label) { t.set_label(label); })
      .def(
          "set_label",
          [](py::object self, const std::string& label) {
            self.cast<Tensor&>().set_label(label);
            return self;
          },
          py::arg("label"))
      .def("__repr__", [](const Tensor& t) { return ag::to_string(t); })
      // Reductions: over everything (dim=None) or one dim.
      .def(
          "sum",
          [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
            const ReleaseGilIf unlocked(big(t));
            return dim ? t.sum(*dim, keepdim) : t.sum();
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "mean",
          [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
            const ReleaseGilIf unlocked(big(t));
            return dim ? t.mean(*dim, keepdim) : t.mean();
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "max",
          [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
            const ReleaseGilIf unlocked(big(t));
            return dim ? t.max(*dim, keepdim) : t.max();
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "argmax",
          [](const Tensor& t, std::int64_t dim) { return py::array(py::cast(ag::argmax(t, dim))); },
          py::arg("dim"))
      .def("reshape",
           [](const Tensor& t, const py::args& shape) { return t.reshape(shape_from(shape)); })
      .def("transpose", &Tensor::transpose, py::arg("dim0"), py::arg("dim1"))
      .def_property_readonly("T", &Tensor::t)
      .def("t", &Tensor::t)
      .def("exp", unary([](const Tensor& x) { return x.exp(); }))
      .def("log", unary([](const Tensor& x) { return x.log(); }))
      .def("sqrt", unary([](const Tensor& x) { return x.sqrt(); }))
      .def("tanh", unary([](const Tensor& x) { return x.tanh(); }))
      .def("sigmoid", unary([](const Tensor& x) { return x.sigmoid(); }))
      .def("relu", unary([](const Tensor& x) { return x.relu(); }))
      .def("abs", unary([](const Tensor& x) { return x.abs(); }))
      .def(
          "pow", [](const Tensor& x, double e) { return x.pow(e); }, py::arg("exponent"))
      .def(
          "softmax",
          [](const Tensor& x, std::int64_t dim) {
            const ReleaseGilIf unlocked(big(x));
            return x.softmax(dim);
          },
          py::arg("dim"))
      .def(
          "log_softmax",
          [](const Tensor& x, std::int64_t dim) {
            const ReleaseGilIf unlocked(big(x));
            return x.log_softmax(dim);
          },
          py::arg("dim"))
      .def("matmul",
           [](const Tensor& a, const Tensor& b) {
             const ReleaseGilIf unlocked(big(a, b));
             return ag::matmul(a, b);
           })
      .def("__neg__", [](const Tensor& a) { return -a; })
      .def("__copy__", [](const Tensor& t) { return t; })
      .def("__deepcopy__", [](const Tensor& t, py::dict) { return t.clone().detach(); });
  // Elementwise operators: the other side may be a Tensor, Value, number or array-like.
  // NumPy arrays must defer to these (a ndarray + Tensor would otherwise become an ndarray).
  cls.attr("__array_ufunc__") = py::none();
#define AG_BINARY(name, rname, op)                                    \
  cls.def(name, [](const Tensor& a, const py::object& b) {            \
    if (py::isinstance<py::float_>(b) || py::isinstance<py::int_>(b)) \
      return a op b.cast<double>();                                   \
    const Tensor other = operand(b, a);                               \
    const ReleaseGilIf unlocked(big(a, other));                       \
    return a op other;                                                \
  });                                                                 \
  cls.def(rname, [](const Tensor& b, const py::object& a) {           \
    if (py::isinstance<py::float_>(a) || py::isinstance<py::int_>(a)) \
      return a.cast<double>() op b;                                   \
    const Tensor other = operand(a, b);                               \
    const ReleaseGilIf unlocked(big(other, b));                       \
    return other op b;                                                \
  });
  AG_BINARY("__add__", "__radd__", +)
  AG_BINARY("__sub__", "__rsub__", -)
  AG_BINARY("__mul__", "__rmul__", *)
  AG_BINARY("__truediv__", "__rtruediv__", /)
#undef AG_BINARY
  cls.def("__matmul__", [](const Tensor& a, const py::object& b) {
    const Tensor other = operand(b, a);
    const ReleaseGilIf unlocked(big(a, other));
    return ag::matmul(a, other);
  });
  cls.def("__rmatmul__", [](const Tensor& b, const py::object& a) {
    const Tensor other = operand(a, b);
    const ReleaseGilIf unlocked(big(other, b));
    return ag::matmul(other, b);
  });
  cls.def("__pow__", [](const Tensor& a, const py::object& e) {
    if (py::isinstance<py::float_>(e) || py::isinstance<py::int_>(e))
      return ag::pow(a, e.cast<double>());
    return ag::pow(a, operand(e, a));
  });
  py::implicitly_convertible<py::array, Tensor>();

  // ---- Factories ----
  auto dt = [](const py::object& d) { return dtype_from(d).value_or(ag::float32); };
  m.def(
      "tensor",
      [](const py::object& data, const py::object& dtype, bool requires_grad) {
        Tensor t = tensor_from(data, dtype_from(dtype));
        if (requires_grad) t.requires_grad_();
        return t;
      },
      py::arg("data"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false,
      "A new leaf from an array-like (copied once); see Tensor().");
  m.def(
      "from_numpy", [](const py::array& a) { return tensor_from(a, std::nullopt); },
      py::arg("array"), "A new leaf with a copy of a NumPy array (float32 stays float32).");
  m.def(
      "zeros", [dt](const ag::Shape& s, const py::object& d) { return ag::zeros(s, dt(d)); },
      py::arg("shape"), py::arg("dtype") = py::none());
  m.def(
      "ones", [dt](const ag::Shape& s, const py::object& d) { return ag::ones(s, dt(d)); },
      py::arg("shape"), py::arg("dtype") = py::none());
  m.def(
      "full",
      [dt](const ag::Shape& s, double v, const py::object& d) { return ag::full(s, v, dt(d)); },
      py::arg("shape"), py::arg("value"), py::arg("dtype") = py::none());
  m.def("zeros_like", &ag::zeros_like);
  m.def("ones_like", &ag::ones_like);
  m.def(
      "arange",
      [dt](double start, std::optional<double> end, double step, const py::object& d) {
        return end ? ag::arange(start, *end, step, dt(d)) : ag::arange(start, dt(d));
      },
      py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1.0,
      py::arg("dtype") = py::none());
  m.def(
      "rand",
      [dt](const ag::Shape& s, ag::Generator& g, const py::object& d) {
        return ag::rand(s, g, dt(d));
      },
      py::arg("shape"), py::arg("generator"), py::arg("dtype") = py::none());
  m.def(
      "randn",
      [dt](const ag::Shape& s, ag::Generator& g, const py::object& d) {
        return ag::randn(s, g, dt(d));
      },
      py::arg("shape"), py::arg("generator"), py::arg("dtype") = py::none());

  // ---- Free functions (Tensor overloads; value.cpp adds the Value ones) ----
  m.def("relu", unary([](const Tensor& x) { return ag::relu(x); }));
  m.def("tanh", unary([](const Tensor& x) { return ag::tanh(x); }));
  m.def("exp", unary([](const Tensor& x) { return ag::exp(x); }));
  m.def("log", unary([](const Tensor& x) { return ag::log(x); }));
  m.def("sqrt", unary([](const Tensor& x) { return ag::sqrt(x); }));
  m.def("sigmoid", unary([](const Tensor& x) { return ag::sigmoid(x); }));
  m.def("abs", unary([](const Tensor& x) { return ag::abs(x); }));
  m.def(
      "clamp", [](const Tensor& x, double lo, double hi) { return ag::clamp(x, lo, hi); },
      py::arg("x"), py::arg("lo"), py::arg("hi"));
  m.def(
      "sum",
      [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
        const ReleaseGilIf unlocked(big(t));
        return dim ? ag::sum(t, *dim, keepdim) : ag::sum(t);
      },
      py::arg("x"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  m.def(
      "mean",
      [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
        const ReleaseGilIf unlocked(big(t));
        return dim ? ag::mean(t, *dim, keepdim) : ag::mean(t);
      },
      py::arg("x"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  m.def(
      "max",
      [](const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
        const ReleaseGilIf unlocked(big(t));
        return dim ? ag::max(t, *dim, keepdim) : ag::max(t);
      },
      py::arg("x"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  m.def(
      "matmul",
      [](const Tensor& a, const Tensor& b) {
        const ReleaseGilIf unlocked(big(a, b));
        return ag::matmul(a, b);
      },
      py::arg("a"), py::arg("b"));
  m.def(
      "linear",
      [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& b,
         const std::string& activation) {
        if (activation != "none" && activation != "relu") {
          throw ag::Error("linear",
                          "activation must be 'none' or 'relu', not '" + activation + "'");
        }
        const ReleaseGilIf unlocked(big(x, w));
        return ag::linear(x, w, b.value_or(Tensor()),
                          activation == "relu" ? ag::Activation::relu : ag::Activation::none);
      },
      py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
      py::arg("activation") = "none");
  m.def(
      "cat", [](const std::vector<Tensor>& ts, std::int64_t dim) { return ag::cat(ts, dim); },
      py::arg("tensors"), py::arg("dim") = 0);
  m.def(
      "softmax",
      [](const Tensor& x, std::int64_t dim) {
        const ReleaseGilIf unlocked(big(x));
        return ag::softmax(x, dim);
      },
      py::arg("x"), py::arg("dim"));
  m.def(
      "log_softmax",
      [](const Tensor& x, std::int64_t dim) {
        const ReleaseGilIf unlocked(big(x));
        return ag::log_softmax(x, dim);
      },
      py::arg("x"), py::arg("dim"));
  m.def(
      "pick",
      [](const Tensor& x, const py::object& labels) {
        return ag::pick(x, labels_from(labels, "pick"));
      },
      py::arg("x"), py::arg("labels"));
  m.def(
      "cross_entropy",
      [](const Tensor& logits, const py::object& labels) {
        const auto l = labels_from(labels, "cross_entropy");
        const ReleaseGilIf unlocked(big(logits));
        return ag::cross_entropy(logits, l);
      },
      py::arg("logits"), py::arg("labels"));
  m.def(
      "argmax",
      [](const Tensor& t, std::int64_t dim) { return py::array(py::cast(ag::argmax(t, dim))); },
      py::arg("x"), py::arg("dim"));
  m.def("pow", [](const Tensor& x, double e) { return ag::pow(x, e); });
  m.def("pow", [](const Tensor& x, const Tensor& e) { return ag::pow(x, e); });
  m.def("pow", [](const Value& x, double e) { return ag::pow(x, e); });
  m.def("pow", [](const Value& x, const Value& e) { return ag::pow(x, e); });
}

}  // namespace agrad
