#pragma once
// Kernels compiled for three CPU variants and run in the one picked once for the running CPU:
// baseline x86-64, AVX2+FMA and AVX-512 (target attributes; the library itself is built for
// baseline x86-64). A kernel is a class with a static, always-inline `run<VecBytes>(args...)`
// written with GCC vector types of VecBytes bytes; run_for_cpu<Kernel>(args...) calls it in
// the variant's instantiation. gemm_small.cpp and linear_grad.cpp use it.
namespace ag::detail {

// A vector of VecBytes bytes of T (GCC's vector extension), what a kernel's run<VecBytes> works
// in. A class member because GCC applies a vector_size that depends on a template parameter only
// to a dependent type: a typedef of `double` inside a kernel template would stay a double.
template <class T, int VecBytes>
struct Vec {
  typedef T type __attribute__((vector_size(VecBytes)));
  static constexpr int lanes = VecBytes / static_cast<int>(sizeof(T));
};

// 0 baseline x86-64, 1 AVX2+FMA, 2 AVX-512: the widest the CPU has unless
// AG_SMALL_GEMM_ISA=x86-64 or avx2 asks for less (the tests run every variant that way).
int cpu_variant() noexcept;

// The variants' instantiations: Kernel::run is inlined into each, so it is compiled for it.
// Never inlined themselves, so that a kernel run through run_in_variant stays a function.
template <class Kernel, class... Args>
[[gnu::noinline]] auto run_x86_64(Args... args) {
  return Kernel::template run<16>(args...);
}
template <class Kernel, class... Args>
[[gnu::noinline]] __attribute__((target("avx2,fma"))) auto run_avx2(Args... args) {
  return Kernel::template run<32>(args...);
}
// 512-bit vectors in zmm registers: GCC needs prefer-vector-width=512; clang ignores a target
// string that holds it (the whole attribute: baseline code) and takes min_vector_width instead.
#define AG_AVX512_ISA "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"
#if defined(__clang__)
#define AG_TARGET_AVX512 __attribute__((target(AG_AVX512_ISA), min_vector_width(512)))
#else
#define AG_TARGET_AVX512 __attribute__((target(AG_AVX512_ISA ",prefer-vector-width=512")))
#endif
template <class Kernel, class... Args>
[[gnu::noinline]] AG_TARGET_AVX512 auto run_avx512(Args... args) {
  return Kernel::template run<64>(args...);
}

template <class Kernel, class... Args>
auto run_for_cpu(Args... args) {
  switch (cpu_variant()) {
    case 2:
      return run_avx512<Kernel>(args...);
    case 1:
      return run_avx2<Kernel>(args...);
    default:
      return run_x86_64<Kernel>(args...);
  }
}

// From inside a kernel's run<VecBytes>: Kernel run as a separate function of the same variant.
// GCC spends far longer optimising one huge function than the same code split in several
// (gemm_small.cpp: every tile inlined into one function per variant took minutes to compile).
template <int VecBytes, class Kernel, class... Args>
inline __attribute__((always_inline)) auto run_in_variant(Args... args) {
  if constexpr (VecBytes == 64) {
    return run_avx512<Kernel>(args...);
  } else if constexpr (VecBytes == 32) {
    return run_avx2<Kernel>(args...);
  } else {
    return run_x86_64<Kernel>(args...);
  }
}

}  // namespace ag::detail
