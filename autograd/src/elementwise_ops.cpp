// Elementwise tensor ops: the op table's rows (op_table.hpp) as tensor ops, plus pow, clamp,
// comparisons and where. Backward rules return gradients at the broadcast shape; the engine
// sums each back to its input's shape, so broadcasting needs no code here. Closures hold
// their inputs as plain handles, and a saved output only for the first-order path (with grad
// mode on, for create_graph, they recompute it with history).
#include <cmath>

#include "autograd/value.hpp"
#include "broadcast.hpp"
#include "op_table.hpp"
#include "tensor_impl.hpp"

namespace ag {
namespace {

using namespace op_kit;

// out = f(a, b) elementwise with broadcasting; f is applied in the tensors' dtype.
template <class F>
Tensor binary_kernel(const char* op, const Tensor& a, const Tensor& b, F f) {
  detail::checked(op, a);
  detail::checked(op, b);
  detail::check_same_dtype(op, a, b);
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = detail::empty(shape, a.dtype());
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = data<T>(a);
    const T* y = data<T>(b);
    T* o = data<T>(out);
    const std::int64_t n = numel(shape);
    if (a.shape() == shape && b.shape() == shape) {  // fast paths first
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (a.shape() == shape && b.numel() == 1) {
      const T s = y[0];
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(x[i], s);
    } else if (b.shape() == shape && a.numel() == 1) {
      const T s = x[0];
      for (std::int64_t i = 0; i < n; ++i) o[i] = f(s, y[i]);
    } else {
      const auto sa = detail::broadcast_strides(a.shape(), shape);
      const auto sb = detail::broadcast_strides(b.shape(), shape);
      detail::for_each_row(shape, sa, sb,
                           [&](std::int64_t oi, std::int64_t ai, std::int64_t bi, std::int64_t m,
                               std::int64_t as, std::int64_t bs) {
                             // Unit and zero strides get their own loops so they vectorise
                             // (a bias row added to each row of a batch is the common case).
                             if (as == 1 && bs == 1) {
                               for (std::int64_t k = 0; k < m; ++k)
                                 o[oi + k] = f(x[ai + k], y[bi + k]);
                             } else if (as == 1 && bs == 0) {
                               const T s = y[bi];
                               for (std::int64_t k = 0; k < m; ++k) o[oi + k] = f(x[ai + k], s);
                             } else if (as == 0 && bs == 1) {
                               const T s = x[ai];
                               for (std::int64_t k = 0; k < m; ++k) o[oi + k] = f(s, y[bi + k]);
                             } else {
                               for (std::int64_t k = 0; k < m; ++k)
                                 o[oi + k] = f(x[ai + k * as], y[bi + k * bs]);
                             }
                           });
    }
  });
  return out;
}

template <class F>
Tensor unary_kernel(const char* op, const Tensor& a, F f) {
  detail::checked(op, a);
  Tensor out = detail::empty(a.shape(), a.dtype());
  dispatch(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = data<T>(a);
    T* o = data<T>(out);
    for (std::int64_t i = 0, n = a.numel(); i < n; ++i) o[i] = f(x[i]);
  });
  return out;
}

// Throws naming op and the first offending element when `bad` holds for any element.
template <class Pred>
void check_elements(const char* op, const Tensor& x, Pred bad, const char* why) {
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = data<T>(x);
    for (std::int64_t i = 0, n = x.numel(); i < n; ++i) {
      if (bad(static_cast<double>(p[i]))) {
        throw Error(op, fmt::format("element {} of the input (shape {}) is {}: {}", i,
                                    to_string(x.shape()), static_cast<double>(p[i]), why));
      }
    }
  });
}

Tensor like(const Tensor& t, double v) { return scalar_tensor(v, t.dtype()); }

// Three tensors of one shape and dtype -> f per element (a row's derivative, fused; where).
template <class F>
Tensor ternary_kernel(const Tensor& g, const Tensor& x, const Tensor& y, F f) {
  Tensor out = detail::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* gp = data<T>(g);
    const T* xp = data<T>(x);
    const T* yp = data<T>(y);
    T* o = data<T>(out);
    for (std::int64_t i = 0, n = x.numel(); i < n; ++i) o[i] = f(gp[i], xp[i], yp[i]);
  });
  return out;
}

template <class Row>
constexpr OpInfo kTensorOp = tensor_op(Row::name, Row::saves_values);
template <class Row>  // a unary row's constant (leaky_relu's slope) shown as its Value op shows it
constexpr OpInfo kUnaryTensorOp = tensor_op(Row::name, Row::saves_values, Row::picture);
constexpr OpInfo kTensorNeg = tensor_op("neg", false);
constexpr OpInfo kTensorPow = tensor_op("pow");                     // a tensor exponent
constexpr OpInfo kTensorPowConst = tensor_op("pow", true, "**{}");  // shown as the Value op
constexpr OpInfo kClamp = tensor_op("clamp");
constexpr OpInfo kWhere = tensor_op("where");

// 1 where x > 0, else 0 (no graph).
Tensor step_positive(const Tensor& x) {
  return unary_kernel("relu", x, [](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(0); });
}

// A unary row of the op table as a tensor op. First order (grad mode off, the engine's normal
// path): one fused pass over g, x and the saved output. create_graph (grad mode on): the
// row's derivative in tensor ops, with the output recomputed from x so that it has history.
template <class Row>
Tensor unary(const Tensor& x, double p = Row::default_param) {
  detail::checked(Row::name, x);
  if constexpr (Row::why[0] != '\0') {
    check_elements(
        Row::name, x, [](double v) { return !Row::valid(v); }, Row::why);
  }
  Tensor out = unary_kernel(Row::name, x, [p](auto v) { return Row::f(v, p); });
  if constexpr (Row::num_params > 0) detail::node_of(out).parameter = static_cast<float>(p);
  return detail::record(
      kUnaryTensorOp<Row>, out, {&x},
      [x, y = Row::uses_output ? out.detach() : Tensor(), p](const Tensor& g) -> Grads {
        if (!grad_enabled()) {
          return {ternary_kernel(g, x, Row::uses_output ? y : x, [p](auto gv, auto xv, auto yv) {
            return Row::grad(gv, xv, yv, p);
          })};
        }
        const Tensor y_with_history = Row::uses_output ? unary<Row>(x, p) : Tensor();
        return {Row::grad(g, x, y_with_history, p)};
      });
}

// A binary row as a tensor op (broadcasting). Its derivative runs in tensor ops both ways.
template <class Row, const OpInfo& op = kTensorOp<Row>>
Tensor binary(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(Row::name, a, b, [](auto x, auto y) { return Row::f(x, y); });
  return detail::record(
      op, out, {&a, &b}, [a, b, y = Row::uses_output ? out.detach() : Tensor()](const Tensor& g) {
        const Tensor saved =
            !Row::uses_output ? Tensor() : (grad_enabled() ? binary<Row, op>(a, b) : y);
        auto [ga, gb] = Row::grads(g, a, b, saved);
        return Grads{std::move(ga), std::move(gb)};
      });
}

}  // namespace

// The derivative primitives on tensors: masks without history.
Tensor op_math::sign(const Tensor& x) {
  return unary_kernel("abs", x, [](auto v) { return op_math::sign(v); });
}
Tensor op_math::gate_positive(const Tensor& x, const Tensor& a) {
  if (!grad_enabled() && x.shape() == a.shape() && x.dtype() == a.dtype()) {
    return binary_kernel("relu", a, x,
                         [](auto av, auto xv) { return op_math::gate_positive(xv, av); });
  }
  return a * step_positive(x);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return binary<op_math::Add>(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return binary<op_math::Sub>(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return binary<op_math::Mul>(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return binary<op_math::Div>(a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary<op_math::Minimum>(a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary<op_math::Maximum>(a, b); }

Tensor operator-(const Tensor& a) {
  Tensor out = unary_kernel("neg", a, [](auto x) { return -x; });
  return detail::record(kTensorNeg, out, {&a}, [](const Tensor& g) { return Grads{-g}; });
}

Tensor operator+(const Tensor& a, double b) { return a + like(a, b); }
Tensor operator-(const Tensor& a, double b) { return a - like(a, b); }
Tensor operator*(const Tensor& a, double b) { return a * like(a, b); }
Tensor operator/(const Tensor& a, double b) { return a / like(a, b); }
Tensor operator+(double a, const Tensor& b) { return like(b, a) + b; }
Tensor operator-(double a, const Tensor& b) { return like(b, a) - b; }
Tensor operator*(double a, const Tensor& b) { return like(b, a) * b; }
Tensor operator/(double a, const Tensor& b) { return like(b, a) / b; }

// A Value joins a tensor expression as a 0-d tensor of the tensor's dtype.
Tensor operator+(const Tensor& a, const Value& b) { return a + Tensor(b).to(a.dtype()); }
Tensor operator-(const Tensor& a, const Value& b) { return a - Tensor(b).to(a.dtype()); }
Tensor operator*(const Tensor& a, const Value& b) { return a * Tensor(b).to(a.dtype()); }
Tensor operator/(const Tensor& a, const Value& b) { return a / Tensor(b).to(a.dtype()); }
Tensor operator+(const Value& a, const Tensor& b) { return Tensor(a).to(b.dtype()) + b; }
Tensor operator-(const Value& a, const Tensor& b) { return Tensor(a).to(b.dtype()) - b; }
Tensor operator*(const Value& a, const Tensor& b) { return Tensor(a).to(b.dtype()) * b; }
Tensor operator/(const Value& a, const Tensor& b) { return Tensor(a).to(b.dtype()) / b; }

Tensor pow(const Tensor& base, double exponent) {
  detail::checked("pow", base);
  if (exponent != std::floor(exponent)) {
    check_elements(
        "pow", base, [](double v) { return v < 0.0; }, "a negative base needs an integer exponent");
  }
  // PyTorch's exact special cases (x*x for 2, ...): same bits as torch, and cheaper.
  Tensor out = unary_kernel("pow", base, [exponent](auto x) {
    using T = decltype(x);
    if (exponent == 2.0) return x * x;
    if (exponent == 3.0) return x * x * x;
    if (exponent == 0.5) return std::sqrt(x);
    if (exponent == -1.0) return T(1) / x;
    return static_cast<T>(std::pow(x, exponent));
  });
  detail::node_of(out).parameter = static_cast<float>(exponent);
  return detail::record(kTensorPowConst, out, {&base}, [base, exponent](const Tensor& g) {
    // d/dx x^0 is exactly 0, also at x == 0 (PyTorch), where 0 * 0^-1 would be NaN.
    if (exponent == 0.0) return Grads{zeros_like(base)};
    return Grads{g * exponent * pow(base, exponent - 1.0)};
  });
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  detail::checked("pow", base);
  if (exponent.defined() && exponent.requires_grad()) {
    check_elements(
        "pow", base, [](double v) { return v <= 0.0; },
        "the base must be > 0 when the exponent requires grad (d/de needs log(base))");
  }
  Tensor out = binary_kernel("pow", base, exponent, [](auto x, auto y) {
    return static_cast<decltype(x)>(std::pow(x, y));
  });
  return detail::record(
      kTensorPow, out, {&base, &exponent},
      [base, exponent, out = out.detach(), need_e = exponent.requires_grad()](const Tensor& g) {
        Tensor gx = g * exponent * pow(base, exponent - 1.0);
        // 0 where the exponent is 0 (PyTorch's masked_fill), not 0 * 0^-1 = NaN at base 0.
        const Tensor zero_exponent = eq(exponent, zeros_like(exponent));
        if (zero_exponent.sum().item() > 0) gx = where(zero_exponent, zeros_like(gx), gx);
        if (!need_e) return Grads{gx, Tensor()};
        const Tensor y = grad_enabled() ? pow(base, exponent) : out;
        return Grads{gx, g * y * log(base)};
      });
}

Tensor exp(const Tensor& x) { return unary<op_math::Exp>(x); }
Tensor log(const Tensor& x) { return unary<op_math::Log>(x); }
Tensor sqrt(const Tensor& x) { return unary<op_math::Sqrt>(x); }
Tensor tanh(const Tensor& x) { return unary<op_math::Tanh>(x); }
Tensor sigmoid(const Tensor& x) { return unary<op_math::Sigmoid>(x); }
Tensor relu(const Tensor& x) { return unary<op_math::Relu>(x); }
Tensor abs(const Tensor& x) { return unary<op_math::Abs>(x); }
Tensor sin(const Tensor& x) { return unary<op_math::Sin>(x); }
Tensor cos(const Tensor& x) { return unary<op_math::Cos>(x); }
Tensor log1p(const Tensor& x) { return unary<op_math::Log1p>(x); }
Tensor expm1(const Tensor& x) { return unary<op_math::Expm1>(x); }
Tensor softplus(const Tensor& x) { return unary<op_math::Softplus>(x); }
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary<op_math::LeakyRelu>(x, negative_slope);
}
Tensor gelu(const Tensor& x) { return unary<op_math::Gelu>(x); }

template <class Row>
Tensor op_math::unary_op(const Tensor& x, double param) {
  return unary<Row>(x, param);
}
template <class Row>
Tensor op_math::binary_op(const Tensor& a, const Tensor& b) {
  return binary<Row>(a, b);
}
#define AG_INSTANTIATE_UNARY(Row) \
  template Tensor op_math::unary_op<op_math::Row>(const Tensor&, double);
#define AG_INSTANTIATE_BINARY(Row) \
  template Tensor op_math::binary_op<op_math::Row>(const Tensor&, const Tensor&);
AG_ELEMENTWISE_UNARY_OPS(AG_INSTANTIATE_UNARY)
AG_ELEMENTWISE_BINARY_OPS(AG_INSTANTIATE_BINARY)

Tensor clamp(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi)) throw Error("clamp", fmt::format("needs lo <= hi, got lo={} hi={}", lo, hi));
  Tensor out = unary_kernel("clamp", x, [lo, hi](auto v) {
    using T = decltype(v);
    return v < T(lo) ? T(lo) : (v > T(hi) ? T(hi) : v);
  });
  return detail::record(kClamp, out, {&x}, [x, lo, hi](const Tensor& g) {
    Tensor inside = unary_kernel("clamp", x, [lo, hi](auto v) {
      using T = decltype(v);
      return v >= T(lo) && v <= T(hi) ? T(1) : T(0);
    });
    return Grads{g * inside};
  });
}

// ---- Comparisons (masks of 1 and 0 in the operands' dtype, no gradient) and where ----
Tensor eq(const Tensor& a, const Tensor& b) {
  return binary_kernel("eq", a, b, [](auto x, auto y) { return decltype(x)(x == y); });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return binary_kernel("lt", a, b, [](auto x, auto y) { return decltype(x)(x < y); });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return binary_kernel("le", a, b, [](auto x, auto y) { return decltype(x)(x <= y); });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return binary_kernel("gt", a, b, [](auto x, auto y) { return decltype(x)(x > y); });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return binary_kernel("ge", a, b, [](auto x, auto y) { return decltype(x)(x >= y); });
}
Tensor eq(const Tensor& a, double b) { return eq(a, like(a, b)); }
Tensor lt(const Tensor& a, double b) { return lt(a, like(a, b)); }
Tensor le(const Tensor& a, double b) { return le(a, like(a, b)); }
Tensor gt(const Tensor& a, double b) { return gt(a, like(a, b)); }
Tensor ge(const Tensor& a, double b) { return ge(a, like(a, b)); }

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  detail::checked("where", condition);
  detail::checked("where", a);
  detail::checked("where", b);
  detail::check_same_dtype("where", a, b);
  const Shape shape =
      broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()), b.shape());
  // Selects, never blends: an Inf or NaN in the branch not taken cannot leak in.
  const Tensor c = detail::broadcast_to(condition.to(a.dtype()), shape);
  const Tensor x = detail::broadcast_to(a, shape);
  const Tensor y = detail::broadcast_to(b, shape);
  Tensor out = ternary_kernel(c, x, y, [](auto cv, auto xv, auto yv) { return cv != 0 ? xv : yv; });
  return detail::record(kWhere, out, {&a, &b}, [condition](const Tensor& g) {
    const Tensor zero = like(g, 0.0);
    return Grads{where(condition, g, zero), where(condition, zero, g)};
  });
}

Tensor Tensor::exp() const { return ag::exp(*this); }
Tensor Tensor::log() const { return ag::log(*this); }
Tensor Tensor::sqrt() const { return ag::sqrt(*this); }
Tensor Tensor::tanh() const { return ag::tanh(*this); }
Tensor Tensor::sigmoid() const { return ag::sigmoid(*this); }
Tensor Tensor::relu() const { return ag::relu(*this); }
Tensor Tensor::abs() const { return ag::abs(*this); }
Tensor Tensor::pow(double exponent) const { return ag::pow(*this, exponent); }

}  // namespace ag
