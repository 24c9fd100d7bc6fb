// The thread budget shared by BLAS and the library's own parallel loops.
#include "autograd/threads.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "autograd/error.hpp"
#include "gemm_pool.hpp"

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

namespace ag::detail {

namespace {
struct Pieces {
  std::int64_t n, step;
  void (*body)(void*, std::int64_t, std::int64_t);
  void* context;
};
}  // namespace

void parallel_pieces(std::int64_t n, std::int64_t grain,
                     void (*body)(void*, std::int64_t, std::int64_t), void* context) {
  const int threads = num_threads();
  if (threads == 1) {
    body(context, 0, n);
    return;
  }
  // Two pieces per thread, as a shared product has: a thread that gets its core late leaves its
  // pieces to the others. No piece but the last has fewer than `grain` elements, and the pool's
  // tickets count at most 65535 pieces.
  const std::int64_t wanted =
      std::min<std::int64_t>(std::min(2 * threads, 4096), n / std::max<std::int64_t>(grain, 1));
  constexpr std::int64_t kAlign = 64;  // 256 bytes of float32: whole cache lines per piece
  const std::int64_t step = piece_length(n, wanted, kAlign);
  Pieces pieces{n, step, body, context};
  // A loop shorter than ~2^20 elements takes less time than waking a sleeping helper: it shares
  // only with helpers still awake after a recent job (a training step's products).
  constexpr std::int64_t kWakeElements = std::int64_t{1} << 20;
  run_chunks(
      threads - 1, static_cast<int>((n + step - 1) / step),
      [](void* c, int piece) {
        const Pieces& p = *static_cast<const Pieces*>(c);
        const std::int64_t begin = piece * p.step;
        p.body(p.context, begin, std::min(p.n, begin + p.step));
      },
      &pieces, /*wake_sleeping=*/n >= kWakeElements);
}

}  // namespace ag::detail
