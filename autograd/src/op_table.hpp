#pragma once
// The elementwise op table: one row per op. A row holds the op's name, its domain (where it
// is defined, and where finite differences are a valid oracle), the element function for
// float/double, and its derivative written once, generic over the number type:
//
//   grad(g, x, y, p)  ->  g * dy/dx        (unary:  y = f(x, p), p the op's parameter)
//   grads(g, a, b, y) ->  {g * dy/da, g * dy/db}   (binary: y = f(a, b))
//
// The same derivative template runs as
//   - double, in the Value op's fast backward rule (scalar_ops.cpp);
//   - float/double, per element, in the tensor op's fused first-order backward kernel;
//   - ag::Value, in the Value op's backward_graph (create_graph, higher-order gradients);
//   - ag::Tensor, in the tensor op's closure when grad mode is on (create_graph).
// so the Value op, the Tensor op, their names in errors and the registry (op_registry.cpp)
// all come from the row. Adding an elementwise op: one row here, one line in
// ELEMENTWISE_UNARY_OPS / ELEMENTWISE_BINARY_OPS, then build.
#include <cmath>
#include <concepts>
#include <limits>
#include <utility>

#include "autograd/op_registry.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"

namespace ag::op_math {

// std's functions for float/double; ADL finds ag's overloads for Value and Tensor.
using std::abs;
using std::cos;
using std::exp;
using std::expm1;
using std::log;
using std::log1p;
using std::sin;
using std::sqrt;
using std::tanh;

// The few primitives a derivative needs beyond arithmetic and the ops themselves. Value and
// Tensor overloads (scalar_ops.cpp, elementwise_ops.cpp) return results without history where
// the primitive is piecewise constant (sign, step), so gradients of gradients come out right.
template <std::floating_point T>
T sigmoid(T x) {
  const T e = std::exp(-std::abs(x));  // never exponentiates a large positive number
  return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}
template <std::floating_point T>
T sign(T x) {
  return x > 0 ? T(1) : (x < 0 ? T(-1) : T(0));
}
// a where x > 0, else 0 (no 0 * inf: the gradient of relu is exactly 0 off its support).
template <std::floating_point T, std::floating_point U>
U gate_positive(T x, U a) {
  return x > 0 ? a : U(0);
}
Value sign(const Value& x);
Value gate_positive(const Value& x, const Value& a);
Tensor sign(const Tensor& x);
Tensor gate_positive(const Tensor& x, const Tensor& a);

// ---- Unary rows ----
struct UnaryRow {
  static constexpr bool uses_output = false;  // does grad read y?
  static constexpr bool saves_values = true;  // does grad read x or y (see BinaryRow)?
  static constexpr int num_params = 0;
  static constexpr double default_param = 0.0;
  static constexpr double param_lo = 0.0, param_hi = 0.0;  // the sampler's range
  static constexpr OpDomain domain{};
  static bool valid(double) { return true; }  // false: the op throws naming `why`
  static constexpr const char* why = "";
  static constexpr const char* picture = nullptr;  // how graph pictures show a parameter
};

struct Exp : UnaryRow {
  static constexpr const char* name = "exp";
  static constexpr bool uses_output = true;
  template <class T>
  static T f(T x, double) {
    return exp(x);
  }
  template <class T>
  static T grad(const T& g, const T&, const T& y, double) {
    return g * y;
  }
};

struct Log : UnaryRow {
  static constexpr const char* name = "log";
  static constexpr OpDomain domain{.lo = 0.2, .hi = 3.0};
  static bool valid(double x) { return x >= 0.0; }  // false for NaN too
  static constexpr const char* why = "log needs x >= 0";
  template <class T>
  static T f(T x, double) {
    return log(x);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return g / x;
  }
};

struct Sqrt : UnaryRow {
  static constexpr const char* name = "sqrt";
  static constexpr bool uses_output = true;
  static constexpr OpDomain domain{.lo = 0.2, .hi = 3.0};
  static bool valid(double x) { return x >= 0.0; }
  static constexpr const char* why = "sqrt needs x >= 0";
  template <class T>
  static T f(T x, double) {
    return sqrt(x);
  }
  template <class T>
  static T grad(const T& g, const T&, const T& y, double) {
    return g * 0.5 / y;
  }
};

struct Tanh : UnaryRow {
  static constexpr const char* name = "tanh";
  static constexpr bool uses_output = true;
  template <class T>
  static T f(T x, double) {
    return tanh(x);
  }
  template <class T>
  static T grad(const T& g, const T&, const T& y, double) {
    return g * (1.0 - y * y);
  }
};

struct Sigmoid : UnaryRow {
  static constexpr const char* name = "sigmoid";
  static constexpr bool uses_output = true;
  static constexpr OpDomain domain{.lo = -4.0, .hi = 4.0};
  template <class T>
  static T f(T x, double) {
    return sigmoid(x);
  }
  template <class T>
  static T grad(const T& g, const T&, const T& y, double) {
    return g * y * (1.0 - y);
  }
};

struct Relu : UnaryRow {
  static constexpr const char* name = "relu";
  static constexpr OpDomain domain{.kinks = {0.0, 0.0}};
  template <class T>
  static T f(T x, double) {
    return x > 0 || x != x ? x : T(0);  // NaN stays NaN (PyTorch), so anomaly mode sees it
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return gate_positive(x, g);
  }
};

struct Abs : UnaryRow {
  static constexpr const char* name = "abs";
  static constexpr OpDomain domain{.kinks = {0.0, 0.0}};
  template <class T>
  static T f(T x, double) {
    return abs(x);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return g * sign(x);
  }
};

struct Sin : UnaryRow {
  static constexpr const char* name = "sin";
  static constexpr OpDomain domain{.lo = -3.0, .hi = 3.0};
  template <class T>
  static T f(T x, double) {
    return sin(x);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return g * cos(x);
  }
};

struct Cos : UnaryRow {
  static constexpr const char* name = "cos";
  static constexpr OpDomain domain{.lo = -3.0, .hi = 3.0};
  template <class T>
  static T f(T x, double) {
    return cos(x);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return -(g * sin(x));
  }
};

struct Log1p : UnaryRow {
  static constexpr const char* name = "log1p";
  static constexpr OpDomain domain{.lo = -0.8, .hi = 3.0};
  static bool valid(double x) { return x >= -1.0; }
  static constexpr const char* why = "log1p needs x >= -1";
  template <class T>
  static T f(T x, double) {
    return log1p(x);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return g / (x + 1.0);
  }
};

struct Expm1 : UnaryRow {
  static constexpr const char* name = "expm1";
  static constexpr bool uses_output = true;
  template <class T>
  static T f(T x, double) {
    return expm1(x);
  }
  template <class T>
  static T grad(const T& g, const T&, const T& y, double) {
    return g * (y + 1.0);
  }
};

// log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|): finite for any x.
struct Softplus : UnaryRow {
  static constexpr const char* name = "softplus";
  static constexpr OpDomain domain{.lo = -4.0, .hi = 4.0};
  template <class T>
  static T f(T x, double) {
    return (x > 0 ? x : T(0)) + log1p(exp(-abs(x)));
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    return g * sigmoid(x);
  }
};

// x for x > 0, slope * x otherwise (libtorch's default slope 0.01).
struct LeakyRelu : UnaryRow {
  static constexpr const char* name = "leaky_relu";
  static constexpr int num_params = 1;
  static constexpr double default_param = 0.01;
  static constexpr double param_lo = 0.01, param_hi = 0.3;
  static constexpr OpDomain domain{.kinks = {0.0, 0.0}};
  static constexpr const char* picture = "leaky_relu({})";
  template <class T>
  static T f(T x, double slope) {
    return x > 0 || x != x ? x : static_cast<T>(x * slope);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double slope) {
    return g * slope + gate_positive(x, g * (1.0 - slope));
  }
};

// GELU, tanh approximation (libtorch's approximate="tanh"):
// 0.5 x (1 + tanh(k (x + 0.044715 x^3))), k = sqrt(2 / pi).
struct Gelu : UnaryRow {
  static constexpr const char* name = "gelu";
  static constexpr OpDomain domain{.lo = -3.0, .hi = 3.0};
  static constexpr double k = 0.7978845608028654, c = 0.044715;
  template <class T>
  static T f(T x, double) {
    const T t = tanh(static_cast<T>(k) * (x + static_cast<T>(c) * x * x * x));
    return static_cast<T>(0.5) * x * (T(1) + t);
  }
  template <class T>
  static T grad(const T& g, const T& x, const T&, double) {
    const T x2 = x * x;
    const T t = tanh((x + x2 * x * c) * k);
    return g * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * (x2 * (3.0 * c * k) + k) * 0.5);
  }
};

// ---- Binary rows (NumPy broadcasting on tensors) ----
struct BinaryRow {
  static constexpr bool uses_output = false;
  // Whether backward reads the operands' values (an in-place write to them between forward
  // and backward is then refused); false for rules that only pass the gradient on.
  static constexpr bool saves_values = true;
  static constexpr OpDomain domain{};
};

struct Add : BinaryRow {
  static constexpr const char* name = "add";
  static constexpr bool saves_values = false;
  template <class T>
  static T f(T a, T b) {
    return a + b;
  }
  template <class T>
  static std::pair<T, T> grads(const T& g, const T&, const T&, const T&) {
    return {g, g};
  }
};

struct Sub : BinaryRow {
  static constexpr const char* name = "sub";
  static constexpr bool saves_values = false;
  template <class T>
  static T f(T a, T b) {
    return a - b;
  }
  template <class T>
  static std::pair<T, T> grads(const T& g, const T&, const T&, const T&) {
    return {g, -g};
  }
};

struct Mul : BinaryRow {
  static constexpr const char* name = "mul";
  template <class T>
  static T f(T a, T b) {
    return a * b;
  }
  template <class T>
  static std::pair<T, T> grads(const T& g, const T& a, const T& b, const T&) {
    return {g * b, g * a};
  }
};

struct Div : BinaryRow {
  static constexpr const char* name = "div";
  static constexpr bool uses_output = true;
  static constexpr OpDomain domain{.lo = 0.3, .hi = 2.0};  // divisors kept away from 0
  template <class T>
  static T f(T a, T b) {
    return a / b;
  }
  template <class T>  // d(a/b) = da/b - a/b^2 db = (da - y db) / b
  static std::pair<T, T> grads(const T& g, const T&, const T& b, const T& y) {
    T ga = g / b;
    T gb = -(ga * y);
    return {std::move(ga), std::move(gb)};
  }
};

// Elementwise min/max (libtorch's minimum/maximum): NaN in either operand gives NaN. At a tie
// the gradient goes to b (a subgradient; finite differences are not valid there).
struct Minimum : BinaryRow {
  static constexpr const char* name = "minimum";
  static constexpr OpDomain domain{.kink_at_ties = true};
  template <class T>
  static T f(T a, T b) {
    return a != a || b != b ? a + b : (a < b ? a : b);
  }
  template <class T>
  static std::pair<T, T> grads(const T& g, const T& a, const T& b, const T&) {
    T ga = gate_positive(b - a, g);
    T gb = g - ga;
    return {std::move(ga), std::move(gb)};
  }
};

struct Maximum : BinaryRow {
  static constexpr const char* name = "maximum";
  static constexpr OpDomain domain{.kink_at_ties = true};
  template <class T>
  static T f(T a, T b) {
    return a != a || b != b ? a + b : (a > b ? a : b);
  }
  template <class T>
  static std::pair<T, T> grads(const T& g, const T& a, const T& b, const T&) {
    T ga = gate_positive(a - b, g);
    T gb = g - ga;
    return {std::move(ga), std::move(gb)};
  }
};

}  // namespace ag::op_math

// The table's rows, for code that visits every op (the registry, the tests).
#define AG_ELEMENTWISE_UNARY_OPS(X)                                                          \
  X(Exp)                                                                                     \
  X(Log)                                                                                     \
  X(Sqrt)                                                                                    \
  X(Tanh) X(Sigmoid) X(Relu) X(Abs) X(Sin) X(Cos) X(Log1p) X(Expm1) X(Softplus) X(LeakyRelu) \
      X(Gelu)
#define AG_ELEMENTWISE_BINARY_OPS(X) X(Add) X(Sub) X(Mul) X(Div) X(Minimum) X(Maximum)

namespace ag::op_math {
// A row as an op (instantiated for every row in scalar_ops.cpp and elementwise_ops.cpp): what
// the public functions (ag::sin, ...) and the registry call.
template <class Row>
Value unary_op(const Value& x, double param);
template <class Row>
Tensor unary_op(const Tensor& x, double param);
template <class Row>
Value binary_op(const Value& a, const Value& b);
template <class Row>
Tensor binary_op(const Tensor& a, const Tensor& b);
}  // namespace ag::op_math
