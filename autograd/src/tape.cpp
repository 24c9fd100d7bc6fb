// ag::Tape: scopes over the thread's tape arena, the reverse-sweep backward, and freeing a
// scope's nodes at once (tape_arena.hpp explains the ownership rules).
#include "autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "autograd/anomaly.hpp"
#include "autograd/error.hpp"
#include "tape_arena.hpp"
#include "walk.hpp"

namespace ag::detail {

const OpInfo kExpiredTapeOp{"expired tape value", nullptr};

namespace {

constexpr std::size_t kSlot = sizeof(ScalarNode);
constexpr std::uint64_t kChunk = ScalarChunk::kBytes;

char* used_end(TapeArena& t, ScalarChunk* c) { return c == t.current ? t.bump : c->bump; }

// Chunks of ended scopes are kept for the next ones, up to kMaxSpareChunks (scalar_pool.hpp).
void free_chunk(TapeArena& t, ScalarChunk* c) noexcept {
  if (!t.spares.keep(c)) std::free(c);
}

// Hands the kept chunks back when the thread exits (no scope can be open by then).
struct TapeExitHook {
  bool armed = false;
  ~TapeExitHook() {
    TapeArena& t = tape_arena;
    for (ScalarChunk* c = t.current; c;) {
      ScalarChunk* prev = c->prev;
      std::free(c);
      c = prev;
    }
    t.spares.release();
    std::free(t.externals);
    std::free(t.external_set);
    t.external_set = nullptr;
    t.external_set_capacity = 0;
    std::free(t.levels);
    t.levels = nullptr;
    t.current = nullptr;
    t.externals = nullptr;
    t.bump = t.end = nullptr;
    t.externals_size = t.externals_capacity = 0;
  }
};
thread_local TapeExitHook tape_exit_hook;

void take_chunk(TapeArena& t) {
  if (!tape_exit_hook.armed) tape_exit_hook.armed = true;  // registers the hook
  ScalarChunk* c = t.spares.take();
  if (!c) {
    void* memory = std::aligned_alloc(kChunk, kChunk);
    if (!memory) throw std::bad_alloc();
    c = new (memory) ScalarChunk{};
  }
  c->tape = &t;
  c->expired = false;
  c->live = 0;
  c->seq = t.next_seq++;
  c->end = slots_end(c, kSlot);
  c->bump = first_slot(c);
  c->prev = t.current;
  c->next = nullptr;
  if (t.current) t.current->bump = t.bump;
  t.current = c;
  t.bump = first_slot(c);
  t.end = c->end;
}

// The slot of the external set that holds `n`, or the free slot where it belongs (linear
// probing; the set is never full).
Node** find_slot(Node** set, std::size_t capacity, const Node* n) {
  const std::uint64_t mixed =
      (reinterpret_cast<std::uintptr_t>(n) >> 4) * std::uint64_t{0x9E3779B97F4A7C15};
  for (std::size_t i = static_cast<std::size_t>(mixed >> 32) & (capacity - 1);;
       i = (i + 1) & (capacity - 1)) {
    if (set[i] == n || !set[i]) return &set[i];
  }
}

// Visits the nodes at or above position `mark`, newest first.
template <class Visit>
void for_each_since(TapeArena& t, std::uint64_t mark, Visit&& visit) {
  for (ScalarChunk* c = t.current; c; c = c->prev) {
    char* begin = first_slot(c);
    const std::uint64_t base = c->seq * kChunk;
    if (base + kChunk <= mark) return;
    for (char* p = used_end(t, c); p != begin;) {
      p -= kSlot;
      if (base + static_cast<std::uint64_t>(p - reinterpret_cast<char*>(c)) < mark) return;
      visit(*reinterpret_cast<ScalarNode*>(p), c);
    }
  }
}

std::int64_t nodes_since(TapeArena& t, std::uint64_t mark) {
  std::int64_t count = 0;
  for (ScalarChunk* c = t.current; c; c = c->prev) {
    const std::uint64_t base = c->seq * kChunk;
    const auto end = base + static_cast<std::uint64_t>(used_end(t, c) - reinterpret_cast<char*>(c));
    const std::uint64_t begin = std::max<std::uint64_t>(base + sizeof(ScalarChunk), mark);
    if (end > begin) count += static_cast<std::int64_t>((end - begin) / kSlot);
    if (base <= mark) break;
  }
  return count;
}

// A node still referenced when its scope ends: it keeps its numbers and forgets its inputs.
void expire(ScalarNode& n) {
  n.op = &kExpiredTapeOp;
  n.flags = static_cast<std::uint8_t>((n.flags & (kLabelled | kGradHistory | kRequiresGrad)) |
                                      kLeaf | kReleased);
  n.num_inputs = 0;
  n.slot[0].count = 0;
  n.slot[1].count = 0;
}

// Ends the innermost level: externals released, side entries dropped, nodes freed at once
// (or, where handles escaped, expired and kept).
void end_level(TapeArena& t) noexcept {
  TapeLevel& level = t.levels[t.depth - 1];
  // The common end: one chunk, nothing from outside, every node dead. Rewind and go.
  if (t.current && !t.side_entries && level.externals == t.externals_size &&
      level.mark >= t.current->seq * kChunk) {
    char* at = reinterpret_cast<char*>(t.current) + (level.mark - t.current->seq * kChunk);
    if (level.deaths == (t.bump - at) / static_cast<std::ptrdiff_t>(kSlot) &&
        !t.revived_elsewhere.load(std::memory_order_acquire)) {
      t.bump = at;
      if (--t.depth == 0) {
        t.dynamic_inputs = false;
        active_tape = nullptr;
      }
      return;
    }
  }
  if (level.externals != t.externals_size) {
    for (std::size_t i = level.externals; i < t.externals_size; ++i) release(t.externals[i]);
    t.externals_size = level.externals;
    // Released nodes may die and their addresses be reused: the set keeps only the rest.
    std::fill_n(t.external_set, t.external_set_capacity, nullptr);
    for (std::size_t i = 0; i < t.externals_size; ++i) {
      *find_slot(t.external_set, t.external_set_capacity, t.externals[i]) = t.externals[i];
    }
  }
  for (Node*& r : t.recent_externals) r = nullptr;
  const std::uint64_t mark = level.mark;
  if (t.side_entries) {  // histories hold handles to tape nodes: dropped before counting
    for_each_since(t, mark, [](ScalarNode& n, ScalarChunk*) {
      if (n.flags & kGradHistory) clear_grad_history(n);
    });
    for_each_since(t, mark, [](ScalarNode& n, ScalarChunk*) {
      if ((n.flags & kLabelled) && n.refs == 0) drop_side_entries(n);
    });
  }
  const bool revived = t.revived_elsewhere.exchange(false, std::memory_order_acq_rel);
  const bool escaped = revived || level.deaths != nodes_since(t, mark);
  // The chunk holding the mark; null when an inner scope's end already gave it up (then every
  // chunk the arena has is newer than the mark).
  ScalarChunk* mark_chunk = t.current;
  while (mark_chunk && mark_chunk->seq * kChunk > mark) mark_chunk = mark_chunk->prev;
  char* keep_above = nullptr;  // in the mark's chunk: the end of its newest expired node
  if (escaped) {               // expire the nodes still referenced, counted per chunk in `live`
    for_each_since(t, mark, [&](ScalarNode& n, ScalarChunk* c) {
      if (n.refs == 0) return;
      expire(n);
      ++c->live;
      if (c == mark_chunk && !keep_above) keep_above = reinterpret_cast<char*>(&n) + kSlot;
    });
  }
  // Chunks newer than the mark's leave the arena: freed, or kept for their expired nodes.
  auto leave = [&](ScalarChunk* c) {
    if (c->live > 0) {
      c->bump = used_end(t, c);
      c->expired = true;
    } else {
      free_chunk(t, c);
    }
  };
  for (ScalarChunk* c = t.current; c != mark_chunk;) {
    ScalarChunk* prev = c->prev;
    leave(c);
    c = prev;
  }
  // The mark's chunk holds outer levels' nodes unless the mark is its first slot.
  const bool shared = mark_chunk && mark != mark_chunk->seq * kChunk + sizeof(ScalarChunk);
  char* at = mark_chunk ? reinterpret_cast<char*>(mark_chunk) + (mark - mark_chunk->seq * kChunk)
                        : nullptr;
  if (!mark_chunk) {
    t.current = nullptr;
  } else if (!shared && mark_chunk->live > 0) {
    ScalarChunk* prev = mark_chunk->prev;
    t.current = mark_chunk;  // used_end reads t.bump for it
    leave(mark_chunk);
    // Older levels' chunk: the outer scope resumes in a fresh chunk, above its mark.
    t.current = prev;
    at = prev ? prev->bump : nullptr;
    if (prev) prev->end = at;
  } else {
    t.current = mark_chunk;
    if (keep_above) {
      // Expired nodes in the shared chunk: never bump over them. The outer level counts the
      // nodes between that died already, so that its end needs no scan for them.
      std::int64_t dead = 0;
      for (char* p = at; p != keep_above; p += kSlot) {
        if (reinterpret_cast<ScalarNode*>(p)->refs == 0) ++dead;
      }
      t.levels[t.depth - 2].deaths += dead;
      mark_chunk->live = 0;  // its expired nodes are the outer level's now
      at = keep_above;
    }
  }
  if (t.current) {
    t.current->next = nullptr;
    t.bump = at;
    t.end = t.current->end;
  } else {
    t.bump = t.end = nullptr;
  }
  --t.depth;
  if (t.depth == 0) {
    t.dynamic_inputs = false;
    t.side_entries = false;
    active_tape = nullptr;
  }
}

// The level of this thread's arena that holds node n.
TapeLevel* level_of(TapeArena& t, const Node* n) {
  if (t.depth == 0) return nullptr;
  int l = t.depth - 1;
  if (l > 0) {
    const std::uint64_t p = position(n);
    while (l > 0 && p < t.levels[l].mark) --l;
  }
  return &t.levels[l];
}

}  // namespace

ScalarNode* tape_allocate_slow(TapeArena& t) {
  take_chunk(t);
  return tape_allocate(t);
}

void add_external_slow(TapeArena& t, Node* in) {
  if (t.external_set_capacity != 0 && *find_slot(t.external_set, t.external_set_capacity, in)) {
    t.recent_externals[t.recent_next++ & 3] = in;
    return;  // kept already
  }
  // Room in the list and the set first, so that running out of memory changes nothing.
  if (t.externals_size == t.externals_capacity) {
    const std::size_t capacity = t.externals_capacity ? 2 * t.externals_capacity : 64;
    void* grown = std::realloc(t.externals, capacity * sizeof(Node*));
    if (!grown) throw std::bad_alloc();
    t.externals = static_cast<Node**>(grown);
    t.externals_capacity = capacity;
  }
  if (2 * (t.externals_size + 1) > t.external_set_capacity) {
    const std::size_t capacity = t.external_set_capacity ? 2 * t.external_set_capacity : 128;
    auto* set = static_cast<Node**>(std::calloc(capacity, sizeof(Node*)));
    if (!set) throw std::bad_alloc();
    std::free(t.external_set);
    t.external_set = set;
    t.external_set_capacity = capacity;
    for (std::size_t i = 0; i < t.externals_size; ++i) {
      *find_slot(set, capacity, t.externals[i]) = t.externals[i];
    }
  }
  *find_slot(t.external_set, t.external_set_capacity, in) = in;
  retain(in);
  t.externals[t.externals_size++] = in;
  t.recent_externals[t.recent_next++ & 3] = in;
  if (!(in->flags & kLeaf)) t.dynamic_inputs = true;
}

[[noreturn]] void refuse_tape_operand(const char* op, const Node& n) {
  const char* what = op ? op : "backward";
  if ((n.flags & kReleased) || chunk_of(&n)->expired) {
    throw Error(what,
                "this Value was recorded on an ag::Tape whose scope has ended; only data(), "
                "grad() and detach() still read its numbers. Keep results as plain numbers, or "
                "create the Value before the Tape");
  }
  throw Error(what,
              "this Value was recorded on another thread's ag::Tape; a tape's Values can only be "
              "used on the thread that recorded them");
}

void tape_node_died(Node* n, ScalarChunk* c) noexcept {
  if (c->expired) {
    drop_side_entries(*n);
    if (std::atomic_ref<std::int64_t>(c->live).fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::free(c);
    }
    return;
  }
  if (c->tape != &tape_arena) return;  // another thread's tape: its scope's end will scan
  if (TapeLevel* level = level_of(tape_arena, n)) ++level->deaths;
}

void tape_node_revived(Node* n) noexcept {
  ScalarChunk* c = chunk_of(n);
  if (c->expired) return;  // unreachable through a graph: expired nodes have no users
  if (c->tape != &tape_arena) {
    c->tape->revived_elsewhere.store(true, std::memory_order_release);
    return;
  }
  if (TapeLevel* level = level_of(tape_arena, n)) --level->deaths;
}

bool tape_backward(Node* root) {
  TapeArena& t = tape_arena;
  if (t.dynamic_inputs || anomaly_mode ||
      scalar_leaf_writes.load(std::memory_order_relaxed) != t.leaf_writes_at_start) {
    return false;
  }
  require_grad_root(root);
  ScalarNode& r = as_scalar(*root);
  if (root->flags & kLeaf) {  // a leaf accumulates, even as the output
    r.grad += 1.0;
    return true;
  }
  // Creation order is a topological order: users sit above their inputs. A node runs when the
  // sweep reaches it if a user marked it (its gradient reset before the first addition), so
  // exactly the nodes the walk would find run, in an order the walk could give; the sweep
  // stops as soon as no marked node is left below.
  r.flags |= kVisited;
  r.grad = 1.0;
  std::size_t pending = 1;
  ScalarChunk* c = chunk_of(root);
  char* begin = first_slot(c);
  char* p = reinterpret_cast<char*>(root);
  for (;;) {
    ScalarNode& n = *reinterpret_cast<ScalarNode*>(p);
    if (n.flags & kVisited) {
      n.flags &= static_cast<std::uint8_t>(~kVisited);
      auto mark = [&pending](Node* in) {
        if (!(in->flags & (kLeaf | kVisited))) {
          in->flags |= kVisited;
          as_scalar(*in).grad = 0.0;
          ++pending;
        }
      };
      mark(n.slot[0].input);  // every op has an input in slot 0
      if (n.num_inputs == 2) mark(n.slot[1].input);
      n.op->backward(n);
      if (--pending == 0) return true;
    }
    if (p == begin) {
      c = c->prev;
      begin = first_slot(c);
      p = c->bump;
    }
    p -= kSlot;
  }
}

void release_tape_spares() noexcept { tape_arena.spares.release(); }

}  // namespace ag::detail

namespace ag {

using namespace detail;

Tape::Tape() : level_(tape_arena.depth) {
  TapeArena& t = tape_arena;
  if (t.depth == kMaxTapeDepth) {
    throw Error("Tape", fmt::format("scopes nest at most {} deep", kMaxTapeDepth));
  }
  if (!t.levels) {
    t.levels = static_cast<TapeLevel*>(std::malloc(sizeof(TapeLevel) * kMaxTapeDepth));
    if (!t.levels) throw std::bad_alloc();
  }
  if (!t.current) take_chunk(t);
  if (t.depth == 0) t.leaf_writes_at_start = scalar_leaf_writes.load(std::memory_order_relaxed);
  t.levels[t.depth] = TapeLevel{position(t.bump), t.externals_size, 0};
  ++t.depth;
  active_tape = &t;
}

Tape::~Tape() {
  TapeArena& t = tape_arena;
  if (t.depth != level_ + 1) {
    std::fprintf(stderr,
                 "ag::Tape: a scope ended before a scope opened after it, or on another thread; "
                 "scopes end in reverse order, on their own thread\n");
    std::abort();
  }
  end_level(t);
}

bool Tape::active() noexcept { return active_tape != nullptr; }

std::size_t Tape::size() const noexcept {
  TapeArena& t = tape_arena;
  if (level_ >= t.depth) return 0;
  return static_cast<std::size_t>(nodes_since(t, t.levels[level_].mark));
}

}  // namespace ag
