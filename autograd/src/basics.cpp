// Small shared pieces: the error type, shapes and the one broadcasting rule, grad mode,
// the thread budget.
#include <cblas.h>
#include <fmt/format.h>

#include <atomic>

#include "autograd/error.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/shape.hpp"
#include "autograd/threads.hpp"

namespace ag {

Error::Error(std::string_view op, std::string_view message)
    : std::runtime_error(fmt::format("ag::{}: {}", op, message)), op_(op) {}

std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing dim counts as 1.
    std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw Error(
          op, fmt::format("shapes {} and {} do not broadcast (dim {}: {} vs {})", to_string(a),
                          to_string(b),
                          static_cast<std::int64_t>(i) - static_cast<std::int64_t>(rank), da, db));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {
thread_local bool grad_mode = true;
std::atomic<int> thread_budget{0};
}  // namespace

bool grad_enabled() noexcept { return grad_mode; }
NoGradGuard::NoGradGuard() noexcept : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }
EnableGradGuard::EnableGradGuard() noexcept : previous_(grad_mode) { grad_mode = true; }
EnableGradGuard::~EnableGradGuard() { grad_mode = previous_; }

void set_num_threads(int n) {
  if (n < 1) throw Error("set_num_threads", fmt::format("thread count must be >= 1, got {}", n));
  thread_budget = n;
  openblas_set_num_threads(n);
}
int num_threads() noexcept {
  int n = thread_budget;
  return n > 0 ? n : openblas_get_num_threads();
}

}  // namespace ag
