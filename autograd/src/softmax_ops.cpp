// softmax and log_softmax over a dim, with the maximum subtracted so that any finite logits
// (1e4 included) give finite results.
#include <cmath>

#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;

constexpr OpInfo kSoftmax = tensor_op("softmax");
constexpr OpInfo kLogSoftmax = tensor_op("log_softmax");

// For each slice along dim: out = x - max - log(sum(exp(x - max))) (log form) or the
// normalised exponentials.
Tensor softmax_kernel(const char* op, const Tensor& x, std::int64_t& dim, bool log_form) {
  detail::checked(op, x);
  if (x.dim() == 0) throw Error(op, "needs at least 1 dim, got a 0-d tensor");
  dim = detail::wrap_dim(op, dim, x.dim());
  std::int64_t outer = 1, inner = 1;
  const std::int64_t n = x.shape()[dim];
  for (std::int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (std::int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[d];
  Tensor out = detail::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    for (std::int64_t a = 0; a < outer; ++a) {
      for (std::int64_t i = 0; i < inner; ++i) {
        const T* p = in + a * n * inner + i;
        T* q = o + a * n * inner + i;
        T m = p[0];
        for (std::int64_t k = 1; k < n; ++k) m = std::max(m, p[k * inner]);
        T total = 0;
        for (std::int64_t k = 0; k < n; ++k) total += std::exp(p[k * inner] - m);
        if (log_form) {
          // (x - max) - log(total), not x - (max + log(total)): near large logits the sum
          // max + log(total) rounds away the small log term in float32.
          const T log_total = std::log(total);
          for (std::int64_t k = 0; k < n; ++k) q[k * inner] = (p[k * inner] - m) - log_total;
        } else {
          for (std::int64_t k = 0; k < n; ++k) q[k * inner] = std::exp(p[k * inner] - m) / total;
        }
      }
    }
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = softmax_kernel("softmax", x, dim, false);
  return detail::record(kSoftmax, out, {&x}, [y = out.detach(), dim](const Tensor& g) {
    return Grads{y * (g - sum(g * y, dim, true))};
  });
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  Tensor out = softmax_kernel("log_softmax", x, dim, true);
  return detail::record(kLogSoftmax, out, {&x}, [y = out.detach(), dim](const Tensor& g) {
    return Grads{g - exp(y) * sum(g, dim, true)};
  });
}

Tensor Tensor::softmax(std::int64_t dim) const { return ag::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return ag::log_softmax(*this, dim); }

}  // namespace ag
