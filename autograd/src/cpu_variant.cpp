// Picks the CPU variant of cpu_variant.hpp's kernels once, from what the running CPU supports.
#include "cpu_variant.hpp"

#include <cstdlib>
#include <cstring>

namespace ag::detail {
namespace {

// The widest variant the CPU runs; AG_SMALL_GEMM_ISA=x86-64 or avx2 asks for a narrower one,
// never for one the CPU lacks.
int detect_variant() noexcept {
  __builtin_cpu_init();
  int best = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = 1;
  if (best == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) {
    best = 2;
  }
  const char* asked = std::getenv("AG_SMALL_GEMM_ISA");
  if (asked && std::strcmp(asked, "x86-64") == 0) return 0;
  if (asked && std::strcmp(asked, "avx2") == 0 && best == 2) return 1;
  return best;
}

}  // namespace

int cpu_variant() noexcept {
  static const int chosen = detect_variant();
  return chosen;
}

}  // namespace ag::detail
