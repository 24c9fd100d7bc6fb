// Differentiable copies and dtype conversion: clone() and to().
#include <cstring>

#include "autograd/tensor.hpp"
#include "tensor_impl.hpp"

namespace ag {

using namespace detail;

namespace {
constexpr OpInfo kClone = tensor_op("clone", false);
constexpr OpInfo kTo = tensor_op("to", false);
}  // namespace

Tensor Tensor::clone() const {
  checked("clone", *this);
  Tensor out = empty(shape(), dtype());
  std::memcpy(node_of(out).storage->data, node_of(*this).storage->data,
              static_cast<std::size_t>(numel()) * size_of(dtype()));
  return record(kClone, out, {this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(Dtype target) const {
  checked("to", *this);
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  dispatch(dtype(), [&](auto from) {
    dispatch(target, [&](auto to) {
      using F = decltype(from);
      using T = decltype(to);
      const F* in = data<F>(*this);
      T* o = data<T>(out);
      for (std::int64_t i = 0, n = numel(); i < n; ++i) o[i] = static_cast<T>(in[i]);
    });
  });
  const Dtype source = dtype();
  return record(kTo, out, {this},
                [source](const Tensor& g) { return std::vector<Tensor>{g.to(source)}; });
}

}  // namespace ag
