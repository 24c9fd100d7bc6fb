// Matrix products through detail::gemm (gemm.hpp): 2-D, batched with broadcast batch dims, and
// 1-D operands.
#include <algorithm>

#include "broadcast.hpp"
#include "gemm.hpp"
#include "gemm_small.hpp"
#include "linear_grad.hpp"
#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;

constexpr OpInfo kMatmul = tensor_op("matmul");

Shape batch_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// C = op(A) @ op(B) + beta C for row-major A (lda columns), B (ldb columns), C [m, n].
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* A,
          std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C) {
  detail::gemm(trans_a, trans_b, m, n, k, T(1), A, lda, B, ldb, beta, C, n);
}

// C[batch] = op(A[batch]) @ op(B[batch]), op = transpose of the last two dims where flagged.
// A and B are >= 2-D; their batch dims broadcast. No graph.
Tensor batched_gemm(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b) {
  const std::int64_t ra = a.shape()[a.dim() - 2], ca = a.shape()[a.dim() - 1];
  const std::int64_t rb = b.shape()[b.dim() - 2], cb = b.shape()[b.dim() - 1];
  const std::int64_t m = trans_a ? ca : ra, k = trans_a ? ra : ca;
  const std::int64_t kb = trans_b ? cb : rb, n = trans_b ? rb : cb;
  if (k != kb) {
    throw Error("matmul", fmt::format("inner dims differ: {} @ {} ({} vs {})", to_string(a.shape()),
                                      to_string(b.shape()), k, kb));
  }
  Shape batch = broadcast_shapes("matmul", batch_of(a), batch_of(b));
  Shape shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  checked_numel("matmul", shape);  // [2^40, 0] @ [0, 2^40] is valid, its product is not
  // gemm with beta = 0 overwrites the output: clearing it first is wasted (k == 0 excepted).
  Tensor out = k == 0 ? zeros(shape, a.dtype()) : detail::empty(shape, a.dtype());
  if (m == 0 || n == 0 || k == 0) return out;
  const auto sa = detail::broadcast_strides(batch_of(a), batch);
  const auto sb = detail::broadcast_strides(batch_of(b), batch);
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pa = data<T>(a);
    const T* pb = data<T>(b);
    T* pc = data<T>(out);
    // Walk the batch; each row of the walk is `count` consecutive output matrices.
    std::int64_t c_index = 0;
    detail::for_each_row(batch, sa, sb,
                         [&](std::int64_t, std::int64_t ia, std::int64_t ib, std::int64_t count,
                             std::int64_t step_a, std::int64_t step_b) {
                           for (std::int64_t j = 0; j < count; ++j, ++c_index) {
                             const T* A = pa + (ia + j * step_a) * ra * ca;
                             const T* B = pb + (ib + j * step_b) * rb * cb;
                             gemm<T>(trans_a, trans_b, m, n, k, A, ca, B, cb, T(0),
                                     pc + c_index * m * n);
                           }
                         });
  });
  return out;
}

// The product of two >= 2-D tensors.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  Tensor out = batched_gemm(a, false, b, false);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  return detail::record(kMatmul, out, {&a, &b}, [a, b, need_a, need_b](const Tensor& g) {
    // dA = g @ B^T, dB = A^T @ g, at the broadcast batch shape; the engine
    // sums them back. An input that needs no gradient (a data batch) gets
    // none: its product would be a third of the layer's backward FLOPs.
    if (grad_enabled()) {  // create_graph: the same in recorded ops
      return Grads{need_a ? matmul(g, b.transpose(-1, -2)) : Tensor(),
                   need_b ? matmul(a.transpose(-1, -2), g) : Tensor()};
    }
    return Grads{need_a ? batched_gemm(g, false, b, true) : Tensor(),
                 need_b ? batched_gemm(a, true, g, false) : Tensor()};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::checked("matmul", a);
  detail::checked("matmul", b);
  detail::check_same_dtype("matmul", a, b);
  if (a.dim() == 0 || b.dim() == 0) {
    throw Error("matmul", fmt::format("needs operands of at least 1 dim, got {} @ {}",
                                      to_string(a.shape()), to_string(b.shape())));
  }
  // NumPy's 1-d rules: a vector on the left is a row, on the right a column, and the added
  // dim is removed from the result.
  if (a.dim() == 1 && b.dim() == 1) {
    return matmul_nd(a.reshape({1, a.numel()}), b.reshape({b.numel(), 1})).reshape({});
  }
  if (a.dim() == 1) {
    Tensor out = matmul_nd(a.reshape({1, a.numel()}), b);
    Shape s = out.shape();
    s.erase(s.end() - 2);
    return out.reshape(s);
  }
  if (b.dim() == 1) {
    Tensor out = matmul_nd(a, b.reshape({b.numel(), 1}));
    Shape s = out.shape();
    s.pop_back();
    return out.reshape(s);
  }
  return matmul_nd(a, b);
}

namespace {
constexpr OpInfo kLinear = tensor_op("linear");
constexpr OpInfo kLinearRelu = tensor_op("linear_relu");

// First-order backward of the activation and the bias in one pass over g [rows, n]: with
// relu (y non-null) the pre-activation's gradient, g where the output y > 0, into gz; the
// column sums of that gradient (g itself without activation) into bias_grad, if non-null.
template <class T>
void pre_activation_grad(const T* __restrict g, const T* __restrict y, T* __restrict gz,
                         T* __restrict bias_grad, std::int64_t rows, std::int64_t n) {
  if (y && bias_grad) {  // one pass for both: the common case (a hidden layer)
    return detail::relu_and_bias_grad(g, y, gz, bias_grad, rows, n);
  }
  if (bias_grad) return detail::column_sums(g, bias_grad, rows, n);
  for (std::int64_t r = 0; r < rows; ++r, g += n, y += n, gz += n) {  // relu without bias
    for (std::int64_t j = 0; j < n; ++j) {
      const T gj = g[j], yj = y[j];
      gz[j] = yj > T(0) ? gj : T(0);
    }
  }
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  detail::checked("linear", x);
  detail::checked("linear", weight);
  detail::check_same_dtype("linear", x, weight);
  if (weight.dim() != 2 || x.dim() < 1 || x.size(-1) != weight.size(0)) {
    throw Error("linear",
                fmt::format("input {} does not end in the weight's in-features: weight {} "
                            "must be [in, out]",
                            to_string(x.shape()), to_string(weight.shape())));
  }
  if (activation != Activation::none && activation != Activation::relu) {
    throw Error("linear", fmt::format("unknown activation {}", static_cast<int>(activation)));
  }
  const std::int64_t in = weight.size(0), out_features = weight.size(1);
  if (bias.defined()) {
    detail::check_same_dtype("linear", x, bias);
    if (bias.shape() != Shape{out_features}) {
      throw Error("linear",
                  fmt::format("bias {} must be [{}] for weight {}", to_string(bias.shape()),
                              out_features, to_string(weight.shape())));
    }
  }
  const bool relu = activation == Activation::relu;
  // The rows are x's leading dims (not numel / in: in may be 0).
  std::int64_t rows = 1;
  for (std::int64_t d = 0; d + 1 < x.dim(); ++d) rows *= x.size(d);
  Shape shape = x.shape();
  shape.back() = out_features;
  // The product is written into the output (beta = 0) with the bias and the activation as its
  // epilogue (gemm.hpp): applied as the small kernels store each element, else in one pass
  // after the library's product; no temporaries. (Preloading the bias row by row for a beta = 1
  // product cost a memcpy call per row: a tenth of a small MLP's epoch.)
  Tensor out = detail::empty(shape, x.dtype(), "linear");
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // in == 0 is an empty sum: gemm's k == 0 rule writes zeros (beta = 0), then the epilogue.
    detail::gemm(false, false, rows, out_features, in, T(1), data<T>(x), in, data<T>(weight),
                 out_features, T(0), data<T>(out), out_features,
                 detail::Epilogue<T>{bias.defined() ? data<T>(bias) : nullptr, relu});
  });
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
  // relu's derivative is read off the output: a detached alias of its storage (no history,
  // so no cycle); the recorded output version makes backward refuse an in-place write to it.
  const Tensor y = relu && grad_enabled() ? out.detach() : Tensor();
  return detail::record(
      relu ? kLinearRelu : kLinear, out, inputs,
      [x, w = weight, y, has_bias = bias.defined(), need_x, need_w, rows, in,
       out_features](const Tensor& g) {
        // dZ = g (masked where y <= 0 for relu), dX = dZ W^T, dW = X^T dZ, db = column sums of
        // dZ, with X and dZ seen as 2-D.
        const Tensor x2 = x.reshape({rows, in});
        if (grad_enabled()) {  // create_graph: the same in recorded ops (the mask is constant)
          Tensor gz = g.reshape({rows, out_features});
          if (y.defined()) gz = gz * gt(y.reshape({rows, out_features}), 0.0);
          Grads grads{need_x ? matmul(gz, w.t()).reshape(x.shape()) : Tensor(),
                      need_w ? matmul(x2.t(), gz) : Tensor()};
          if (has_bias) grads.push_back(detail::reduce_to(gz, {out_features}));
          return grads;
        }
        if (y.defined() && has_bias && need_w && !need_x && in >= 1 &&
            in <= detail::kFusedWeightGradMaxIn) {
          // A first layer: the masked gradient is only summed, so it is never stored.
          Tensor dw = detail::empty({in, out_features}, g.dtype(), "linear");
          Tensor bias_grad = detail::empty({out_features}, g.dtype(), "linear");
          dispatch(g.dtype(), [&](auto tag) {
            using T = decltype(tag);
            detail::relu_bias_weight_grad(data<T>(g), data<T>(y), data<T>(x2), data<T>(dw),
                                          data<T>(bias_grad), rows, out_features, in);
          });
          return Grads{Tensor(), std::move(dw), std::move(bias_grad)};
        }
        if (need_x && need_w && in >= 1 && out_features >= 1 &&
            out_features <= detail::kFewOutputsMax &&
            detail::small_gemm_suits(rows, in, out_features)) {
          // A classifier's last layer: both products in one pass over x, gz never stored.
          Tensor dx = detail::empty({rows, in}, g.dtype(), "linear");
          Tensor dw = detail::empty({in, out_features}, g.dtype(), "linear");
          Tensor bias_grad =
              has_bias ? detail::empty({out_features}, g.dtype(), "linear") : Tensor();
          dispatch(g.dtype(), [&](auto tag) {
            using T = decltype(tag);
            detail::few_outputs_grad(data<T>(g), y.defined() ? data<T>(y) : nullptr, data<T>(x2),
                                     data<T>(w), data<T>(dx), data<T>(dw),
                                     has_bias ? data<T>(bias_grad) : nullptr, rows, in,
                                     out_features);
          });
          Grads grads{dx.reshape(x.shape()), std::move(dw)};
          if (has_bias) grads.push_back(std::move(bias_grad));
          return grads;
        }
        Tensor gz = y.defined() ? detail::empty({rows, out_features}, g.dtype(), "linear")
                                : g.reshape({rows, out_features});
        Tensor bias_grad = has_bias ? detail::empty({out_features}, g.dtype(), "linear") : Tensor();
        if (y.defined() || has_bias) {
          dispatch(g.dtype(), [&](auto tag) {
            using T = decltype(tag);
            pre_activation_grad<T>(data<T>(g), y.defined() ? data<T>(y) : nullptr,
                                   y.defined() ? data<T>(gz) : nullptr,
                                   has_bias ? data<T>(bias_grad) : nullptr, rows, out_features);
          });
        }
        Grads grads{need_x ? batched_gemm(gz, false, w, true).reshape(x.shape()) : Tensor(),
                    need_w ? batched_gemm(x2, true, gz, false) : Tensor()};
        if (has_bias) grads.push_back(std::move(bias_grad));
        return grads;
      });
}

Tensor Tensor::matmul(const Tensor& other) const { return ag::matmul(*this, other); }

}  // namespace ag
