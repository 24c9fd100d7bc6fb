#pragma once
// The part of a graph node that handles (ag::Value, ag::Tensor) touch inline: its reference
// count. Everything else about nodes is private to the library (autograd/src/node.hpp).
#include <cstdint>

namespace ag::detail {

struct OpInfo;

// Common header of every graph node, scalar or tensor: 16 bytes.
struct Node {
  const OpInfo* op;         // what produced it: name and backward rule (a leaf's op is "leaf")
  std::uint32_t refs;       // handles and consumer nodes holding it (not atomic: see README)
  std::uint8_t flags;       // NodeFlag bits
  std::uint8_t num_inputs;  // a scalar node's inputs (tensor nodes keep a vector)
  std::uint16_t scope;      // ScopeGuard name id, 0 = none
};

// Frees a node whose count reached zero, and iteratively every input that this orphans.
void destroy(Node* node) noexcept;

inline void retain(Node* node) noexcept {
  if (node) ++node->refs;
}
inline void release(Node* node) noexcept {
  if (node && --node->refs == 0) destroy(node);
}

}  // namespace ag::detail
