// Node memory: the scalar-node pool, iterative destruction, and the label/scope side tables.
#include "node.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"

namespace ag::detail {

const OpInfo kLeafOp{"leaf", nullptr};

namespace {

// Per-thread pool of 48-byte scalar nodes: a free list over chunks that double in size
// (64 KiB first). When every node of the thread is freed, all chunks but the first go back to
// the system, so memory returns to its baseline after a large graph dies.
class ScalarPool {
 public:
  ScalarNode* allocate() {
    ++live_;
    if (free_list_) {
      FreeSlot* slot = free_list_;
      free_list_ = slot->next;
      return reinterpret_cast<ScalarNode*>(slot);
    }
    if (bump_ == bump_end_) grow();
    auto* node = reinterpret_cast<ScalarNode*>(bump_);
    bump_ += sizeof(ScalarNode);
    return node;
  }

  void deallocate(ScalarNode* node) noexcept {
    auto* slot = reinterpret_cast<FreeSlot*>(node);
    slot->next = free_list_;
    free_list_ = slot;
    if (--live_ == 0) shrink();
  }

  ~ScalarPool() {
    if (live_ != 0) return;  // nodes still alive at thread exit: leave their memory be
    for (auto& c : chunks_) std::free(c.memory);
  }

 private:
  struct FreeSlot {
    FreeSlot* next;
  };
  struct Chunk {
    char* memory;
    std::size_t bytes;
  };

  void grow() {
    std::size_t bytes = chunks_.empty() ? (64u << 10) : std::min<std::size_t>(chunks_.back().bytes * 2, 64u << 20);
    bytes -= bytes % sizeof(ScalarNode);
    auto* memory = static_cast<char*>(std::malloc(bytes));
    if (!memory) throw std::bad_alloc();
    chunks_.push_back({memory, bytes});
    bump_ = memory;
    bump_end_ = memory + bytes;
  }

  void shrink() noexcept {
    if (chunks_.empty()) return;
    for (std::size_t i = 1; i < chunks_.size(); ++i) std::free(chunks_[i].memory);
    chunks_.resize(1);
    free_list_ = nullptr;
    bump_ = chunks_[0].memory;
    bump_end_ = bump_ + chunks_[0].bytes;
  }

  FreeSlot* free_list_ = nullptr;
  char* bump_ = nullptr;
  char* bump_end_ = nullptr;
  std::int64_t live_ = 0;
  std::vector<Chunk> chunks_;
};

thread_local ScalarPool scalar_pool;

std::mutex side_tables_mutex;
std::unordered_map<const Node*, std::string>& labels() {
  static auto* table = new std::unordered_map<const Node*, std::string>();
  return *table;
}
std::vector<std::string>& scope_names() {
  static auto* names = new std::vector<std::string>{""};
  return *names;
}
thread_local std::uint16_t current_scope_id = 0;

void free_node(Node* node) noexcept {
  if (node->flags & kLabelled) {
    std::lock_guard lock(side_tables_mutex);
    labels().erase(node);
  }
  if (is_tensor(*node)) {
    delete &as_tensor(*node);  // may release more nodes (captured tensors): they queue up
  } else {
    scalar_pool.deallocate(&as_scalar(*node));
  }
}

}  // namespace

ScalarNode* allocate_scalar_node() { return scalar_pool.allocate(); }
TensorNode* allocate_tensor_node() { return new TensorNode(); }

// Iterative: a 10-million-node chain is freed with a work list, never with recursion.
void destroy(Node* node) noexcept {
  thread_local std::vector<Node*> pending;
  thread_local bool draining = false;
  pending.push_back(node);
  if (draining) return;  // the loop below (further up this stack) will free it
  draining = true;
  while (!pending.empty()) {
    Node* n = pending.back();
    pending.pop_back();
    for (std::size_t i = 0, k = input_count(*n); i < k; ++i) {
      Node* in = input_of(*n, i);
      if (in && --in->refs == 0) pending.push_back(in);
    }
    free_node(n);
  }
  draining = false;
  if (pending.capacity() > 4096) pending.shrink_to_fit();
}

void set_label(Node& n, std::string_view label) {
  std::lock_guard lock(side_tables_mutex);
  labels()[&n] = std::string(label);
  n.flags |= kLabelled;
}

std::string label_of(const Node& n) {
  if (!(n.flags & kLabelled)) return {};
  std::lock_guard lock(side_tables_mutex);
  auto it = labels().find(&n);
  return it == labels().end() ? std::string() : it->second;
}

std::uint16_t current_scope() noexcept { return current_scope_id; }

std::string_view scope_name(std::uint16_t id) {
  std::lock_guard lock(side_tables_mutex);
  return id < scope_names().size() ? std::string_view(scope_names()[id]) : std::string_view();
}

Storage::Storage(std::size_t n, Device d) : data(nullptr), bytes(n), device(d) {
  // 64-byte alignment: whole cache lines, and what vector kernels like.
  data = std::aligned_alloc(64, ((n + 63) / 64) * 64 + (n == 0 ? 64 : 0));
  if (!data) throw std::bad_alloc();
}
Storage::~Storage() { std::free(data); }

}  // namespace ag::detail

namespace ag {

ScopeGuard::ScopeGuard(const char* name) : previous_(detail::current_scope_id) {
  std::lock_guard lock(detail::side_tables_mutex);
  auto& names = detail::scope_names();
  std::size_t id = 0;
  while (id < names.size() && names[id] != name) ++id;
  if (id == names.size()) {
    if (names.size() >= 65535) throw Error("ScopeGuard", "more than 65535 distinct scope names");
    names.emplace_back(name);
  }
  detail::current_scope_id = static_cast<std::uint16_t>(id);
}
ScopeGuard::~ScopeGuard() { detail::current_scope_id = previous_; }

}  // namespace ag
