// apply_epilogue (gemm_epilogue.hpp) in each CPU variant (cpu_variant.hpp).
#include "gemm_epilogue.hpp"

#include "cpu_variant.hpp"

namespace ag::detail {
namespace {

struct EpilogueRows {
  template <int VecBytes, class T>
  static inline __attribute__((always_inline)) void run(T* C, std::int64_t ldc, std::int64_t m,
                                                        std::int64_t n, const Epilogue<T>* e) {
    epilogue_rows<T, VecBytes>(C, ldc, m, n, *e);
  }
};

}  // namespace

void apply_epilogue(float* C, std::int64_t ldc, std::int64_t m, std::int64_t n,
                    const Epilogue<float>& e) {
  run_for_cpu<EpilogueRows>(C, ldc, m, n, &e);
}
void apply_epilogue(double* C, std::int64_t ldc, std::int64_t m, std::int64_t n,
                    const Epilogue<double>& e) {
  run_for_cpu<EpilogueRows>(C, ldc, m, n, &e);
}

}  // namespace ag::detail
