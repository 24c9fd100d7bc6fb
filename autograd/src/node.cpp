// Node memory: the scalar-node pool, iterative destruction, and the label/scope side tables.
#include "node.hpp"

#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <unordered_map>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/memory.hpp"
#include "tape_arena.hpp"

namespace ag::detail {

const OpInfo kLeafOp{"leaf", nullptr};

namespace {

std::mutex side_tables_mutex;
std::unordered_map<const Node*, std::string>& labels() {
  static auto* table = new std::unordered_map<const Node*, std::string>();
  return *table;
}
std::vector<std::string>& scope_names() {
  static auto* names = new std::vector<std::string>{""};
  return *names;
}

// Thread-locals with destructors die when their thread exits, on the main thread before every
// object of static storage duration: a global Tensor is destroyed after the caches below. The
// first cache to die sets this flag (trivially destructible, so readable to the very end), and
// from then on nodes, buffers and work lists bypass the caches and go straight to the system.
constinit thread_local bool caches_gone = false;

// Tensor nodes are recycled too: a training step frees and makes dozens at once, more than
// the system allocator's per-thread cache holds. Cached nodes stay constructed, so their shape
// and input vectors keep their capacity: a recycled node allocates nothing for them.
struct TensorNodeCache {
  std::vector<TensorNode*> nodes;
  ~TensorNodeCache() {
    caches_gone = true;
    for (TensorNode* n : nodes) delete n;
    nodes.clear();
  }
};
thread_local TensorNodeCache tensor_node_cache;
constexpr std::size_t kMaxCachedTensorNodes = 4096;

void free_tensor_node(TensorNode* node) noexcept {
  if (caches_gone) {
    delete node;
    return;
  }
  auto& cache = tensor_node_cache.nodes;
  if (cache.size() < kMaxCachedTensorNodes) {
    try {
      cache.reserve(kMaxCachedTensorNodes);
      // Releasing the closure may release captured tensors: they queue up in destroy.
      node->backward = nullptr;
      node->storage.reset();
      node->grad.reset();
      node->grad_history = Tensor();
      node->inputs.clear();
      node->saved_versions.clear();
      node->shape.clear();
      cache.push_back(node);
      return;
    } catch (...) {
    }
  }
  delete node;
}

std::unordered_map<const Node*, Value>& grad_histories() {
  static auto* table = new std::unordered_map<const Node*, Value>();
  return *table;
}

void free_node(Node* node) noexcept {
  if (node->flags & (kLabelled | kGradHooks | kGradHistory)) drop_side_entries(*node);
  if (is_tensor(*node)) {
    free_tensor_node(&as_tensor(*node));
  } else {
    free_scalar_node(&as_scalar(*node));
  }
}

}  // namespace

void drop_side_entries(Node& node) noexcept {
  if (node.flags & kLabelled) {
    std::lock_guard lock(side_tables_mutex);
    labels().erase(&node);
    node.flags &= static_cast<std::uint8_t>(~kLabelled);
  }
  if (is_tensor(node)) {
    if (node.flags & kGradHooks) drop_grad_ready_hooks(node);
  } else if (node.flags & kGradHistory) {
    clear_grad_history(node);
  }
}

bool thread_caches_gone() noexcept { return caches_gone; }

TensorNode* allocate_tensor_node() {
  if (caches_gone) return new TensorNode();
  auto& cache = tensor_node_cache.nodes;
  if (cache.empty()) return new TensorNode();
  TensorNode* node = cache.back();
  cache.pop_back();
  return node;  // the caller sets every header field, shape, dtype and storage
}

// Iterative: a 10-million-node chain is freed with a work list, never with recursion. The
// first input that dies is followed directly (a chain needs no list at all); only further
// ones, and nodes released while a tensor node's destructor runs, wait in `pending`.
namespace {
struct PendingNodes {
  std::vector<Node*> nodes;
  ~PendingNodes() { caches_gone = true; }
};
thread_local PendingNodes pending_nodes;
}  // namespace

namespace {
[[gnu::noinline]] void destroy_owned(Node* node) noexcept;

// The common death is a pooled scalar node (a temporary Value), freed in a tight loop that
// follows an input dying with it, down a chain. A node with side entries, a tensor, or a
// second dying input hands over to destroy_owned's work list; that call frees its whole part
// of the graph iteratively and returns, so the depth stays bounded.
[[gnu::noinline]] void destroy_scalars(Node* n) noexcept {
  while (!is_tensor(*n) && !chunk_of(n)->tape) {       // (pooled nodes hold no tape nodes: a check)
    if (n->flags & (kLabelled | kGradHistory)) break;  // side entries may release graphs
    ScalarNode& s = as_scalar(*n);
    Node* next = nullptr;
    if (n->num_inputs != 0) {  // a leaf's slots hold counts, not inputs
      Node* a = s.slot[0].input;
      if (--a->refs == 0) next = a;
      if (n->num_inputs == 2) {
        Node* b = s.slot[1].input;
        if (--b->refs == 0) {
          if (next) {
            free_scalar_node(&s);
            destroy_owned(b);
            n = next;
            continue;
          }
          next = b;
        }
      }
    }
    free_scalar_node(&s);
    if (!next) return;
    n = next;
  }
  destroy_owned(n);
}
}  // namespace

// A tape node frees nothing and owns no input (tape_arena.hpp): its scope frees it. This entry
// stays small (no frame) because every temporary Value ends here.
void destroy(Node* node) noexcept {
  if (!is_tensor(*node)) {
    if (ScalarChunk* c = chunk_of(node); c->tape) {
      note_tape_death(node, c);
      return;
    }
    destroy_scalars(node);
    return;
  }
  destroy_owned(node);
}

namespace {
void destroy_owned(Node* node) noexcept {
  // The list the loop below, further up this stack, is draining: a node released while a
  // tensor node's destructor runs joins it.
  thread_local constinit std::vector<Node*>* draining_into = nullptr;
  if (draining_into) {
    draining_into->push_back(node);
    return;
  }
  // Once the thread's caches are gone, a work list on this stack frame instead.
  std::vector<Node*> local;
  std::vector<Node*>& pending = caches_gone ? local : pending_nodes.nodes;
  draining_into = &pending;
  Node* n = node;
  for (;;) {
    Node* next = nullptr;
    // Only a tensor node can hold a tape node here (Tensor(value)): pooled scalar nodes never
    // record one (ops refuse it), so scalar chains skip the test.
    const bool may_hold_tape_nodes = is_tensor(*n);
    for (std::size_t i = 0, k = input_count(*n); i < k; ++i) {
      Node* in = input_of(*n, i);
      if (in && --in->refs == 0) {
        if (may_hold_tape_nodes && !is_tensor(*in) && chunk_of(in)->tape) {
          note_tape_death(in, chunk_of(in));
        } else if (next) {
          pending.push_back(in);
        } else {
          next = in;
        }
      }
    }
    free_node(n);
    if (!next) {
      if (pending.empty()) break;
      next = pending.back();
      pending.pop_back();
    }
    n = next;
  }
  draining_into = nullptr;
  if (pending.capacity() > 4096) std::vector<Node*>().swap(pending);
}
}  // namespace

void set_label(Node& n, std::string_view label) {
  std::lock_guard lock(side_tables_mutex);
  labels()[&n] = std::string(label);
  n.flags |= kLabelled;
  note_side_entry(n);
}

std::string label_of(const Node& n) {
  if (!(n.flags & kLabelled)) return {};
  std::lock_guard lock(side_tables_mutex);
  auto it = labels().find(&n);
  return it == labels().end() ? std::string() : it->second;
}

void set_grad_history(Node& leaf, const Value& grad) {
  std::optional<Value> previous;  // released after the lock: its graph may hold histories
  {
    std::lock_guard lock(side_tables_mutex);
    auto [it, fresh] = grad_histories().try_emplace(&leaf, grad);
    if (!fresh) {
      previous = std::move(it->second);
      it->second = grad;
    }
    leaf.flags |= kGradHistory;
  }
  note_side_entry(leaf);
}

Value grad_history_of(const Node& leaf) {
  if (leaf.flags & kGradHistory) {
    std::lock_guard lock(side_tables_mutex);
    auto it = grad_histories().find(&leaf);
    if (it != grad_histories().end()) return it->second;
  }
  return Value(0.0).detach();
}

void clear_grad_history(Node& leaf) noexcept {
  if (!(leaf.flags & kGradHistory)) return;
  std::optional<Value> dropped;  // destroyed outside the lock (its graph may hold histories)
  {
    std::lock_guard lock(side_tables_mutex);
    auto it = grad_histories().find(&leaf);
    if (it != grad_histories().end()) {
      dropped = std::move(it->second);
      grad_histories().erase(it);
    }
    leaf.flags &= static_cast<std::uint8_t>(~kGradHistory);
  }
}

std::string_view scope_name(std::uint16_t id) {
  std::lock_guard lock(side_tables_mutex);
  return id < scope_names().size() ? std::string_view(scope_names()[id]) : std::string_view();
}

namespace {

// Tensor buffers are reused: a training step frees and allocates the same sizes every time,
// and the system allocator's aligned allocations are slow. Blocks are 64-byte aligned (whole
// cache lines) in power-of-two size classes; each thread keeps a few free blocks per class,
// up to a byte cap, and returns the rest. Blocks are plain malloc memory, so a block freed on
// another thread simply joins that thread's cache.
class BufferCache {
 public:
  static constexpr int kClasses = 40;
  static constexpr std::size_t kMaxBlocksPerClass = 16;
  static constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;

  static std::size_t class_of(std::size_t bytes) {
    std::size_t c = 6;  // 64 bytes minimum
    while ((std::size_t{1} << c) < bytes) ++c;
    return c;
  }

  void* allocate(std::size_t bytes) {
    const std::size_t c = class_of(bytes);
    if (caches_gone) return allocate_block(c);
    if (c < kClasses && !free_[c].empty()) {
      void* p = free_[c].back();
      free_[c].pop_back();
      cached_ -= std::size_t{1} << c;
      return p;
    }
    return allocate_block(c);
  }

  void deallocate(void* p, std::size_t bytes) noexcept {
    const std::size_t c = class_of(bytes);
    const std::size_t size = std::size_t{1} << c;
    if (!caches_gone && c < kClasses && free_[c].size() < kMaxBlocksPerClass &&
        cached_ + size <= kMaxCachedBytes) {
      try {
        free_[c].push_back(p);
        cached_ += size;
        return;
      } catch (...) {  // no room to remember it: just free it
      }
    }
    std::free(p);
  }

  void release() noexcept {
    for (auto& blocks : free_) {
      for (void* p : blocks) std::free(p);
      blocks.clear();
    }
    cached_ = 0;
  }

  ~BufferCache() {
    caches_gone = true;
    release();
  }

 private:
  static void* allocate_block(std::size_t c) {
    void* p = std::aligned_alloc(64, std::size_t{1} << c);
    if (!p) throw std::bad_alloc();
    return p;
  }

  std::vector<void*> free_[kClasses];
  std::size_t cached_ = 0;
};

thread_local BufferCache buffer_cache;

}  // namespace

Storage::Storage(std::size_t n, Device d) : data(buffer_cache.allocate(n)), bytes(n), device(d) {}
Storage::~Storage() { buffer_cache.deallocate(data, bytes); }

}  // namespace ag::detail

void ag::release_cached_memory() noexcept {
  if (!detail::caches_gone) {
    detail::buffer_cache.release();
    for (detail::TensorNode* n : detail::tensor_node_cache.nodes) delete n;
    detail::tensor_node_cache.nodes.clear();
  }
  detail::release_spare_scalar_chunks();
  detail::release_tape_spares();
  detail::release_walk_scratch();
#ifdef __GLIBC__
  // glibc keeps freed heap pages (the chunks and nodes of a big graph that just died) for
  // reuse; without this they stay resident (3.6 GB after a 10M-node chain) until exit.
  malloc_trim(0);
#endif
}

namespace ag::detail {

std::uint16_t intern_scope(const char* name) {
  std::lock_guard lock(side_tables_mutex);
  auto& names = scope_names();
  std::size_t id = 0;
  while (id < names.size() && names[id] != name) ++id;
  if (id == names.size()) {
    if (names.size() >= 65535) throw Error("ScopeGuard", "more than 65535 distinct scope names");
    names.emplace_back(name);
  }
  return static_cast<std::uint16_t>(id);
}

}  // namespace ag::detail
