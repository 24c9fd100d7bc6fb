#pragma once
// Local derivatives of recorded ops, read off their own backward rules (explain.cpp), for
// ag::explain, ag::backward_trace and the edge labels of graph pictures.
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "node.hpp"

namespace ag::detail {

// A Value, or a tensor with one element: a node whose derivatives are plain numbers.
bool is_scalar_like(Node& n);

// d node / d input for each distinct input of `n` (x * x is one input, derivative 2x), in
// slot order. The rule itself is run with the node's gradient set to 1 and its inputs'
// gradients cleared, then every gradient is put back: works for any op, present or future.
// NaN for an input that does not require grad or has more than one element. Throws
// ag::Error(op_name, ...) if the node's saved values were released.
struct LocalDerivative {
  Node* input;
  double value;
};
std::vector<LocalDerivative> local_derivatives(Node& n, const char* op_name);

// A node's gradient, taken out (the node's is cleared) and put back later.
struct SavedGrad {
  Node* node = nullptr;
  double scalar = 0.0;
  std::shared_ptr<Storage> tensor;
};
SavedGrad take_grad(Node& n);
void put_grad(SavedGrad& s);
// Puts every taken gradient back (last taken first), whatever happens in between.
struct GradRestorer {
  std::vector<SavedGrad> saved;
  GradRestorer() = default;
  GradRestorer(const GradRestorer&) = delete;
  GradRestorer& operator=(const GradRestorer&) = delete;
  ~GradRestorer();
};
// Sets a node's gradient to ones (1 for a Value).
void seed_one(Node& n);
// A scalar-like node's gradient as a number (0 when none arrived).
double grad_number(Node& n);
// Throws ag::Error(op_name, ...) for a tensor node whose saved values backward released.
void refuse_released(Node& n, const char* op_name);

// How pictures and explanations show an op: "+ -2" reads "- 2".
std::string readable_op_label(const GraphNode& n);

}  // namespace ag::detail
