#pragma once
// The threads that share a large matrix product (gemm.cpp) and ag::parallel_for's ranges
// (threads.cpp). The caller claims chunks like the helpers do, so it never waits for a helper
// that has not started (a static split, an OpenMP team, waits for every thread at the barrier),
// only for a chunk a running helper has claimed. On a busy machine that helper can lose its core
// mid-chunk; ShareBackoff answers that.
#include <chrono>
#include <cstdint>

namespace ag::detail {

// Runs chunk(context, i) once for every i in [0, chunks), on this thread and up to `helpers`
// pool threads. Another thread's job in flight, or a share backing off (ShareBackoff):
// everything runs here. A chunk that throws: the first exception is rethrown here once every
// chunk has run.
// wake_sleeping false: share only with helpers that are awake (busy-waiting after a recent job);
// with every helper asleep, everything runs here. Waking a helper costs up to a millisecond on a
// virtual machine (a woken helper's first pieces of an update pass took 1.1-1.5 ms where the
// caller's took 68 us), longer than a short elementwise pass.
void run_chunks(int helpers, int chunks, void (*chunk)(void*, int), void* context,
                bool wake_sleeping = true);

// How long each piece is when `extent` rows (or elements) are cut into `pieces` for run_chunks:
// rounded up to a multiple of `align`, so the last piece may be shorter and there may be fewer.
inline std::int64_t piece_length(std::int64_t extent, std::int64_t pieces, std::int64_t align) {
  return ((extent + pieces - 1) / pieces + align - 1) / align * align;
}

// When sharing loses. A helper can claim a chunk and then lose its core to another process
// before finishing it; the caller then waits for that chunk, and the job takes longer than the
// caller alone would have (measured on a 2-core machine running a 2-job compile: a 411 MFLOP
// product at 1.5 times its one-thread time). A shared job slower than its one-thread estimate
// (the caller's mean chunk time times the chunk count; a job whose chunks the caller ran all
// itself is not judged) runs the following jobs on the caller alone for a window: 10 ms,
// doubled on each further loss up to 640 ms, halved (down to 10 ms) by each job that gained,
// and never shorter than 8 times the losing job. A losing job costs about one job's time more,
// so a busy machine loses at most about 1/8 to the probes, and sharing resumes within a window
// once the cores are free again.
class ShareBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kFirstWindow = std::chrono::milliseconds(10);
  static constexpr Clock::duration kLongestWindow = std::chrono::milliseconds(640);
  static constexpr int kJobsPerWindow = 8;  // a window lasts at least 8 times the losing job

  bool solo(Clock::time_point now) const noexcept { return now < solo_until_; }
  // A shared job that ended at `now`, took `wall`, and would have taken `one_thread` alone.
  void record(Clock::time_point now, Clock::duration wall, Clock::duration one_thread) noexcept;
  Clock::duration window() const noexcept { return window_; }  // the next loss's
  Clock::time_point solo_until() const noexcept { return solo_until_; }

 private:
  Clock::time_point solo_until_{};
  Clock::duration window_ = kFirstWindow;
};

// What the pool did since the process started (all threads' jobs), for benchmarks and reports.
struct PoolStats {
  long long jobs = 0;           // run_chunks calls with helpers >= 1
  long long shared = 0;         // of them, offered to the helpers
  long long backed_off = 0;     // run on the caller alone: a ShareBackoff window
  long long helper_chunks = 0;  // chunks the helpers ran
  long long chunks = 0;         // chunks of all jobs
};
PoolStats pool_stats() noexcept;

}  // namespace ag::detail
