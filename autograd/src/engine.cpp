// The backward engine and the one graph walker. Scalars and tensors share both.
//
// Forward: every op appends a node that owns references to its inputs. Backward:
//   1. walk from the output to every node that requires grad (iterative DFS, post-order:
//      inputs before users);
//   2. reset intermediates' gradients, seed the output's;
//   3. run each node's backward rule in reverse order: each adds into its inputs' gradients.
// Every node runs exactly once, after all its users: linear time on shared subexpressions.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "autograd/functional.hpp"
#include "autograd/graph.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"

namespace ag::detail {

namespace {

// Scratch buffers are reused across backward passes, but a huge graph's are given back.
template <class T>
void trim(std::vector<T>& scratch) {
  // Kept up to 4M entries: freeing and regrowing them cost a 2M-node chain 40% of its backward.
  if (scratch.capacity() > (4u << 20)) std::vector<T>().swap(scratch);
}

struct Frame {
  Node* node;
  std::size_t next_input;
};
// Scratch of the walk and of backward, kept per thread between calls.
thread_local std::vector<Frame> walk_stack;
thread_local std::vector<Node*> backward_order;

void unmark(Node& n) { n.flags &= static_cast<std::uint8_t>(~kVisited); }

// The one owner of the walker's kVisited marks: when it goes out of scope, by return or by
// exception, it clears the marks of order[0, marked) and of any frames a walk left on its
// stack, so no path leaves a node marked (a marked node is skipped by every later walk).
// Backward unmarks nodes itself as it runs them, counting `marked` down.
class MarkGuard {
 public:
  explicit MarkGuard(std::vector<Node*>& order) : order_(order) {}
  ~MarkGuard() {
    if (marked == 0) return;  // the normal end of a backward: nothing left to do
    for (Frame& f : walk_stack) unmark(*f.node);  // non-empty only if a walk threw
    walk_stack.clear();
    for (std::size_t i = 0, n = std::min(marked, order_.size()); i < n; ++i) unmark(*order_[i]);
  }
  MarkGuard(const MarkGuard&) = delete;
  MarkGuard& operator=(const MarkGuard&) = delete;
  std::size_t marked = SIZE_MAX;  // order[0, marked) may still be marked; SIZE_MAX: all

 private:
  std::vector<Node*>& order_;
};

// Depth-first post-order walk with an explicit stack: appends to `order` every node reachable
// from the roots (stopping at nodes that need no gradient when requires_grad_only), inputs
// before users, calling on_first_visit(node) as each is reached (before it is marked, so a
// visit that throws leaves no mark). Nodes stay marked kVisited for the caller's MarkGuard.
template <class OnFirstVisit>
void walk(const std::vector<Node*>& roots, bool requires_grad_only, std::vector<Node*>& order,
          OnFirstVisit&& on_first_visit) {
  std::vector<Frame>& stack = walk_stack;
  stack.clear();
  auto wanted = [&](Node* n) {
    return n && !(n->flags & kVisited) && (!requires_grad_only || (n->flags & kRequiresGrad));
  };
  for (Node* root : roots) {
    if (!wanted(root)) continue;
    on_first_visit(*root);
    root->flags |= kVisited;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next_input < input_count(*top.node)) {
        Node* in = input_of(*top.node, top.next_input++);
        if (wanted(in)) {
          on_first_visit(*in);
          in->flags |= kVisited;
          if (input_count(*in) == 0) {
            order.push_back(in);  // a leaf is finished at once: no stack frame
          } else {
            stack.push_back({in, 0});  // `top` is not used after this
          }
        }
      } else {
        order.push_back(top.node);
        stack.pop_back();
      }
    }
  }
  trim(stack);
}

}  // namespace

void release_walk_scratch() noexcept {
  std::vector<Frame>().swap(walk_stack);
  std::vector<Node*>().swap(backward_order);
}

std::vector<Node*> topological_order(const std::vector<Node*>& roots, bool requires_grad_only) {
  std::vector<Node*> order;
  {
    MarkGuard marks(order);  // its scope ends before `order` is returned (moved)
    walk(roots, requires_grad_only, order, [](Node&) {});
  }
  return order;
}

namespace {

void reset_grad(Node& n) {
  if (is_tensor(n)) {
    as_tensor(n).grad.reset();
  } else {
    as_scalar(n).grad = 0.0;
  }
}

std::string describe(Node& n) {
  std::string label = label_of(n);
  return label.empty() ? fmt::format("'{}'", n.op->name)
                       : fmt::format("'{}' (labelled '{}')", n.op->name, label);
}

std::string describe_tensor_or_value(Node& n) {
  std::string label = label_of(n);
  std::string what = is_tensor(n)
                         ? fmt::format("a tensor of shape {}", to_string(as_tensor(n).shape))
                         : fmt::format("a Value ({})", as_scalar(n).value);
  if (!label.empty()) what += fmt::format(" labelled '{}'", label);
  return what;
}

constexpr const char* kInplaceMessage =
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation";

[[noreturn]] void refuse_released(Node& n) {
  throw Error("backward",
              fmt::format("the graph was already backpropagated through op {} and its saved "
                          "values were freed; call backward(retain_graph=true) the first "
                          "time to backpropagate twice",
                          describe(n)));
}

[[noreturn]] void refuse_leaf_write(Node& n) {
  throw Error("backward", fmt::format("{}: a leaf Value ({}) was changed by set_data after the "
                                      "graph used it",
                                      kInplaceMessage, describe_tensor_or_value(n)));
}

[[gnu::noinline]] void check_versions(TensorNode& t) {
  if (t.saved_versions.empty()) return;
  for (std::size_t i = 0; i < t.inputs.size(); ++i) {
    Node& in = *t.inputs[i];
    if (is_tensor(in) && as_tensor(in).storage->version != t.saved_versions[i]) {
      throw Error("backward",
                  fmt::format("{}: input {} of op {} ({}) is at version {}; it was at version {} "
                              "when the op recorded it",
                              kInplaceMessage, i, describe(t), describe_tensor_or_value(in),
                              as_tensor(in).storage->version, t.saved_versions[i]));
    }
  }
  if (t.storage->version != t.saved_versions.back()) {
    throw Error("backward",
                fmt::format("{}: the output of op {} (shape {}) is at version {}; it was at "
                            "version {} when recorded",
                            kInplaceMessage, describe(t), to_string(t.shape), t.storage->version,
                            t.saved_versions.back()));
  }
}

// What every backward walk checks of a node before anything runs, so that a refusal leaves
// the graph as it was: its saved values still exist and were not overwritten since
// recording. A scalar intermediate (the common case) costs one test.
inline void check_runnable(Node& n) {
  const std::uint8_t flags = n.flags;
  if (!(flags & (kReleased | kTensor | kLeaf))) return;
  if (!(flags & (kReleased | kTensor))) {  // a scalar leaf
    ScalarNode& s = as_scalar(n);
    if (s.slot[0].count != s.slot[1].count) refuse_leaf_write(n);
    return;
  }
  if (flags & kReleased) refuse_released(n);
  if (!(flags & kLeaf) && n.op->saves_values) check_versions(as_tensor(n));
}

void require_grad_root(Node* root) {
  if (!(root->flags & kRequiresGrad)) {
    throw Error("backward",
                "the output does not require grad: none of its inputs requires grad, or it was "
                "computed under NoGradGuard or detached");
  }
}

// Frees what a tensor node saved for backward (the graph is not retained).
void release_saved(Node& n) {
  TensorNode& t = as_tensor(n);
  t.backward = nullptr;
  n.flags |= kReleased;
}

// First-order backward: gradients are numbers, accumulated in the nodes themselves.
// seed_root sets the output's gradient after intermediates were reset.
template <class SeedFn>
void run_backward(Node* root, bool retain_graph, SeedFn&& seed_root) {
  require_grad_root(root);
  // One walk: collects the nodes, refuses released or overwritten ones, resets
  // intermediates' gradients.
  std::vector<Node*>& order = backward_order;
  order.clear();
  MarkGuard marks(order);
  walk({root}, /*requires_grad_only=*/true, order, [](Node& n) {
    check_runnable(n);
    if (!(n.flags & kLeaf)) reset_grad(n);
  });
  NoGradGuard no_grad;  // backward rules compute with tensors; they must not record
  // Anomaly mode checks each rule's gradients below, not the ops a rule uses inside.
  const bool check_anomalies = anomaly_mode;
  AnomalyModeGuard rules_unchecked(false);
  seed_root();
  // Nodes are unmarked as they run; a rule that throws tells the guard where it stopped (a
  // catch, not a counter the guard reads: that would be a store per node).
  std::size_t i = order.size();
  try {
    while (i > 0) {
      Node* n = order[--i];
      unmark(*n);
      if (n->flags & kLeaf) continue;
      n->op->backward(*n);
      if (check_anomalies) check_backward_anomaly(*n);
      // Tensor nodes free the values saved for backward. Scalar nodes free nothing (their
      // inputs' values are all backward needs), so a scalar graph can be run again.
      if (is_tensor(*n)) {
        TensorNode& t = as_tensor(*n);
        if (!(n->flags & kRetainGrad)) t.grad.reset();
        if (!retain_graph) release_saved(*n);
      }
    }
  } catch (...) {
    marks.marked = i;
    throw;
  }
  marks.marked = 0;
  trim(order);
}

// ---- Backward with gradients that are themselves graphs (create_graph, ag::grad) ----
//
// Adjoints live in a side table for the walk, never in the nodes: tensor closures run as
// they are (with grad mode on when create_graph, so their results record history), scalar
// nodes run OpInfo::backward_graph, and contributions are summed with recorded adds.
class GraphBackward {
 public:
  GraphBackward(bool create_graph, bool retain_graph)
      : create_graph_(create_graph), retain_graph_(retain_graph || create_graph) {}

  // Walks from root and refuses what backward cannot run; the caller seeds, then runs.
  void walk_from(Node* root) {
    require_grad_root(root);
    walk({root}, /*requires_grad_only=*/true, order_, [](Node& n) { check_runnable(n); });
    root_ = root;
  }
  bool reached(const Node& n) const { return n.flags & kVisited; }
  // An intermediate whose adjoint the caller reads after run().
  void keep(Node& n) { kept_.push_back(&n); }

  void seed(const Tensor& g) { add_tensor(*root_, g); }
  void seed(const Value& g) { add_value(*root_, g); }

  void run() {
    std::optional<NoGradGuard> no_grad;
    std::optional<EnableGradGuard> with_grad;
    if (create_graph_) {
      with_grad.emplace();
    } else {
      no_grad.emplace();
    }
    AnomalyModeGuard rules_unchecked(false);
    for (marks_.marked = order_.size(); marks_.marked > 0;) {
      Node* n = order_[--marks_.marked];
      unmark(*n);
      if (n->flags & kLeaf) continue;
      if (is_tensor(*n)) {
        run_tensor(*n);
      } else {
        run_scalar(*n);
      }
    }
  }

  const std::vector<Node*>& order() const { return order_; }
  // Drops the side table (so that results read from it own their buffers alone).
  void clear_adjoints() {
    tensors_.clear();
    values_.clear();
  }
  Tensor tensor_adjoint(Node& n) const {
    auto it = tensors_.find(&n);
    return it == tensors_.end() ? Tensor() : it->second;
  }
  std::optional<Value> value_adjoint(Node& n) const {
    auto it = values_.find(&n);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void run_tensor(Node& n) {
    auto it = tensors_.find(&n);
    if (it == tensors_.end()) return;  // no gradient reached it (only max's losers, ...)
    TensorNode& t = as_tensor(n);
    const Tensor g = it->second;
    std::vector<Tensor> grads = t.backward(g);
    for (std::size_t i = 0; i < t.inputs.size() && i < grads.size(); ++i) {
      if (grads[i].defined() && (t.inputs[i]->flags & kRequiresGrad))
        add_tensor(*t.inputs[i], grads[i]);
    }
    if (!(n.flags & kRetainGrad) && std::find(kept_.begin(), kept_.end(), &n) == kept_.end())
      tensors_.erase(&n);  // frees it as soon as it is spent
    if (!retain_graph_) release_saved(n);
  }

  void run_scalar(Node& n) {
    auto it = values_.find(&n);
    if (it == values_.end()) return;
    if (!n.op->backward_graph) {
      throw Error("backward", fmt::format("op {} has no differentiable backward rule, so it "
                                          "cannot be part of a create_graph backward or ag::grad",
                                          describe(n)));
    }
    const Value g = it->second;
    Value grad_in[2] = {Value::adopt(nullptr), Value::adopt(nullptr)};
    n.op->backward_graph(n, g, grad_in);
    for (std::size_t i = 0; i < n.num_inputs; ++i) {
      Node* in = as_scalar(n).slot[i].input;
      if (grad_in[i].node() && (in->flags & kRequiresGrad)) add_value(*in, grad_in[i]);
    }
  }

  void add_tensor(Node& to, const Tensor& g) {
    if (!is_tensor(to)) {
      add_value(to, Value(g.to(Dtype::Float64).sum()));
      return;
    }
    TensorNode& t = as_tensor(to);
    Tensor c = reduce_to(g, t.shape).to(t.dtype);
    auto [it, fresh] = tensors_.try_emplace(&to, c);
    if (!fresh) it->second = it->second + c;
  }

  void add_value(Node& to, const Value& g) {
    if (is_tensor(to)) {  // the one-element tensor behind a Value(tensor)
      TensorNode& t = as_tensor(to);
      add_tensor(to, Tensor(g).to(t.dtype).reshape(t.shape));
      return;
    }
    auto [it, fresh] = values_.try_emplace(&to, g);
    if (!fresh) it->second = it->second + g;
  }

  bool create_graph_;
  bool retain_graph_;
  Node* root_ = nullptr;
  std::vector<Node*> order_;
  std::vector<Node*> kept_;
  MarkGuard marks_{order_};
  std::unordered_map<Node*, Tensor> tensors_;
  std::unordered_map<Node*, Value> values_;
};

// After a create_graph backward: leaves (and retain_grad tensors) take their gradients.
void accumulate_into_nodes(const GraphBackward& pass) {
  for (Node* n : pass.order()) {
    if (is_tensor(*n)) {
      if (!(n->flags & (kLeaf | kRetainGrad))) continue;
      Tensor g = pass.tensor_adjoint(*n);
      if (!g.defined()) continue;
      TensorNode& t = as_tensor(*n);
      if (!(n->flags & kLeaf)) {  // a retain_grad intermediate: this pass's gradient
        t.grad_history = g;
      } else if (t.grad_history.defined()) {
        t.grad_history = t.grad_history + g;
      } else if (t.grad) {
        t.grad_history = alias(t.grad, t.shape, t.dtype) + g;
      } else {
        t.grad_history = g;
      }
      t.grad.reset();
    } else if (n->flags & kLeaf) {
      std::optional<Value> g = pass.value_adjoint(*n);
      if (!g) continue;
      ScalarNode& s = as_scalar(*n);
      const Value previous =
          (n->flags & kGradHistory) ? grad_history_of(*n) : Value(s.grad).detach();
      s.grad += g->data();
      set_grad_history(*n, previous + *g);
    }
  }
}

}  // namespace

void run_tensor_backward(Node& self) {
  TensorNode& t = as_tensor(self);
  if (!t.grad) return;  // no gradient reached this node (e.g. only through max's losers)
  Tensor grad = alias(t.grad, t.shape, t.dtype);
  std::vector<Tensor> grads = t.backward(grad);
  for (std::size_t i = 0; i < t.inputs.size() && i < grads.size(); ++i) {
    if (grads[i].defined() && (t.inputs[i]->flags & kRequiresGrad)) {
      accumulate_grad(*t.inputs[i], grads[i]);
    }
  }
}

void accumulate_grad(Node& node, const Tensor& gradient) {
  if (!is_tensor(node)) {
    as_scalar(node).grad += gradient.to(Dtype::Float64).sum().item();
    return;
  }
  TensorNode& dst = as_tensor(node);
  if (dst.grad_history.defined()) {  // a first-order backward after a create_graph one
    dst.grad = node_of(dst.grad_history.detach().clone()).storage;
    dst.grad_history = Tensor();
  }
  Tensor g = sum_to(gradient, dst.shape).to(dst.dtype);
  if (!dst.grad) {
    TensorNode& src = node_of(g);
    // Take over a gradient buffer nobody else holds; copy one that aliases other data.
    if (src.storage.use_count() == 1 && &src != &dst) {
      dst.grad = src.storage;
    } else {
      dst.grad = node_of(g.clone()).storage;
    }
    return;
  }
  dispatch(dst.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = static_cast<T*>(dst.grad->data);
    const T* in = data<T>(g);
    const std::int64_t n = numel(dst.shape);
    for (std::int64_t i = 0; i < n; ++i) out[i] += in[i];
  });
}

}  // namespace ag::detail

namespace ag {

using namespace detail;

void Value::backward(bool retain_graph, bool create_graph) const {
  if (!node_) throw Error("backward", "called on an empty Value");
  if (create_graph) {
    GraphBackward pass(/*create_graph=*/true, retain_graph);
    pass.walk_from(node_);
    pass.seed(Value(1.0).detach());
    pass.run();
    accumulate_into_nodes(pass);
    return;
  }
  // A leaf's gradient accumulates, as every leaf's does; an intermediate's is the seed.
  run_backward(node_, retain_graph, [&] {
    ScalarNode& s = as_scalar(*node_);
    s.grad = (node_->flags & kLeaf) ? s.grad + 1.0 : 1.0;
  });
}

Value Value::grad_value() const {
  if (!node_) throw Error("grad_value", "called on an empty Value");
  if (node_->flags & kGradHistory) return grad_history_of(*node_);
  return Value(grad()).detach();
}

namespace {

// The gradient a backward from `output` starts with: `gradient`, or 1 for a one-element
// output; names the shapes when neither fits.
Tensor seed_for(const char* op, TensorNode& output, const Tensor& gradient) {
  if (gradient.defined()) {
    if (gradient.shape() != output.shape) {
      throw Error(op, fmt::format("gradient has shape {} but the output has shape {}",
                                  to_string(gradient.shape()), to_string(output.shape)));
    }
    return gradient.to(output.dtype);
  }
  if (ag::numel(output.shape) != 1) {
    throw Error(
        op, fmt::format("the output has shape {} ({} elements); a gradient is only implied "
                        "for a one-element output: pass a gradient of shape {}",
                        to_string(output.shape), ag::numel(output.shape), to_string(output.shape)));
  }
  return ones(output.shape, output.dtype);
}

}  // namespace

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  if (!node_) throw Error("backward", "called on an undefined tensor");
  TensorNode& self = as_tensor(*node_);
  Tensor seed = seed_for("backward", self, gradient);
  if (create_graph) {
    GraphBackward pass(/*create_graph=*/true, retain_graph);
    pass.walk_from(node_);
    pass.seed(seed);
    pass.run();
    accumulate_into_nodes(pass);
    return;
  }
  run_backward(node_, retain_graph, [&] {
    if (node_->flags & kLeaf) {
      accumulate_grad(*node_, seed);  // a leaf accumulates, even as the output
    } else {
      if (seed.node() == gradient.node()) seed = seed.clone();  // never adopt the caller's
      self.grad = node_of(seed).storage;
    }
  });
}

namespace {

void check_grad_inputs(const char* what, std::size_t i, Node* node) {
  if (!node) throw Error("grad", fmt::format("input {} is {}", i, what));
  if (!(node->flags & kRequiresGrad)) {
    throw Error("grad", fmt::format("input {} ({}) does not require grad", i,
                                    describe_tensor_or_value(*node)));
  }
}

std::string unused_message(std::size_t i, Node& n) {
  return fmt::format(
      "input {} ({}) was not used to compute the output; pass allow_unused=true to get an "
      "undefined gradient for it instead",
      i, describe_tensor_or_value(n));
}

// A result of a first-order ag::grad is a buffer of its own: a gradient that is the caller's
// grad_output passed through unchanged (add, reshape), or that shares its storage, is copied.
Tensor own_storage(const Tensor& g) {
  if (g.node()->refs == 1 && node_of(g).storage.use_count() == 1) return g;
  return g.detach().clone();
}

}  // namespace

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const Tensor& grad_output, bool retain_graph, bool create_graph,
                         bool allow_unused) {
  if (!output.defined()) throw Error("grad", "the output is an undefined tensor");
  for (std::size_t i = 0; i < inputs.size(); ++i)
    check_grad_inputs("an undefined tensor", i, inputs[i].node());
  Tensor seed = seed_for("grad", node_of(output), grad_output);
  GraphBackward pass(create_graph, retain_graph);
  pass.walk_from(output.node());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!allow_unused && !pass.reached(*inputs[i].node()))
      throw Error("grad", unused_message(i, *inputs[i].node()));
  }
  std::vector<bool> used(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    used[i] = pass.reached(*inputs[i].node());
    pass.keep(*inputs[i].node());
  }
  pass.seed(seed);
  pass.run();
  std::vector<Tensor> out;
  out.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Node& n = *inputs[i].node();
    Tensor g;
    if (is_tensor(n)) {
      g = pass.tensor_adjoint(n);
    } else if (auto v = pass.value_adjoint(n)) {
      g = Tensor(*v);
    }
    if (!g.defined() && used[i]) g = zeros_like(inputs[i]);  // reached, but no gradient flowed
    out.push_back(g);
  }
  pass.clear_adjoints();
  if (!create_graph) {
    NoGradGuard no_grad;
    for (Tensor& g : out)
      if (g.defined()) g = own_storage(g);
  }
  return out;
}

std::vector<Value> grad(const Value& output, const std::vector<Value>& inputs, bool retain_graph,
                        bool create_graph, bool allow_unused) {
  if (!output.node()) throw Error("grad", "the output is an empty Value");
  for (std::size_t i = 0; i < inputs.size(); ++i)
    check_grad_inputs("an empty Value", i, inputs[i].node());
  GraphBackward pass(create_graph, retain_graph);
  pass.walk_from(output.node());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!allow_unused && !pass.reached(*inputs[i].node()))
      throw Error("grad", unused_message(i, *inputs[i].node()));
  }
  pass.seed(Value(1.0).detach());
  pass.run();
  std::vector<Value> out;
  out.reserve(inputs.size());
  for (const Value& input : inputs) {
    std::optional<Value> g = pass.value_adjoint(*input.node());
    if (!g) {
      out.push_back(Value(0.0).detach());  // Values have no undefined state: a constant 0
    } else {
      out.push_back(create_graph ? *g : g->detach());
    }
  }
  return out;
}

std::vector<GraphNode> collect_graph(std::span<const GraphRoot> roots) {
  std::vector<Node*> root_nodes;
  for (const auto& r : roots) root_nodes.push_back(r.node());
  std::vector<Node*> order = topological_order(root_nodes, /*requires_grad_only=*/false);
  std::unordered_map<const Node*, std::size_t> ids;
  ids.reserve(order.size());
  std::vector<GraphNode> out;
  out.reserve(order.size());
  for (Node* n : order) {
    GraphNode g;
    g.id = out.size();
    ids[n] = g.id;
    g.op = n->op->name;
    g.op_label =
        n->op->with_parameter && !is_tensor(*n)
            ? fmt::format(fmt::runtime(n->op->with_parameter), as_scalar(*n).slot[1].constant)
            : std::string(n->op->name);
    g.label = label_of(*n);
    g.scope = scope_name(n->scope);
    g.is_scalar = !is_tensor(*n);
    g.is_leaf = n->flags & kLeaf;
    g.requires_grad = n->flags & kRequiresGrad;
    for (std::size_t i = 0, k = input_count(*n); i < k; ++i)
      g.inputs.push_back(ids.at(input_of(*n, i)));
    retain(n);
    if (g.is_scalar) {
      g.value = Value::adopt(n);
    } else {
      g.tensor = Tensor::adopt(n);
    }
    out.push_back(std::move(g));
  }
  return out;
}

std::size_t graph_size(std::span<const GraphRoot> roots) {
  std::vector<Node*> root_nodes;
  for (const auto& r : roots) root_nodes.push_back(r.node());
  return topological_order(root_nodes, false).size();
}

}  // namespace ag
