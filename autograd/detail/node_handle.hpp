#pragma once
// The reference-counted pointer to a graph node that ag::Value and ag::Tensor both are: copies
// retain, moves steal, destruction releases. One home for that code; a handle stays one
// pointer. `Handle` (the deriving class) only keeps Value and Tensor distinct base types, so
// neither converts to the other's base.
#include "autograd/detail/node_ref.hpp"

namespace ag::detail {

template <class Handle>
class NodeHandle {
 public:
  NodeHandle(const NodeHandle& other) noexcept : node_(other.node_) { retain(node_); }
  NodeHandle(NodeHandle&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  // Retain before release: self-assignment is safe.
  NodeHandle& operator=(const NodeHandle& other) noexcept {
    retain(other.node_);
    release(node_);
    node_ = other.node_;
    return *this;
  }
  NodeHandle& operator=(NodeHandle&& other) noexcept {
    if (this != &other) {
      release(node_);
      node_ = other.node_;
      other.node_ = nullptr;
    }
    return *this;
  }
  ~NodeHandle() { release(node_); }

  Node* node() const noexcept { return node_; }

 protected:
  NodeHandle() noexcept = default;
  // Takes over a reference the caller owns.
  explicit NodeHandle(Node* adopted) noexcept : node_(adopted) {}

  Node* node_ = nullptr;
};

}  // namespace ag::detail
