// The backward engine and the one graph walker (walk.hpp). Scalars and tensors share both.
//
// Forward: every op appends a node that owns references to its inputs. Backward:
//   1. walk from the output to every node that requires grad (iterative DFS, post-order:
//      inputs before users), refusing released or overwritten nodes before anything runs;
//   2. reset intermediates' gradients, seed the output's;
//   3. run each node's backward rule in reverse order: each adds into its inputs' gradients.
// Every node runs exactly once, after all its users: linear time on shared subexpressions.
// Gradients with history (create_graph, ag::grad) take graph_backward.cpp's pass instead.
#include <fmt/format.h>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "node.hpp"
#include "tape_arena.hpp"
#include "tensor_impl.hpp"
#include "walk.hpp"

namespace ag::detail {

thread_local std::vector<Frame> walk_stack;

namespace {
thread_local std::vector<Node*> backward_order;  // backward's scratch, kept between calls
// Defined after the scratch, so destroyed before it (thread-locals die in reverse order): from
// then on a walk refuses to start rather than touch the freed vectors.
constinit thread_local bool walk_scratch_gone = false;
struct WalkScratchSentinel {
  ~WalkScratchSentinel() { walk_scratch_gone = true; }
};
thread_local WalkScratchSentinel walk_scratch_sentinel;
}  // namespace

void require_walk_scratch(const char* op) {
  if (walk_scratch_gone || thread_caches_gone()) {
    throw Error(op,
                "this thread is exiting and its graph-walk scratch is already destroyed (called "
                "from the destructor of a static or thread_local object?): run backward, "
                "ag::grad and graph views before main returns or the thread ends");
  }
}

void release_walk_scratch() noexcept {
  std::vector<Frame>().swap(walk_stack);
  std::vector<Node*>().swap(backward_order);
}

std::vector<Node*> topological_order(const std::vector<Node*>& roots, bool requires_grad_only) {
  require_walk_scratch("graph walk");
  std::vector<Node*> order;
  {
    MarkGuard marks(order);  // its scope ends before `order` is returned (moved)
    walk(roots, requires_grad_only, order, [](Node&) {});
  }
  return order;
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
  if (!is_tensor(n)) refuse_tape_operand("backward", n);  // a scalar is released only so
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

namespace {

void reset_grad(Node& n) {
  if (is_tensor(n)) {
    as_tensor(n).grad.reset();
  } else {
    as_scalar(n).grad = 0.0;
  }
}

// Sets a per-thread switch for a scope and restores it on any exit.
class SwitchGuard {
 public:
  SwitchGuard(bool& flag, bool value) noexcept : flag_(flag), previous_(flag) { flag = value; }
  ~SwitchGuard() { flag_ = previous_; }
  SwitchGuard(const SwitchGuard&) = delete;
  SwitchGuard& operator=(const SwitchGuard&) = delete;

 private:
  bool& flag_;
  bool previous_;
};

// First-order backward: gradients are numbers, accumulated in the nodes themselves.
// seed_root sets the output's gradient after intermediates were reset.
template <class SeedFn>
void run_backward(Node* root, bool retain_graph, SeedFn&& seed_root) {
  require_grad_root(root);
  require_walk_scratch("backward");
  // One walk: collects the nodes, refuses released or overwritten ones, resets
  // intermediates' gradients.
  std::vector<Node*>& order = backward_order;
  order.clear();
  MarkGuard marks(order);
  walk({&root, 1}, /*requires_grad_only=*/true, order, [](Node& n) {
    check_runnable(n);
    if (!(n.flags & kLeaf)) reset_grad(n);
  });
  // Backward rules compute with tensors; they must not record. Anomaly mode checks each
  // rule's gradients below, not the ops a rule uses inside. Both switches are set here inline
  // (the public guards are out-of-line calls, a measurable share of a 10-node backward).
  const bool check_anomalies = anomaly_mode;
  SwitchGuard no_grad(grad_mode, false);
  SwitchGuard rules_unchecked(anomaly_mode, false);
  seed_root();
  // Nodes are unmarked as they run; a rule that throws tells the guard where it stopped (a
  // catch, not a counter the guard reads: that would be a store per node).
  std::size_t i = order.size();
  try {
    while (i > 0) {
      Node* n = order[--i];
      unmark(*n);
      if (n->flags & kLeaf) {  // every user has run: this leaf's gradient is final
        if ((n->flags & (kGradHooks | kTensor)) == (kGradHooks | kTensor)) run_grad_ready_hooks(*n);
        continue;
      }
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
  if (ScalarChunk* c = chunk_of(node_); c->tape) {  // on a tape: the reverse sweep if it can
    check_operand("backward", *node_);
    if (!create_graph && c->tape == active_tape && tape_backward(node_)) return;
  }
  if (create_graph) {
    backward_with_graph(node_, Value(1.0).detach(), retain_graph);
    return;
  }
  // A leaf's gradient accumulates, as every leaf's does; an intermediate's is the seed.
  run_backward(node_, retain_graph, [&] {
    ScalarNode& s = as_scalar(*node_);
    s.grad = (node_->flags & kLeaf) ? s.grad + 1.0 : 1.0;
  });
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  if (!node_) throw Error("backward", "called on an undefined tensor");
  TensorNode& self = as_tensor(*node_);
  Tensor seed = seed_for("backward", self, gradient);
  if (create_graph) {
    backward_with_graph(node_, seed, retain_graph);
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

}  // namespace ag
