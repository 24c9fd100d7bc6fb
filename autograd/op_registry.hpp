#pragma once
// A read-only list of the library's differentiable ops, for tests and tools: for each op its
// name (as in errors and pictures), kind, arity, parameters, the region where it is smooth
// (where finite differences are a valid oracle) and callables on Values and on Tensors.
//
//   for (const ag::OpEntry& op : ag::op_registry())
//     if (op.on_tensors) std::cout << op.name << " takes " << op.arity << " tensors\n";
//
// The elementwise entries come straight from the op table (autograd/src/op_table.hpp), so an
// op added there is listed here, checked by the tests and offered by the tools with no
// further edit.
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "autograd/shape.hpp"

namespace ag {

class Tensor;
class Value;

// Where an op's inputs may be drawn for finite-difference checks.
struct OpDomain {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  double lo = -2.0, hi = 2.0;                 // inputs in [lo, hi]
  std::array<double, 2> kinks{kNone, kNone};  // points to keep inputs away from (relu's 0)
  bool kink_at_ties = false;  // keep the operands of a binary op apart (minimum, maximum)
  bool near_kink(double x, double margin) const {
    return std::abs(x - kinks[0]) < margin || std::abs(x - kinks[1]) < margin;
  }
};

enum class OpKind {
  ElementwiseUnary,   // y = f(x, params...), same shape
  ElementwiseBinary,  // y = f(a, b), NumPy broadcasting
  Other,              // reductions, shape and index ops: checked at `example_shapes`
};

struct OpEntry {
  std::string_view name;
  OpKind kind = OpKind::Other;
  int arity = 1;       // tensor (or Value) operands
  int num_params = 0;  // double parameters after the operands (leaky_relu's slope)
  double param_lo = 0.0, param_hi = 0.0;  // parameters are drawn from [param_lo, param_hi]
  OpDomain domain;
  // Operand shapes to check an OpKind::Other op at (elementwise ops: every broadcast case).
  std::vector<std::vector<Shape>> example_shapes;
  // Null where the op has no Value form.
  std::function<Value(std::span<const Value>, std::span<const double>)> on_values;
  std::function<Tensor(std::span<const Tensor>, std::span<const double>)> on_tensors;
};

// Every registered op, in a fixed order.
const std::vector<OpEntry>& op_registry();
// The entry named `name`, or null.
const OpEntry* find_op(std::string_view name);

}  // namespace ag
