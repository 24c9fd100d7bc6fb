// The scalar-node pool's slow paths: new chunks, frees, cross-thread frees, thread exit.
#include "scalar_pool.hpp"

#include <cstdlib>
#include <mutex>
#include <new>

#include "node.hpp"

namespace ag::detail {

static_assert(sizeof(ScalarNode) == 48, "the pool's bump step assumes 48-byte nodes");

namespace {

// Guards remote frees, orphaned chunks and draining.
std::mutex remote_mutex;

void link(ScalarPool& pool, ScalarChunk* c) {
  c->prev = nullptr;
  c->next = pool.chunks;
  if (pool.chunks) pool.chunks->prev = c;
  pool.chunks = c;
}

void unlink(ScalarPool& pool, ScalarChunk* c) {
  if (c->prev) c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  if (pool.chunks == c) pool.chunks = c->next;
}

void reset_empty(ScalarChunk* c) {
  c->free_list = nullptr;
  c->remote = nullptr;
  c->bump = first_slot(c);
  c->live = 0;
}

ScalarChunk* new_chunk(ScalarPool& pool) {
  void* memory = std::aligned_alloc(ScalarChunk::kBytes, ScalarChunk::kBytes);
  if (!memory) throw std::bad_alloc();
  // No MADV_HUGEPAGE: with the kernel's defrag=madvise default, a huge-page fault compacts
  // memory synchronously, which made building a big graph 4x slower here.
  auto* c = new (memory) ScalarChunk{};
  c->owner = &pool;
  reset_empty(c);
  c->end = slots_end(c, sizeof(ScalarNode));
  return c;
}

// Set when this thread's exit hook has run: nodes made after that (by a global's destructor)
// come from chunks that are given back as soon as they empty, current chunk included.
constinit thread_local bool pool_gone = false;

// A chunk of this thread has no live node left: keep it as a spare or give it back.
void retire(ScalarPool& pool, ScalarChunk* c) noexcept {
  unlink(pool, c);
  if (pool.current == c) pool.current = nullptr;
  if (!pool_gone) {
    reset_empty(c);
    if (pool.spares.keep(c)) return;
  }
  std::free(c);
}

// Moves slots other threads freed into their chunks' own lists (caller holds remote_mutex).
void drain_remote(ScalarPool& pool) noexcept {
  for (ScalarChunk* c = pool.chunks; c;) {
    ScalarChunk* next = c->next;
    while (FreeSlot* s = c->remote) {
      c->remote = s->next;
      s->next = c->free_list;
      c->free_list = s;
      --c->live;
    }
    if (c->live == 0 && c != pool.current) retire(pool, c);
    c = next;
  }
}

// Runs at thread exit: empty chunks go back; chunks with live nodes (held by other threads)
// are orphaned, to be freed by whoever frees their last node.
struct ThreadExitHook {
  bool armed = false;
  ~ThreadExitHook() {
    std::lock_guard lock(remote_mutex);
    ScalarPool& pool = scalar_pool;
    drain_remote(pool);
    for (ScalarChunk* c = pool.chunks; c;) {
      ScalarChunk* next = c->next;
      if (c->live == 0) {
        std::free(c);
      } else {
        c->owner = nullptr;
      }
      c = next;
    }
    pool.spares.release();
    pool = ScalarPool{};
    pool_gone = true;
  }
};
thread_local ThreadExitHook thread_exit_hook;

}  // namespace

ScalarNode* allocate_scalar_node_slow() {
  ScalarPool& pool = scalar_pool;
  if (!pool_gone && !thread_exit_hook.armed) thread_exit_hook.armed = true;  // registers it
  {
    std::lock_guard lock(remote_mutex);
    drain_remote(pool);
  }
  // Prefer a chunk with free slots, then a spare, then new memory.
  ScalarChunk* pick = nullptr;
  for (ScalarChunk* c = pool.chunks; c && !pick; c = c->next) {
    if (c != pool.current && (c->free_list || c->bump != c->end)) pick = c;
  }
  if (!pick) {
    pick = pool.spares.take();
    if (!pick) pick = new_chunk(pool);
    link(pool, pick);
  }
  pool.current = pick;
  return allocate_scalar_node();
}

void free_scalar_node_slow(ScalarNode* node) noexcept {
  ScalarChunk* c = chunk_of(node);
  auto* slot = reinterpret_cast<FreeSlot*>(node);
  ScalarPool& pool = scalar_pool;
  if (c->owner == &pool) {
    slot->next = c->free_list;
    c->free_list = slot;
    if (--c->live == 0 && (c != pool.current || pool_gone)) retire(pool, c);
    return;
  }
  // Freed on another thread than the one that built it.
  std::lock_guard lock(remote_mutex);
  if (c->owner) {
    slot->next = c->remote;
    c->remote = slot;
  } else if (--c->live == 0) {
    std::free(c);  // the last node of an orphaned chunk
  }
}

void release_spare_scalar_chunks() noexcept { scalar_pool.spares.release(); }

}  // namespace ag::detail
