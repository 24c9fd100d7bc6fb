// Reductions: sum, mean, max over all elements or one dim, and argmax.
// A dim reduction views the input as [outer, n, inner] and reduces the middle.
#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;

// Backward rules are written in differentiable ops (expand, reshape, mul by a mask) so that
// they record history under create_graph; max keeps a direct scatter for first order.
constexpr OpInfo kSum = tensor_op("sum", false);
constexpr OpInfo kMean = tensor_op("mean", false);
constexpr OpInfo kMax = tensor_op("max", false);

struct DimView {
  std::int64_t outer = 1, n = 1, inner = 1;
  Shape keep_shape;  // the result's shape with keepdim
  Shape out_shape;   // the result's shape
};

DimView view_dim(const char* op, const Tensor& x, std::int64_t& dim, bool keepdim) {
  detail::checked(op, x);
  if (x.dim() == 0)
    throw Error(op, "cannot reduce a dim of a 0-d tensor; use the all-elements form");
  dim = detail::wrap_dim(op, dim, x.dim());
  DimView v;
  const Shape& s = x.shape();
  for (std::int64_t d = 0; d < dim; ++d) v.outer *= s[d];
  v.n = s[dim];
  for (std::int64_t d = dim + 1; d < x.dim(); ++d) v.inner *= s[d];
  v.keep_shape = s;
  v.keep_shape[dim] = 1;
  v.out_shape = s;
  if (keepdim) {
    v.out_shape[dim] = 1;
  } else {
    v.out_shape.erase(v.out_shape.begin() + dim);
  }
  return v;
}

void require_nonempty(const char* op, const Tensor& x, std::int64_t n) {
  if (n == 0)
    throw Error(
        op, fmt::format("cannot reduce an empty extent (input shape {})", to_string(x.shape())));
}

// out[o, i] = sum_k x[o, k, i]
Tensor sum_kernel(const Tensor& x, const DimView& v) {
  Tensor out = zeros(v.out_shape, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    for (std::int64_t a = 0; a < v.outer; ++a) {
      for (std::int64_t k = 0; k < v.n; ++k) {
        const T* row = in + (a * v.n + k) * v.inner;
        T* dst = o + a * v.inner;
        for (std::int64_t i = 0; i < v.inner; ++i) dst[i] += row[i];
      }
    }
  });
  return out;
}

// Values and first argmax along the middle of [outer, n, inner].
std::pair<Tensor, std::vector<std::int64_t>> max_kernel(const Tensor& x, const DimView& v) {
  Tensor out = detail::empty(v.out_shape, x.dtype());
  std::vector<std::int64_t> index(static_cast<std::size_t>(v.outer * v.inner), 0);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    for (std::int64_t a = 0; a < v.outer; ++a) {
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const T* p = in + a * v.n * v.inner + i;
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < v.n; ++k) {
          if (p[k * v.inner] > p[best * v.inner] || std::isnan(p[k * v.inner])) {
            best = k;
            if (std::isnan(p[k * v.inner])) break;  // NaN propagates, like NumPy
          }
        }
        o[a * v.inner + i] = p[best * v.inner];
        index[static_cast<std::size_t>(a * v.inner + i)] = best;
      }
    }
  });
  return {out, index};
}

DimView all_as_dim(const Tensor& x) {
  DimView v;
  v.n = x.numel();
  return v;  // keep/out shapes: {} (0-d)
}

}  // namespace

Tensor sum(const Tensor& x) {
  detail::checked("sum", x);
  Tensor out = sum_kernel(x, all_as_dim(x));
  return detail::record(kSum, out, {&x}, [shape = x.shape()](const Tensor& g) {
    return Grads{detail::expand(g, shape)};
  });
}

Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  DimView v = view_dim("sum", x, dim, keepdim);
  Tensor out = sum_kernel(x, v);
  return detail::record(kSum, out, {&x}, [shape = x.shape(), keep = v.keep_shape](const Tensor& g) {
    return Grads{detail::expand(g.reshape(keep), shape)};
  });
}

Tensor mean(const Tensor& x) {
  detail::checked("mean", x);
  require_nonempty("mean", x, x.numel());
  Tensor out = sum_kernel(x, all_as_dim(x));
  const double scale = 1.0 / static_cast<double>(x.numel());
  dispatch(x.dtype(),
           [&](auto tag) { data<decltype(tag)>(out)[0] *= static_cast<decltype(tag)>(scale); });
  return detail::record(kMean, out, {&x}, [shape = x.shape(), scale](const Tensor& g) {
    return Grads{detail::expand(g * scale, shape)};
  });
}

Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  DimView v = view_dim("mean", x, dim, keepdim);
  require_nonempty("mean", x, v.n);
  const double scale = 1.0 / static_cast<double>(v.n);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = sum_kernel(x, v) * scale;
  }
  return detail::record(kMean, out, {&x},
                        [shape = x.shape(), keep = v.keep_shape, scale](const Tensor& g) {
                          return Grads{detail::expand((g * scale).reshape(keep), shape)};
                        });
}

Tensor max(const Tensor& x) {
  detail::checked("max", x);
  require_nonempty("max", x, x.numel());
  auto [out, index] = max_kernel(x, all_as_dim(x));
  return detail::record(kMax, out, {&x}, [shape = x.shape(), at = index[0]](const Tensor& g) {
    Tensor gx = zeros(shape, g.dtype());
    if (grad_enabled()) {  // create_graph: g times a one-hot mask (linear in g)
      dispatch(g.dtype(), [&](auto tag) { data<decltype(tag)>(gx)[at] = 1; });
      return Grads{detail::expand(g, shape) * gx};
    }
    dispatch(g.dtype(), [&](auto tag) { data<decltype(tag)>(gx)[at] = data<decltype(tag)>(g)[0]; });
    return Grads{gx};
  });
}

Tensor max(const Tensor& x, std::int64_t dim, bool keepdim) {
  DimView v = view_dim("max", x, dim, keepdim);
  require_nonempty("max", x, v.n);
  auto [out, index] = max_kernel(x, v);
  return detail::record(kMax, out, {&x},
                        [shape = x.shape(), v, index = std::move(index)](const Tensor& g) {
                          Tensor gx = zeros(shape, g.dtype());
                          const bool mask = grad_enabled();  // create_graph: g times a one-hot mask
                          dispatch(g.dtype(), [&](auto tag) {
                            using T = decltype(tag);
                            const T* src = data<T>(g);
                            T* dst = data<T>(gx);
                            for (std::int64_t a = 0; a < v.outer; ++a) {
                              for (std::int64_t i = 0; i < v.inner; ++i) {
                                const std::int64_t j = a * v.inner + i;
                                dst[(a * v.n + index[static_cast<std::size_t>(j)]) * v.inner + i] =
                                    mask ? T(1) : src[j];
                              }
                            }
                          });
                          if (mask)
                            return Grads{detail::expand(g.reshape(v.keep_shape), shape) * gx};
                          return Grads{gx};
                        });
}

std::vector<std::int64_t> argmax(const Tensor& x, std::int64_t dim) {
  DimView v = view_dim("argmax", x, dim, false);
  require_nonempty("argmax", x, v.n);
  return max_kernel(x, v).second;
}

Tensor Tensor::sum() const { return ag::sum(*this); }
Tensor Tensor::sum(std::int64_t d, bool keepdim) const { return ag::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return ag::mean(*this); }
Tensor Tensor::mean(std::int64_t d, bool keepdim) const { return ag::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return ag::max(*this); }
Tensor Tensor::max(std::int64_t d, bool keepdim) const { return ag::max(*this, d, keepdim); }

}  // namespace ag
