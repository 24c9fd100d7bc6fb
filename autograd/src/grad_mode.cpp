// Per-thread recording switches: grad mode (NoGradGuard) and the current scope (ScopeGuard).
#include "autograd/grad_mode.hpp"

#include "autograd/error.hpp"
#include "node.hpp"

namespace ag {

using detail::grad_mode;

bool grad_enabled() noexcept { return grad_mode; }
NoGradGuard::NoGradGuard() noexcept : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }
EnableGradGuard::EnableGradGuard() noexcept : previous_(grad_mode) { grad_mode = true; }
EnableGradGuard::~EnableGradGuard() { grad_mode = previous_; }

ScopeGuard::ScopeGuard(const char* name) : previous_(detail::current_scope()) {
  if (name == nullptr) throw Error("ScopeGuard", "the scope name is a null pointer");
  detail::set_current_scope(detail::intern_scope(name));
}
ScopeGuard::~ScopeGuard() { detail::set_current_scope(previous_); }

}  // namespace ag
