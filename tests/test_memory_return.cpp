// ag::release_cached_memory() gives the memory of a dead graph back to the system: resident
// memory falls back to within 32 MiB of where it was (see test_extremes for what that slack
// covers), with no call to malloc_trim by the user.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "autograd/memory.hpp"

namespace {

constexpr std::int64_t kMiB = 1024 * 1024;

std::int64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  BOOST_FAIL("no VmRSS in /proc/self/status");
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_dead_graph_is_returned_to_the_system) {
  {  // warm-up: first use of the allocator and the thread-locals
    ag::Value x = 1.0;
    (x * 2.0).backward();
    (ag::ones({4}, ag::float64).requires_grad_() * 2.0).sum().backward();
  }
  ag::release_cached_memory();
  const std::int64_t before = resident_bytes();
  std::int64_t peak = 0;
  {
    // Interleaved scalar and small-tensor nodes: the tensors' heap blocks sit between the
    // scalar chunks, so glibc cannot give anything back by shrinking the heap's top alone.
    const ag::Value x = 0.5;
    ag::Value chain = x;
    std::vector<ag::Tensor> keep;
    ag::Tensor t = ag::ones({4}, ag::float64).requires_grad_();
    for (int i = 0; i < 2'000'000; ++i) {
      chain = chain * 1.0000001 + 0.0;
      if (i % 10 == 0) t = t * 1.0;
    }
    chain.backward();
    peak = resident_bytes();
  }
  ag::release_cached_memory();
  const std::int64_t after = resident_bytes();
  std::cout << "RSS " << before / kMiB << " MiB before, " << peak / kMiB << " MiB at peak, "
            << after / kMiB << " MiB after release_cached_memory()\n";
  BOOST_TEST(peak > before + 64 * kMiB);  // the graph really was resident
  BOOST_TEST(after <= before + 32 * kMiB, (after - before) / kMiB << " MiB not returned");
}
