#pragma once
// The thread budget of the library's kernels (OpenBLAS included). One budget for everything:
// two pools of threads at once oversubscribe a small machine.
//
// parallel_for runs an elementwise loop on the same threads that share large matrix products
// (what nn's optimizers use for their update passes):
//
//   ag::parallel_for(n, 1 << 15, [&](std::int64_t begin, std::int64_t end) {
//     for (std::int64_t k = begin; k < end; ++k) p[k] -= lr * g[k];
//   });
#include <cstdint>
#include <type_traits>

namespace ag {

void set_num_threads(int n);  // n >= 1
int num_threads() noexcept;

namespace detail {
void parallel_pieces(std::int64_t n, std::int64_t grain,
                     void (*body)(void*, std::int64_t, std::int64_t), void* context);
}  // namespace detail

// Calls body(begin, end) on disjoint ranges that cover [0, n) exactly once, on the calling
// thread and, when n >= 2 * grain and num_threads() > 1, on the library's helper threads too
// (a range boundary is a multiple of 64, so that two threads never write one cache line). A
// loop of fewer than 2^20 elements only uses helpers that are awake after a recent job (a large
// matrix product): waking a sleeping one takes longer than such a loop.
// Whoever runs a range, the results are those of one loop over [0, n) when each element's work
// is independent of the others'. Returns when every range has run; the first exception a range
// throws is rethrown here after that. A parallel_for inside a body of a shared one, or while
// another thread's job holds the helpers, runs on its caller alone.
template <class Body>
void parallel_for(std::int64_t n, std::int64_t grain, Body&& body) {
  if (n <= 0) return;
  if (n < 2 * grain) {  // the common small case: no call out of line
    body(std::int64_t{0}, n);
    return;
  }
  using Fn = std::remove_reference_t<Body>;
  detail::parallel_pieces(
      n, grain,
      [](void* context, std::int64_t begin, std::int64_t end) {
        (*static_cast<Fn*>(context))(begin, end);
      },
      const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace ag
