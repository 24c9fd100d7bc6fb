// DotLayout::Wrapped: rows of ranks. Within a row the chain runs left to right; every node of
// one column shares a rank, so the rows line up, and Graphviz's crossing minimisation keeps
// them in the chain's order. Edges from one row to the next do not constrain ranks (dot.cpp).
#include "dot_wrap.hpp"

#include <algorithm>

namespace ag::detail {

WrapDepths wrap_depths(const std::vector<GraphNode>& nodes, const std::vector<char>& two_ranks,
                       std::size_t ranks_per_row) {
  WrapDepths d{std::vector<std::size_t>(nodes.size(), 0), std::vector<std::size_t>(nodes.size(), 0),
               ranks_per_row};
  for (const GraphNode& n : nodes) {  // inputs come first: one pass
    if (n.is_leaf) continue;
    std::size_t depth = 1;  // rank 0 is for the leaves in front of the first ops
    for (const std::size_t in : n.inputs) {
      if (!nodes[in].is_leaf) depth = std::max(depth, d.out[in] + 1);
    }
    d.in[n.id] = depth;
    d.out[n.id] = two_ranks[n.id] ? depth + 1 : depth;
  }
  constexpr std::size_t kUnused = static_cast<std::size_t>(-1);
  std::vector<std::size_t> first_user(nodes.size(), kUnused);
  for (const GraphNode& n : nodes) {
    for (const std::size_t in : n.inputs) first_user[in] = std::min(first_user[in], d.in[n.id]);
  }
  for (const GraphNode& n : nodes) {
    if (!n.is_leaf || first_user[n.id] == kUnused) continue;
    const std::size_t user = first_user[n.id];
    d.in[n.id] = d.out[n.id] = user == 0 || d.crosses_row(user - 1, user) ? user : user - 1;
  }
  return d;
}

std::string wrap_rank_groups(const std::vector<std::pair<std::string, std::size_t>>& placed,
                             std::size_t ranks_per_row) {
  std::vector<std::vector<const std::string*>> columns(ranks_per_row);
  for (const auto& [name, depth] : placed) columns[depth % ranks_per_row].push_back(&name);
  std::string out;
  for (const auto& column : columns) {
    if (column.size() < 2) continue;
    out += "  { rank=same;";
    for (const std::string* name : column) out += " " + *name + ";";
    out += " }\n";
  }
  return out;
}

}  // namespace ag::detail
