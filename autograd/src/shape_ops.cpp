// Shape ops: reshape (shares storage), transpose (copies), cat, and pick (row gathering).
#include <cstring>

#include "broadcast.hpp"
#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;

constexpr OpInfo kReshape = tensor_op("reshape", false);
constexpr OpInfo kTranspose = tensor_op("transpose", false);
constexpr OpInfo kCat = tensor_op("cat", false);
constexpr OpInfo kPick = tensor_op("pick", false);

// Copies the slab [start, start + len) of `dim` out of x (no graph): cat's backward.
Tensor narrow_copy(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t len) {
  Shape shape = x.shape();
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (std::int64_t d = dim + 1; d < x.dim(); ++d) inner *= shape[d];
  const std::int64_t n = shape[dim];
  shape[dim] = len;
  Tensor out = detail::empty(shape, x.dtype());
  const std::size_t elem = size_of(x.dtype());
  auto* src = static_cast<const char*>(detail::node_of(x).storage->data);
  auto* dst = static_cast<char*>(detail::node_of(out).storage->data);
  for (std::int64_t a = 0; a < outer; ++a) {
    std::memcpy(dst + static_cast<std::size_t>(a * len * inner) * elem,
                src + static_cast<std::size_t>((a * n + start) * inner) * elem,
                static_cast<std::size_t>(len * inner) * elem);
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& requested) {
  detail::checked("reshape", x);
  {  // the requested dims, -1 counted as 1, must make a valid shape before they are multiplied
    Shape known_dims = requested;
    for (auto& d : known_dims) d = d == -1 ? 1 : d;
    checked_numel("reshape", known_dims);
  }
  Shape shape = requested;
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0)
        throw Error("reshape", fmt::format("only one dim may be -1 in {}", to_string(requested)));
      infer = static_cast<std::int64_t>(i);
    } else if (shape[i] < 0) {
      throw Error("reshape", fmt::format("negative dim in {}", to_string(requested)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known != 0 && x.numel() % known == 0)
    shape[static_cast<std::size_t>(infer)] = x.numel() / known;
  if (numel(shape) != x.numel() || (infer >= 0 && known == 0)) {
    throw Error("reshape", fmt::format("cannot reshape {} ({} elements) into {}",
                                       to_string(x.shape()), x.numel(), to_string(requested)));
  }
  Tensor out = detail::alias(detail::node_of(x).storage, shape, x.dtype());
  return detail::record(kReshape, out, {&x},
                        [from = x.shape()](const Tensor& g) { return Grads{g.reshape(from)}; });
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  detail::checked("transpose", x);
  if (x.dim() < 2) {
    throw Error("transpose",
                fmt::format("needs at least 2 dims, got shape {}", to_string(x.shape())));
  }
  dim0 = detail::wrap_dim("transpose", dim0, x.dim());
  dim1 = detail::wrap_dim("transpose", dim1, x.dim());
  Shape shape = x.shape();
  std::swap(shape[static_cast<std::size_t>(dim0)], shape[static_cast<std::size_t>(dim1)]);
  Tensor out = detail::empty(shape, x.dtype());
  // Source strides permuted into the output's index order, then one strided copy.
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> in_strides(rank, 1);
  for (std::size_t d = rank - 1; d-- > 0;) in_strides[d] = in_strides[d + 1] * x.shape()[d + 1];
  std::swap(in_strides[static_cast<std::size_t>(dim0)], in_strides[static_cast<std::size_t>(dim1)]);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = data<T>(x);
    T* dst = data<T>(out);
    detail::for_each_row(shape, in_strides,
                         [&](std::int64_t oi, std::int64_t xi, std::int64_t n, std::int64_t step) {
                           for (std::int64_t k = 0; k < n; ++k) dst[oi + k] = src[xi + k * step];
                         });
  });
  return detail::record(kTranspose, out, {&x},
                        [dim0, dim1](const Tensor& g) { return Grads{g.transpose(dim0, dim1)}; });
}

Tensor cat(std::span<const Tensor> tensors, std::int64_t dim) {
  if (tensors.empty()) throw Error("cat", "needs at least one tensor");
  const Tensor& first = detail::checked("cat", tensors[0]);
  if (first.dim() == 0)
    throw Error("cat", "cannot concatenate 0-d tensors; reshape them to [1] first");
  dim = detail::wrap_dim("cat", dim, first.dim());
  Shape shape = first.shape();
  shape[static_cast<std::size_t>(dim)] = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = detail::checked("cat", tensors[k]);
    detail::check_same_dtype("cat", first, t);
    bool ok = t.dim() == first.dim();
    for (std::int64_t d = 0; ok && d < t.dim(); ++d)
      ok = d == dim || t.shape()[d] == first.shape()[d];
    if (!ok) {
      throw Error("cat",
                  fmt::format("tensor {} has shape {}, which does not match {} outside dim {}", k,
                              to_string(t.shape()), to_string(first.shape()), dim));
    }
    sizes.push_back(t.shape()[static_cast<std::size_t>(dim)]);
    shape[static_cast<std::size_t>(dim)] += sizes.back();
  }
  Tensor out = detail::empty(shape, first.dtype());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (std::int64_t d = dim + 1; d < first.dim(); ++d) inner *= shape[d];
  const std::size_t elem = size_of(first.dtype());
  auto* dst = static_cast<char*>(detail::node_of(out).storage->data);
  std::int64_t start = 0;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    auto* src = static_cast<const char*>(detail::node_of(tensors[k]).storage->data);
    for (std::int64_t a = 0; a < outer; ++a) {
      std::memcpy(dst + static_cast<std::size_t>((a * shape[dim] + start) * inner) * elem,
                  src + static_cast<std::size_t>(a * sizes[k] * inner) * elem,
                  static_cast<std::size_t>(sizes[k] * inner) * elem);
    }
    start += sizes[k];
  }
  std::vector<Tensor> inputs(tensors.begin(), tensors.end());
  return detail::record(kCat, out, inputs, [dim, sizes](const Tensor& g) {
    Grads grads;
    std::int64_t at = 0;
    for (auto len : sizes) {
      // Recorded (ag::narrow, differentiable) only under create_graph.
      grads.push_back(grad_enabled() ? ag::narrow(g, dim, at, len) : narrow_copy(g, dim, at, len));
      at += len;
    }
    return grads;
  });
}

Tensor cat(std::initializer_list<Tensor> tensors, std::int64_t dim) {
  return cat(std::span<const Tensor>(tensors.begin(), tensors.size()), dim);
}

Tensor pick(const Tensor& x, std::span<const std::int64_t> labels) {
  detail::checked("pick", x);
  if (x.dim() != 2)
    throw Error("pick", fmt::format("needs a [N, C] tensor, got shape {}", to_string(x.shape())));
  const std::int64_t rows = x.shape()[0], classes = x.shape()[1];
  if (static_cast<std::int64_t>(labels.size()) != rows) {
    throw Error("pick", fmt::format("{} labels for {} rows (input shape {})", labels.size(), rows,
                                    to_string(x.shape())));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw Error("pick", fmt::format("label {} of row {} is outside [0, {}) (input shape {})",
                                      labels[i], i, classes, to_string(x.shape())));
    }
  }
  Tensor out = detail::empty({rows}, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = data<T>(x);
    T* o = data<T>(out);
    for (std::int64_t i = 0; i < rows; ++i)
      o[i] = in[i * classes + labels[static_cast<std::size_t>(i)]];
  });
  std::vector<std::int64_t> saved(labels.begin(), labels.end());
  return detail::record(kPick, out, {&x},
                        [shape = x.shape(), saved = std::move(saved)](const Tensor& g) {
                          Tensor gx = zeros(shape, g.dtype());
                          if (grad_enabled()) {  // create_graph: g times a one-hot mask
                            dispatch(g.dtype(), [&](auto tag) {
                              using T = decltype(tag);
                              T* dst = data<T>(gx);
                              for (std::size_t i = 0; i < saved.size(); ++i)
                                dst[static_cast<std::int64_t>(i) * shape[1] + saved[i]] = T(1);
                            });
                            return Grads{detail::expand(g.reshape({shape[0], 1}), shape) * gx};
                          }
                          dispatch(g.dtype(), [&](auto tag) {
                            using T = decltype(tag);
                            const T* src = data<T>(g);
                            T* dst = data<T>(gx);
                            for (std::size_t i = 0; i < saved.size(); ++i)
                              dst[static_cast<std::int64_t>(i) * shape[1] + saved[i]] += src[i];
                          });
                          return Grads{gx};
                        });
}

Tensor Tensor::reshape(const Shape& s) const { return ag::reshape(*this, s); }
Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  return ag::transpose(*this, d0, d1);
}

}  // namespace ag
