#pragma once
// Graph nodes (private to the library). One graph holds two kinds of node:
//  - ScalarNode (48 bytes, pooled): a Value. Its inputs and constant live inline. Nodes made
//    while an ag::Tape lives have the same layout but come from the thread's tape, in
//    creation order, and own no reference to tape inputs (tape_arena.hpp).
//  - TensorNode: a Tensor with its storage, gradient, inputs and backward closure.
// Both start with detail::Node, whose OpInfo names the op and points to its backward rule;
// the engine (engine.cpp) walks and runs both kinds the same way.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/detail/node_ref.hpp"
#include "autograd/dtype.hpp"
#include "autograd/shape.hpp"
#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "scalar_pool.hpp"

namespace ag::detail {

enum NodeFlag : std::uint8_t {
  kRequiresGrad = 1,  // gradients flow into or through this node
  kLeaf = 2,          // no recorded history (a variable, a constant, or a detached result)
  kVisited = 4,       // scratch bit of the graph walker; always clear between walks
  kReleased = 8,      // backward ran without retain_graph: saved values are gone
  kLabelled = 16,     // has an entry in the label table
  kRetainGrad = 32,   // a tensor intermediate that keeps its gradient
  kTensor = 64,       // a TensorNode (else a ScalarNode)
  // Bit 128 means one thing per kind of node (flags are full):
  kGradHooks = 128,    // a tensor leaf with grad-ready hooks in the hook table (grad_hooks.cpp)
  kGradHistory = 128,  // a scalar leaf whose gradient with history is in the side table
};

// What an op is: its name (errors, pictures) and how it sends gradients to its inputs.
struct OpInfo {
  const char* name;
  void (*backward)(Node& self);  // null for leaves
  // For ops with a constant (a scalar node's slot 1, a tensor node's `parameter`): how
  // pictures show it, "{}" standing for the constant, e.g. "* {}" for x * 2 or "**{}" for
  // pow(x, 3). Null for other ops.
  const char* with_parameter = nullptr;
  // Scalar ops, for backward(create_graph=true) and higher-order gradients: given the output's
  // adjoint as a Value (with history), writes each input's adjoint contribution into
  // grad_in[0 .. num_inputs) as recorded Values. Null for leaves and tensor ops (a tensor
  // op's closure is itself written in differentiable ops and is run with grad mode on).
  void (*backward_graph)(Node& self, const Value& grad_out, Value* grad_in) = nullptr;
  // Tensor ops: whether backward reads the inputs' or the output's values (mul, exp, matmul)
  // rather than only their shapes (add, sum, reshape). Only then does an in-place write to
  // them between forward and backward make backward refuse (PyTorch's rule).
  bool saves_values = true;
};
extern const OpInfo kLeafOp;

struct ScalarNode : Node {
  double value;
  double grad;
  union Slot {
    Node* input;
    double constant;  // a unary op's parameter (pow's exponent, the 2 of x * 2) in slot 1
    // A leaf has no inputs: slot 0 counts its set_data writes, slot 1 holds that count as it
    // was when an op last recorded the leaf as an input (backward refuses if they differ).
    std::uint64_t count;
  } slot[2];
};
static_assert(sizeof(ScalarNode) == 48, "a recorded scalar op must stay at 48 bytes");

// Contiguous memory shared by tensors that alias it (reshape, detach, grad()). The version
// counts in-place writes so that backward can refuse values overwritten after being saved.
struct Storage {
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data;
  std::size_t bytes;
  Device device;
  std::uint64_t version = 0;
};

// A backward closure maps the output's gradient to one gradient per input (undefined = none),
// each of the output's broadcast shape or the input's own; the engine sums it to the input's
// shape (the one broadcasting rule) and accumulates.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct TensorNode : Node {
  Shape shape;
  Dtype dtype = Dtype::Float32;
  // The constant of an op whose OpInfo has with_parameter (pow's exponent, leaky_relu's
  // slope), for pictures only. A float fills the padding after dtype: no node grows.
  float parameter = 0.0f;
  std::shared_ptr<Storage> storage;
  std::shared_ptr<Storage> grad;  // same shape and dtype; null until a gradient arrives
  // The gradient with history, after backward(create_graph=true); then `grad` is null.
  Tensor grad_history;
  std::vector<Node*> inputs;  // owned references
  // Storage versions of the inputs (tensor inputs; 0 for Value inputs) and, last, of the
  // output, when recorded: an op whose OpInfo saves values refuses backward if one changed.
  std::vector<std::uint64_t> saved_versions;
  BackwardFn backward;  // null for leaves and after release
};

inline bool is_tensor(const Node& n) { return n.flags & kTensor; }

// A scalar op records `input`: a leaf remembers its set_data count as seen by the graph.
inline void note_recorded_input(Node& input) noexcept {
  if ((input.flags & (kLeaf | kTensor)) == kLeaf) {
    ScalarNode& leaf = static_cast<ScalarNode&>(input);
    leaf.slot[1].count = leaf.slot[0].count;
  }
}
// Value::set_data on a leaf: one more write that recorded graphs did not see.
inline void note_leaf_write(Node& leaf) noexcept { ++static_cast<ScalarNode&>(leaf).slot[0].count; }
inline ScalarNode& as_scalar(Node& n) { return static_cast<ScalarNode&>(n); }
inline TensorNode& as_tensor(Node& n) { return static_cast<TensorNode&>(n); }
inline std::size_t input_count(Node& n) {
  return is_tensor(n) ? as_tensor(n).inputs.size() : n.num_inputs;
}
inline Node* input_of(Node& n, std::size_t i) {
  return is_tensor(n) ? as_tensor(n).inputs[i] : as_scalar(n).slot[i].input;
}

TensorNode* allocate_tensor_node();
// True once this thread's caches have been destroyed (thread exit; on the main thread, before
// globals die): per-thread scratch must not be touched any more.
bool thread_caches_gone() noexcept;

// Label and scope side tables (labels are rare: they don't cost every node a field).
void set_label(Node& n, std::string_view label);
std::string label_of(const Node& n);
// Inline: every recorded node reads them.
inline constinit thread_local std::uint16_t current_scope_id = 0;
inline constinit thread_local bool grad_mode = true;  // grad_enabled() (grad_mode.cpp)
inline std::uint16_t current_scope() noexcept { return current_scope_id; }
inline void set_current_scope(std::uint16_t id) noexcept { current_scope_id = id; }
// The id of a scope name, adding it to the table if new (ScopeGuard).
std::uint16_t intern_scope(const char* name);
std::string_view scope_name(std::uint16_t id);

// Grad-ready hooks (grad_hooks.cpp), kept in a side table like labels: the engine runs a
// flagged leaf's hooks when backward reaches it; freeing the node drops them.
void run_grad_ready_hooks(Node& leaf);
void drop_grad_ready_hooks(const Node& leaf) noexcept;
// Drops a dying node's label, hooks and gradient history (freeing a node, ending a Tape).
void drop_side_entries(Node& node) noexcept;
// Frees this thread's spare tape chunks (ag::release_cached_memory; tape.cpp).
void release_tape_spares() noexcept;

// The one graph walker: nodes reachable from roots, inputs before their users. With
// requires_grad_only, stops at nodes that need no gradient (what backward needs).
std::vector<Node*> topological_order(const std::vector<Node*>& roots, bool requires_grad_only);

// Anomaly mode (anomaly.cpp): checks a fresh result, and the input gradients a backward rule
// just produced, for NaN/Inf. Callers test the flag first, so the off state costs one load.
extern constinit thread_local bool anomaly_mode;  // constinit: read without a TLS guard
void check_forward_anomaly(Node& result, const char* op, const std::vector<Node*>& inputs);
void check_backward_anomaly(Node& node);
// The same for one gradient a rule produced in a create_graph pass (graph_backward.cpp), where
// gradients live in a side table rather than in the inputs.
void check_backward_anomaly(Node& node, std::size_t input, const Tensor& gradient);
void check_backward_anomaly(Node& node, std::size_t input, double gradient);

// Frees the graph walker's per-thread scratch (ag::release_cached_memory).
void release_walk_scratch() noexcept;

// Adds `gradient` (broadcast shape allowed) into a node's gradient: the engine's one
// accumulation path, used by tensor backward closures and the Value<->Tensor bridge.
void accumulate_grad(Node& node, const Tensor& gradient);

// The gradient side table of scalar leaves after backward(create_graph=true) (node.cpp).
void set_grad_history(Node& leaf, const Value& grad);
Value grad_history_of(const Node& leaf);  // a constant 0 when there is none
void clear_grad_history(Node& leaf) noexcept;

// Differentiable forms of broadcast_to / sum_to, recorded when grad mode is on: what backward
// closures use so that their results carry history under create_graph.
Tensor expand(const Tensor& x, const Shape& shape);
Tensor reduce_to(const Tensor& grad, const Shape& shape);

}  // namespace ag::detail
