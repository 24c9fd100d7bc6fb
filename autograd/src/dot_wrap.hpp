#pragma once
// DotLayout::Wrapped (dot.cpp): where each DOT node goes when a long chain is cut into rows.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"

namespace ag::detail {

// Each graph node's rank along the chain (its longest path from the first ops), and the row
// of `ranks_per_row` ranks it falls in. `in` is where edges arrive (a scalar record's op
// node), `out` where they leave (its value record); they differ by one where two_ranks[id].
// A leaf sits one rank before its first user, or beside it where that would be the row above.
struct WrapDepths {
  std::vector<std::size_t> in, out;
  std::size_t ranks_per_row = 1;
  bool crosses_row(std::size_t from, std::size_t to) const {
    return from / ranks_per_row != to / ranks_per_row;
  }
};
WrapDepths wrap_depths(const std::vector<GraphNode>& nodes, const std::vector<char>& two_ranks,
                       std::size_t ranks_per_row);

// One `{ rank=same; ... }` line per column: DOT node names and their depths.
std::string wrap_rank_groups(const std::vector<std::pair<std::string, std::size_t>>& placed,
                             std::size_t ranks_per_row);

}  // namespace ag::detail
