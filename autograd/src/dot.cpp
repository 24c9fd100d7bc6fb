// DOT export on top of ag::collect_graph (the one graph walker): this file only formats.
#include "autograd/dot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/error.hpp"
#include "autograd/write_file.hpp"
#include "dot_wrap.hpp"
#include "local_derivative.hpp"

namespace ag {

namespace {

std::string number(double v, int precision) {
  if (v == 0.0) v = 0.0;  // no "-0"
  return fmt::format("{:.{}g}", v, precision);
}

// Text inside a DOT double-quoted string: quotes and backslashes escaped, control bytes dropped.
void append_quoted_text(std::string& out, std::string_view text, bool record) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += ' ';
    } else if (c == '"' || c == '\\' ||
               (record && (c == '{' || c == '}' || c == '|' || c == '<' || c == '>'))) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
}

std::string dot_string(std::string_view text) {
  std::string out = "\"";
  append_quoted_text(out, text, false);
  out += '"';
  return out;
}

// Lines of a box label, joined with DOT's centred line break.
std::string dot_lines(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    append_quoted_text(out, lines[i], false);
  }
  out += '"';
  return out;
}

// "[[1, 2], [3, 4]]" for a row-major array of `shape`.
std::string nested_list(const std::vector<double>& values, const Shape& shape, int precision) {
  if (shape.empty()) return values.empty() ? "[]" : number(values[0], precision);
  // blocks[d]: elements spanned by one sub-array at depth d; a bracket opens at its start.
  std::vector<std::int64_t> blocks(shape.size(), shape.back());
  for (std::size_t d = shape.size() - 1; d > 0; --d) blocks[d - 1] = blocks[d] * shape[d - 1];
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    for (const std::int64_t s : blocks) {
      if (static_cast<std::int64_t>(i) % s == 0) out += '[';
    }
    out += number(values[i], precision);
    for (const std::int64_t s : blocks) {
      if (static_cast<std::int64_t>(i + 1) % s == 0) out += ']';
    }
  }
  if (values.empty()) out = std::string(shape.size(), '[') + std::string(shape.size(), ']');
  return out;
}

const char* const kParameterColor = "lightblue";  // leaves that backward differentiates
const char* const kConstantColor = "white";       // leaves that need no gradient
const char* const kNamedColor = "lemonchiffon";   // labelled intermediates (agexpr's --def)
const char* const kOutputColor = "darkolivegreen1";
const char* const kOpColor = "lightgrey";
const char* const kScopeColor = "lightyellow";
const char* const kHighlightColor = "red";

class DotWriter {
 public:
  DotWriter(std::span<const GraphRoot> roots, const DotOptions& options)
      : options_(options), nodes_(collect_graph(roots)) {
    for (const GraphRoot& r : roots) root_nodes_.insert(r.node());
    scalar_view_ = options.view == DotView::Scalar;
    if (options.view == DotView::Auto) {
      scalar_view_ = true;
      for (const GraphNode& n : nodes_) scalar_view_ = scalar_view_ && n.is_scalar;
    }
    if (nodes_.size() > options.collapse_above) assign_scopes();
    if (options.highlight_from) mark_highlighted(options.highlight_from->node());
    wrapped_ = options.layout == DotLayout::Wrapped;
    if (wrapped_) {
      if (options.wrap_ranks == 0) throw Error("to_dot", "DotOptions::wrap_ranks must be >= 1");
      // Scalar view: ops and records alternate, so an even count starts every row alike.
      const std::size_t ranks =
          options.wrap_ranks + (scalar_view_ && options.wrap_ranks % 2 == 1 ? 1 : 0);
      std::vector<char> two_ranks(nodes_.size());
      for (const GraphNode& n : nodes_) two_ranks[n.id] = scalar_record(n) && !n.is_leaf;
      depths_ = detail::wrap_depths(nodes_, two_ranks, ranks);
    }
  }

  std::string write() {
    out_ += "digraph autograd {\n";
    out_ += left_to_right() ? "  graph [rankdir=LR];\n" : "  graph [rankdir=TB];\n";
    out_ += "  node [fontname=\"Helvetica\", fontsize=11];\n";
    out_ += "  edge [arrowsize=0.7, fontname=\"Helvetica\", fontsize=10];\n";
    if (!left_to_right()) out_ += "  graph [ranksep=0.3, nodesep=0.2];\n";
    if (wrapped_) out_ += "  graph [ranksep=0.3, nodesep=0.1];\n";  // rows close together
    for (const GraphNode& n : nodes_) {
      declare(n);
      edges_into(n);
    }
    if (wrapped_) write_rows();
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  static constexpr std::size_t kNoScope = static_cast<std::size_t>(-1);

  bool left_to_right() const {
    return options_.layout == DotLayout::LeftToRight || options_.layout == DotLayout::Wrapped;
  }

  // Wrapped layout: rows of ranks (dot_wrap.hpp). An edge from one row to the next must not
  // pull the rows into one line: it does not constrain ranks.
  std::string wrap_edge(std::size_t from_id, std::size_t to_id, bool op_to_value) const {
    if (!wrapped_ || collapsed(from_id) || collapsed(to_id)) return "";
    const std::size_t from = op_to_value ? depths_.in[from_id] : depths_.out[from_id];
    const std::size_t to = op_to_value ? depths_.out[to_id] : depths_.in[to_id];
    return depths_.crosses_row(from, to) ? "constraint=false" : "";
  }
  void write_rows() {
    std::vector<std::pair<std::string, std::size_t>> placed;
    for (const GraphNode& n : nodes_) {
      if (collapsed(n.id)) continue;
      if (!scalar_record(n)) {
        placed.emplace_back(port('n', n.id), depths_.in[n.id]);
        continue;
      }
      if (!n.is_leaf) placed.emplace_back(port('o', n.id), depths_.in[n.id]);
      placed.emplace_back(port('v', n.id), depths_.out[n.id]);
    }
    out_ += detail::wrap_rank_groups(placed, depths_.ranks_per_row);
  }

  void assign_scopes() {
    std::unordered_map<std::string_view, std::size_t> index;
    scope_of_.assign(nodes_.size(), kNoScope);
    for (const GraphNode& n : nodes_) {
      if (n.scope.empty()) continue;
      auto [it, added] = index.try_emplace(n.scope, scopes_.size());
      if (added) scopes_.push_back({n.scope, 0, false});
      scope_of_[n.id] = it->second;
      ++scopes_[it->second].members;
    }
  }

  // Nodes on a path from `from` to a root: `from` and every node with such an input.
  void mark_highlighted(const detail::Node* from) {
    highlighted_.assign(nodes_.size(), 0);
    for (const GraphNode& n : nodes_) {
      if (node_of(n) == from) {
        highlighted_[n.id] = 1;
        continue;
      }
      for (const std::size_t in : n.inputs) highlighted_[n.id] |= highlighted_[in];
    }
  }
  bool highlighted(std::size_t id) const { return !highlighted_.empty() && highlighted_[id]; }
  static detail::Node* node_of(const GraphNode& n) {
    return n.is_scalar ? n.value->node() : n.tensor.node();
  }

  // " [label=..., color=...]" of the edge from `input` into `n`, or "".
  std::string edge_attributes(const GraphNode& n, std::size_t input,
                              const std::vector<detail::LocalDerivative>& locals) const {
    std::vector<std::string> attrs;
    if (options_.edge_derivatives) {
      for (const auto& d : locals) {
        if (d.input == node_of(nodes_[input]) && !std::isnan(d.value)) {
          attrs.push_back("label=" + dot_string(number(d.value, options_.precision)));
        }
      }
    }
    if (highlighted(input) && highlighted(n.id)) {
      attrs.push_back(
          fmt::format("color={}, penwidth=2.5, fontcolor={}", kHighlightColor, kHighlightColor));
    }
    if (std::string wrap = wrap_edge(input, n.id, false); !wrap.empty()) attrs.push_back(wrap);
    if (attrs.empty()) return "";
    std::string out = " [";
    for (std::size_t i = 0; i < attrs.size(); ++i) out += (i ? ", " : "") + attrs[i];
    return out + "]";
  }

  // The local derivatives of n's edges, when they are shown (empty where unknown: a tensor
  // node whose saved values backward released).
  std::vector<detail::LocalDerivative> edge_locals(const GraphNode& n) const {
    if (!options_.edge_derivatives || n.is_leaf) return {};
    try {
      return detail::local_derivatives(*node_of(n), "to_dot");
    } catch (const Error&) {
      return {};
    }
  }

  bool collapsed(std::size_t id) const { return !scope_of_.empty() && scope_of_[id] != kNoScope; }
  bool scalar_record(const GraphNode& n) const { return scalar_view_ && n.is_scalar; }
  bool is_root(const GraphNode& n) const {
    return root_nodes_.count(n.is_scalar ? n.value->node() : n.tensor.node()) > 0;
  }
  bool is_parameter(const GraphNode& n) const { return n.is_leaf && n.requires_grad; }

  // DOT node names: v<id> value record, o<id> op, n<id> box, s<index> collapsed scope.
  static std::string port(char kind, std::size_t number) {
    return fmt::format("{}{}", kind, number);
  }

  // Where edges leave a node (its value) and where they arrive (its op).
  std::string output_port(std::size_t id) const {
    if (collapsed(id)) return port('s', scope_of_[id]);
    return port(scalar_record(nodes_[id]) ? 'v' : 'n', id);
  }
  std::string input_port(std::size_t id) const {
    if (collapsed(id)) return port('s', scope_of_[id]);
    const GraphNode& n = nodes_[id];
    if (scalar_record(n)) return port(n.is_leaf ? 'v' : 'o', id);
    return port('n', id);
  }

  // One edge per (input, consumer) pair: x * x draws one arrow.
  void edges_into(const GraphNode& n) {
    const std::string to = input_port(n.id);
    const std::vector<detail::LocalDerivative> locals = edge_locals(n);
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const std::size_t input = n.inputs[k];
      if (std::find(n.inputs.begin(), n.inputs.begin() + k, input) != n.inputs.begin() + k)
        continue;
      const std::string from = output_port(input);
      if (from == to) continue;  // inside one collapsed scope
      std::string line =
          fmt::format("  {} -> {}{};\n", from, to, edge_attributes(n, input, locals));
      // Only edges touching a collapsed scope can repeat across nodes.
      if ((collapsed(input) || collapsed(n.id)) && !emitted_edges_.insert(line).second) continue;
      out_ += line;
    }
  }

  std::string fill(const GraphNode& n, const char* otherwise) const {
    const char* color = is_root(n)                        ? kOutputColor
                        : is_parameter(n)                 ? kParameterColor
                        : n.is_leaf                       ? kConstantColor
                        : !n.label.empty() && n.is_scalar ? kNamedColor
                                                          : otherwise;
    std::string out = color ? fmt::format(", style=filled, fillcolor={}", color) : "";
    if (highlighted(n.id)) out += fmt::format(", color={}, penwidth=2", kHighlightColor);
    return out;
  }

  void declare(const GraphNode& n) {
    if (collapsed(n.id)) {
      Scope& s = scopes_[scope_of_[n.id]];
      if (s.declared) return;
      s.declared = true;
      out_ += fmt::format("  s{} [shape=box3d, style=filled, fillcolor={}, label={}];\n",
                          scope_of_[n.id], kScopeColor,
                          dot_lines({std::string(s.name), fmt::format("{} nodes", s.members)}));
      return;
    }
    if (scalar_record(n)) {
      declare_record(n);
    } else {
      declare_box(n);
    }
  }

  // micrograd: "{ label | data 1.5 | grad 0.5 }" and, for results, a separate op node.
  void declare_record(const GraphNode& n) {
    const Value& v = *n.value;
    // Fields side by side: braces flip a record's direction, and rankdir=LR flips it back.
    std::string label = left_to_right() ? "\"{ " : "\"";
    if (!n.label.empty()) {
      append_quoted_text(label, n.label, true);
      label += " | ";
    }
    label += fmt::format("data {} | grad {}{}\"", number(v.data(), options_.precision),
                         number(v.grad(), options_.precision), left_to_right() ? " }" : "");
    out_ += fmt::format("  v{} [shape=record, label={}{}];\n", n.id, label, fill(n, nullptr));
    if (!n.is_leaf) {
      const std::string mark =
          highlighted(n.id) ? fmt::format(", color={}, penwidth=2", kHighlightColor) : "";
      out_ += fmt::format("  o{} [label={}{}];\n", n.id, dot_string(detail::readable_op_label(n)),
                          mark);
      std::vector<std::string> attrs;
      if (highlighted(n.id))
        attrs.push_back(fmt::format("color={}, penwidth=2.5", kHighlightColor));
      if (std::string wrap = wrap_edge(n.id, n.id, true); !wrap.empty()) attrs.push_back(wrap);
      std::string joined;
      for (const std::string& a : attrs) joined += (joined.empty() ? " [" : ", ") + a;
      out_ += fmt::format("  o{} -> v{}{};\n", n.id, n.id, joined.empty() ? "" : joined + "]");
    }
  }

  // torchviz: op or tensor name, shape and dtype; small tensors also show data and grad.
  void declare_box(const GraphNode& n) {
    std::string title;
    if (n.is_leaf) {
      title = !n.label.empty() ? n.label : n.requires_grad ? "leaf" : "constant";
    } else {
      const std::string op = detail::readable_op_label(n);
      title = n.label.empty() ? op : fmt::format("{} ({})", n.label, op);
    }
    std::vector<std::string> lines{title};
    if (n.is_scalar) {
      lines.push_back("[] float64");
      lines.push_back("data " + number(n.value->data(), options_.precision));
      if (n.requires_grad) lines.push_back("grad " + number(n.value->grad(), options_.precision));
    } else {
      const Tensor& t = n.tensor;
      lines.push_back(fmt::format("{} {}", to_string(t.shape()), name(t.dtype())));
      if (t.numel() <= options_.max_elements_shown) {
        lines.push_back("data " + nested_list(t.to_vector(), t.shape(), options_.precision));
        const Tensor g = t.grad();
        if (g.defined()) {
          lines.push_back("grad " + nested_list(g.to_vector(), g.shape(), options_.precision));
        }
      }
    }
    out_ += fmt::format("  n{} [shape=box, label={}{}];\n", n.id, dot_lines(lines),
                        fill(n, n.is_leaf ? nullptr : kOpColor));
  }

  struct Scope {
    std::string_view name;
    std::size_t members;
    bool declared;
  };

  const DotOptions& options_;
  std::vector<GraphNode> nodes_;
  std::unordered_set<const detail::Node*> root_nodes_;
  bool scalar_view_ = true;
  bool wrapped_ = false;
  detail::WrapDepths depths_;          // DotLayout::Wrapped only
  std::vector<std::size_t> scope_of_;  // empty when nothing collapses
  std::vector<Scope> scopes_;
  std::unordered_set<std::string> emitted_edges_;
  std::vector<char> highlighted_;  // empty when nothing is highlighted
  std::string out_;
};

}  // namespace

std::string to_dot(std::span<const GraphRoot> roots, const DotOptions& options) {
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (roots[i].node() == nullptr) {
      throw Error("to_dot", fmt::format("root {} is an empty Value or undefined Tensor", i));
    }
  }
  const std::size_t size = graph_size(roots);
  if (size > options.max_nodes) {
    throw Error("to_dot",
                fmt::format("the graph has {} nodes, more than DotOptions::max_nodes = {}; raise "
                            "max_nodes to export it anyway (Graphviz lays out a few thousand nodes "
                            "in reasonable time), or pass fewer roots",
                            size, options.max_nodes));
  }
  return DotWriter(roots, options).write();
}

void write_dot(const std::filesystem::path& path, std::span<const GraphRoot> roots,
               const DotOptions& options) {
  write_file_atomically(path, to_dot(roots, options), "write_dot");
}

}  // namespace ag
