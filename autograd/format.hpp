#pragma once
// fmt support: fmt::print("{}", tensor) and fmt::print("{}", value).
#include <fmt/format.h>

#include <string>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"

namespace ag {
// "tensor([[1, 2], [3, 4]], dtype=float32, requires_grad=true)"; long dims are elided.
std::string to_string(const Tensor& t);
// "Value(data=2, grad=0)"
std::string to_string(const Value& v);
}  // namespace ag

template <>
struct fmt::formatter<ag::Tensor> : fmt::formatter<std::string> {
  template <class Ctx>
  auto format(const ag::Tensor& t, Ctx& ctx) const {
    return fmt::formatter<std::string>::format(ag::to_string(t), ctx);
  }
};
template <>
struct fmt::formatter<ag::Value> : fmt::formatter<std::string> {
  template <class Ctx>
  auto format(const ag::Value& v, Ctx& ctx) const {
    return fmt::formatter<std::string>::format(ag::to_string(v), ctx);
  }
};
