// Handles with static storage duration. The thread's caches (tensor nodes, buffers, the
// destruction work list, the scalar pool) are thread-locals, destroyed at exit before any
// global; these globals die after them, and one global's destructor even builds a new graph.
// Passes when it exits 0 with nothing reported by ASan (tools/ci/sanitize.sh runs it there).
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "autograd/autograd.hpp"

namespace {

ag::Tensor global_leaf = ag::ones({3}, ag::float64);
ag::Tensor global_graph;  // an intermediate with inputs and a saved closure
ag::Tensor global_from_thread;
ag::Value global_value = 2.0;
ag::Value global_value_graph;

// Computes with tensors and values while the program is already tearing down.
struct ComputesAtExit {
  ~ComputesAtExit() {
    // Forward only: backward's walk scratch (engine.cpp) is a thread-local of its own.
    const ag::Tensor x = ag::full({4}, 1.5, ag::float64).requires_grad_();
    const ag::Tensor y = (x * x).sum();
    const ag::Value v = ag::Value(3.0) * 2.0 + ag::Value(y);
    if (y.item() != 9.0 || v.data() != 15.0) std::abort();
  }
} computes_at_exit;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "global_handles: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main() {
  const ag::Tensor w = ag::full({3}, 2.0, ag::float64).requires_grad_();
  global_graph = (global_leaf * w).tanh();  // keeps w and its saved values alive past main
  global_value_graph = global_value * global_value + 1.0;
  std::thread([] { global_from_thread = ag::ones({5}) * 4.0; }).join();
  check(global_value_graph.data() == 5.0, "value graph");
  check(global_from_thread.sum().item() == 20.0, "tensor from a thread");
  global_graph.sum().backward(ag::Tensor(), true);
  check(w.grad().defined(), "gradient");
  std::puts("global handles built; exiting with them alive");
  return 0;
}
