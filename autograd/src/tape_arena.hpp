#pragma once
// The tape behind ag::Tape (autograd/tape.hpp): one arena per thread, private to the library.
//
// Memory: 2 MiB chunks aligned to their size with the scalar pool's header (chunk_of works on
// both; a chunk's `tape` tells them apart). Nodes are ScalarNodes, so every part of the engine
// (walker, explain, DOT, create_graph) reads tape nodes as it reads pooled ones; they are
// bump-allocated in creation order, which is a topological order.
//
// Ownership: a tape node holds no reference to tape inputs (the arena owns them all, and an
// input is always older, so it lives at least as long). Inputs from outside the tape (leaves
// made before the scope) are retained once in the arena's `externals` list and released when
// the scope ends. A node's `refs` therefore counts handles (Values, tensors, side tables) only;
// when it drops to zero, destroy() calls tape_node_died, which frees nothing and counts a
// death for the node's scope level.
//
// A level (one ag::Tape scope) ends by rewinding the bump pointer to its mark. If the level's
// deaths differ from its node count, a handle may have escaped: the level's nodes are scanned
// and every node still referenced is expired (flags kLeaf | kReleased, op kExpiredTapeOp, no
// inputs), its chunk kept (an expired chunk) until its last such node dies.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "node.hpp"

namespace ag::detail {

constexpr int kMaxTapeDepth = 32;

struct TapeLevel {
  std::uint64_t mark;     // position of the level's first node (see position())
  std::size_t externals;  // externals list size when the level began
  std::int64_t deaths;    // level nodes whose refs dropped to zero (minus revivals)
};

struct TapeArena {
  char* bump;            // the next node, in `current`
  char* end;             // end of `current`'s node space
  ScalarChunk* current;  // null before the first node
  SpareChunks spares;    // empty chunks kept for the next scopes
  int depth;             // live ag::Tape scopes on this thread
  std::uint64_t next_seq;
  // kMaxTapeDepth entries, allocated by the thread's first scope: kept out of static TLS,
  // which is small in a dlopen'd library (the Python module) and shared with its dependencies.
  TapeLevel* levels;
  Node** externals;  // retained nodes from outside the tape, released at their level's end
  std::size_t externals_size;
  std::size_t externals_capacity;
  // The same nodes as an open-addressing set (null: a free slot; capacity a power of two, at
  // most half full), so that each is retained once per scope however many ops use it.
  Node** external_set;
  std::size_t external_set_capacity;
  Node* recent_externals[4];           // some of them, checked inline before the set
  unsigned recent_next;                // the entry of recent_externals to replace next
  std::uint64_t leaf_writes_at_start;  // scalar_leaf_writes when the outermost level began
  bool dynamic_inputs;  // an input from outside is not a leaf: backward walks the graph
  bool side_entries;    // a tape node got a label or a gradient with history
  std::atomic<bool> revived_elsewhere;  // another thread took a handle from the graph
};

// Trivially destructible, so no TLS guard on access; a thread-exit hook (tape.cpp) frees the
// chunks it keeps.
inline constinit thread_local TapeArena tape_arena{};
// &tape_arena while an ag::Tape lives on this thread, else null: what ops test.
inline constinit thread_local TapeArena* active_tape = nullptr;

// set_data calls on any thread (Value::set_data). While it has not moved since the outermost
// scope began, no leaf a tape node recorded was written since: backward needs no leaf checks.
inline std::atomic<std::uint64_t> scalar_leaf_writes{0};

extern const OpInfo kExpiredTapeOp;

inline std::uint64_t position(const void* node) {
  const ScalarChunk* c = chunk_of(node);
  return c->seq * ScalarChunk::kBytes +
         static_cast<std::uint64_t>(static_cast<const char*>(node) -
                                    reinterpret_cast<const char*>(c));
}

ScalarNode* tape_allocate_slow(TapeArena& t);
// The next slot of the current chunk, or null at its end (then the slow path takes a chunk).
[[gnu::always_inline]] inline ScalarNode* try_tape_allocate(TapeArena& t) {
  if (t.bump == t.end) return nullptr;
  auto* n = reinterpret_cast<ScalarNode*>(t.bump);
  t.bump += sizeof(ScalarNode);
  return n;
}
inline ScalarNode* tape_allocate(TapeArena& t) {
  if (ScalarNode* n = try_tape_allocate(t)) return n;
  return tape_allocate_slow(t);
}

void add_external_slow(TapeArena& t, Node* in);
// Whether the arena surely keeps `in` already: one of the externals it saw last.
inline bool recently_kept(const TapeArena& t, const Node* in) {
  const Node* const* r = t.recent_externals;
  return r[0] == in || r[1] == in || r[2] == in || r[3] == in;
}
// A tape node records `in`, which is not on the tape: the arena keeps it alive.
inline void add_external(TapeArena& t, Node* in) {
  if (!recently_kept(t, in)) add_external_slow(t, in);
}

// The checks an op makes of each operand: a node of another thread's tape, or one that
// outlived its scope, is an error naming the op. `op` may be null (backward).
[[noreturn]] void refuse_tape_operand(const char* op, const Node& n);
// A pooled operand (the dynamic graph's only kind) costs one load and one test; only
// scalars are ever kReleased this way (expired).
inline void check_operand(const char* op, const Node& n) {
  const TapeArena* tape = chunk_of(&n)->tape;
  if (tape || (n.flags & kReleased)) {
    if ((n.flags & kReleased) || tape != active_tape) refuse_tape_operand(op, n);
  }
}

// destroy() of a scalar node whose chunk is a tape's (c->tape set). The common case (this
// thread's tape, one open scope) is one increment.
void tape_node_died(Node* n, ScalarChunk* c) noexcept;
inline void note_tape_death(Node* n, ScalarChunk* c) noexcept {
  if (c->tape == &tape_arena && tape_arena.depth == 1 && !c->expired) {
    ++tape_arena.levels[0].deaths;
  } else {
    tape_node_died(n, c);
  }
}
// A node reached through the graph, not through a handle, gets a handle (graph views,
// create_graph's rules): a tape node may come back from zero references.
void tape_node_revived(Node* n) noexcept;
inline void retain_reached(Node* n) noexcept {
  if (n->refs++ == 0 && !is_tensor(*n) && chunk_of(n)->tape) tape_node_revived(n);
}
inline bool on_tape(const Node& n) { return !is_tensor(n) && chunk_of(&n)->tape; }
// set_label / set_grad_history on a node: the scope's end must clear its side entries.
inline void note_side_entry(const Node& n) {
  if (on_tape(n) && chunk_of(&n)->tape == &tape_arena) tape_arena.side_entries = true;
}

// Value::backward of a node on this thread's tape when the sweep applies (no create_graph,
// no anomaly mode, only leaves from outside, no set_data since the scope began); false when
// the caller must run the general engine instead.
bool tape_backward(Node* root);

}  // namespace ag::detail
