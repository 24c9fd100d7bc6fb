// Elementwise tensor ops: forward kernel and backward rule side by side, one op per block.
// Backward rules are written with tensor ops (they run under NoGradGuard); the engine sums
// each returned gradient back to its input's shape, so broadcasting needs no code here.
#include <cmath>

#include "autograd/value.hpp"
#include "broadcast.hpp"
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

constexpr OpInfo kAdd = tensor_op("add", false);
constexpr OpInfo kSub = tensor_op("sub", false);
constexpr OpInfo kMul = tensor_op("mul");
constexpr OpInfo kDiv = tensor_op("div");
constexpr OpInfo kNeg = tensor_op("neg", false);
constexpr OpInfo kPow = tensor_op("pow");
constexpr OpInfo kExp = tensor_op("exp");
constexpr OpInfo kLog = tensor_op("log");
constexpr OpInfo kSqrt = tensor_op("sqrt");
constexpr OpInfo kTanh = tensor_op("tanh");
constexpr OpInfo kSigmoid = tensor_op("sigmoid");
constexpr OpInfo kRelu = tensor_op("relu");
constexpr OpInfo kAbs = tensor_op("abs");
constexpr OpInfo kClamp = tensor_op("clamp");

// Sign-like masks used by backward rules (no graph).
Tensor step_positive(const Tensor& x) {  // 1 where x > 0
  return unary_kernel("relu", x, [](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(0); });
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("add", a, b, [](auto x, auto y) { return x + y; });
  return detail::record(kAdd, out, {&a, &b}, [](const Tensor& g) { return Grads{g, g}; });
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("sub", a, b, [](auto x, auto y) { return x - y; });
  return detail::record(kSub, out, {&a, &b}, [](const Tensor& g) { return Grads{g, -g}; });
}

Tensor operator*(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("mul", a, b, [](auto x, auto y) { return x * y; });
  return detail::record(kMul, out, {&a, &b}, [a, b](const Tensor& g) {
    return Grads{g * b, g * a};
  });
}

Tensor operator/(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel("div", a, b, [](auto x, auto y) { return x / y; });
  return detail::record(kDiv, out, {&a, &b}, [a, b, y = out.detach()](const Tensor& g) {
    Tensor ga = g / b;
    return Grads{ga, -ga * (grad_enabled() ? a / b : y)};
  });
}

Tensor operator-(const Tensor& a) {
  Tensor out = unary_kernel("neg", a, [](auto x) { return -x; });
  return detail::record(kNeg, out, {&a}, [](const Tensor& g) { return Grads{-g}; });
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
  return detail::record(kPow, out, {&base}, [x = base, exponent](const Tensor& g) {
    return Grads{g * exponent * pow(x, exponent - 1.0)};
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
  return detail::record(kPow, out, {&base, &exponent},
                        [x = base, e = exponent, y = out.detach(),
                         need_e = exponent.requires_grad()](const Tensor& g) {
                          return Grads{
                              g * e * pow(x, e - 1.0),
                              need_e ? g * (grad_enabled() ? pow(x, e) : y) * log(x) : Tensor()};
                        });
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_kernel("exp", x, [](auto v) { return std::exp(v); });
  return detail::record(kExp, out, {&x}, [x, y = out.detach()](const Tensor& g) {
    return Grads{g * (grad_enabled() ? exp(x) : y)};
  });
}

Tensor log(const Tensor& x) {
  detail::checked("log", x);
  check_elements(
      "log", x, [](double v) { return v < 0.0 || std::isnan(v); }, "log needs x >= 0");
  Tensor out = unary_kernel("log", x, [](auto v) { return std::log(v); });
  return detail::record(kLog, out, {&x}, [x](const Tensor& g) { return Grads{g / x}; });
}

Tensor sqrt(const Tensor& x) {
  detail::checked("sqrt", x);
  check_elements(
      "sqrt", x, [](double v) { return v < 0.0 || std::isnan(v); }, "sqrt needs x >= 0");
  Tensor out = unary_kernel("sqrt", x, [](auto v) { return std::sqrt(v); });
  return detail::record(kSqrt, out, {&x}, [x, y = out.detach()](const Tensor& g) {
    return Grads{g * 0.5 / (grad_enabled() ? sqrt(x) : y)};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_kernel("tanh", x, [](auto v) { return std::tanh(v); });
  return detail::record(kTanh, out, {&x}, [x, y = out.detach()](const Tensor& g) {
    const Tensor t = grad_enabled() ? tanh(x) : y;
    return Grads{g * (1.0 - t * t)};
  });
}

Tensor sigmoid(const Tensor& x) {
  // exp of -|x| only: finite for any input.
  Tensor out = unary_kernel("sigmoid", x, [](auto v) {
    using T = decltype(v);
    const T e = std::exp(-std::abs(v));
    return v >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
  });
  return detail::record(kSigmoid, out, {&x}, [x, y = out.detach()](const Tensor& g) {
    const Tensor s = grad_enabled() ? sigmoid(x) : y;
    return Grads{g * s * (1.0 - s)};
  });
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_kernel("relu", x, [](auto v) { return v > 0 ? v : decltype(v)(0); });
  return detail::record(kRelu, out, {&x}, [x](const Tensor& g) {
    // relu'' = 0: under create_graph the slope is a constant mask.
    if (grad_enabled()) return Grads{g * step_positive(x)};
    // One pass, no mask tensor.
    return Grads{
        binary_kernel("relu", g, x, [](auto gv, auto v) { return v > 0 ? gv : decltype(gv)(0); })};
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_kernel("abs", x, [](auto v) { return std::abs(v); });
  return detail::record(kAbs, out, {&x}, [x](const Tensor& g) {
    return Grads{g * (step_positive(x) - step_positive(-x))};
  });
}

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

Tensor Tensor::exp() const { return ag::exp(*this); }
Tensor Tensor::log() const { return ag::log(*this); }
Tensor Tensor::sqrt() const { return ag::sqrt(*this); }
Tensor Tensor::tanh() const { return ag::tanh(*this); }
Tensor Tensor::sigmoid() const { return ag::sigmoid(*this); }
Tensor Tensor::relu() const { return ag::relu(*this); }
Tensor Tensor::abs() const { return ag::abs(*this); }
Tensor Tensor::pow(double exponent) const { return ag::pow(*this, exponent); }

}  // namespace ag
