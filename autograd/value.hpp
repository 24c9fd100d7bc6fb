#pragma once
// ag::Value: a differentiable double, micrograd's face of the graph.
//
//   ag::Value x = -4.0;
//   auto y = relu(2 * x + 2) + x * x;
//   y.backward();        // x.grad() now holds dy/dx
//
// A Value is a cheap handle (one pointer) to a node of the graph. Copies share the node.
// Every op records a new node; nothing ever mutates a node that other expressions hold
// (`x += 1` rebinds x to a new node). Values take part in tensor expressions too
// (ag::Tensor(value), ag::Value(tensor)): there is one graph and one backward engine.
#include <string>
#include <string_view>

#include "autograd/detail/node_handle.hpp"

namespace ag {

class Tensor;

class Value : public detail::NodeHandle<Value> {
 public:
  // A leaf: a variable whose gradient is accumulated by backward().
  Value(double data = 0.0);  // NOLINT(google-explicit-constructor): micrograd's `Value x = 2.0`
  Value(double data, std::string_view label);
  // The single element of a one-element tensor, differentiably (gradients flow back to it).
  explicit Value(const Tensor& tensor);

  double data() const noexcept;
  // Overwrites a leaf's data in place: an optimizer step (micrograd's p.data -= lr * p.grad).
  // Throws for a non-leaf, whose value the nodes built on it were computed from.
  void set_data(double data);
  // d(output)/d(this) from the last backward() reaching this node; 0 before any.
  double grad() const noexcept;
  // The same gradient as a Value. After backward(create_graph=true) it carries history (it can
  // be differentiated again); otherwise it is a constant holding grad().
  Value grad_value() const;

  // Backpropagates from this value (seed gradient 1). Leaves accumulate into grad() until
  // zero_grad(); intermediates are reset first, so they never carry stale gradients. Scalar
  // nodes keep all that backward needs, so a pure Value graph can be backpropagated again;
  // tensor nodes on the way free their saved buffers unless retain_graph is set.
  // create_graph records the backward pass itself, so that gradients can be differentiated
  // again (see grad_value(), and ag::grad in autograd/functional.hpp, which is usually the
  // better tool); it implies retain_graph. A leaf then holds a graph that refers back to the
  // leaf itself: zero_grad() breaks that cycle.
  void backward(bool retain_graph = false, bool create_graph = false) const;

  // Resets this node's gradient to 0 (and drops a gradient with history).
  void zero_grad() noexcept;
  // A new leaf with the same data and no history.
  Value detach() const;

  bool is_leaf() const noexcept;
  // Name shown in graph pictures and error messages, e.g. "w1".
  Value& set_label(std::string_view label);
  std::string label() const;

  // Adopts a node whose reference the caller already owns (library internals).
  static Value adopt(detail::Node* node) noexcept { return Value(Adopt{}, node); }

 private:
  struct Adopt {};
  Value(Adopt, detail::Node* node) noexcept : NodeHandle(node) {}
};
static_assert(sizeof(Value) == sizeof(detail::Node*), "a Value is one pointer");

Value operator+(const Value& a, const Value& b);
Value operator-(const Value& a, const Value& b);
Value operator*(const Value& a, const Value& b);
Value operator/(const Value& a, const Value& b);
Value operator+(const Value& a, double b);
Value operator-(const Value& a, double b);
Value operator*(const Value& a, double b);
Value operator/(const Value& a, double b);
Value operator+(double a, const Value& b);
Value operator-(double a, const Value& b);
Value operator*(double a, const Value& b);
Value operator/(double a, const Value& b);
Value operator-(const Value& a);

// Compound assignment rebinds the left-hand handle to the new node.
inline Value& operator+=(Value& a, const Value& b) { return a = a + b; }
inline Value& operator-=(Value& a, const Value& b) { return a = a - b; }
inline Value& operator*=(Value& a, const Value& b) { return a = a * b; }
inline Value& operator/=(Value& a, const Value& b) { return a = a / b; }

Value pow(const Value& base, double exponent);
Value pow(const Value& base,
          const Value& exponent);  // base must be > 0 where the gradient is asked
Value exp(const Value& x);
Value log(const Value& x);   // throws for x < 0
Value sqrt(const Value& x);  // throws for x < 0
Value tanh(const Value& x);
Value sigmoid(const Value& x);  // stable for any |x|
Value relu(const Value& x);     // derivative 0 at x <= 0
Value abs(const Value& x);      // derivative 0 at x == 0

// ---- More elementwise functions (libtorch's names and semantics) ----
Value sin(const Value& x);
Value cos(const Value& x);
Value log1p(const Value& x);     // log(1 + x), accurate near 0; throws for x < -1
Value expm1(const Value& x);     // e^x - 1, accurate near 0
Value softplus(const Value& x);  // log(1 + e^x), finite for any x
Value leaky_relu(const Value& x, double negative_slope = 0.01);
Value gelu(const Value& x);  // tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// The smaller / larger of two Values; at a tie the gradient goes to b.
Value minimum(const Value& a, const Value& b);
Value maximum(const Value& a, const Value& b);

}  // namespace ag
