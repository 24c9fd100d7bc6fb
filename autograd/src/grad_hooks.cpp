// Grad-ready hooks: functions a leaf runs when backward has finished its gradient.
// Kept in a side table keyed by node, as labels are: hooks are rare (one per parameter in
// distributed training), so nodes do not grow a field for them; a flag bit says "look here".
#include <fmt/format.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/error.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"

namespace ag::detail {

namespace {

struct GradHook {
  std::uint64_t id;
  std::function<void(const Tensor&)> fn;
};

std::mutex hooks_mutex;
std::uint64_t next_hook_id = 1;
std::unordered_map<const Node*, std::vector<GradHook>>& hook_table() {
  static auto* table = new std::unordered_map<const Node*, std::vector<GradHook>>();
  return *table;
}

}  // namespace

void run_grad_ready_hooks(Node& leaf) {
  std::vector<GradHook> hooks;
  {
    // A copy: a hook may add or remove hooks, and runs without the lock held.
    std::lock_guard lock(hooks_mutex);
    auto it = hook_table().find(&leaf);
    if (it == hook_table().end()) return;
    hooks = it->second;
  }
  retain(&leaf);
  const Tensor self = Tensor::adopt(&leaf);
  for (const GradHook& hook : hooks) hook.fn(self);
}

void drop_grad_ready_hooks(const Node& leaf) noexcept {
  std::lock_guard lock(hooks_mutex);
  hook_table().erase(&leaf);
}

}  // namespace ag::detail

namespace ag {

using namespace detail;

std::uint64_t Tensor::add_grad_ready_hook(std::function<void(const Tensor& leaf)> hook) {
  Node& n = *checked("add_grad_ready_hook", *this).node();
  if (!(n.flags & kLeaf) || !(n.flags & kRequiresGrad)) {
    throw Error("add_grad_ready_hook",
                fmt::format("the tensor of shape {} is {}: only a leaf that requires grad has a "
                            "gradient that backward finishes",
                            to_string(shape()),
                            (n.flags & kLeaf) ? "a leaf that does not require grad"
                                              : "the result of an op, not a leaf"));
  }
  if (!hook) throw Error("add_grad_ready_hook", "got an empty function");
  std::lock_guard lock(hooks_mutex);
  const std::uint64_t id = next_hook_id++;
  hook_table()[&n].push_back({id, std::move(hook)});
  n.flags |= kGradHooks;
  return id;
}

void Tensor::remove_grad_ready_hook(std::uint64_t id) {
  Node& n = *checked("remove_grad_ready_hook", *this).node();
  if (!(n.flags & kGradHooks)) return;
  std::lock_guard lock(hooks_mutex);
  auto it = hook_table().find(&n);
  if (it == hook_table().end()) return;
  std::erase_if(it->second, [id](const GradHook& h) { return h.id == id; });
  if (it->second.empty()) {
    hook_table().erase(it);
    n.flags &= static_cast<std::uint8_t>(~kGradHooks);
  }
}

}  // namespace ag
