// Handles with static storage duration. The thread's caches (tensor nodes, buffers, the
// destruction work list, the scalar pool) are thread-locals, destroyed at exit before any
// global; these globals die after them, and one global's destructor even builds a new graph.
// Passes when it exits 0 with nothing reported by ASan (tools/ci/sanitize.sh runs it there).
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "autograd/autograd.hpp"

namespace {

ag::Tensor global_leaf = ag::ones({3}, ag::float64);
ag::Tensor global_graph;  // an intermediate with inputs and a saved closure
ag::Tensor global_from_thread;
ag::Value global_value = 2.0;
ag::Value global_value_graph;

// Throws the clear ag::Error a walk gives once the thread's walk scratch is gone.
template <class F>
void expect_exiting_error(const char* what, F&& f) {
  try {
    f();
  } catch (const ag::Error& e) {
    if (std::string_view(e.what()).find("thread is exiting") != std::string_view::npos) return;
    std::fprintf(stderr, "global_handles: %s at exit: unexpected error: %s\n", what, e.what());
    std::abort();
  }
  std::fprintf(stderr, "global_handles: %s at exit did not throw\n", what);
  std::abort();
}

// Computes with tensors and values while the program is already tearing down.
struct ComputesAtExit {
  ~ComputesAtExit() {
    const ag::Tensor x = ag::full({4}, 1.5, ag::float64).requires_grad_();
    const ag::Tensor y = (x * x).sum();
    const ag::Value v = ag::Value(3.0) * 2.0 + ag::Value(y);
    if (y.item() != 9.0 || v.data() != 15.0) std::abort();
    // Backward's walk scratch (engine.cpp) is a thread-local, already destroyed: every walk
    // refuses with a clear error instead of touching it, and the graph stays usable forward.
    expect_exiting_error("Tensor::backward", [&] { y.backward(); });
    expect_exiting_error("Value::backward", [&] { v.backward(); });
    expect_exiting_error("create_graph backward", [&] { y.backward(ag::Tensor(), false, true); });
    expect_exiting_error("ag::grad", [&] { ag::grad(y, {x}); });
    expect_exiting_error("graph_size", [&] { ag::graph_size(std::vector<ag::GraphRoot>{y}); });
    if ((y * 2.0).item() != 18.0) std::abort();
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
