#pragma once
// Which library computed the matrix products so far (matmul, linear and their gradients), for
// benchmark reports: e.g. "float32: oneDNN 2.6.3 matmul (brg:avx512_core) ...; float64: OpenBLAS
// (core SkylakeX)". The choice itself is made when the library is built (AG_GEMM).
#include <string>

namespace ag {
std::string gemm_backend();
// How the large float32 products were shared between threads so far (a thread budget above one,
// ag::set_num_threads): e.g. "products split 120: shared 110, alone 10 (back-off); pieces 440,
// helpers ran 201". Alone: in a back-off window, after a shared product took longer than one
// thread would have (a busy machine, where the helper thread got its core late).
std::string gemm_sharing();
}  // namespace ag
