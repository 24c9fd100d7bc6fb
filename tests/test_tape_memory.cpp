// ag::Tape's memory: a 10M-op chain without recursion that gives its memory back, and
// operands from outside the scope kept once, so that a node's 48 bytes are all an op costs, and
// memory reused by the next graph.
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "test_support.hpp"

using ag::Tape;
using ag::Value;

BOOST_AUTO_TEST_CASE(a_ten_million_op_chain_without_recursion_or_leaks) {
  const std::int64_t n = 5'000'000;  // two ops per step
  Value w(1.0 - 1e-7), b(1e-7);
  ag::release_cached_memory();
  const std::int64_t before = ag_test::resident_bytes();
  std::int64_t during = 0;
  {
    Tape tape;
    Value x = 0.5;
    for (std::int64_t i = 0; i < n; ++i) x = x * w + b;
    BOOST_TEST(tape.size() == static_cast<std::size_t>(2 * n + 1));
    x.backward();
    during = ag_test::resident_bytes();
    // x_n = w^n x0 + b (1 - w^n) / (1 - w); dx/dx0 = w^n
    const double wn = std::pow(1.0 - 1e-7, static_cast<double>(n));
    BOOST_TEST(std::abs(x.data() - (wn * 0.5 + (1.0 - wn))) < 1e-9);
    BOOST_TEST(std::abs(b.grad() - (1.0 - wn) / 1e-7) < 1e-8 * b.grad());
  }
  ag::release_cached_memory();
  const std::int64_t after = ag_test::resident_bytes();
  BOOST_TEST_MESSAGE("RSS before " << before << ", during " << during << ", after " << after);
  BOOST_TEST(during - before > 2 * n * 40);  // the nodes did take memory (48 B each)
#if !AG_TEST_ASAN  // ASan keeps freed memory (quarantine): RSS says nothing there
  BOOST_TEST(after - before < 64 << 20);  // and the scope gave it back
#endif
}

BOOST_AUTO_TEST_CASE(parameters_from_outside_are_kept_once_per_scope) {
  // More parameters than the arena's inline cache of recent ones, used over and over: each
  // is retained once, so resident memory grows by the nodes alone.
  constexpr int kParams = 16;
  constexpr std::int64_t kOps = 2'000'000;
  std::vector<Value> p;
  for (int k = 0; k < kParams; ++k) p.emplace_back(1.0 + 1e-7 * (k + 1));
  ag::release_cached_memory();
  const std::int64_t before = ag_test::resident_bytes();
  std::int64_t during = 0;
  double x_value = 0.0;
  {
    Tape tape;
    Value x = 0.5;
    for (std::int64_t i = 0; i < kOps; ++i) x = x * p[i % kParams];
    during = ag_test::resident_bytes();
    x.backward();
    x_value = x.data();
    // x = 0.5 prod p_k^(kOps / kParams): dx/dp_k = x (kOps / kParams) / p_k
    double want = 0.5;
    for (int k = 0; k < kParams; ++k) want *= std::pow(p[k].data(), kOps / kParams);
    BOOST_TEST(std::abs(x_value - want) < 1e-9 * want);
    const double dp3 = x_value * (kOps / kParams) / p[3].data();
    BOOST_TEST(std::abs(p[3].grad() - dp3) < 1e-9 * dp3);
  }
  const double per_op = static_cast<double>(during - before) / static_cast<double>(kOps);
  BOOST_TEST_MESSAGE("resident bytes per op: " << per_op);
  BOOST_TEST(per_op > 40.0);  // the nodes did take memory (48 B each)
#if !AG_TEST_ASAN             // ASan's shadow memory and quarantine make RSS meaningless
  BOOST_TEST(per_op < 52.0);  // a second copy of each parameter per op would be 56
#endif
}

// The second of two equal graphs reuses the first one's memory, on a tape and in the pool
// (autograd/memory.hpp): it touches no fresh pages, so resident memory does not grow again.
BOOST_AUTO_TEST_CASE(a_second_equal_graph_reuses_the_first_ones_memory) {
  constexpr std::int64_t kSteps = 500'000;  // 10^6 nodes, 48 MB
  Value w(1.0 - 1e-7), b(1e-7);
  for (const bool on_tape : {true, false}) {
    BOOST_TEST_CONTEXT((on_tape ? "on a tape" : "in the pool")) {
      ag::release_cached_memory();
      std::int64_t growth[2] = {0, 0};
      double grads[2] = {0.0, 0.0};
      for (int run = 0; run < 2; ++run) {
        const std::int64_t before = ag_test::resident_bytes();
        std::optional<Tape> tape;
        if (on_tape) tape.emplace();
        Value x = 0.5;
        for (std::int64_t i = 0; i < kSteps; ++i) x = x * w + b;
        growth[run] = ag_test::resident_bytes() - before;
        x.backward();
        grads[run] = b.grad();
        b.zero_grad();
      }
      BOOST_TEST_MESSAGE("resident growth: first graph " << growth[0] << ", second " << growth[1]);
      BOOST_TEST(grads[1] == grads[0]);
      // db = sum of w^k for k < n = (1 - w^n) / (1 - w)
      const double want = (1.0 - std::pow(w.data(), static_cast<double>(kSteps))) / 1e-7;
      BOOST_TEST(std::abs(grads[0] - want) < 1e-6 * want);
      BOOST_TEST(growth[0] > 2 * kSteps * 40);
#if !AG_TEST_ASAN  // ASan's shadow memory and quarantine make RSS meaningless
      BOOST_TEST(growth[1] < growth[0] / 8);
#endif
    }
  }
  ag::release_cached_memory();
}
