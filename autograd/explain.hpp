#pragma once
// Why a gradient is what it is: the chain rule of a recorded graph, with its numbers.
//
//   ag::Value w = 0.5, x = 2.0;
//   ag::Value f = relu(w * x - 0.3) * w;
//   f.backward();
//   std::cout << ag::explain(f, w).text();         // every path from w to f, factor by factor
//   std::cout << ag::backward_trace(f).text();     // each adjoint as a sum over its users
//
// explain() works on scalar graphs (ag::Value and one-element tensors); backward_trace() on
// any graph (tensor nodes report gradient statistics). Neither changes a gradient: they replay
// the backward rules on saved copies and put every node's gradient back as it was.
#include <cstddef>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "autograd/shape.hpp"

namespace ag {

// One factor of a path: the edge from `input` into `node`.
struct ExplainFactor {
  std::string node;      // the user: its label, or "op#id" (id as in collect_graph and pictures)
  std::string op;        // the user's op as pictures show it: "relu", "* 2", "- 0.3"
  double node_value;     // the user's value
  double input_value;    // the input's value
  double local;          // d node / d input: what its backward rule multiplied by
  std::string why_zero;  // when local == 0, why: "relu' = 0: input -0.688"
};

struct ExplainPath {
  std::vector<std::string> nodes;      // wrt first, the output last
  std::vector<std::size_t> ids;        // the same nodes' collect_graph ids
  std::vector<ExplainFactor> factors;  // factors[i]: edge nodes[i] -> nodes[i + 1]
  double product;                      // the product of the factors' `local`
  std::string zero_factor;             // product == 0: the first factor that made it 0
};

// The linear-size view: each node between wrt and the output, its adjoint and its terms.
struct AdjointTerm {
  std::string user;     // the user the term comes from
  std::size_t user_id;  // its collect_graph id
  double user_adjoint;  // d output / d user
  double local;         // d user / d node (NaN where it is not a number: a tensor edge)
};

struct TraceStep {
  std::size_t id;                  // collect_graph id
  std::string name;                // label, or "op#id"
  std::string op;                  // op as pictures show it ("leaf" for leaves)
  bool is_scalar;                  // a Value or a one-element tensor (its numbers are printed)
  double value;                    // scalar nodes: the value
  double adjoint;                  // scalar nodes: d output / d node
  std::vector<AdjointTerm> terms;  // one per user, in the order backward adds them
  // Tensor nodes with more than one element: the gradient's statistics.
  Shape shape;
  bool has_grad = false;  // some gradient reached it
  double grad_norm = 0, grad_max_abs = 0, zero_fraction = 0;
};

struct BackwardTrace {
  std::string output;
  std::vector<TraceStep> steps;  // in the order backward visits them: the output first
  // Text a learner reads: one line per node, "d f/d h1 = d f/d out * w5 = 1 * 1 = 1".
  std::string text(int precision = 6) const;
};

struct ExplainOptions {
  // More paths than this and explain() switches to the linear view (Explanation::adjoints).
  std::size_t max_paths = 64;
};

struct Explanation {
  std::string output, wrt;
  double wrt_value = 0;
  // What one backward() from `output` adds into wrt's gradient: the engine's own number,
  // bit for bit (the backward rules are replayed in the engine's order).
  double total = 0;
  // The sum of the path products (equal to `total` up to rounding: products and sums are
  // grouped differently). NaN in the linear view.
  double path_sum = 0;
  double path_count = 0;     // number of paths (a double: it grows exponentially)
  bool reachable = false;    // false: no path from wrt to output, total 0
  bool linear_view = false;  // path_count > max_paths: `paths` empty, `adjoints` filled
  std::vector<ExplainPath> paths;
  std::vector<TraceStep> adjoints;  // linear view: nodes between wrt and output, backward order
  std::string text(int precision = 6) const;
};

// Every path from `wrt` to `output` and its chain-rule product. Throws ag::Error for an empty
// handle, a non-scalar output, a path through a tensor with more than one element, or a graph
// whose saved values a backward() without retain_graph has released.
Explanation explain(const GraphRoot& output, const GraphRoot& wrt,
                    const ExplainOptions& options = {});

// Every node that backward() from `output` visits, in its order, with its adjoint written as
// the sum over its users. Linear in the graph's size.
BackwardTrace backward_trace(const GraphRoot& output);

}  // namespace ag
