// The backward engine and the one graph walker. Scalars and tensors share both.
//
// Forward: every op appends a node that owns references to its inputs. Backward:
//   1. walk from the output to every node that requires grad (iterative DFS, post-order:
//      inputs before users);
//   2. reset intermediates' gradients, seed the output's;
//   3. run each node's backward rule in reverse order: each adds into its inputs' gradients.
// Every node runs exactly once, after all its users: linear time on shared subexpressions.
#include <fmt/format.h>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
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

// Depth-first post-order walk with an explicit stack: appends to `order` every node reachable
// from the roots (stopping at nodes that need no gradient when requires_grad_only), inputs
// before users, calling on_first_visit(node) as each is reached. Nodes stay marked kVisited:
// the caller clears the marks of `order` (done in the pass it makes over it anyway).
template <class OnFirstVisit>
void walk(const std::vector<Node*>& roots, bool requires_grad_only, std::vector<Node*>& order,
          OnFirstVisit&& on_first_visit) {
  std::vector<Frame>& stack = walk_stack;
  stack.clear();
  auto wanted = [&](Node* n) {
    return n && !(n->flags & kVisited) && (!requires_grad_only || (n->flags & kRequiresGrad));
  };
  try {
    for (Node* root : roots) {
      if (!wanted(root)) continue;
      root->flags |= kVisited;
      on_first_visit(*root);
      stack.push_back({root, 0});
      while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next_input < input_count(*top.node)) {
          Node* in = input_of(*top.node, top.next_input++);
          if (wanted(in)) {
            in->flags |= kVisited;
            on_first_visit(*in);
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
  } catch (...) {
    for (Frame& f : stack) f.node->flags &= static_cast<std::uint8_t>(~kVisited);
    for (Node* n : order) n->flags &= static_cast<std::uint8_t>(~kVisited);
    stack.clear();
    trim(stack);
    throw;
  }
  trim(stack);
}

void clear_marks(const std::vector<Node*>& order) {
  for (Node* n : order) n->flags &= static_cast<std::uint8_t>(~kVisited);
}

}  // namespace

void release_walk_scratch() noexcept {
  std::vector<Frame>().swap(walk_stack);
  std::vector<Node*>().swap(backward_order);
}

std::vector<Node*> topological_order(const std::vector<Node*>& roots, bool requires_grad_only) {
  std::vector<Node*> order;
  walk(roots, requires_grad_only, order, [](Node&) {});
  clear_marks(order);
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

// seed_root sets the output's gradient after intermediates were reset.
template <class SeedFn>
void run_backward(Node* root, bool retain_graph, SeedFn&& seed_root) {
  if (!(root->flags & kRequiresGrad)) {
    throw Error("backward",
                "the output does not require grad: none of its inputs requires grad, or it was "
                "computed under NoGradGuard or detached");
  }
  // One walk: collects the nodes, refuses released ones, resets intermediates' gradients.
  std::vector<Node*>& order = backward_order;
  order.clear();
  walk({root}, /*requires_grad_only=*/true, order, [](Node& n) {
    if (n.flags & kReleased) {
      throw Error("backward",
                  fmt::format("the graph was already backpropagated through op {} and its saved "
                              "values were freed; call backward(retain_graph=true) the first "
                              "time to backpropagate twice",
                              describe(n)));
    }
    if (!(n.flags & kLeaf)) reset_grad(n);
  });
  NoGradGuard no_grad;  // backward rules compute with tensors; they must not record
  // Anomaly mode checks each rule's gradients below, not the ops a rule uses inside.
  const bool check_anomalies = anomaly_mode;
  AnomalyModeGuard rules_unchecked(false);
  try {
    seed_root();
  } catch (...) {
    clear_marks(order);
    throw;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    n->flags &= static_cast<std::uint8_t>(~kVisited);
    if ((n->flags & kLeaf) && !(n->flags & kGradHooks)) continue;
    try {
      if (n->flags & kLeaf) {  // every user has run: this leaf's gradient is final
        run_grad_ready_hooks(*n);
        continue;
      }
      n->op->backward(*n);
      if (check_anomalies) check_backward_anomaly(*n);
    } catch (...) {
      for (auto rest = it; rest != order.rend(); ++rest)
        (*rest)->flags &= static_cast<std::uint8_t>(~kVisited);
      throw;
    }
    // Tensor nodes free the values saved for backward. Scalar nodes free nothing (their
    // inputs' values are all backward needs), so a scalar graph can be run again.
    if (is_tensor(*n)) {
      TensorNode& t = as_tensor(*n);
      if (!(n->flags & kRetainGrad)) t.grad.reset();
      if (!retain_graph) {
        t.backward = nullptr;
        n->flags |= kReleased;
      }
    }
  }
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

void Value::backward(bool retain_graph) const {
  if (!node_) throw Error("backward", "called on an empty Value");
  run_backward(node_, retain_graph, [&] { as_scalar(*node_).grad = 1.0; });
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  if (!node_) throw Error("backward", "called on an undefined tensor");
  TensorNode& self = as_tensor(*node_);
  if (gradient.defined()) {
    if (gradient.shape() != self.shape) {
      throw Error("backward", fmt::format("gradient has shape {} but the output has shape {}",
                                          to_string(gradient.shape()), to_string(self.shape)));
    }
  } else if (ag::numel(self.shape) != 1) {
    throw Error("backward",
                fmt::format("the output has shape {} ({} elements); backward() without a "
                            "gradient needs a one-element output: pass a gradient of shape {}",
                            to_string(self.shape), ag::numel(self.shape), to_string(self.shape)));
  }
  run_backward(node_, retain_graph, [&] {
    Tensor seed =
        gradient.defined() ? gradient.to(self.dtype).clone() : ones(self.shape, self.dtype);
    self.grad = node_of(seed).storage;
  });
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
