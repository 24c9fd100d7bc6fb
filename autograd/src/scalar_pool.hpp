#pragma once
// The scalar-node pool: a slab allocator of 48-byte ScalarNodes (private to the library).
//
// Memory comes in 2 MiB chunks aligned to their size, so a node finds its chunk by masking its
// address. Each chunk has an owner thread, its own free list and a count of live nodes:
//  - allocation (inline, below) pops the owner's current chunk's free list or bumps into it;
//  - a node freed by its owner goes back on its chunk's list; a chunk whose last node dies is
//    kept as a spare for reuse (up to kMaxSpareChunks, then returned to the system), so that
//    memory returns to its baseline after a big graph dies, even while parameters live on,
//    once ag::release_cached_memory hands the spares back;
//  - a node freed by another thread (a graph handed over) is queued for the owner under a
//    lock; chunks of a thread that exits with live nodes are orphaned and freed by whoever
//    frees their last node.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace ag::detail {

struct ScalarNode;
struct ScalarPool;
struct TapeArena;

struct FreeSlot {
  FreeSlot* next;
};

struct alignas(64) ScalarChunk {
  static constexpr std::size_t kBytes = std::size_t{2} << 20;
  ScalarPool* owner;    // null once orphaned (owner thread exited with nodes alive)
  FreeSlot* free_list;  // slots freed by the owner
  char* bump;           // never-used space: [bump, end)
  char* end;
  std::int64_t live;  // allocated and not yet freed (remote frees count until drained)
  ScalarChunk* prev;  // the owner's list of all its chunks
  ScalarChunk* next;
  FreeSlot* remote;  // slots freed by other threads, guarded by the pool's global mutex
  // Chunks of a thread's tape (tape_arena.hpp) reuse this header: `tape` is their arena (null
  // for the pool's chunks), `seq` their place in it, `bump` their used end; an expired chunk
  // has left its arena and lives on for Values that outlived their scope, `live` counting them.
  TapeArena* tape;
  std::uint64_t seq;
  bool expired;
};

// A chunk's slots of `slot` bytes: from just after its header to the end of the last whole one.
inline char* first_slot(ScalarChunk* c) { return reinterpret_cast<char*>(c) + sizeof(ScalarChunk); }
inline char* slots_end(ScalarChunk* c, std::size_t slot) {
  return first_slot(c) + (ScalarChunk::kBytes - sizeof(ScalarChunk)) / slot * slot;
}

inline ScalarChunk* chunk_of(const void* node) {
  return reinterpret_cast<ScalarChunk*>(reinterpret_cast<std::uintptr_t>(node) &
                                        ~(ScalarChunk::kBytes - 1));
}

// Empty chunks kept for reuse: the pool and the tape (tape_arena.hpp) each hold one list per
// thread, of at most kMaxSpareChunks (128 MiB). Memory touched for the first time costs a page
// fault per 4 KiB, about as much as recording the nodes on it, so a loop that builds the same
// big graph every step should not refetch it. ag::release_cached_memory gives them back.
constexpr std::size_t kMaxSpareChunks = 64;
struct SpareChunks {
  ScalarChunk* head;  // linked by `next`
  std::size_t count;
  // Keeps c for reuse; false when the list is full (the caller frees c).
  bool keep(ScalarChunk* c) noexcept {
    if (count == kMaxSpareChunks) return false;
    c->next = head;
    head = c;
    ++count;
    return true;
  }
  // A kept chunk, or null.
  ScalarChunk* take() noexcept {
    ScalarChunk* c = head;
    if (c) {
      head = c->next;
      --count;
    }
    return c;
  }
  void release() noexcept {
    while (ScalarChunk* c = take()) std::free(c);
  }
};

struct ScalarPool {
  ScalarChunk* current;  // allocations come from here
  ScalarChunk* chunks;   // every chunk this thread owns (current included), a linked list
  SpareChunks spares;    // empty chunks, unlinked from `chunks`
};

// Trivially constructed and destructed, so access needs no TLS guard; a separate
// thread-exit hook (scalar_pool.cpp) hands the chunks back.
inline constinit thread_local ScalarPool scalar_pool{};

ScalarNode* allocate_scalar_node_slow();
void free_scalar_node_slow(ScalarNode* node) noexcept;

// A slot of the current chunk, or null when it has none (then the slow path takes a chunk).
[[gnu::always_inline]] inline ScalarNode* try_allocate_scalar_node() {
  if (ScalarChunk* c = scalar_pool.current) {
    if (FreeSlot* slot = c->free_list) {
      c->free_list = slot->next;
      ++c->live;
      return reinterpret_cast<ScalarNode*>(slot);
    }
    if (c->bump != c->end) {
      auto* node = reinterpret_cast<ScalarNode*>(c->bump);
      c->bump += 48;
      ++c->live;
      return node;
    }
  }
  return nullptr;
}
inline ScalarNode* allocate_scalar_node() {
  if (ScalarNode* node = try_allocate_scalar_node()) return node;
  return allocate_scalar_node_slow();
}

// A node freed by its owner onto a chunk that keeps other live nodes: a push (inline). The
// chunk's last node, and frees from other threads, take the slow path.
inline void free_scalar_node(ScalarNode* node) noexcept {
  ScalarChunk* c = chunk_of(node);
  if (c->owner == &scalar_pool && c->live > 1) {
    auto* slot = reinterpret_cast<FreeSlot*>(node);
    slot->next = c->free_list;
    c->free_list = slot;
    --c->live;
    return;
  }
  free_scalar_node_slow(node);
}

// Returns this thread's spare chunks to the system (ag::release_cached_memory).
void release_spare_scalar_chunks() noexcept;

}  // namespace ag::detail
