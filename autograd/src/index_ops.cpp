// Indexing and view-like ops. Every indexing op (index_select, narrow, select, slice, gather)
// is one gather by precomputed flat offsets, `take`; its backward is the scatter-add of the
// gradient to the same offsets, `put`; and each of the two is the other's backward, so the
// gradients are themselves differentiable to any order. squeeze, unsqueeze and flatten are
// reshapes; expand reduces its gradient with sums; stack is cat of unsqueezed parts; min is
// max of the negation.
#include <numeric>

#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;
using Offsets = std::shared_ptr<const std::vector<std::int64_t>>;

constexpr OpInfo kIndexSelect = tensor_op("index_select");
constexpr OpInfo kNarrow = tensor_op("narrow");
constexpr OpInfo kSelect = tensor_op("select");
constexpr OpInfo kSlice = tensor_op("slice");
constexpr OpInfo kGather = tensor_op("gather");
constexpr OpInfo kScatterAdd = tensor_op("scatter_add");
constexpr OpInfo kExpand = tensor_op("expand");

Tensor put(const Tensor& g, const Offsets& offsets, const Shape& shape);

// out[k] = x[offsets[k]], out of the given shape.
Tensor take(const OpInfo& op, const Tensor& x, const Offsets& offsets, const Shape& shape) {
  Tensor out = detail::empty(shape, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = data<T>(x);
    T* dst = data<T>(out);
    const auto& off = *offsets;
    for (std::size_t k = 0; k < off.size(); ++k) dst[k] = src[off[k]];
  });
  return detail::record(op, out, {&x}, [offsets, in_shape = x.shape()](const Tensor& g) {
    return Grads{put(g, offsets, in_shape)};
  });
}

// zeros(shape) with out[offsets[k]] += g[k]: take's adjoint (repeated offsets add up).
Tensor put(const Tensor& g, const Offsets& offsets, const Shape& shape) {
  Tensor out = zeros(shape, g.dtype());
  dispatch(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = data<T>(g);
    T* dst = data<T>(out);
    const auto& off = *offsets;
    for (std::size_t k = 0; k < off.size(); ++k) dst[off[k]] += src[k];
  });
  return detail::record(kScatterAdd, out, {&g}, [offsets, g_shape = g.shape()](const Tensor& gg) {
    return Grads{take(kGather, gg, offsets, g_shape)};
  });
}

// x viewed as [outer, n, inner] around `dim`.
struct Split {
  std::int64_t outer = 1, n = 1, inner = 1;
};
Split split(const Shape& s, std::int64_t dim) {
  Split v;
  for (std::int64_t d = 0; d < dim; ++d) v.outer *= s[d];
  v.n = s[dim];
  for (std::size_t d = dim + 1; d < s.size(); ++d) v.inner *= s[d];
  return v;
}

// The offsets of x[..., index[k], ...] along dim, for each k: index_select's, and narrow's,
// select's and slice's with their index ranges.
Tensor select_along(const OpInfo& op, const Tensor& x, std::int64_t dim,
                    const std::vector<std::int64_t>& index) {
  const Split v = split(x.shape(), dim);
  auto offsets = std::make_shared<std::vector<std::int64_t>>();
  offsets->reserve(static_cast<std::size_t>(v.outer) * index.size() * v.inner);
  for (std::int64_t a = 0; a < v.outer; ++a)
    for (std::int64_t k : index)
      for (std::int64_t i = 0; i < v.inner; ++i) offsets->push_back((a * v.n + k) * v.inner + i);
  Shape shape = x.shape();
  shape[dim] = static_cast<std::int64_t>(index.size());
  return take(op, x, offsets, shape);
}

std::int64_t checked_dim(const char* op, const Tensor& x, std::int64_t dim) {
  detail::checked(op, x);
  if (x.dim() == 0) throw Error(op, "needs a tensor with at least one dim, got a 0-d tensor");
  return detail::wrap_dim(op, dim, x.dim());
}

std::vector<std::int64_t> range(std::int64_t start, std::int64_t end, std::int64_t step) {
  std::vector<std::int64_t> r;
  for (std::int64_t i = start; i < end; i += step) r.push_back(i);
  return r;
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, std::span<const std::int64_t> index) {
  dim = checked_dim("index_select", x, dim);
  const std::int64_t n = x.size(dim);
  for (std::int64_t i : index) {
    if (i < 0 || i >= n) {
      throw Error("index_select", fmt::format("index {} is out of range for dim {} of size {} "
                                              "(shape {})",
                                              i, dim, n, to_string(x.shape())));
    }
  }
  return select_along(kIndexSelect, x, dim, {index.begin(), index.end()});
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  dim = checked_dim("narrow", x, dim);
  const std::int64_t n = x.size(dim);
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n) {
    throw Error("narrow", fmt::format("start {} and length {} do not fit dim {} of size {} "
                                      "(shape {})",
                                      start, length, dim, n, to_string(x.shape())));
  }
  return select_along(kNarrow, x, dim, range(start, start + length, 1));
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  dim = checked_dim("select", x, dim);
  const std::int64_t n = x.size(dim);
  if (index < -n || index >= n) {
    throw Error("select", fmt::format("index {} is out of range for dim {} of size {} (shape {})",
                                      index, dim, n, to_string(x.shape())));
  }
  if (index < 0) index += n;
  Shape shape = x.shape();
  shape.erase(shape.begin() + dim);
  return reshape(select_along(kSelect, x, dim, {index}), shape);
}

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step) {
  dim = checked_dim("slice", x, dim);
  if (step <= 0) throw Error("slice", fmt::format("step must be positive, got {}", step));
  // Python's rules: negative bounds count from the end, out-of-range bounds are clamped.
  const std::int64_t n = x.size(dim);
  auto clamp_bound = [n](std::int64_t b) {
    if (b < 0) b += n;
    return std::clamp<std::int64_t>(b, 0, n);
  };
  return select_along(kSlice, x, dim, range(clamp_bound(start), clamp_bound(end), step));
}

Tensor gather(const Tensor& x, std::int64_t dim, std::span<const std::int64_t> index,
              const Shape& index_shape) {
  dim = checked_dim("gather", x, dim);
  if (static_cast<std::int64_t>(index_shape.size()) != x.dim() ||
      numel(index_shape) != static_cast<std::int64_t>(index.size())) {
    throw Error("gather", fmt::format("index of shape {} with {} values does not index a tensor "
                                      "of shape {} (same rank needed)",
                                      to_string(index_shape), index.size(), to_string(x.shape())));
  }
  for (std::int64_t d = 0; d < x.dim(); ++d) {
    if (d != dim && index_shape[d] > x.size(d)) {
      throw Error("gather", fmt::format("index shape {} exceeds the input's shape {} at dim {}",
                                        to_string(index_shape), to_string(x.shape()), d));
    }
  }
  // Row-major strides of x; walk the index's positions like an odometer.
  const std::size_t rank = index_shape.size();
  std::vector<std::int64_t> stride(rank, 1);
  for (std::size_t d = rank - 1; d-- > 0;) stride[d] = stride[d + 1] * x.shape()[d + 1];
  auto offsets = std::make_shared<std::vector<std::int64_t>>(index.size());
  std::vector<std::int64_t> pos(rank, 0);
  for (std::size_t k = 0; k < index.size(); ++k) {
    const std::int64_t i = index[k];
    if (i < 0 || i >= x.size(dim)) {
      throw Error("gather", fmt::format("index {} is out of range for dim {} of size {}", i, dim,
                                        x.size(dim)));
    }
    std::int64_t off = 0;
    for (std::size_t d = 0; d < rank; ++d)
      off += (static_cast<std::int64_t>(d) == dim ? i : pos[d]) * stride[d];
    (*offsets)[k] = off;
    for (std::size_t d = rank; d-- > 0;) {
      if (++pos[d] < index_shape[d]) break;
      pos[d] = 0;
    }
  }
  return take(kGather, x, offsets, index_shape);
}

Tensor squeeze(const Tensor& x) {
  detail::checked("squeeze", x);
  Shape shape;
  for (std::int64_t d : x.shape())
    if (d != 1) shape.push_back(d);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  detail::checked("squeeze", x);
  if (x.dim() == 0) return reshape(x, {});  // as libtorch: a 0-d tensor stays as it is
  dim = detail::wrap_dim("squeeze", dim, x.dim());
  Shape shape = x.shape();
  if (shape[dim] == 1) shape.erase(shape.begin() + dim);
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  detail::checked("unsqueeze", x);
  dim = detail::wrap_dim("unsqueeze", dim, x.dim() + 1);
  Shape shape = x.shape();
  shape.insert(shape.begin() + dim, 1);
  return reshape(x, shape);
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  detail::checked("flatten", x);
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = detail::wrap_dim("flatten", start_dim, x.dim());
  end_dim = detail::wrap_dim("flatten", end_dim, x.dim());
  if (start_dim > end_dim) {
    throw Error("flatten", fmt::format("start_dim {} comes after end_dim {}", start_dim, end_dim));
  }
  const Shape& s = x.shape();
  Shape shape(s.begin(), s.begin() + start_dim);
  shape.push_back(std::accumulate(s.begin() + start_dim, s.begin() + end_dim + 1, std::int64_t{1},
                                  std::multiplies<>()));
  shape.insert(shape.end(), s.begin() + end_dim + 1, s.end());
  return reshape(x, shape);
}

Tensor expand(const Tensor& x, const Shape& requested) {
  detail::checked("expand", x);
  if (requested.size() < x.shape().size()) {
    throw Error("expand", fmt::format("cannot expand {} to fewer dims {}", to_string(x.shape()),
                                      to_string(requested)));
  }
  Shape shape = requested;
  const std::size_t lead = requested.size() - x.shape().size();
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const std::int64_t have = d < lead ? 1 : x.shape()[d - lead];
    if (shape[d] == -1 && d >= lead) shape[d] = have;
    if (shape[d] < 0 || (have != 1 && have != shape[d])) {
      throw Error("expand", fmt::format("cannot expand {} to {}", to_string(x.shape()),
                                        to_string(requested)));
    }
  }
  Tensor out = detail::broadcast_to(x, shape);
  return detail::record(kExpand, out, {&x}, [in_shape = x.shape(), lead](const Tensor& g) {
    // Sums in tensor ops, so that the gradient is differentiable too.
    Tensor r = g;
    for (std::size_t d = 0; d < lead; ++d) r = sum(r, 0);
    for (std::size_t d = 0; d < in_shape.size(); ++d)
      if (in_shape[d] == 1 && r.shape()[d] != 1) r = sum(r, static_cast<std::int64_t>(d), true);
    return Grads{r};
  });
}

Tensor stack(std::span<const Tensor> tensors, std::int64_t dim) {
  if (tensors.empty()) throw Error("stack", "needs at least one tensor");
  detail::checked("stack", tensors[0]);
  for (const Tensor& t : tensors) {
    detail::checked("stack", t);
    if (t.shape() != tensors[0].shape()) {
      throw Error("stack", fmt::format("all tensors need one shape, got {} and {}",
                                       to_string(tensors[0].shape()), to_string(t.shape())));
    }
  }
  dim = detail::wrap_dim("stack", dim, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, dim));
  return cat(parts, dim);
}
Tensor stack(std::initializer_list<Tensor> tensors, std::int64_t dim) {
  return stack(std::span<const Tensor>(tensors.begin(), tensors.size()), dim);
}

Tensor min(const Tensor& x) { return -max(-x); }
Tensor min(const Tensor& x, std::int64_t dim, bool keepdim) { return -max(-x, dim, keepdim); }

}  // namespace ag
