#pragma once
// How a scalar op records its node (private to the library; scalar_ops.cpp's ops use it).
// Every op has two paths:
//  - fast_record, the common case with nothing out of line, so that it needs no stack frame:
//    anomaly mode off, grad mode on, operands present, not expired and wanting a gradient, each
//    on this thread's open tape, kept by it already, or pooled with no tape open, and a free
//    slot at hand. It returns null where any of that fails;
//  - the general path, operand() then record(), for every case: it checks each operand once,
//    names every error, and records a constant where no gradient is wanted.
// Both make the same node (tests/test_value.cpp builds every op through both).
#include <fmt/format.h>

#include <cmath>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/value.hpp"
#include "node.hpp"
#include "tape_arena.hpp"

namespace ag::detail::scalar_record {

// Errors are out of line and take plain values, so that the ops' paths keep their operands in
// registers (no frame to spill them to).
[[noreturn, gnu::cold, gnu::noinline]] inline void refuse_empty(const char* op) {
  throw Error(op, "got an empty Value (moved from, or default-adopted)");
}
// An operand as an op sees it: its node and the tape that holds it (null: the dynamic graph).
// Checked once: empty (moved from), expired (outlived its ag::Tape scope), or on a tape that is
// not this thread's open one is an ag::Error naming the op.
struct Operand {
  Node* node;
  const TapeArena* tape;
  double value() const { return as_scalar(*node).value; }
};
[[gnu::always_inline]] inline Operand operand(const char* op, const Value& v,
                                              const TapeArena* active) {
  Node* n = v.node();
  if (!n) [[unlikely]]
    refuse_empty(op);
  const TapeArena* tape = chunk_of(n)->tape;
  if ((tape && tape != active) || (n->flags & kReleased)) [[unlikely]]
    refuse_tape_operand(op, *n);
  return {n, tape};
}

[[gnu::always_inline]] inline ScalarNode* init_node(ScalarNode* n, const OpInfo& op, double value,
                                                    std::uint8_t flags) {
  n->op = &op;
  n->refs = 1;
  n->flags = flags;
  n->num_inputs = 0;
  n->scope = current_scope();
  n->value = value;
  n->grad = 0.0;
  n->slot[0].input = nullptr;
  n->slot[1].input = nullptr;
  return n;
}
[[gnu::always_inline]] inline ScalarNode* new_node(const OpInfo& op, double value,
                                                   std::uint8_t flags,
                                                   TapeArena* tape = active_tape) {
  return init_node(tape ? tape_allocate(*tape) : allocate_scalar_node(), op, value, flags);
}

// A result that needs no gradient is recorded as a constant leaf, holding no inputs.
inline Value constant(double value) { return Value::adopt(new_node(kLeafOp, value, kLeaf)); }

// Anomaly mode's check of a fresh result from input a (and b, for ops of two Values).
[[gnu::cold, gnu::noinline]] inline void check_anomaly(const OpInfo& op, double value, double a,
                                                       bool binary, double b = 0.0) {
  if (!std::isfinite(value)) {
    throw Error(
        op.name,
        binary ? fmt::format("anomaly in the forward pass: the result is {} (inputs {} and {})",
                             value, a, b)
               : fmt::format("anomaly in the forward pass: the result is {} (input {})", value, a));
  }
}

// A new node holds its input: a pooled node owns a reference; on a tape, an input from
// outside the tape is kept by the arena, and a tape input needs nothing (tape_arena.hpp).
// link_kept is the part for an input that the arena keeps already (or that is on the tape).
[[gnu::always_inline]] inline void link_kept(Node* in, TapeArena* active) {
  if (!active) ++in->refs;
  note_recorded_input(*in);
}
// Operands passed operand()'s check, so a tape input here is on this thread's open tape.
[[gnu::always_inline]] inline void link_input(const Operand& in, TapeArena* active) {
  if (active && !in.tape) add_external(*active, in.node);
  link_kept(in.node, active);
}

// The recorded result of an op on checked operands, or a constant when no gradient is wanted.
// The general path: every case, every error.
[[gnu::always_inline]] inline Value record(const OpInfo& op, double value, const Operand& a,
                                           const Operand& b, TapeArena* active) {
  if (anomaly_mode) [[unlikely]]
    check_anomaly(op, value, a.value(), true, b.value());
  if (!grad_mode || !((a.node->flags | b.node->flags) & kRequiresGrad)) {
    return constant(value);
  }
  ScalarNode* n = new_node(op, value, kRequiresGrad, active);
  n->num_inputs = 2;
  n->slot[0].input = a.node;
  n->slot[1].input = b.node;
  link_input(a, active);
  link_input(b, active);
  return Value::adopt(n);
}

[[gnu::always_inline]] inline Value record(const OpInfo& op, double value, const Operand& a,
                                           double parameter, TapeArena* active) {
  if (anomaly_mode) [[unlikely]]
    check_anomaly(op, value, a.value(), false);
  if (!grad_mode || !(a.node->flags & kRequiresGrad)) return constant(value);
  ScalarNode* n = new_node(op, value, kRequiresGrad, active);
  n->num_inputs = 1;
  n->slot[0].input = a.node;
  n->slot[1].constant = parameter;
  link_input(a, active);
  return Value::adopt(n);
}

// ---- The hot path (the scalar graph's cost: a 10-node graph is ten of these) ----
// Null where the general path must run (see the top), or where `valid` refuses the input's
// value (outside the op's domain: the general path names the error).
[[gnu::always_inline]] inline bool links_inline(const Node* in, const TapeArena* active) {
  const TapeArena* tape = chunk_of(in)->tape;
  if (tape == active) return true;             // on the open tape, or both null
  return !tape && recently_kept(*active, in);  // from outside the open tape
}
template <bool TwoValues, class Valid, class Compute>
[[gnu::always_inline]] inline ScalarNode* fast_record(const OpInfo& op, Node* x, Node* y,
                                                      double parameter, Valid valid,
                                                      Compute compute) {
  TapeArena* const active = active_tape;
  if (anomaly_mode || !grad_mode || !x || (TwoValues && !y)) return nullptr;
  const std::uint8_t flags = TwoValues ? x->flags | y->flags : x->flags;
  if ((flags & (kReleased | kRequiresGrad)) != kRequiresGrad) {
    return nullptr;
  }
  if (!links_inline(x, active) || (TwoValues && !links_inline(y, active))) return nullptr;
  const double xv = as_scalar(*x).value;
  const double yv = TwoValues ? as_scalar(*y).value : parameter;
  if (!valid(xv)) return nullptr;
  ScalarNode* n = active ? try_tape_allocate(*active) : try_allocate_scalar_node();
  if (!n) return nullptr;
  init_node(n, op, compute(xv, yv), kRequiresGrad);
  n->num_inputs = TwoValues ? 2 : 1;
  n->slot[0].input = x;
  link_kept(x, active);
  if constexpr (TwoValues) {
    n->slot[1].input = y;
    link_kept(y, active);
  } else {
    n->slot[1].constant = parameter;
  }
  return n;
}
constexpr auto kAnyInput = [](double) { return true; };

}  // namespace ag::detail::scalar_record
