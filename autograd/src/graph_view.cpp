// Read-only views of a graph (autograd/graph.hpp), from the same walker backward uses.
#include <fmt/format.h>

#include <unordered_map>

#include "autograd/graph.hpp"
#include "node.hpp"
#include "tape_arena.hpp"
#include "walk.hpp"

namespace ag {

using namespace detail;

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
    g.op_label = std::string(n->op->name);
    if (n->op->with_parameter) {
      const std::string shown =
          is_tensor(*n) ? fmt::format("{}", as_tensor(*n).parameter)  // shortest float text
                        : fmt::format("{}", as_scalar(*n).slot[1].constant);
      g.op_label = fmt::format(fmt::runtime(n->op->with_parameter), shown);
    }
    g.label = label_of(*n);
    g.scope = scope_name(n->scope);
    g.is_scalar = !is_tensor(*n);
    g.is_leaf = n->flags & kLeaf;
    g.requires_grad = n->flags & kRequiresGrad;
    for (std::size_t i = 0, k = input_count(*n); i < k; ++i)
      g.inputs.push_back(ids.at(input_of(*n, i)));
    retain_reached(n);
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
