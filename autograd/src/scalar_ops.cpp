// The scalar face: every Value op, forward and backward side by side.
//
// An op is a constant OpInfo {name, backward rule} plus a forward that computes the value and
// records a node. Backward rules add `self.grad * d(self)/d(input)` into each input's grad.
// To add an op: one OpInfo and one function here, a declaration in value.hpp, and a test.
#include <fmt/format.h>

#include <cmath>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/value.hpp"
#include "node.hpp"

namespace ag {
namespace {

using detail::Node;
using detail::OpInfo;
using detail::ScalarNode;

ScalarNode& self(Node& n) { return detail::as_scalar(n); }
ScalarNode& in0(Node& n) { return detail::as_scalar(*self(n).slot[0].input); }
ScalarNode& in1(Node& n) { return detail::as_scalar(*self(n).slot[1].input); }
double param(Node& n) { return self(n).slot[1].constant; }
double value_of(const Value& v) { return detail::as_scalar(*v.node()).value; }

ScalarNode* new_node(const OpInfo& op, double value, std::uint8_t flags) {
  ScalarNode* n = detail::allocate_scalar_node();
  n->op = &op;
  n->refs = 1;
  n->flags = flags;
  n->num_inputs = 0;
  n->scope = detail::current_scope();
  n->value = value;
  n->grad = 0.0;
  n->slot[0].input = nullptr;
  n->slot[1].input = nullptr;
  return n;
}

// x^c with PyTorch's exact special cases (x*x for 2, ...), which are also much faster.
double power(double x, double c) {
  if (c == 2.0) return x * x;
  if (c == 1.0) return x;
  if (c == 3.0) return x * x * x;
  if (c == 0.5) return std::sqrt(x);
  if (c == -1.0) return 1.0 / x;
  return std::pow(x, c);
}

bool tracks(const Value& v) { return v.node()->flags & detail::kRequiresGrad; }

// A result that needs no gradient is recorded as a constant leaf, holding no inputs.
Value constant(double value) {
  return Value::adopt(new_node(detail::kLeafOp, value, detail::kLeaf));
}

void check_anomaly(const OpInfo& op, double value, const Value& a, const Value* b) {
  if (!std::isfinite(value)) {
    throw Error(op.name,
                b ? fmt::format("anomaly in the forward pass: the result is {} (inputs {} and {})",
                                value, value_of(a), value_of(*b))
                  : fmt::format("anomaly in the forward pass: the result is {} (input {})", value,
                                value_of(a)));
  }
}

Value record(const OpInfo& op, double value, const Value& a, const Value& b) {
  if (detail::anomaly_mode) check_anomaly(op, value, a, &b);
  if (!grad_enabled() || !(tracks(a) || tracks(b))) return constant(value);
  ScalarNode* n = new_node(op, value, detail::kRequiresGrad);
  n->num_inputs = 2;
  n->slot[0].input = a.node();
  n->slot[1].input = b.node();
  detail::retain(a.node());
  detail::retain(b.node());
  detail::note_recorded_input(*a.node());
  detail::note_recorded_input(*b.node());
  return Value::adopt(n);
}

Value record(const OpInfo& op, double value, const Value& a, double parameter = 0.0) {
  if (detail::anomaly_mode) check_anomaly(op, value, a, nullptr);
  if (!grad_enabled() || !tracks(a)) return constant(value);
  ScalarNode* n = new_node(op, value, detail::kRequiresGrad);
  n->num_inputs = 1;
  n->slot[0].input = a.node();
  n->slot[1].constant = parameter;
  detail::retain(a.node());
  detail::note_recorded_input(*a.node());
  return Value::adopt(n);
}

// ---- Differentiable backward rules (create_graph): the same derivatives in Value ops ----
Value handle(Node* n) {
  detail::retain(n);
  return Value::adopt(n);
}
Value arg0(Node& n) { return handle(self(n).slot[0].input); }
Value arg1(Node& n) { return handle(self(n).slot[1].input); }
using GraphRule = void (*)(Node&, const Value&, Value*);
constexpr GraphRule kAddGraph = [](Node&, const Value& g, Value* d) { d[0] = g, d[1] = g; };
constexpr GraphRule kSubGraph = [](Node&, const Value& g, Value* d) { d[0] = g, d[1] = -g; };
constexpr GraphRule kMulGraph = [](Node& n, const Value& g, Value* d) {
  d[0] = g * arg1(n), d[1] = g * arg0(n);
};
constexpr GraphRule kDivGraph = [](Node& n, const Value& g, Value* d) {
  const Value b = arg1(n);
  d[0] = g / b, d[1] = -g * arg0(n) / (b * b);
};
constexpr GraphRule kPowGraph = [](Node& n, const Value& g, Value* d) {
  const Value a = arg0(n), b = arg1(n);
  d[0] = g * b * pow(a, b - 1.0);
  if (in0(n).value > 0.0) d[1] = g * handle(&n) * log(a);
};
constexpr GraphRule kSameGraph = [](Node&, const Value& g, Value* d) { d[0] = g; };
constexpr GraphRule kNegGraph = [](Node&, const Value& g, Value* d) { d[0] = -g; };
constexpr GraphRule kMulConstGraph = [](Node& n, const Value& g, Value* d) { d[0] = g * param(n); };
constexpr GraphRule kDivConstGraph = [](Node& n, const Value& g, Value* d) { d[0] = g / param(n); };
constexpr GraphRule kConstDivGraph = [](Node& n, const Value& g, Value* d) {
  const Value x = arg0(n);
  d[0] = -g * param(n) / (x * x);
};
constexpr GraphRule kPowConstGraph = [](Node& n, const Value& g, Value* d) {
  const double c = param(n);
  d[0] = c == 1.0 ? g : g * c * pow(arg0(n), c - 1.0);
};
constexpr GraphRule kExpGraph = [](Node& n, const Value& g, Value* d) { d[0] = g * handle(&n); };
constexpr GraphRule kLogGraph = [](Node& n, const Value& g, Value* d) { d[0] = g / arg0(n); };
constexpr GraphRule kSqrtGraph = [](Node& n, const Value& g, Value* d) {
  d[0] = g * 0.5 / handle(&n);
};
constexpr GraphRule kTanhGraph = [](Node& n, const Value& g, Value* d) {
  const Value t = handle(&n);
  d[0] = g * (1.0 - t * t);
};
constexpr GraphRule kSigmoidGraph = [](Node& n, const Value& g, Value* d) {
  const Value s = handle(&n);
  d[0] = g * s * (1.0 - s);
};
// Piecewise-linear ops: the slope is a constant (their second derivative is 0, as in PyTorch).
constexpr GraphRule kReluGraph = [](Node& n, const Value& g, Value* d) {
  d[0] = g * (in0(n).value > 0.0 ? 1.0 : 0.0);
};
constexpr GraphRule kAbsGraph = [](Node& n, const Value& g, Value* d) {
  const double x = in0(n).value;
  d[0] = g * (x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0));
};

// ---- Binary ops on two Values ----
constexpr OpInfo kAdd{"+",
                      [](Node& n) {
                        in0(n).grad += self(n).grad;
                        in1(n).grad += self(n).grad;
                      },
                      nullptr, kAddGraph};
constexpr OpInfo kSub{"-",
                      [](Node& n) {
                        in0(n).grad += self(n).grad;
                        in1(n).grad -= self(n).grad;
                      },
                      nullptr, kSubGraph};
constexpr OpInfo kMul{"*",
                      [](Node& n) {
                        in0(n).grad += self(n).grad * in1(n).value;
                        in1(n).grad += self(n).grad * in0(n).value;
                      },
                      nullptr, kMulGraph};
constexpr OpInfo kDiv{"/",
                      [](Node& n) {  // d(a/b) = da/b - a/b^2 db = (da - out db) / b
                        const double g = self(n).grad / in1(n).value;
                        in0(n).grad += g;
                        in1(n).grad -= g * self(n).value;
                      },
                      nullptr, kDivGraph};
constexpr OpInfo kPow{"pow",
                      [](Node& n) {  // a^b: b a^(b-1) da + a^b log(a) db
                        const double a = in0(n).value, b = in1(n).value;
                        in0(n).grad += self(n).grad * b * std::pow(a, b - 1.0);
                        if (a > 0.0) in1(n).grad += self(n).grad * self(n).value * std::log(a);
                      },
                      nullptr, kPowGraph};

// ---- Ops of one Value and a constant parameter c ----
constexpr OpInfo kAddConst{"+", [](Node& n) { in0(n).grad += self(n).grad; }, "+ {}", kSameGraph};
constexpr OpInfo kMulConst{"*", [](Node& n) { in0(n).grad += self(n).grad * param(n); }, "* {}",
                           kMulConstGraph};
constexpr OpInfo kDivConst{"/", [](Node& n) { in0(n).grad += self(n).grad / param(n); }, "/ {}",
                           kDivConstGraph};
constexpr OpInfo kConstSub{"-", [](Node& n) { in0(n).grad -= self(n).grad; }, "{} -",
                           kNegGraph};  // c - x
constexpr OpInfo kConstDiv{"/",
                           [](Node& n) {  // c / x
                             in0(n).grad -= self(n).grad * self(n).value / in0(n).value;
                           },
                           "{} /", kConstDivGraph};
constexpr OpInfo kNeg{"neg", [](Node& n) { in0(n).grad -= self(n).grad; }, nullptr, kNegGraph};
constexpr OpInfo kPowConst{"pow",
                           [](Node& n) {
                             const double c = param(n);
                             in0(n).grad += self(n).grad * c * power(in0(n).value, c - 1.0);
                           },
                           "**{}", kPowConstGraph};

// ---- Unary functions ----
constexpr OpInfo kExp{"exp", [](Node& n) { in0(n).grad += self(n).grad * self(n).value; }, nullptr,
                      kExpGraph};
constexpr OpInfo kLog{"log", [](Node& n) { in0(n).grad += self(n).grad / in0(n).value; }, nullptr,
                      kLogGraph};
constexpr OpInfo kSqrt{"sqrt", [](Node& n) { in0(n).grad += self(n).grad * 0.5 / self(n).value; },
                       nullptr, kSqrtGraph};
constexpr OpInfo kTanh{"tanh",
                       [](Node& n) {
                         const double t = self(n).value;
                         in0(n).grad += self(n).grad * (1.0 - t * t);
                       },
                       nullptr, kTanhGraph};
constexpr OpInfo kSigmoid{"sigmoid",
                          [](Node& n) {
                            const double s = self(n).value;
                            in0(n).grad += self(n).grad * s * (1.0 - s);
                          },
                          nullptr, kSigmoidGraph};
constexpr OpInfo kRelu{"relu",
                       [](Node& n) {
                         if (in0(n).value > 0.0) in0(n).grad += self(n).grad;
                       },
                       nullptr, kReluGraph};
constexpr OpInfo kAbs{"abs",
                      [](Node& n) {
                        const double x = in0(n).value;
                        in0(n).grad += x > 0.0 ? self(n).grad : (x < 0.0 ? -self(n).grad : 0.0);
                      },
                      nullptr, kAbsGraph};

void check_domain(const char* op, double x, bool ok, const char* why) {
  if (!ok) throw Error(op, fmt::format("input {} is outside the domain: {}", x, why));
}

}  // namespace

// ---- Value handle ----
Value::Value(double data)
    : node_(new_node(detail::kLeafOp, data, detail::kLeaf | detail::kRequiresGrad)) {}
Value::Value(double data, std::string_view label) : Value(data) { set_label(label); }

// Retain before release: self-assignment is safe.
Value& Value::operator=(
    const Value& other) noexcept {  // NOLINT(bugprone-unhandled-self-assignment)
  detail::retain(other.node_);
  detail::release(node_);
  node_ = other.node_;
  return *this;
}
Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    detail::release(node_);
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

double Value::data() const noexcept { return node_ ? self(*node_).value : 0.0; }
void Value::set_data(double data) {
  if (!node_) throw Error("set_data", "called on an empty Value");
  if (!(node_->flags & detail::kLeaf)) {
    throw Error("set_data",
                fmt::format("only a leaf's data can be set; this Value is the result of '{}'",
                            node_->op->name));
  }
  self(*node_).value = data;
  detail::note_leaf_write(*node_);
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
Value operator+(const Value& a, const Value& b) {
  return record(kAdd, value_of(a) + value_of(b), a, b);
}
Value operator-(const Value& a, const Value& b) {
  return record(kSub, value_of(a) - value_of(b), a, b);
}
Value operator*(const Value& a, const Value& b) {
  return record(kMul, value_of(a) * value_of(b), a, b);
}
Value operator/(const Value& a, const Value& b) {
  return record(kDiv, value_of(a) / value_of(b), a, b);
}
Value operator+(const Value& a, double b) { return record(kAddConst, value_of(a) + b, a, b); }
Value operator-(const Value& a, double b) { return record(kAddConst, value_of(a) - b, a, -b); }
Value operator*(const Value& a, double b) { return record(kMulConst, value_of(a) * b, a, b); }
Value operator/(const Value& a, double b) { return record(kDivConst, value_of(a) / b, a, b); }
Value operator+(double a, const Value& b) { return record(kAddConst, a + value_of(b), b, a); }
Value operator-(double a, const Value& b) { return record(kConstSub, a - value_of(b), b, a); }
Value operator*(double a, const Value& b) { return record(kMulConst, a * value_of(b), b, a); }
Value operator/(double a, const Value& b) { return record(kConstDiv, a / value_of(b), b, a); }
Value operator-(const Value& a) { return record(kNeg, -value_of(a), a); }

Value pow(const Value& base, double exponent) {
  const double x = value_of(base);
  check_domain("pow", x, x >= 0.0 || exponent == std::floor(exponent),
               "a negative base needs an integer exponent");
  return record(kPowConst, power(x, exponent), base, exponent);
}
Value pow(const Value& base, const Value& exponent) {
  const double x = value_of(base), e = value_of(exponent);
  check_domain(
      "pow", x,
      x > 0.0 || (x == 0.0 && e >= 1.0) || (x < 0.0 && e == std::floor(e) && !tracks(exponent)),
      "the base must be > 0 when the exponent is a variable (d/de needs log(base))");
  return record(kPow, std::pow(x, e), base, exponent);
}
Value exp(const Value& x) { return record(kExp, std::exp(value_of(x)), x); }
Value log(const Value& x) {
  check_domain("log", value_of(x), value_of(x) >= 0.0, "log needs x >= 0");
  return record(kLog, std::log(value_of(x)), x);
}
Value sqrt(const Value& x) {
  check_domain("sqrt", value_of(x), value_of(x) >= 0.0, "sqrt needs x >= 0");
  return record(kSqrt, std::sqrt(value_of(x)), x);
}
Value tanh(const Value& x) { return record(kTanh, std::tanh(value_of(x)), x); }
Value sigmoid(const Value& x) {
  // Never exponentiate a large positive number: exp(-|x|) is in (0, 1].
  const double v = value_of(x);
  const double e = std::exp(-std::abs(v));
  return record(kSigmoid, v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e), x);
}
Value relu(const Value& x) { return record(kRelu, value_of(x) > 0.0 ? value_of(x) : 0.0, x); }
Value abs(const Value& x) { return record(kAbs, std::abs(value_of(x)), x); }

}  // namespace ag
