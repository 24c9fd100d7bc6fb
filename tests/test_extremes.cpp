// Extremes: a 10-million-node scalar chain and 1-million-way fan-ins build, backpropagate and
// free (iteratively: no recursion anywhere), and the process's resident memory returns to its
// baseline afterwards.
//
// RSS slack: after the graphs die, what stays resident is the scalar pool's first 64 KiB chunk,
// the backward engine's per-thread scratch (its walk order and DFS stack are kept up to 2^20
// entries: 8 + 16 MiB), up to 4096 cached tensor node blocks per thread, and glibc's arena
// bookkeeping. The buffer cache is released with ag::release_cached_memory and glibc's free
// small blocks with malloc_trim(0), so the figure is what the library holds. 32 MiB covers
// that; a leak of the 10M-node chain alone would be ~480 MB, of the 1M tensors ~300 MB. And
// the work runs twice: the second run must not end higher than the first (no growth).
#include <malloc.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/memory.hpp"
#include "test_support.hpp"

namespace {

constexpr std::int64_t kMiB = 1024 * 1024;
constexpr std::int64_t kSlack = 32 * kMiB;

using ag_test::resident_bytes;

std::int64_t settled_resident_bytes() {
  ag::release_cached_memory();
  malloc_trim(0);
  return resident_bytes();
}

// Measures RSS around `work` (run twice), which must free everything it builds.
void expect_memory_returns(const char* what, auto&& work) {
  const std::int64_t before = settled_resident_bytes();
  std::int64_t after_first = 0;
  for (int run = 0; run < 2; ++run) {
    const std::int64_t peak = work();
    const std::int64_t after_raw = resident_bytes();
    const std::int64_t after = settled_resident_bytes();
    std::cout << what << " (run " << run + 1 << "): RSS " << before / kMiB << " MiB before, "
              << peak / kMiB << " MiB at peak, " << after_raw / kMiB << " MiB after ("
              << after / kMiB << " MiB after malloc_trim)\n";
    BOOST_TEST(peak > before + kSlack);  // the graph really was resident
    BOOST_TEST(after <= before + kSlack,
               what << ": " << (after - before) / kMiB << " MiB not returned");
    if (run == 0) after_first = after;
    if (run == 1) BOOST_TEST(after <= after_first + kMiB, what << ": grew from run 1 to run 2");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(warm_up) {
  // First use of the allocator, BLAS, thread-locals: not part of any measurement.
  ag::Value x = 1.0;
  auto y = x * 2.0 + 1.0;
  y.backward();
  auto t = ag::ones({4}, ag::float64).requires_grad_();
  ag::sum(ag::cat({t, t}, 0)).backward();
  BOOST_TEST(x.grad() == 2.0);
}

// The chain's input lives on after the graph (as a model's parameters do).
BOOST_AUTO_TEST_CASE(ten_million_node_scalar_chain) {
  constexpr int kNodes = 10'000'000;
  ag::Value x = 1.0;
  expect_memory_returns("10M-node scalar chain, input outliving it", [&] {
    ag::Value acc = x;
    for (int i = 0; i < kNodes / 2; ++i) acc = acc * 0.9999999 + 1e-7;  // two nodes per step
    x.zero_grad();
    acc.backward();
    const std::int64_t peak = resident_bytes();
    // d acc / dx = 0.9999999^(5e6).
    BOOST_TEST(x.grad() == std::pow(0.9999999, kNodes / 2), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(std::isfinite(acc.data()));
    BOOST_TEST(ag::graph_size(std::vector<ag::GraphRoot>{acc}) ==
               static_cast<std::size_t>(kNodes) + 1);
    return peak;  // acc dies here: 10M nodes freed iteratively
  });
}

// The same chain with every Value of the thread dying with it.
BOOST_AUTO_TEST_CASE(ten_million_node_scalar_chain_all_freed) {
  constexpr int kNodes = 10'000'000;
  expect_memory_returns("10M-node scalar chain, all freed", [&] {
    ag::Value x = 1.0;
    ag::Value acc = x;
    for (int i = 0; i < kNodes / 2; ++i) acc = acc * 0.9999999 + 1e-7;
    acc.backward();
    const std::int64_t peak = resident_bytes();
    BOOST_TEST(x.grad() == std::pow(0.9999999, kNodes / 2), boost::test_tools::tolerance(1e-9));
    return peak;
  });
}

BOOST_AUTO_TEST_CASE(million_way_value_fan_in_and_fan_out) {
  constexpr int kWays = 1'000'000;
  expect_memory_returns("1M-way Value fan-in/fan-out", [&] {
    std::vector<ag::Value> leaves;
    leaves.reserve(kWays);
    for (int i = 0; i < kWays; ++i) leaves.emplace_back(i % 7 * 0.25);
    ag::Value shared = 0.5;  // used by every term: its gradient sums a million contributions
    ag::Value total = 0.0;
    for (int i = 0; i < kWays; ++i) total = total + leaves[i] * shared;
    total.backward();
    const std::int64_t peak = resident_bytes();
    bool all_half = true;
    for (const auto& v : leaves) all_half = all_half && v.grad() == 0.5;
    BOOST_TEST(all_half);
    double expected = 0.0;  // sum of the leaves' data, in the same order as the graph's sum
    for (const auto& v : leaves) expected += v.data();
    BOOST_TEST(shared.grad() == expected, boost::test_tools::tolerance(1e-12));
    return peak;
  });
}

BOOST_AUTO_TEST_CASE(million_way_tensor_fan_in) {
  constexpr int kWays = 1'000'000;
  expect_memory_returns("1M-way tensor fan-in (cat of 1M tensors)", [&] {
    std::vector<ag::Tensor> parts;
    parts.reserve(kWays);
    for (int i = 0; i < kWays; ++i)
      parts.push_back(ag::full({1}, i % 5, ag::float64).requires_grad_());
    auto joined = ag::cat(parts, 0);  // one node with a million inputs
    auto loss = ag::sum(joined * joined);
    loss.backward();
    const std::int64_t peak = resident_bytes();
    bool right = true;
    for (int i = 0; i < kWays; ++i) right = right && parts[i].grad().item() == 2.0 * (i % 5);
    BOOST_TEST(right);
    BOOST_TEST(loss.item() == 6.0 * kWays);  // 0+1+4+9+16 = 30 per 5 parts
    return peak;
  });
}

BOOST_AUTO_TEST_CASE(million_tensor_chain) {
  constexpr int kLength = 1'000'000;
  expect_memory_returns("1M-node tensor chain", [&] {
    auto x = ag::ones({2}, ag::float64).requires_grad_();
    ag::Tensor acc = x;
    for (int i = 0; i < kLength; ++i) acc = acc + 1.0;
    ag::sum(acc).backward();
    const std::int64_t peak = resident_bytes();
    BOOST_TEST(x.grad().to_vector() == std::vector<double>({1.0, 1.0}));
    BOOST_TEST(acc.to_vector()[0] == 1.0 + kLength);
    return peak;
  });
}
