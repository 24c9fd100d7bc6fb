// The scalar face: every Value op, forward and backward side by side.
//
// An op is a constant OpInfo {name, backward rule, differentiable backward rule} plus a forward
// that computes the value and records a node. Backward rules add `self.grad * d(self)/d(input)`
// into each input's grad; backward_graph writes the same as recorded Values (create_graph).
// Elementwise functions come from the op table (op_table.hpp): their OpInfo, forward and both
// backward rules are instantiated from the row, so this file holds only arithmetic with
// constants and pow.
// Each forward has a hot path for the common case and a general one for every other case
// (scalar_record.hpp).
#include <fmt/format.h>

#include <cmath>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/value.hpp"
#include "node.hpp"
#include "op_table.hpp"
#include "scalar_record.hpp"
#include "tape_arena.hpp"

namespace ag {
namespace {

using detail::Node;
using detail::OpInfo;
using detail::ScalarNode;
using namespace detail::scalar_record;

ScalarNode& self(Node& n) { return detail::as_scalar(n); }
ScalarNode& in0(Node& n) { return detail::as_scalar(*self(n).slot[0].input); }
ScalarNode& in1(Node& n) { return detail::as_scalar(*self(n).slot[1].input); }
double param(Node& n) { return self(n).slot[1].constant; }
// x^c with PyTorch's exact special cases (x*x for 2, ...), which are also much faster.
double power(double x, double c) {
  if (c == 2.0) return x * x;
  if (c == 1.0) return x;
  if (c == 3.0) return x * x * x;
  if (c == 0.5) return std::sqrt(x);
  if (c == -1.0) return 1.0 / x;
  return std::pow(x, c);
}

// An op of one Value and a constant parameter: value = f(x, parameter).
template <class F>
[[gnu::noinline]] Value with_parameter_general(const OpInfo& op, const char* name, const Value& v,
                                               double parameter, F f) {
  detail::TapeArena* const active = detail::active_tape;
  const Operand x = operand(name, v, active);
  return record(op, f(x.value(), parameter), x, parameter, active);
}
template <class F>
[[gnu::always_inline]] inline Value with_parameter(const OpInfo& op, const char* name,
                                                   const Value& v, double parameter, F f) {
  if (ScalarNode* n = fast_record<false>(op, v.node(), nullptr, parameter, kAnyInput, f)) {
    return Value::adopt(n);
  }
  return with_parameter_general(op, name, v, parameter, f);
}

// A handle on a node that the caller's graph already holds (backward_graph's operands).
Value handle(Node* n) {
  detail::retain_reached(n);
  return Value::adopt(n);
}

// ---- Rows of the op table (op_table.hpp): one OpInfo per row, from the row's derivative ----
template <class Row>
void unary_backward(Node& n) {
  in0(n).grad += Row::grad(self(n).grad, in0(n).value, self(n).value, param(n));
}
template <class Row>
void unary_backward_graph(Node& n, const Value& g, Value* grad_in) {
  // y is this very node: the derivative graph may use it (it is an input of nothing here).
  grad_in[0] = Row::grad(g, handle(self(n).slot[0].input), handle(&n), param(n));
}
template <class Row>
constexpr OpInfo kUnary{Row::name, &unary_backward<Row>, Row::picture, &unary_backward_graph<Row>};

template <class Row>
void binary_backward(Node& n) {
  const auto [ga, gb] = Row::grads(self(n).grad, in0(n).value, in1(n).value, self(n).value);
  in0(n).grad += ga;
  in1(n).grad += gb;
}
template <class Row>
void binary_backward_graph(Node& n, const Value& g, Value* grad_in) {
  auto [ga, gb] =
      Row::grads(g, handle(self(n).slot[0].input), handle(self(n).slot[1].input), handle(&n));
  grad_in[0] = std::move(ga);
  grad_in[1] = std::move(gb);
}
template <class Row>
constexpr OpInfo kBinary{Row::name, &binary_backward<Row>, nullptr, &binary_backward_graph<Row>};

// Pictures and errors show arithmetic as symbols.
constexpr OpInfo kAdd{"+", &binary_backward<op_math::Add>, nullptr,
                      &binary_backward_graph<op_math::Add>};
constexpr OpInfo kSub{"-", &binary_backward<op_math::Sub>, nullptr,
                      &binary_backward_graph<op_math::Sub>};
constexpr OpInfo kMul{"*", &binary_backward<op_math::Mul>, nullptr,
                      &binary_backward_graph<op_math::Mul>};
constexpr OpInfo kDiv{"/", &binary_backward<op_math::Div>, nullptr,
                      &binary_backward_graph<op_math::Div>};

// a^b: b a^(b-1) da + a^b log(a) db. d/da is 0 for b == 0 (also at a == 0, as PyTorch).
constexpr OpInfo kPow{"pow",
                      [](Node& n) {
                        const double a = in0(n).value, b = in1(n).value;
                        if (b != 0.0) in0(n).grad += self(n).grad * b * std::pow(a, b - 1.0);
                        if (a > 0.0) in1(n).grad += self(n).grad * self(n).value * std::log(a);
                      },
                      nullptr,
                      [](Node& n, const Value& g, Value* grad_in) {
                        const Value a = handle(self(n).slot[0].input);
                        const Value b = handle(self(n).slot[1].input);
                        grad_in[0] = b.data() != 0.0 ? g * b * pow(a, b - 1.0) : constant(0.0);
                        grad_in[1] = a.data() > 0.0 ? g * handle(&n) * log(a) : constant(0.0);
                      }};

// ---- Ops of one Value and a constant parameter c ----
constexpr OpInfo kAddConst{"+", [](Node& n) { in0(n).grad += self(n).grad; }, "+ {}",
                           [](Node&, const Value& g, Value* grad_in) { grad_in[0] = g; }};
constexpr OpInfo kMulConst{
    "*", [](Node& n) { in0(n).grad += self(n).grad * param(n); }, "* {}",
    [](Node& n, const Value& g, Value* grad_in) { grad_in[0] = g * param(n); }};
constexpr OpInfo kDivConst{
    "/", [](Node& n) { in0(n).grad += self(n).grad / param(n); }, "/ {}",
    [](Node& n, const Value& g, Value* grad_in) { grad_in[0] = g / param(n); }};
constexpr OpInfo kConstSub{"-", [](Node& n) { in0(n).grad -= self(n).grad; }, "{} -",  // c - x
                           [](Node&, const Value& g, Value* grad_in) { grad_in[0] = -g; }};
constexpr OpInfo kConstDiv{"/",
                           [](Node& n) {  // c / x: -c/x^2 = -y/x
                             in0(n).grad -= self(n).grad * self(n).value / in0(n).value;
                           },
                           "{} /",
                           [](Node& n, const Value& g, Value* grad_in) {
                             grad_in[0] = -(g * handle(&n) / handle(self(n).slot[0].input));
                           }};
constexpr OpInfo kNeg{"neg", [](Node& n) { in0(n).grad -= self(n).grad; }, nullptr,
                      [](Node&, const Value& g, Value* grad_in) { grad_in[0] = -g; }};
// x^c: c x^(c-1), and exactly 0 for c == 0 (PyTorch; 0 * 0^-1 would be NaN at x == 0).
constexpr OpInfo kPowConst{
    "pow",
    [](Node& n) {
      const double c = param(n);
      if (c != 0.0) in0(n).grad += self(n).grad * c * power(in0(n).value, c - 1.0);
    },
    "**{}",
    [](Node& n, const Value& g, Value* grad_in) {
      const double c = param(n);
      grad_in[0] = c != 0.0 ? g * c * pow(handle(self(n).slot[0].input), c - 1.0) : constant(0.0);
    }};

void check_domain(const char* op, double x, bool ok, const char* why) {
  if (!ok) throw Error(op, fmt::format("input {} is outside the domain: {}", x, why));
}

}  // namespace

// ---- Value handle ----
Value::Value(double data)
    : NodeHandle(new_node(detail::kLeafOp, data, detail::kLeaf | detail::kRequiresGrad)) {}
Value::Value(double data, std::string_view label) : Value(data) { set_label(label); }

double Value::data() const noexcept { return node_ ? self(*node_).value : 0.0; }
void Value::set_data(double data) {
  if (!node_) throw Error("set_data", "called on an empty Value");
  if (!(node_->flags & detail::kLeaf)) {
    throw Error("set_data",
                fmt::format("only a leaf's data can be set; this Value is the result of '{}'",
                            node_->op->name));
  }
  detail::check_operand("set_data", *node_);
  self(*node_).value = data;
  detail::note_leaf_write(*node_);
  detail::scalar_leaf_writes.fetch_add(1, std::memory_order_relaxed);
}
double Value::grad() const noexcept {
  return node_ && (node_->flags & detail::kRequiresGrad) ? self(*node_).grad : 0.0;
}
void Value::zero_grad() noexcept {
  if (node_) self(*node_).grad = 0.0;
  if (node_) detail::clear_grad_history(*node_);
}
Value Value::detach() const { return constant(data()); }
bool Value::is_leaf() const noexcept { return node_ && (node_->flags & detail::kLeaf); }
Value& Value::set_label(std::string_view label) {
  detail::set_label(*node_, label);
  return *this;
}
std::string Value::label() const { return node_ ? detail::label_of(*node_) : std::string(); }

// ---- Forward of every op ----
namespace {

// Forward of a table row: domain check, the row's element function, one recorded node.
template <class Row>
[[gnu::noinline]] Value unary_general(const Value& v, double p) {
  detail::TapeArena* const active = detail::active_tape;
  const Operand x = operand(Row::name, v, active);
  check_domain(Row::name, x.value(), Row::valid(x.value()), Row::why);
  return record(kUnary<Row>, Row::template f<double>(x.value(), p), x, p, active);
}
template <class Row>
Value unary(const Value& v, double p = Row::default_param) {
  if (ScalarNode* n = fast_record<false>(
          kUnary<Row>, v.node(), nullptr, p, [](double x) { return Row::valid(x); },
          [](double x, double c) { return Row::template f<double>(x, c); })) {
    return Value::adopt(n);
  }
  return unary_general<Row>(v, p);
}
template <class Row, const OpInfo& op>
[[gnu::noinline]] Value binary_general(const Value& a, const Value& b) {
  detail::TapeArena* const active = detail::active_tape;
  const Operand x = operand(op.name, a, active), y = operand(op.name, b, active);
  return record(op, Row::template f<double>(x.value(), y.value()), x, y, active);
}
template <class Row, const OpInfo& op = kBinary<Row>>
Value binary(const Value& a, const Value& b) {
  if (ScalarNode* n =
          fast_record<true>(op, a.node(), b.node(), 0.0, kAnyInput,
                            [](double x, double y) { return Row::template f<double>(x, y); })) {
    return Value::adopt(n);
  }
  return binary_general<Row, op>(a, b);
}

}  // namespace

Value operator+(const Value& a, const Value& b) { return binary<op_math::Add, kAdd>(a, b); }
Value operator-(const Value& a, const Value& b) { return binary<op_math::Sub, kSub>(a, b); }
Value operator*(const Value& a, const Value& b) { return binary<op_math::Mul, kMul>(a, b); }
Value operator/(const Value& a, const Value& b) { return binary<op_math::Div, kDiv>(a, b); }
Value operator+(const Value& a, double b) {
  return with_parameter(kAddConst, "+", a, b, [b](double x, double) { return x + b; });
}
Value operator-(const Value& a, double b) {
  return with_parameter(kAddConst, "-", a, -b, [b](double x, double) { return x - b; });
}
Value operator*(const Value& a, double b) {
  return with_parameter(kMulConst, "*", a, b, [b](double x, double) { return x * b; });
}
Value operator/(const Value& a, double b) {
  return with_parameter(kDivConst, "/", a, b, [b](double x, double) { return x / b; });
}
Value operator+(double a, const Value& b) {
  return with_parameter(kAddConst, "+", b, a, [a](double x, double) { return a + x; });
}
Value operator-(double a, const Value& b) {
  return with_parameter(kConstSub, "-", b, a, [a](double x, double) { return a - x; });
}
Value operator*(double a, const Value& b) {
  return with_parameter(kMulConst, "*", b, a, [a](double x, double) { return a * x; });
}
Value operator/(double a, const Value& b) {
  return with_parameter(kConstDiv, "/", b, a, [a](double x, double) { return a / x; });
}
Value operator-(const Value& a) {
  return with_parameter(kNeg, "neg", a, 0.0, [](double x, double) { return -x; });
}

namespace {
// x^c with a constant exponent: a negative base needs an integer one.
bool pow_domain_ok(double x, double c) { return x >= 0.0 || c == std::floor(c); }
[[gnu::noinline]] Value pow_general(const Value& base, double exponent) {
  detail::TapeArena* const active = detail::active_tape;
  const Operand b = operand("pow", base, active);
  const double x = b.value();
  check_domain("pow", x, pow_domain_ok(x, exponent), "a negative base needs an integer exponent");
  return record(kPowConst, power(x, exponent), b, exponent, active);
}
}  // namespace

Value pow(const Value& base, double exponent) {
  if (ScalarNode* n = fast_record<false>(
          kPowConst, base.node(), nullptr, exponent,
          [exponent](double x) { return pow_domain_ok(x, exponent); }, power)) {
    return Value::adopt(n);
  }
  return pow_general(base, exponent);
}
Value pow(const Value& base, const Value& exponent) {
  detail::TapeArena* const active = detail::active_tape;
  const Operand b = operand("pow", base, active), p = operand("pow", exponent, active);
  const double x = b.value(), e = p.value();
  const bool variable_exponent = p.node->flags & detail::kRequiresGrad;
  check_domain(
      "pow", x,
      x > 0.0 || (x == 0.0 && e >= 1.0) || (x < 0.0 && e == std::floor(e) && !variable_exponent),
      "the base must be > 0 when the exponent is a variable (d/de needs log(base))");
  return record(kPow, std::pow(x, e), b, p, active);
}

// ---- The op table's unary and binary rows ----
Value exp(const Value& x) { return unary<op_math::Exp>(x); }
Value log(const Value& x) { return unary<op_math::Log>(x); }
Value sqrt(const Value& x) { return unary<op_math::Sqrt>(x); }
Value tanh(const Value& x) { return unary<op_math::Tanh>(x); }
Value sigmoid(const Value& x) { return unary<op_math::Sigmoid>(x); }
Value relu(const Value& x) { return unary<op_math::Relu>(x); }
Value abs(const Value& x) { return unary<op_math::Abs>(x); }
Value sin(const Value& x) { return unary<op_math::Sin>(x); }
Value cos(const Value& x) { return unary<op_math::Cos>(x); }
Value log1p(const Value& x) { return unary<op_math::Log1p>(x); }
Value expm1(const Value& x) { return unary<op_math::Expm1>(x); }
Value softplus(const Value& x) { return unary<op_math::Softplus>(x); }
Value leaky_relu(const Value& x, double negative_slope) {
  return unary<op_math::LeakyRelu>(x, negative_slope);
}
Value gelu(const Value& x) { return unary<op_math::Gelu>(x); }
Value minimum(const Value& a, const Value& b) { return binary<op_math::Minimum>(a, b); }
Value maximum(const Value& a, const Value& b) { return binary<op_math::Maximum>(a, b); }

template <class Row>
Value op_math::unary_op(const Value& x, double param) {
  return unary<Row>(x, param);
}
template <class Row>
Value op_math::binary_op(const Value& a, const Value& b) {
  if constexpr (std::is_same_v<Row, Add>) return a + b;
  if constexpr (std::is_same_v<Row, Sub>) return a - b;
  if constexpr (std::is_same_v<Row, Mul>) return a * b;
  if constexpr (std::is_same_v<Row, Div>) return a / b;
  return binary<Row>(a, b);
}
#define AG_INSTANTIATE_UNARY(Row) \
  template Value op_math::unary_op<op_math::Row>(const Value&, double);
#define AG_INSTANTIATE_BINARY(Row) \
  template Value op_math::binary_op<op_math::Row>(const Value&, const Value&);
AG_ELEMENTWISE_UNARY_OPS(AG_INSTANTIATE_UNARY)
AG_ELEMENTWISE_BINARY_OPS(AG_INSTANTIATE_BINARY)

// The derivative primitives on Values: piecewise constant, so results carry no history.
Value op_math::sign(const Value& x) { return constant(op_math::sign(x.data())); }
Value op_math::gate_positive(const Value& x, const Value& a) {
  return x.data() > 0.0 ? a : constant(0.0);
}

}  // namespace ag
