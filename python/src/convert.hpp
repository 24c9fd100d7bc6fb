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

}  // namespace agrad
