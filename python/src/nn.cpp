// agrad.nn: modules (Dense, activations, Sequential), losses, optimizers, data sets, metrics
// and safetensors checkpoints.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <autograd/autograd.hpp>
#include <map>
#include <memory>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"

namespace agrad {

namespace nn = ag::nn;
using ag::Tensor;

namespace {

nn::Init init_from(const py::object& obj) {
  if (py::isinstance<nn::Init>(obj)) return obj.cast<nn::Init>();
  const auto name = obj.cast<std::string>();
  for (nn::Init i : {nn::Init::Nnfs, nn::Init::XavierNormal, nn::Init::XavierUniform,
                     nn::Init::HeNormal, nn::Init::Normal, nn::Init::Zeros}) {
    if (nn::name(i) == name) return i;
  }
  throw ag::Error("nn::Dense", "unknown initialiser '" + name +
                                   "': use nnfs, xavier_normal, xavier_uniform, he_normal, "
                                   "normal or zeros");
}

// Optimizer parameters: [Tensor, ...] or named_parameters()' [(name, Tensor), ...].
bool is_named(const py::list& params) {
  return params.size() > 0 && py::isinstance<py::tuple>(params[0]);
}

py::tuple dataset_tuple(const nn::Dataset& d) {
  return py::make_tuple(d.X, py::array(py::cast(d.y)));
}

}  // namespace

void bind_nn(py::module_& m) {
  py::enum_<nn::Init>(m, "Init", "Weight initialisers (or pass their names as strings).")
      .value("nnfs", nn::Init::Nnfs)
      .value("xavier_normal", nn::Init::XavierNormal)
      .value("xavier_uniform", nn::Init::XavierUniform)
      .value("he_normal", nn::Init::HeNormal)
      .value("normal", nn::Init::Normal)
      .value("zeros", nn::Init::Zeros);

  py::class_<nn::Module, std::shared_ptr<nn::Module>>(m, "Module", py::dynamic_attr())
      .def(
          "__call__",
          [](nn::Module& self, const Tensor& x) {
            const ReleaseGilIf unlocked(x.numel() >= kReleaseGilElements);
            return self(x);
          },
          py::arg("x"))
      .def("forward", &nn::Module::forward, py::arg("x"))
      .def("parameters", &nn::Module::parameters)
      .def("named_parameters", &nn::Module::named_parameters)
      .def("num_parameters", &nn::Module::num_parameters)
      .def("train", &nn::Module::train, py::arg("on") = true)
      .def("eval", &nn::Module::eval)
      .def_property_readonly("training", &nn::Module::is_training)
      .def("zero_grad", &nn::Module::zero_grad)
      .def("describe", &nn::Module::describe)
      .def("__repr__", [](const nn::Module& self) { return nn::summary(self); });

  py::class_<nn::Dense, nn::Module, std::shared_ptr<nn::Dense>>(
      m, "Dense", "y = x @ weight + bias, weight [in, out]")
      .def(py::init([](std::int64_t in, std::int64_t out, const py::object& init,
                       const py::object& generator, const py::object& dtype) {
             const ag::Dtype dt = dtype_from(dtype).value_or(ag::float32);
             if (py::isinstance<ag::Generator>(generator)) {
               return std::make_shared<nn::Dense>(in, out, init_from(init),
                                                  generator.cast<ag::Generator&>(), dt);
             }
             ag::Generator gen(generator.is_none() ? 0 : generator.cast<std::uint64_t>());
             return std::make_shared<nn::Dense>(in, out, init_from(init), gen, dt);
           }),
           py::arg("in_features"), py::arg("out_features"), py::arg("init") = "xavier_normal",
           py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
           "generator: an agrad.Generator (shared, advanced by the draw) or an int seed.")
      .def_readwrite("weight", &nn::Dense::weight)
      .def_readwrite("bias", &nn::Dense::bias)
      .def_property_readonly("in_features", &nn::Dense::in_features)
      .def_property_readonly("out_features", &nn::Dense::out_features);
  py::class_<nn::Identity, nn::Module, std::shared_ptr<nn::Identity>>(m, "Identity")
      .def(py::init<>());
  py::class_<nn::ReLU, nn::Module, std::shared_ptr<nn::ReLU>>(m, "ReLU").def(py::init<>());
  py::class_<nn::Sigmoid, nn::Module, std::shared_ptr<nn::Sigmoid>>(m, "Sigmoid").def(py::init<>());
  py::class_<nn::Tanh, nn::Module, std::shared_ptr<nn::Tanh>>(m, "Tanh").def(py::init<>());
  py::class_<nn::Softmax, nn::Module, std::shared_ptr<nn::Softmax>>(m, "Softmax")
      .def(py::init<std::int64_t>(), py::arg("dim") = -1);
  m.def("make_activation", &nn::make_activation, py::arg("name"),
        "'linear', 'relu', 'sigmoid', 'tanh' or 'softmax'.");

  // agrad/__init__.py wraps this class to keep the children's Python objects (net[i] is the
  // very module that was added).
  py::class_<nn::Sequential, nn::Module, std::shared_ptr<nn::Sequential>>(m, "Sequential")
      .def(py::init<>())
      .def(
          "add",
          [](nn::Sequential& seq, std::shared_ptr<nn::Module> module, const std::string& name) {
            if (name.empty()) {
              seq.add(std::move(module));
            } else {
              seq.add(name, std::move(module));
            }
          },
          py::arg("module"), py::arg("name") = "")
      .def("__len__", &nn::Sequential::size);

  // ---- Losses ----
  m.def("mse_loss", &nn::mse_loss, py::arg("pred"), py::arg("target"));
  m.def(
      "cross_entropy",
      [](const Tensor& logits, const py::object& labels) {
        return nn::cross_entropy(logits, labels_from(labels, "nn::cross_entropy"));
      },
      py::arg("logits"), py::arg("labels"));
  m.def("binary_cross_entropy", &nn::binary_cross_entropy, py::arg("probs"), py::arg("targets"));
  m.def("binary_cross_entropy_with_logits", &nn::binary_cross_entropy_with_logits,
        py::arg("logits"), py::arg("targets"));
  m.def(
      "accuracy",
      [](const Tensor& out, const py::object& labels) {
        return nn::accuracy(out, labels_from(labels, "nn::accuracy"));
      },
      py::arg("output"), py::arg("labels"));

  // ---- Optimizers ----
  py::class_<nn::Optimizer>(m, "Optimizer")
      .def("step", &nn::Optimizer::step)
      .def("zero_grad", &nn::Optimizer::zero_grad)
      .def_property("lr", &nn::Optimizer::lr, &nn::Optimizer::set_lr)
      .def_property_readonly("steps", &nn::Optimizer::steps)
      .def("named_state", &nn::Optimizer::named_state);
  py::class_<nn::SGD, nn::Optimizer>(m, "SGD").def(
      py::init([](const py::list& params, double lr, double momentum, double weight_decay) {
        if (is_named(params)) {
          return std::make_unique<nn::SGD>(params.cast<nn::NamedTensors>(), lr, momentum,
                                           weight_decay);
        }
        return std::make_unique<nn::SGD>(params.cast<std::vector<Tensor>>(), lr, momentum,
                                         weight_decay);
      }),
      py::arg("params"), py::arg("lr"), py::arg("momentum") = 0.0, py::arg("weight_decay") = 0.0);
  py::class_<nn::Adam, nn::Optimizer>(m, "Adam")
      .def(py::init([](const py::list& params, double lr, double b1, double b2, double eps,
                       double decay) {
             if (is_named(params)) {
               return std::make_unique<nn::Adam>(params.cast<nn::NamedTensors>(), lr, b1, b2, eps,
                                                 decay);
             }
             return std::make_unique<nn::Adam>(params.cast<std::vector<Tensor>>(), lr, b1, b2, eps,
                                               decay);
           }),
           py::arg("params"), py::arg("lr") = 1e-3, py::arg("beta1") = 0.9,
           py::arg("beta2") = 0.999, py::arg("eps") = 1e-7, py::arg("decay") = 0.0)
      .def_property_readonly("current_lr", &nn::Adam::current_lr);

  // ---- Checkpoints and safetensors ----
  m.def(
      "save_checkpoint",
      [](const std::filesystem::path& path, const nn::Module& module, const nn::Optimizer* opt,
         const nn::Metadata& metadata) { nn::save_checkpoint(path, module, opt, metadata); },
      py::arg("path"), py::arg("module"), py::arg("optimizer") = nullptr,
      py::arg("metadata") = nn::Metadata{});
  m.def(
      "load_checkpoint",
      [](const std::filesystem::path& path, nn::Module& module, nn::Optimizer* opt) {
        return nn::load_checkpoint(path, module, opt);
      },
      py::arg("path"), py::arg("module"), py::arg("optimizer") = nullptr,
      "Restores parameters (and optimizer state) in place; returns the metadata. On any "
      "mismatch it raises agrad.Error and changes nothing.");
  m.def(
      "save_safetensors",
      [](const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
         const nn::Metadata& metadata) {
        nn::save_safetensors(path, nn::NamedTensors(tensors.begin(), tensors.end()), metadata);
      },
      py::arg("path"), py::arg("tensors"), py::arg("metadata") = nn::Metadata{});
  m.def(
      "load_safetensors",
      [](const std::filesystem::path& path) {
        auto file = nn::load_safetensors(path);
        return py::make_tuple(file.tensors, file.metadata);
      },
      py::arg("path"), "(tensors dict, metadata dict) of a safetensors file.");

  // ---- Data ----
  py::class_<nn::NumpyRandom>(
      m, "NumpyRandom", "NumPy's legacy generator (np.random.seed): reproduces notebooks' arrays.")
      .def(py::init<std::uint32_t>(), py::arg("seed"))
      .def("random_sample", &nn::NumpyRandom::random_sample)
      .def("randn", [](nn::NumpyRandom& r) { return r.randn(); })
      .def("randn",
           [](nn::NumpyRandom& r, std::int64_t n) { return py::array(py::cast(r.randn(n))); });
  m.def(
      "spiral_data",
      [](std::int64_t points, std::int64_t classes, const py::object& generator, double noise,
         const py::object& dtype) {
        const ag::Dtype dt = dtype_from(dtype).value_or(ag::float32);
        if (py::isinstance<nn::NumpyRandom>(generator)) {
          return dataset_tuple(
              nn::spiral_data(points, classes, generator.cast<nn::NumpyRandom&>(), noise, dt));
        }
        if (py::isinstance<ag::Generator>(generator)) {
          return dataset_tuple(
              nn::spiral_data(points, classes, generator.cast<ag::Generator&>(), noise, dt));
        }
        ag::Generator gen(generator.is_none() ? 0 : generator.cast<std::uint64_t>());
        return dataset_tuple(nn::spiral_data(points, classes, gen, noise, dt));
      },
      py::arg("points_per_class"), py::arg("classes"), py::arg("generator") = py::none(),
      py::arg("noise") = 0.2, py::arg("dtype") = py::none(),
      "(X [N, 2] Tensor, y int64 array) of NNFS's spiral; a NumpyRandom reproduces NNFS exactly.");
  m.def(
      "parabolas",
      [](std::int64_t points, const py::object& dtype) {
        return dataset_tuple(nn::parabolas(points, dtype_from(dtype).value_or(ag::float32)));
      },
      py::arg("points_per_class"), py::arg("dtype") = py::none());
  m.def(
      "labels_to_tensor",
      [](const py::object& labels, const py::object& dtype, bool column) {
        return nn::labels_to_tensor(labels_from(labels, "nn::labels_to_tensor"),
                                    dtype_from(dtype).value_or(ag::float32), column);
      },
      py::arg("labels"), py::arg("dtype") = py::none(), py::arg("column") = true);
  m.def(
      "take_rows",
      [](const Tensor& x, const py::object& rows) {
        return nn::take_rows(x, labels_from(rows, "nn::take_rows"));
      },
      py::arg("x"), py::arg("rows"));
  m.def("shuffled_batches", &nn::shuffled_batches, py::arg("n"), py::arg("batch_size"),
        py::arg("generator"));
}

}  // namespace agrad
