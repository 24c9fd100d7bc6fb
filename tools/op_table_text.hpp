#pragma once
// The op registry as text (tests/data/op_table.txt): what tools/make_torch_refs.py reads to
// know which ops need a PyTorch reference, and at which operand shapes and parameters.
//
//   op NAME KIND ARITY VALUES NUM_PARAMS PARAM LO HI KINK1 KINK2 KINK_AT_TIES SHAPES
//
// KIND: unary, binary or other; VALUES: 1 when the op has a Value form; PARAM: the parameter
// the references use (the middle of the sampler's range); KINK1/2: points inputs keep away
// from ("nan": none); SHAPES: for "other" ops, operand
// shape lists separated by '|', operands by ';', dims by ',' ("-" for none; "" for 0-d).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <autograd/op_registry.hpp>
#include <string>

namespace ag::tools {

inline std::string op_table_text() {
  std::string out =
      "# The op registry (ag::op_registry), written by the ag_op_table tool; do not edit.\n"
      "# Format: see tools/op_table_text.hpp.\n";
  for (const OpEntry& e : op_registry()) {
    const char* kind = e.kind == OpKind::ElementwiseUnary    ? "unary"
                       : e.kind == OpKind::ElementwiseBinary ? "binary"
                                                             : "other";
    std::string shapes;
    for (std::size_t c = 0; c < e.example_shapes.size(); ++c) {
      if (c) shapes += "|";
      for (std::size_t k = 0; k < e.example_shapes[c].size(); ++k)
        shapes += fmt::format("{}{}", k ? ";" : "", fmt::join(e.example_shapes[c][k], ","));
    }
    out += fmt::format("op {} {} {} {} {} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g} {} {}\n", e.name,
                       kind, e.arity, e.on_values ? 1 : 0, e.num_params,
                       0.5 * (e.param_lo + e.param_hi), e.domain.lo, e.domain.hi, e.domain.kinks[0],
                       e.domain.kinks[1], e.domain.kink_at_ties ? 1 : 0,
                       shapes.empty() ? "-" : shapes);
  }
  return out;
}

}  // namespace ag::tools
