// run_chunks: a job is a ticket (generation, chunk count, next chunk) claimed by compare-and-swap,
// so a helper that wakes late finds the generation moved on and touches nothing. The caller times
// its own chunks and the whole job for ShareBackoff.
#include "gemm_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace ag::detail {

void ShareBackoff::record(Clock::time_point now, Clock::duration wall,
                          Clock::duration one_thread) noexcept {
  if (wall <= one_thread) {
    window_ = std::max(window_ / 2, kFirstWindow);
    return;
  }
  solo_until_ = now + std::max(window_, kJobsPerWindow * wall);
  window_ = std::min(2 * window_, kLongestWindow);
}

namespace {

// A helper's busy wait before it sleeps. A training step's shared jobs (its large products, the
// optimizer's update passes) come a few hundred microseconds apart: a helper that slept after
// 50 us was woken for each, too late for most (the 2-thread batch-128 MLP step, with the rule
// below: 780 -> 671 us).
constexpr auto kSpin = std::chrono::milliseconds(1);

std::uint64_t pack(std::uint32_t generation, std::uint32_t chunks, std::uint32_t next) {
  return static_cast<std::uint64_t>(generation) << 32 | chunks << 16 | next;
}

class Pool {
 public:
  void run(int helpers, int chunks, void (*chunk)(void*, int), void* context, bool wake_sleeping) {
    if (helpers >= 1) jobs_.fetch_add(1, std::memory_order_relaxed);
    chunks_.fetch_add(chunks, std::memory_order_relaxed);
    // A job submitted from inside a chunk of a shared job that the submitting thread runs: that
    // thread holds submit_ already (try_lock by its owner is undefined), so it runs the job alone.
    const bool nested = submitter_.load(std::memory_order_relaxed) == std::this_thread::get_id();
    std::unique_lock lock(submit_, std::defer_lock);
    if (!nested) (void)lock.try_lock();
    const auto start = Clock::now();
    const bool backing_off = lock.owns_lock() && backoff_.solo(start);
    const bool none_awake = !wake_sleeping && awake_.load(std::memory_order_relaxed) == 0;
    if (!lock.owns_lock() || helpers < 1 || backing_off || none_awake) {
      if (backing_off && helpers >= 1) backed_off_.fetch_add(1, std::memory_order_relaxed);
      // Released first: a job nested in one of these chunks must not try_lock a mutex its own
      // thread holds, and another thread may share the helpers meanwhile.
      if (lock.owns_lock()) lock.unlock();
      run_alone(chunks, chunk, context);
      return;
    }
    shared_.fetch_add(1, std::memory_order_relaxed);
    submitter_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    struct Forget {  // on every exit, before the lock is released
      std::atomic<std::thread::id>& submitter;
      ~Forget() { submitter.store(std::thread::id(), std::memory_order_relaxed); }
    } forget{submitter_};
    while (started_ < helpers) {  // detached: they sleep in a futex at exit
      std::thread([this, index = started_] { serve(index); }).detach();
      ++started_;
    }
    chunk_ = chunk;
    context_ = context;
    helpers_ = helpers;
    done_.store(0, std::memory_order_relaxed);
    const std::uint32_t generation = ++generation_count_;
    ticket_.store(pack(generation, static_cast<std::uint32_t>(chunks), 0),
                  std::memory_order_release);
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
    const Own own = work(generation, true);
    // What is left was claimed by a running helper: wait for it, never for one still asleep.
    while (done_.load(std::memory_order_acquire) < chunks) std::this_thread::yield();
    // A job the helpers took no part in (the caller claimed every chunk before one came) neither
    // gained nor lost by sharing: only jobs that were really shared are judged.
    if (own.chunks > 0 && own.chunks < chunks) {
      const auto end = Clock::now();
      backoff_.record(end, end - start, own.time / own.chunks * chunks);
    }
    if (failed_.load(std::memory_order_acquire)) {
      failed_.store(false, std::memory_order_relaxed);
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
  }

 private:
  using Clock = ShareBackoff::Clock;
  // Every chunk on the caller, with a shared job's rule for exceptions: the first is rethrown
  // once all chunks have run, so a job's outcome does not depend on who ran it.
  static void run_alone(int chunks, void (*chunk)(void*, int), void* context) {
    std::exception_ptr first;
    for (int i = 0; i < chunks; ++i) {
      try {
        chunk(context, i);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
  }
  struct Own {  // the chunks a thread ran of one job, and their time (timed by the caller only)
    int chunks = 0;
    Clock::duration time{};
  };

  // Claims and runs chunks of this generation's job until none is left.
  Own work(std::uint32_t generation, bool caller) {
    Own own;
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const auto chunks = static_cast<std::uint32_t>(t >> 16 & 0xffff);
      const auto next = static_cast<std::uint32_t>(t & 0xffff);
      if (static_cast<std::uint32_t>(t >> 32) != generation || next >= chunks) return own;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
      // The job cannot end before this chunk is done: its fields are this generation's.
      const auto begin = caller ? Clock::now() : Clock::time_point{};
      try {
        chunk_(context_, static_cast<int>(next));
      } catch (...) {  // the caller rethrows it once every claimed chunk has finished
        bool expected = false;
        if (failed_.compare_exchange_strong(expected, true)) error_ = std::current_exception();
      }
      ++own.chunks;
      if (caller) {
        own.time += Clock::now() - begin;
      } else {
        helper_chunks_.fetch_add(1, std::memory_order_relaxed);
      }
      done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void serve(int index) {
    std::uint32_t seen = wake_.load(std::memory_order_acquire);
    awake_.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (wake_.load(std::memory_order_acquire) == seen &&
             std::chrono::steady_clock::now() < until) {
      }
      if (wake_.load(std::memory_order_acquire) == seen) {
        awake_.fetch_sub(1, std::memory_order_relaxed);
        wake_.wait(seen, std::memory_order_acquire);
        awake_.fetch_add(1, std::memory_order_relaxed);
      }
      seen = wake_.load(std::memory_order_acquire);
      const std::uint64_t t = ticket_.load(std::memory_order_acquire);
      if (index < helpers_.load(std::memory_order_relaxed))
        work(static_cast<std::uint32_t>(t >> 32), false);
    }
  }

  std::mutex submit_;                         // one job at a time
  std::atomic<std::thread::id> submitter_{};  // the thread that holds submit_ for a shared job
  ShareBackoff backoff_;                      // read and written by the job's caller, under submit_
  int started_ = 0;
  std::uint32_t generation_count_ = 0;
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<std::uint32_t> wake_{0};
  std::atomic<int> awake_{0};  // helpers busy-waiting or working, not asleep (a hint)
  std::atomic<int> done_{0};
  std::atomic<int> helpers_{0};
  std::atomic<bool> failed_{false};  // a chunk threw: error_ holds the first exception
  std::exception_ptr error_;
  void (*chunk_)(void*, int) = nullptr;  // written before the ticket (release), read after a claim
  void* context_ = nullptr;

 public:
  std::atomic<long long> jobs_{0}, shared_{0}, backed_off_{0}, helper_chunks_{0}, chunks_{0};
};

Pool& pool() {
  static Pool* pool = new Pool;  // never destroyed: its threads outlive main
  return *pool;
}

}  // namespace

void run_chunks(int helpers, int chunks, void (*chunk)(void*, int), void* context,
                bool wake_sleeping) {
  pool().run(helpers, chunks, chunk, context, wake_sleeping);
}

PoolStats pool_stats() noexcept {
  const Pool& p = pool();
  constexpr auto relaxed = std::memory_order_relaxed;
  return {p.jobs_.load(relaxed), p.shared_.load(relaxed), p.backed_off_.load(relaxed),
          p.helper_chunks_.load(relaxed), p.chunks_.load(relaxed)};
}

}  // namespace ag::detail
