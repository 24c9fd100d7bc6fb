// Backward passes whose gradients are themselves graphs: backward(create_graph=true) and
// ag::grad (autograd/functional.hpp), on the walker and checks of walk.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "autograd/functional.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"
#include "walk.hpp"

namespace ag::detail {

namespace {

// ---- Backward with gradients that are themselves graphs (create_graph, ag::grad) ----
//
// Adjoints live in a side table for the walk, never in the nodes: tensor closures run as
// they are (with grad mode on when create_graph, so their results record history), scalar
// nodes run OpInfo::backward_graph, and contributions are summed with recorded adds.
class GraphBackward {
 public:
  // into_leaves: backward(create_graph=true), which accumulates into leaves (and runs their
  // grad-ready hooks) as the walk reaches them; ag::grad leaves the nodes alone.
  GraphBackward(bool create_graph, bool retain_graph, bool into_leaves = false)
      : create_graph_(create_graph),
        retain_graph_(retain_graph || create_graph),
        into_leaves_(into_leaves) {}

  // Walks from root and refuses what backward cannot run; the caller seeds, then runs.
  void walk_from(Node* root) {
    require_grad_root(root);
    require_walk_scratch("backward");
    walk({&root, 1}, /*requires_grad_only=*/true, order_, [](Node& n) { check_runnable(n); });
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
    // Anomaly mode checks each rule's gradients, not the ops a rule records inside.
    check_anomalies_ = anomaly_mode;
    AnomalyModeGuard rules_unchecked(false);
    for (marks_.marked = order_.size(); marks_.marked > 0;) {
      Node* n = order_[--marks_.marked];
      unmark(*n);
      if (n->flags & kLeaf) {  // every user has run: this leaf's gradient is final
        if (into_leaves_) accumulate_into_leaf(*n);
        continue;
      }
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
      if (!grads[i].defined() || !(t.inputs[i]->flags & kRequiresGrad)) continue;
      if (check_anomalies_) check_backward_anomaly(n, i, grads[i]);
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
      if (!grad_in[i].node() || !(in->flags & kRequiresGrad)) continue;
      if (check_anomalies_) check_backward_anomaly(n, i, grad_in[i].data());
      add_value(*in, grad_in[i]);
    }
  }

  // A leaf takes this pass's gradient, with history, then runs its grad-ready hooks (without
  // recording, as in a first-order backward).
  void accumulate_into_leaf(Node& n) {
    if (is_tensor(n)) {
      if (Tensor g = tensor_adjoint(n); g.defined()) {
        TensorNode& t = as_tensor(n);
        if (t.grad_history.defined()) {
          t.grad_history = t.grad_history + g;
        } else if (t.grad) {
          t.grad_history = alias(t.grad, t.shape, t.dtype) + g;
        } else {
          t.grad_history = g;
        }
        t.grad.reset();
      }
      if (n.flags & kGradHooks) {
        NoGradGuard no_grad;
        run_grad_ready_hooks(n);
      }
    } else if (std::optional<Value> g = value_adjoint(n)) {
      ScalarNode& s = as_scalar(n);
      const Value previous = (n.flags & kGradHistory) ? grad_history_of(n) : Value(s.grad).detach();
      s.grad += g->data();
      set_grad_history(n, previous + *g);
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
  bool into_leaves_;
  bool check_anomalies_ = false;
  Node* root_ = nullptr;
  std::vector<Node*> order_;
  std::vector<Node*> kept_;
  MarkGuard marks_{order_};
  std::unordered_map<Node*, Tensor> tensors_;
  std::unordered_map<Node*, Value> values_;
};

// After a create_graph backward: retain_grad intermediates take this pass's gradient (leaves
// took theirs during the pass).
void accumulate_into_intermediates(const GraphBackward& pass) {
  for (Node* n : pass.order()) {
    if (!is_tensor(*n) || (n->flags & kLeaf) || !(n->flags & kRetainGrad)) continue;
    Tensor g = pass.tensor_adjoint(*n);
    if (!g.defined()) continue;
    TensorNode& t = as_tensor(*n);
    t.grad_history = g;
    t.grad.reset();
  }
}

}  // namespace

void backward_with_graph(Node* root, const Tensor& seed, bool retain_graph) {
  GraphBackward pass(/*create_graph=*/true, retain_graph, /*into_leaves=*/true);
  pass.walk_from(root);
  pass.seed(seed);
  pass.run();
  accumulate_into_intermediates(pass);
}

void backward_with_graph(Node* root, const Value& seed, bool retain_graph) {
  GraphBackward pass(/*create_graph=*/true, retain_graph, /*into_leaves=*/true);
  pass.walk_from(root);
  pass.seed(seed);
  pass.run();
  accumulate_into_intermediates(pass);
}

}  // namespace ag::detail

namespace ag {

using namespace detail;

Value Value::grad_value() const {
  if (!node_) throw Error("grad_value", "called on an empty Value");
  if (node_->flags & kGradHistory) return grad_history_of(*node_);
  return Value(grad()).detach();
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

}  // namespace ag
