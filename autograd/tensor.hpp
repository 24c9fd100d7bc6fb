#pragma once
// ag::Tensor: an n-dimensional array of float32 or float64 in contiguous row-major storage,
// and a node of the same graph as ag::Value. Names follow libtorch where an equivalent exists.
//
//   ag::Generator gen(42);
//   auto w = ag::randn({3, 2}, gen, ag::float64).requires_grad_();
//   auto x = ag::ones({4, 3}, ag::float64);
//   auto loss = ag::matmul(x, w).tanh().sum();
//   loss.backward();     // w.grad() has shape [3, 2]
//
// A Tensor is a handle: copies share the node and its storage. Ops never modify their inputs.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/detail/node_handle.hpp"
#include "autograd/dtype.hpp"
#include "autograd/shape.hpp"

namespace ag {

class Value;

// Explicit, seeded random source: the same seed gives the same tensors on every run.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : engine_(seed) {}
  std::mt19937_64& engine() noexcept { return engine_; }
  double uniform();  // in [0, 1)
  double normal();   // standard normal

 private:
  std::mt19937_64 engine_;
};

class Tensor : public detail::NodeHandle<Tensor> {
 public:
  Tensor() noexcept = default;  // undefined: defined() == false
  // A 0-d float64 tensor holding a Value, differentiably.
  explicit Tensor(const Value& value);

  bool defined() const noexcept { return node_ != nullptr; }
  const Shape& shape() const;
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  std::int64_t size(std::int64_t d) const;  // negative d counts from the end
  std::int64_t numel() const;
  Dtype dtype() const;
  Device device() const;

  // Element access. data_ptr<T>() checks that T matches dtype().
  template <class T>
  const T* data_ptr() const;
  // Writable access for in-place updates outside the graph (optimizers). Bumps the storage
  // version so that backward detects values saved for it having been overwritten.
  template <class T>
  T* mutable_data_ptr();
  std::vector<double> to_vector() const;  // elements as doubles, row-major
  double item() const;                    // the value of a one-element tensor

  // Gradient tracking.
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  bool is_leaf() const;
  // Undefined until a backward reaches this tensor; after backward(create_graph=true) it
  // requires grad and has history.
  Tensor grad() const;
  void zero_grad();  // drops the accumulated gradient (and its history)
  // Keep this intermediate's gradient after backward (leaves always keep theirs).
  Tensor& retain_grad();
  // Runs hook(*this) each time a backward pass has finished this leaf's gradient: when the
  // walk reaches the leaf, after every op that sends it gradient, while backward carries on
  // with the rest of the graph (distributed training starts each all-reduce from here).
  // grad() is final for that pass (undefined if no gradient reached the leaf). Hooks run in
  // the order added, on the thread running backward, under NoGradGuard; one that throws
  // stops the backward pass. Leaves that require grad only. Returns an id for removal.
  std::uint64_t add_grad_ready_hook(std::function<void(const Tensor& leaf)> hook);
  void remove_grad_ready_hook(std::uint64_t id);  // unknown ids are ignored
  // Backpropagates. A non-scalar output needs `gradient` (same shape as this tensor).
  // create_graph records the backward pass itself: leaves' grad() then carry history and can
  // be differentiated again (it implies retain_graph). As in PyTorch, a leaf's gradient then
  // refers back to the leaf (a reference cycle until zero_grad()); ag::grad
  // (autograd/functional.hpp) returns gradients without storing them and is usually better.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  // Same storage, no history.
  Tensor detach() const;
  // A copy with its own storage (differentiable).
  Tensor clone() const;
  // Converts the dtype (differentiable); returns *this when already of that dtype.
  Tensor to(Dtype dtype) const;

  Tensor& set_label(std::string_view label);
  std::string label() const;

  // Method forms of the free functions below.
  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(std::int64_t dim, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor matmul(const Tensor& other) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor abs() const;
  Tensor pow(double exponent) const;
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;

  static Tensor adopt(detail::Node* node) noexcept {
    Tensor t;
    t.node_ = node;
    return t;
  }
};
static_assert(sizeof(Tensor) == sizeof(detail::Node*), "a Tensor is one pointer");

// ---- Factories (dtype defaults to float32, like libtorch) ----
// Values in row-major order; values.size() must equal numel(shape).
Tensor tensor(std::span<const double> values, const Shape& shape, Dtype dtype = float32);
Tensor tensor(std::initializer_list<double> values, Dtype dtype = float32);  // 1-d
Tensor scalar_tensor(double value, Dtype dtype = float32);                   // 0-d
Tensor zeros(const Shape& shape, Dtype dtype = float32);
Tensor ones(const Shape& shape, Dtype dtype = float32);
Tensor full(const Shape& shape, double value, Dtype dtype = float32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(double end, Dtype dtype = float32);
Tensor arange(double start, double end, double step = 1.0, Dtype dtype = float32);
Tensor rand(const Shape& shape, Generator& gen, Dtype dtype = float32);   // uniform [0, 1)
Tensor randn(const Shape& shape, Generator& gen, Dtype dtype = float32);  // standard normal

// ---- Elementwise ops, NumPy broadcasting; gradients are summed back to each input's shape ----
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& a);
// A Value in a tensor expression acts as a 0-d tensor of the other operand's dtype.
Tensor operator+(const Tensor& a, const Value& b);
Tensor operator-(const Tensor& a, const Value& b);
Tensor operator*(const Tensor& a, const Value& b);
Tensor operator/(const Tensor& a, const Value& b);
Tensor operator+(const Value& a, const Tensor& b);
Tensor operator-(const Value& a, const Tensor& b);
Tensor operator*(const Value& a, const Tensor& b);
Tensor operator/(const Value& a, const Tensor& b);

Tensor pow(const Tensor& base, double exponent);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);   // throws for negative elements
Tensor sqrt(const Tensor& x);  // throws for negative elements
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
// Elementwise clamp into [lo, hi]; the gradient is 0 where clamped.
Tensor clamp(const Tensor& x, double lo, double hi);

// ---- More elementwise functions (libtorch's names and semantics) ----
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor log1p(const Tensor& x);     // log(1 + x), accurate near 0; throws for elements < -1
Tensor expm1(const Tensor& x);     // e^x - 1, accurate near 0
Tensor softplus(const Tensor& x);  // log(1 + e^x), finite for any x
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor gelu(const Tensor& x);  // tanh approximation (libtorch's approximate="tanh")
// Elementwise smaller / larger (broadcasting); at a tie the gradient goes to b.
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
// Comparisons (broadcasting): masks of 1 and 0 in the operands' dtype, without gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
// a where condition is nonzero, else b (all three broadcast). Gradients flow to the branch
// taken; an Inf or NaN in the other branch does not leak into either result or gradient.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// ---- Reductions: over all elements (0-d result) or one dim ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Gradient goes to the first maximal element (per slice for the dim form).
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Index of the maximum along dim (no gradient); ties give the first index.
std::vector<std::int64_t> argmax(const Tensor& x, std::int64_t dim);

// ---- Linear algebra and shape ----
// [m,k]@[k,n]; [..., m, k]@[..., k, n] with broadcast batch dims; 1-d operands as in NumPy.
Tensor matmul(const Tensor& a, const Tensor& b);
// An activation applied by `linear` in the same op: relu(x @ weight + bias) is one node, its
// backward masks the gradient by the op's own output (no separate relu node or mask tensor).
enum class Activation : std::uint8_t { none, relu };
// x @ weight + bias in one op (the bias is preloaded into the product's output), then the
// activation: x is [..., in], weight [in, out], bias [out] or undefined. One node instead of
// two or three, and no gradient is computed for an input that does not require one.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              Activation activation = Activation::none);
Tensor reshape(const Tensor& x, const Shape& shape);  // one dim may be -1
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor cat(std::span<const Tensor> tensors, std::int64_t dim);
Tensor cat(std::initializer_list<Tensor> tensors, std::int64_t dim);

// ---- Indexing and view-like ops (libtorch's names and semantics) ----
// Minimum of all elements / along dim (the gradient goes to the first minimal element).
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, std::int64_t dim, bool keepdim = false);
// Drops every size-1 dim / dim `dim` if its size is 1; inserts a size-1 dim at `dim`.
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
// Merges dims start_dim..end_dim into one.
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
// x broadcast to `shape` (-1 keeps a dim, new dims may lead); gradients are summed back.
Tensor expand(const Tensor& x, const Shape& shape);
// Joins same-shape tensors along a new dim.
Tensor stack(std::span<const Tensor> tensors, std::int64_t dim);
Tensor stack(std::initializer_list<Tensor> tensors, std::int64_t dim);
// x[..., start:start+length, ...] along dim (a copy; gradients scatter back).
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
// x[..., index, ...]: drops dim (negative index counts from the end).
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
// x[..., start:end:step, ...] with Python's rules (negative bounds count from the end,
// bounds out of range are clamped); step > 0.
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
// The slices index[0], index[1], ... of dim (repeats allowed; their gradients add up).
Tensor index_select(const Tensor& x, std::int64_t dim, std::span<const std::int64_t> index);
// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and so on): index has x's rank, its
// values (row-major, shape index_shape) index dim; gradients scatter-add back.
Tensor gather(const Tensor& x, std::int64_t dim, std::span<const std::int64_t> index,
              const Shape& index_shape);

// ---- Softmax family (max subtracted: finite for any finite logits) ----
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);
// For a [N, C] tensor and N labels in [0, C): the [N] tensor x[i, labels[i]] (MXNet's `pick`,
// PyTorch's x.gather(1, labels.unsqueeze(1)).squeeze(1)). The gradient scatters back.
Tensor pick(const Tensor& x, std::span<const std::int64_t> labels);
// mean over rows of -log_softmax(logits)[i, labels[i]] for [N, C] logits, fused: one pass
// forward, and backward (softmax - onehot) / N in one pass. Finite for any finite logits.
Tensor cross_entropy(const Tensor& logits, std::span<const std::int64_t> labels);

}  // namespace ag
