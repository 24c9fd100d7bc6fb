#pragma once
// Gradient recording switch (per thread). Inside a NoGradGuard, ops compute values only and
// record no graph: results are leaves with requires_grad() == false.
namespace ag {

bool grad_enabled() noexcept;

class NoGradGuard {
 public:
  NoGradGuard() noexcept;
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Names the nodes created while it lives (for graph pictures: a module's nodes can be drawn
// as one cluster). Scopes nest; the innermost name wins. Costs nothing per node.
class ScopeGuard {
 public:
  explicit ScopeGuard(const char* name);
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  unsigned short previous_;
};

}  // namespace ag
