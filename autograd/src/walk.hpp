#pragma once
// The graph walker and the checks every backward makes before running a rule (private):
// shared by first-order backward (engine.cpp) and the create_graph / ag::grad pass
// (graph_backward.cpp).
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "node.hpp"

namespace ag::detail {

// Scratch buffers are reused across backward passes, but a huge graph's are given back.
template <class T>
void trim(std::vector<T>& scratch) {
  // Kept up to 4M entries: freeing and regrowing them cost a 2M-node chain 40% of its backward.
  if (scratch.capacity() > (4u << 20)) std::vector<T>().swap(scratch);
}

// 16 bytes: the input count is cached beside the cursor, so the loop does not reload it
// through the node (a scalar's count needs its op; a tensor's, its input vector).
struct Frame {
  Node* node;
  std::uint32_t next_input;
  std::uint32_t input_count;
};
// The walk's stack, kept per thread between calls (engine.cpp).
extern thread_local std::vector<Frame> walk_stack;

inline void unmark(Node& n) { n.flags &= static_cast<std::uint8_t>(~kVisited); }

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
// Roots are a span: one backward's single root costs no vector (no allocation per call).
void walk(std::span<Node* const> roots, bool requires_grad_only, std::vector<Node*>& order,
          OnFirstVisit&& on_first_visit) {
  // The thread's stack is borrowed into a local for the walk, so that its ends live in
  // registers rather than in thread-local memory; given back on any exit (MarkGuard reads it).
  struct Borrowed {
    std::vector<Frame> stack;
    Borrowed() { stack.swap(walk_stack); }
    ~Borrowed() { stack.swap(walk_stack); }
  } borrowed;
  std::vector<Frame>& stack = borrowed.stack;
  stack.clear();
  auto wanted = [&](Node* n) {
    return n && !(n->flags & kVisited) && (!requires_grad_only || (n->flags & kRequiresGrad));
  };
  for (Node* root : roots) {
    if (!wanted(root)) continue;
    on_first_visit(*root);
    root->flags |= kVisited;
    stack.push_back({root, 0, static_cast<std::uint32_t>(input_count(*root))});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next_input < top.input_count) {
        Node* in = input_of(*top.node, top.next_input++);
        if (wanted(in)) {
          on_first_visit(*in);
          in->flags |= kVisited;
          const auto count = static_cast<std::uint32_t>(input_count(*in));
          if (count == 0) {
            order.push_back(in);  // a leaf is finished at once: no stack frame
          } else {
            stack.push_back({in, 0, count});  // `top` is not used after this
          }
        }
      } else {
        order.push_back(top.node);
        stack.pop_back();
      }
    }
  }
  trim(stack);  // not on a throw: the frames left are MarkGuard's to unmark
}

std::string describe(Node& n);                  // "'op'" or "'op' (labelled 'x')"
std::string describe_tensor_or_value(Node& n);  // "a tensor of shape [2, 3] labelled 'w'"
[[noreturn]] void refuse_released(Node& n);
[[noreturn]] void refuse_leaf_write(Node& n);
void check_versions(TensorNode& t);  // throws if a saved value was overwritten in place

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

// Throws unless the output requires grad.
void require_grad_root(Node* root);
// Throws once this thread's walk scratch is destroyed (a walk from the destructor of a static
// or thread_local object, at exit): `op` names the caller.
void require_walk_scratch(const char* op);
// Frees what a tensor node saved for backward (the graph is not retained).
void release_saved(Node& n);

// The gradient a backward from `output` starts with: `gradient`, or 1 for a one-element
// output; names the shapes when neither fits.
Tensor seed_for(const char* op, TensorNode& output, const Tensor& gradient);

// backward(create_graph=true) from root with the given seed (graph_backward.cpp).
void backward_with_graph(Node* root, const Tensor& seed, bool retain_graph);
void backward_with_graph(Node* root, const Value& seed, bool retain_graph);

}  // namespace ag::detail
