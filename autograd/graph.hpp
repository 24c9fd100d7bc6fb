#pragma once
// Read-only view of a graph, for pictures (DOT export) and tools. Built by the same walker
// the backward engine uses, so what you see is what backward runs over.
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"

namespace ag {

// An output to walk from: a Value or a Tensor.
class GraphRoot {
 public:
  GraphRoot(const Value& v) : node_(v.node()) {}   // NOLINT(google-explicit-constructor)
  GraphRoot(const Tensor& t) : node_(t.node()) {}  // NOLINT(google-explicit-constructor)
  detail::Node* node() const { return node_; }

 private:
  detail::Node* node_;
};

struct GraphNode {
  std::size_t id;          // 0, 1, 2, ... in topological order (inputs first)
  std::string_view op;     // "leaf", "+", "matmul", ...
  std::string op_label;    // the op as pictures show it: "* 2", "**3" carry their constant
  std::string label;       // user's label, may be empty
  std::string_view scope;  // ScopeGuard name, may be empty
  bool is_scalar;          // a Value node (else a Tensor node)
  bool is_leaf;
  bool requires_grad;
  std::vector<std::size_t> inputs;  // ids of this node's inputs
  // A handle to the node itself, for data, grad and shape: `value` for scalar nodes,
  // `tensor` for tensor nodes.
  std::optional<Value> value;
  Tensor tensor;
};

// Every node reachable from the roots, inputs before the nodes that use them. Deterministic:
// the same graph always gives the same ids. Iterative: any depth works.
std::vector<GraphNode> collect_graph(std::span<const GraphRoot> roots);
inline std::vector<GraphNode> collect_graph(std::initializer_list<GraphRoot> roots) {
  return collect_graph(std::span<const GraphRoot>(roots.begin(), roots.size()));
}
// Number of nodes reachable from the roots, without building views.
std::size_t graph_size(std::span<const GraphRoot> roots);

}  // namespace ag
