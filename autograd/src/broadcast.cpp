// Broadcast kernels on the walkers of broadcast.hpp: strides, and sum_to / broadcast_to (the
// no-graph halves of reduce_to / expand, record.cpp).
#include "broadcast.hpp"

#include <algorithm>

#include "tensor_impl.hpp"

namespace ag::detail {

std::vector<std::int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<std::int64_t> strides(out.size(), 0);
  std::int64_t stride = 1;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t i = in.size() - 1 - k;  // input dim, from the right
    const std::size_t o = out.size() - 1 - k;
    strides[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return strides;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  Tensor out = zeros(shape, grad.dtype());
  dispatch(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* g = data<T>(grad);
    T* o = data<T>(out);
    const auto so = broadcast_strides(shape, grad.shape());
    for_each_row(grad.shape(), so,
                 [&](std::int64_t gi, std::int64_t oi, std::int64_t n, std::int64_t step) {
                   if (step == 0) {
                     T acc = 0;
                     for (std::int64_t k = 0; k < n; ++k) acc += g[gi + k];
                     o[oi] += acc;
                   } else {
                     if (step == 1) {  // vectorises: the bias gradient of a batch
                       for (std::int64_t k = 0; k < n; ++k) o[oi + k] += g[gi + k];
                     } else {
                       for (std::int64_t k = 0; k < n; ++k) o[oi + k * step] += g[gi + k];
                     }
                   }
                 });
  });
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor out = empty(shape, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    const auto sx = broadcast_strides(x.shape(), shape);
    for_each_row(shape, sx,
                 [&](std::int64_t oi, std::int64_t xi, std::int64_t n, std::int64_t step) {
                   if (step == 1) {
                     std::copy_n(in + xi, n, o + oi);
                   } else if (step == 0) {
                     std::fill_n(o + oi, n, in[xi]);
                   } else {
                     for (std::int64_t k = 0; k < n; ++k) o[oi + k] = in[xi + k * step];
                   }
                 });
  });
  return out;
}

}  // namespace ag::detail
