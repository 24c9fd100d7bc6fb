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

// The opposite of NoGradGuard (PyTorch's enable_grad): ops record again while it lives, e.g.
// inside a function that builds a graph even when called under NoGradGuard.
class EnableGradGuard {
 public:
  EnableGradGuard() noexcept;
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

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
