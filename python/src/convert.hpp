#pragma once
// Conversions between Python objects and engine types shared by the binding files.
#include <pybind11/numpy.h>

#include <autograd/autograd.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "bindings.hpp"

namespace agrad {

// None -> nullopt; agrad.float32/float64 or anything np.dtype() accepts ("float32", np.float64).
std::optional<ag::Dtype> dtype_from(const py::object& obj);
// A Tensor from an array-like (one copy), a Value (differentiably) or a Tensor (itself, or a
// detached conversion when dtype is given).
ag::Tensor tensor_from(const py::handle& data, std::optional<ag::Dtype> dtype);
// Zero-copy NumPy view of a tensor's storage that keeps the tensor alive.
py::array numpy_view(const ag::Tensor& t, bool writable);
// Integer class labels from a sequence or integer array; `op` names the caller in errors.
std::vector<std::int64_t> labels_from(const py::handle& labels, const char* op);
// A Value or Tensor as a graph root; anything else is an ag::Error naming `op`.
ag::GraphRoot root_from(const py::handle& obj, const char* op);

// Backward with create_graph where the engine has higher-order gradients (a template, so that
// the check compiles against either engine API); without them create_graph=True is refused.
template <class Handle, class... Seed>
void run_backward(const Handle& h, bool retain_graph, bool create_graph, const Seed&... seed) {
  if constexpr (requires { h.backward(seed..., retain_graph, create_graph); }) {
    h.backward(seed..., retain_graph, create_graph);
  } else {
    if (create_graph) {
      throw ag::Error("backward", "create_graph=True needs an engine with higher-order gradients");
    }
    h.backward(seed..., retain_graph);
  }
}

}  // namespace agrad
