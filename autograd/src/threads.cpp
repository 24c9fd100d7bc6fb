// The thread budget shared by BLAS and the library's own parallel loops.
#include "autograd/threads.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <atomic>

#include "autograd/error.hpp"

namespace ag {

namespace {
std::atomic<int> thread_budget{0};
}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw Error("set_num_threads", fmt::format("thread count must be >= 1, got {}", n));
  // OpenBLAS's own count is set by each CBLAS product that runs (gemm.cpp), not here: setting
  // it starts OpenBLAS's workers, which spin on sched_yield for a while and took the core the
  // float32 products' pool needs (a 2-thread MLP's first step went from 6 to 50 ms).
  thread_budget = n;
}
int num_threads() noexcept {
  int n = thread_budget;
  if (n > 0) return n;
  // OpenBLAS's count as it started (OPENBLAS_NUM_THREADS, else the cores): read once, since
  // detail::gemm lowers OpenBLAS's own count for small products.
  static const int initial = openblas_get_num_threads();
  return initial;
}

}  // namespace ag
