// ag::explain and ag::backward_trace: the chain rule of a recorded graph, with its numbers.
//
// Nothing here knows any op's derivative. Local derivatives are read off each op's own
// backward rule (seed the node's gradient with 1, clear its inputs', run the rule, read), and
// adjoints come from replaying the rules in the engine's order on cleared gradients, so the
// numbers are the engine's own, bit for bit. Every gradient is put back afterwards.
#include "autograd/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "explain_number.hpp"
#include "local_derivative.hpp"
#include "tensor_impl.hpp"

namespace ag {

namespace {

using detail::Node;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The graph as explain and trace see it: collect_graph's nodes (ids as in pictures), which
// of them backward visits, their users, local derivatives and replayed adjoints.
struct Analysis {
  std::vector<GraphNode> nodes;
  std::vector<Node*> node_ptr;
  std::vector<std::string> names;
  std::unordered_map<const Node*, std::size_t> id_of;
  std::vector<std::size_t> visited;  // ids backward visits, inputs first (the engine's order)
  std::vector<std::vector<std::size_t>> distinct_inputs;  // ids, requires-grad inputs only
  std::vector<std::vector<double>> locals;                // aligned with distinct_inputs
  std::vector<std::vector<std::size_t>> users;            // in the order backward adds them
  std::vector<double> adjoint;                            // scalar-like nodes
  std::vector<TraceStep> tensor_stats;                    // indexed by id, tensor nodes only
  std::size_t root = 0;
};

Node* node_of(const GraphNode& g) { return g.is_scalar ? g.value->node() : g.tensor.node(); }

bool scalar_like(const Analysis& a, std::size_t id) {
  return detail::is_scalar_like(*a.node_ptr[id]);
}

// A short name a learner can read: the label, else the node written as a formula of its
// inputs' names ("x1*w2 + b2"), else (too long) the op and its id ("relu#25").
// `precedence` of each named node: 1 sums, 2 products, 3 powers, 4 atoms (names, calls).
std::string name_of(const GraphNode& g, const std::vector<std::string>& names,
                    std::vector<int>& precedence) {
  constexpr std::size_t kMaxName = 48;
  precedence[g.id] = 4;
  if (!g.label.empty()) return g.label;
  if (g.is_leaf) {
    if (g.is_scalar && !g.requires_grad) return fmt::format("{:.6g}", g.value->data());
    return fmt::format("{}#{}", g.requires_grad ? "leaf" : "const", g.id);
  }
  // Input k, in parentheses if it binds looser than `need`.
  auto operand = [&](std::size_t k, int need) {
    const std::size_t in = g.inputs.at(k);
    return precedence[in] < need ? "(" + names[in] + ")" : names[in];
  };
  const std::string_view op = g.op;
  std::string label = detail::readable_op_label(g);
  std::string text;
  int level = 4;
  const bool scalar = g.is_scalar;
  if (scalar && g.inputs.size() == 2 && (op == "+" || op == "-")) {
    text = fmt::format("{} {} {}", operand(0, 1), op, operand(1, op == "-" ? 2 : 1));
    level = 1;
  } else if (scalar && g.inputs.size() == 2 && (op == "*" || op == "/")) {
    text = fmt::format("{}{}{}", operand(0, 2), op, operand(1, op == "/" ? 3 : 2));
    level = 2;
  } else if (scalar && g.inputs.size() == 2 && op == "pow") {
    text = fmt::format("{}^{}", operand(0, 4), operand(1, 4));
    level = 3;
  } else if (g.inputs.size() == 1 && op == "pow" && label.rfind("**", 0) == 0) {
    text = fmt::format("{}^{}", operand(0, 4), label.substr(2));  // a Value's or a tensor's
    level = 3;
  } else if (g.inputs.size() == 1 && label.size() > op.size() + 2 && label.starts_with(op) &&
             label[op.size()] == '(') {  // "leaky_relu(0.1)": the constant after the input
    text = fmt::format("{}({}, {}", op, names[g.inputs[0]], label.substr(op.size() + 1));
  } else if (scalar && g.inputs.size() == 1 && op == "neg") {
    text = fmt::format("-{}", operand(0, 3));  // not "-" + ...: GCC 12 warns (-Wrestrict) falsely
    level = 3;
  } else if (scalar && g.inputs.size() == 1 && label != op) {
    // An op with a constant, as pictures label it: "* 2", "- 0.3", "**3", "2 -", "1 /".
    const std::string constant_left = label.substr(0, label.find(' '));
    if (label.back() == '-') {
      text = fmt::format("{} - {}", constant_left, operand(0, 2));
      level = 1;
    } else if (label.back() == '/') {
      text = fmt::format("{}/{}", constant_left, operand(0, 3));
      level = 2;
    } else if (label.front() == '+' || label.front() == '-') {
      text = fmt::format("{} {}", operand(0, 1), label);
      level = 1;
    } else {  // "* 2", "/ 2"
      const std::string constant = label.substr(2);
      text = fmt::format("{}{}{}", operand(0, 2), label.front(),
                         constant.front() == '-' ? "(" + constant + ")" : constant);
      level = 2;
    }
  } else {
    std::string args;
    for (const std::size_t in : g.inputs) args += (args.empty() ? "" : ", ") + names[in];
    text = fmt::format("{}({})", op, args);
  }
  if (text.size() > kMaxName) return fmt::format("{}#{}", op, g.id);
  precedence[g.id] = level;
  return text;
}

Analysis analyse(const GraphRoot& output, const char* op) {
  if (output.node() == nullptr) throw Error(op, "the output is an empty Value or undefined Tensor");
  Node* root = output.node();
  if (!(root->flags & detail::kRequiresGrad)) {
    throw Error(op, "the output does not require grad: nothing flows back from it");
  }
  if (!detail::is_scalar_like(*root)) {
    throw Error(op, fmt::format("the output has shape {}: backward from it needs a one-element "
                                "output (reduce it first, e.g. with sum())",
                                to_string(detail::as_tensor(*root).shape)));
  }
  Analysis a;
  const GraphRoot roots[] = {output};
  a.nodes = collect_graph(roots);
  const std::size_t n = a.nodes.size();
  a.node_ptr.resize(n);
  a.names.resize(n);
  a.distinct_inputs.resize(n);
  a.locals.resize(n);
  a.users.resize(n);
  a.adjoint.assign(n, 0.0);
  a.id_of.reserve(n);
  std::vector<int> precedence(n, 4);
  for (const GraphNode& g : a.nodes) {
    a.node_ptr[g.id] = node_of(g);
    a.id_of[a.node_ptr[g.id]] = g.id;
    a.names[g.id] = name_of(g, a.names, precedence);
    if (g.requires_grad) a.visited.push_back(g.id);
  }
  a.root = a.id_of.at(root);
  for (const std::size_t id : a.visited) detail::refuse_released(*a.node_ptr[id], op);

  // Local derivatives and users.
  for (const std::size_t id : a.visited) {
    for (const auto& d : detail::local_derivatives(*a.node_ptr[id], op)) {
      if (!(d.input->flags & detail::kRequiresGrad)) continue;
      const std::size_t in = a.id_of.at(d.input);
      a.distinct_inputs[id].push_back(in);
      a.locals[id].push_back(d.value);
    }
  }
  for (auto it = a.visited.rbegin(); it != a.visited.rend(); ++it) {
    for (const std::size_t in : a.distinct_inputs[*it]) a.users[in].push_back(*it);
  }

  // Replay of backward on cleared gradients: the engine's numbers, then everything put back.
  {
    NoGradGuard no_grad;
    AnomalyModeGuard unchecked(false);
    detail::GradRestorer restore;
    restore.saved.reserve(n);
    for (Node* p : a.node_ptr) restore.saved.push_back(detail::take_grad(*p));
    detail::seed_one(*root);
    a.tensor_stats.resize(n);
    for (auto it = a.visited.rbegin(); it != a.visited.rend(); ++it) {
      Node& node = *a.node_ptr[*it];
      if (detail::is_scalar_like(node)) {
        a.adjoint[*it] = detail::grad_number(node);
      } else {
        TraceStep& s = a.tensor_stats[*it];
        detail::TensorNode& t = detail::as_tensor(node);
        s.shape = t.shape;
        s.has_grad = t.grad != nullptr;
        if (t.grad) {
          const std::vector<double> g = detail::alias(t.grad, t.shape, t.dtype).to_vector();
          double sq = 0, mx = 0;
          std::size_t zeros = 0;
          for (const double v : g) {
            sq += v * v;
            mx = std::max(mx, std::abs(v));
            zeros += v == 0.0;
          }
          s.grad_norm = std::sqrt(sq);
          s.grad_max_abs = mx;
          s.zero_fraction = g.empty() ? 0.0 : static_cast<double>(zeros) / g.size();
        }
      }
      if (!(node.flags & detail::kLeaf)) node.op->backward(node);
    }
  }
  return a;
}

double local_of(const Analysis& a, std::size_t user, std::size_t input) {
  const auto& ins = a.distinct_inputs[user];
  const auto it = std::find(ins.begin(), ins.end(), input);
  return it == ins.end() ? kNaN : a.locals[user][static_cast<std::size_t>(it - ins.begin())];
}

TraceStep step_of(const Analysis& a, std::size_t id) {
  const GraphNode& g = a.nodes[id];
  TraceStep s = scalar_like(a, id) ? TraceStep{} : a.tensor_stats[id];
  s.id = id;
  s.name = a.names[id];
  s.op = g.is_leaf ? "leaf" : detail::readable_op_label(g);
  s.is_scalar = scalar_like(a, id);
  if (s.is_scalar) {
    s.value = g.is_scalar ? g.value->data() : g.tensor.item();
    s.adjoint = a.adjoint[id];
  } else {
    s.value = kNaN;
    s.adjoint = kNaN;
  }
  for (const std::size_t u : a.users[id]) {
    s.terms.push_back({a.names[u], u, scalar_like(a, u) ? a.adjoint[u] : kNaN, local_of(a, u, id)});
  }
  return s;
}

double value_of_node(const Analysis& a, std::size_t id) {
  const GraphNode& g = a.nodes[id];
  return g.is_scalar ? g.value->data() : g.tensor.item();
}

std::string why_zero(const Analysis& a, std::size_t user, std::size_t input) {
  const GraphNode& g = a.nodes[user];
  const std::string op = detail::readable_op_label(g);
  if (a.distinct_inputs[user].size() == 1) {
    return fmt::format("{}' = 0: input {}", op, detail::explain_number(value_of_node(a, input), 3));
  }
  if (g.op == "*" && g.inputs.size() == 2) {
    const std::size_t other = g.inputs[0] == input ? g.inputs[1] : g.inputs[0];
    return fmt::format("*' = 0: the other factor {} = 0", a.names[other]);
  }
  std::string values;
  for (const std::size_t in : g.inputs) {
    values += fmt::format("{}{} = {}", values.empty() ? "" : ", ", a.names[in],
                          detail::explain_number(value_of_node(a, in), 3));
  }
  return fmt::format("d({})/d {} = 0: {}", op, a.names[input], values);
}

}  // namespace

BackwardTrace backward_trace(const GraphRoot& output) {
  const Analysis a = analyse(output, "backward_trace");
  BackwardTrace t;
  t.output = a.names[a.root];
  t.steps.reserve(a.visited.size());
  for (auto it = a.visited.rbegin(); it != a.visited.rend(); ++it)
    t.steps.push_back(step_of(a, *it));
  return t;
}

Explanation explain(const GraphRoot& output, const GraphRoot& wrt, const ExplainOptions& options) {
  if (wrt.node() == nullptr) throw Error("explain", "wrt is an empty Value or undefined Tensor");
  const Analysis a = analyse(output, "explain");
  Explanation e;
  e.output = a.names[a.root];
  const auto found = a.id_of.find(wrt.node());
  if (found == a.id_of.end() || !(wrt.node()->flags & detail::kRequiresGrad)) {
    const std::string label = detail::label_of(*wrt.node());
    e.wrt = label.empty() ? "wrt" : label;
    e.path_sum = 0;
    return e;  // no path: the total is 0
  }
  const std::size_t w = found->second;
  e.wrt = a.names[w];
  e.reachable = true;
  if (!scalar_like(a, w)) {
    throw Error("explain",
                fmt::format("wrt '{}' has shape {}: explain follows scalar graphs (Values and "
                            "one-element tensors); backward_trace reports tensor gradients",
                            e.wrt, to_string(a.nodes[w].tensor.shape())));
  }
  e.wrt_value = value_of_node(a, w);
  e.total = a.adjoint[w];

  // Nodes on a path: reached from wrt (every visited node reaches the output). Counts of
  // paths from wrt, as doubles: they can exceed any integer type.
  const std::size_t n = a.nodes.size();
  std::vector<char> on_path(n, 0);
  std::vector<double> count(n, 0.0);
  on_path[w] = 1;
  count[w] = 1.0;
  for (const std::size_t id : a.visited) {
    if (id == w) continue;
    for (const std::size_t in : a.distinct_inputs[id]) {
      if (!on_path[in]) continue;
      on_path[id] = 1;
      count[id] += count[in];
    }
    if (on_path[id] && !scalar_like(a, id)) {
      throw Error("explain",
                  fmt::format("a path from '{}' to '{}' passes through '{}', a tensor "
                              "of shape {}: explain follows scalar graphs; "
                              "backward_trace reports tensor gradients",
                              e.wrt, e.output, a.names[id], to_string(a.nodes[id].tensor.shape())));
    }
  }
  e.path_count = count[a.root];
  if (e.path_count > static_cast<double>(options.max_paths)) {
    e.linear_view = true;
    e.path_sum = kNaN;
    for (auto it = a.visited.rbegin(); it != a.visited.rend(); ++it) {
      if (on_path[*it]) e.adjoints.push_back(step_of(a, *it));
    }
    return e;
  }

  // Depth-first from the output back to wrt with an explicit stack: each time wrt is reached,
  // the stack (reversed) is a path.
  struct Frame {
    std::size_t id, next;
  };
  std::vector<Frame> stack{{a.root, 0}};
  e.path_sum = 0;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.id == w) {
      ExplainPath p;
      p.product = 1.0;
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        p.nodes.push_back(a.names[it->id]);
        p.ids.push_back(it->id);
      }
      for (std::size_t i = 0; i + 1 < p.ids.size(); ++i) {
        const std::size_t input = p.ids[i], user = p.ids[i + 1];
        ExplainFactor f{a.names[user],
                        detail::readable_op_label(a.nodes[user]),
                        value_of_node(a, user),
                        value_of_node(a, input),
                        local_of(a, user, input),
                        ""};
        if (f.local == 0.0) {
          f.why_zero = why_zero(a, user, input);
          if (p.zero_factor.empty()) p.zero_factor = f.why_zero;
        }
        p.product *= f.local;
        p.factors.push_back(std::move(f));
      }
      e.path_sum += p.product;
      e.paths.push_back(std::move(p));
      stack.pop_back();
      continue;
    }
    const auto& ins = a.distinct_inputs[top.id];
    if (top.next < ins.size()) {
      const std::size_t in = ins[top.next++];
      if (on_path[in]) stack.push_back({in, 0});
    } else {
      stack.pop_back();
    }
  }
  return e;
}

}  // namespace ag
