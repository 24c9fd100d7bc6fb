// run_chunks: a job is a ticket (generation, chunk count, next chunk) claimed by compare-and-swap,
// so a helper that wakes late finds the generation moved on and touches nothing.
#include "gemm_pool.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace ag::detail {
namespace {

constexpr auto kSpin = std::chrono::microseconds(50);  // a helper's busy wait before sleeping

std::uint64_t pack(std::uint32_t generation, std::uint32_t chunks, std::uint32_t next) {
  return static_cast<std::uint64_t>(generation) << 32 | chunks << 16 | next;
}

class Pool {
 public:
  void run(int helpers, int chunks, void (*chunk)(void*, int), void* context) {
    std::unique_lock lock(submit_, std::try_to_lock);
    if (!lock.owns_lock() || helpers < 1) {
      for (int i = 0; i < chunks; ++i) chunk(context, i);
      return;
    }
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
    work(generation);
    // What is left was claimed by a running helper: wait for it, never for one still asleep.
    while (done_.load(std::memory_order_acquire) < chunks) std::this_thread::yield();
    if (failed_.load(std::memory_order_acquire)) {
      failed_.store(false, std::memory_order_relaxed);
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
  }

 private:
  // Claims and runs chunks of this generation's job until none is left.
  void work(std::uint32_t generation) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const auto chunks = static_cast<std::uint32_t>(t >> 16 & 0xffff);
      const auto next = static_cast<std::uint32_t>(t & 0xffff);
      if (static_cast<std::uint32_t>(t >> 32) != generation || next >= chunks) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
      // The job cannot end before this chunk is done: its fields are this generation's.
      try {
        chunk_(context_, static_cast<int>(next));
      } catch (...) {  // the caller rethrows it once every claimed chunk has finished
        bool expected = false;
        if (failed_.compare_exchange_strong(expected, true)) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void serve(int index) {
    std::uint32_t seen = wake_.load(std::memory_order_acquire);
    for (;;) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (wake_.load(std::memory_order_acquire) == seen &&
             std::chrono::steady_clock::now() < until) {
      }
      wake_.wait(seen, std::memory_order_acquire);
      seen = wake_.load(std::memory_order_acquire);
      const std::uint64_t t = ticket_.load(std::memory_order_acquire);
      if (index < helpers_.load(std::memory_order_relaxed))
        work(static_cast<std::uint32_t>(t >> 32));
    }
  }

  std::mutex submit_;  // one job at a time
  int started_ = 0;
  std::uint32_t generation_count_ = 0;
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<std::uint32_t> wake_{0};
  std::atomic<int> done_{0};
  std::atomic<int> helpers_{0};
  std::atomic<bool> failed_{false};  // a chunk threw: error_ holds the first exception
  std::exception_ptr error_;
  void (*chunk_)(void*, int) = nullptr;  // written before the ticket (release), read after a claim
  void* context_ = nullptr;
};

}  // namespace

void run_chunks(int helpers, int chunks, void (*chunk)(void*, int), void* context) {
  static Pool* pool = new Pool;  // never destroyed: its threads outlive main
  pool->run(helpers, chunks, chunk, context);
}

}  // namespace ag::detail
