#pragma once
// Which library computed the matrix products so far (matmul, linear and their gradients), for
// benchmark reports: e.g. "float32: oneDNN 2.6.3 matmul (brg:avx512_core) ...; float64: OpenBLAS
// (core SkylakeX)". The choice itself is made when the library is built (AG_GEMM).
#include <string>

namespace ag {
std::string gemm_backend();
}  // namespace ag
