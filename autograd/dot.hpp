#pragma once
// Graphviz DOT export of a graph, from its output(s).
//
//   ag::Value loss = ...;
//   loss.backward();
//   std::string dot = ag::to_dot({loss});             // micrograd-style scalar view
//   ag::write_dot("loss.dot", {loss});
//   ag::render_graph({loss}, "loss.png");             // autograd/render.hpp
//
// Output is deterministic: node names come from ag::GraphNode::id (topological order), never
// from addresses, so the same graph gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>

#include "autograd/graph.hpp"

namespace ag {

enum class DotView : std::uint8_t {
  Auto,    // Scalar when every node is an ag::Value, else Tensor
  Scalar,  // micrograd: records `label | data | grad` and separate op nodes, left to right
  Tensor,  // torchviz: one box per op or tensor with label, shape, dtype; top to bottom
};

enum class DotLayout : std::uint8_t {
  Auto,         // top to bottom: fits a screen for the graphs a learner draws
  TopToBottom,  // inputs at the top, the output at the bottom
  LeftToRight,  // inputs on the left (wide for long chains)
  // Left to right in rows of DotOptions::wrap_ranks ranks, the rows stacked top to bottom
  // like lines of text: a long chain fits a screen instead of running off it.
  Wrapped,
};

struct DotOptions {
  DotView view = DotView::Auto;
  DotLayout layout = DotLayout::Auto;
  // DotLayout::Wrapped: ranks (columns of nodes) per row. In the scalar view an op and its
  // value record are two ranks (an odd count is rounded up); 8 keep a row of 4 scalar ops
  // under 1600 pixels wide.
  std::size_t wrap_ranks = 8;
  // Label each edge with its local derivative d(user)/d(input), the number backward
  // multiplies by (scalar nodes and one-element tensors; read off the op's own backward rule).
  bool edge_derivatives = false;
  // Draw every path from this node to the roots in red: the paths ag::explain lists.
  std::optional<GraphRoot> highlight_from;
  // Graphs with more nodes than this draw each ag::ScopeGuard scope (e.g. a module) as one
  // summary node; nodes outside any scope stay as they are.
  std::size_t collapse_above = 300;
  // Graphs with more reachable nodes than this are refused with an ag::Error (a DOT file that
  // Graphviz cannot lay out helps nobody). Raise it to export anyway.
  std::size_t max_nodes = 100'000;
  // render_graph (render.hpp) refuses graphs with more nodes than this: Graphviz's layout
  // takes seconds from about here on. write_dot still exports them.
  std::size_t max_render_nodes = 2'000;
  // Tensor view: tensors with at most this many elements print their values and gradients.
  std::int64_t max_elements_shown = 8;
  // Significant digits of printed numbers.
  int precision = 4;
};

// The DOT text of everything reachable from `roots`.
std::string to_dot(std::span<const GraphRoot> roots, const DotOptions& options = {});
inline std::string to_dot(std::initializer_list<GraphRoot> roots, const DotOptions& options = {}) {
  return to_dot(std::span<const GraphRoot>(roots.begin(), roots.size()), options);
}

// Writes to_dot(roots, options) to `path` whole or not at all (temporary file, then rename).
void write_dot(const std::filesystem::path& path, std::span<const GraphRoot> roots,
               const DotOptions& options = {});
inline void write_dot(const std::filesystem::path& path, std::initializer_list<GraphRoot> roots,
                      const DotOptions& options = {}) {
  write_dot(path, std::span<const GraphRoot>(roots.begin(), roots.size()), options);
}

}  // namespace ag
