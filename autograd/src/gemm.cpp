// detail::gemm: oneDNN's matmul for float32 when built with it (AG_GEMM_ONEDNN), CBLAS otherwise
// and for float64 (oneDNN has no float64 matmul on CPUs). docs/benchmarks.md: why.
#include "gemm.hpp"

#include <cblas.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "autograd/error.hpp"
#include "autograd/gemm_backend.hpp"
#include "autograd/threads.hpp"
#include "gemm_epilogue.hpp"
#include "gemm_pool.hpp"
#include "gemm_small.hpp"

#ifdef AG_GEMM_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
// OpenMP's per-thread team size: oneDNN (OpenMP runtime) sizes its parallel regions by it.
extern "C" int omp_get_max_threads();
extern "C" void omp_set_num_threads(int);
#endif

extern "C" char* openblas_get_corename();
extern "C" char* openblas_get_config();

namespace ag::detail {
namespace {

// The kernels that have run, for gemm_backend(): rare insertions (a new product shape).
struct KernelLog {
  std::mutex mutex;
  std::set<std::string> float32, float64;
};
KernelLog& kernel_log() {
  static KernelLog* log = new KernelLog;  // never destroyed: gemm may run during teardown
  return *log;
}
void note_kernel(std::set<std::string> KernelLog::*which, std::string name) {
  auto& log = kernel_log();
  std::lock_guard lock(log.mutex);
  (log.*which).insert(std::move(name));
}
std::string openblas_name() { return fmt::format("OpenBLAS (core {})", openblas_get_corename()); }

// OpenBLAS's thread count is process-wide: set it only when it differs from what this call needs.
void set_blas_threads(int threads) {
  if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
}

template <class T>
void cblas_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
                const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C,
                std::int64_t ldc) {
  static thread_local bool noted = false;  // per thread: the log's lock stays off the hot path
  if (!noted) {
    note_kernel(std::is_same_v<T, float> ? &KernelLog::float32 : &KernelLog::float64,
                openblas_name());
    noted = true;
  }
  set_blas_threads(gemm_threads(m, n, k, kGemmThreadingFlops));
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}

#ifdef AG_GEMM_ONEDNN
// One matmul primitive per product shape, threads and scaling, per thread (graphs belong to one
// thread; no lock on the hot path). Its memory objects are rebound to each call's pointers.
struct MatmulKey {
  bool trans_a, trans_b, scaled, accumulate;
  int threads;
  std::int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  bool operator==(const MatmulKey&) const = default;
};
struct MatmulKeyHash {
  std::size_t operator()(const MatmulKey& key) const noexcept {
    std::size_t h = (key.trans_a ? 1u : 0u) | (key.trans_b ? 2u : 0u) |
                    static_cast<std::size_t>(key.threads) << 2;
    for (std::int64_t v : {key.m, key.n, key.k, key.lda, key.ldb, key.ldc}) {
      h = (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ull;
    }
    return h;
  }
};
struct Matmul {
  dnnl::matmul primitive;  // empty: oneDNN refused this product, CBLAS computes it
  dnnl::memory a, b, c;
};
// Set when this thread's OneDnn has been destroyed (thread exit; on the main thread before the
// globals): a product computed after that, by a global's destructor, goes to CBLAS.
thread_local bool onednn_gone = false;
struct OneDnn {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<MatmulKey, Matmul, MatmulKeyHash> cache;
  ~OneDnn() { onednn_gone = true; }
};
constexpr std::size_t kMaxCachedShapes = 512;  // a model has a few dozen; then start again

std::string onednn_name(const dnnl::matmul::primitive_desc& pd) {
  const auto* v = dnnl_version();
  return fmt::format("oneDNN {}.{}.{} matmul ({})", v->major, v->minor, v->patch,
                     pd.impl_info_str());
}

Matmul make_matmul(OneDnn& dnn, const MatmulKey& key) {
  using dnnl::memory;
  const memory::dims sa = key.trans_a ? memory::dims{1, key.lda} : memory::dims{key.lda, 1};
  const memory::dims sb = key.trans_b ? memory::dims{1, key.ldb} : memory::dims{key.ldb, 1};
  const memory::desc ad({key.m, key.k}, memory::data_type::f32, sa);
  const memory::desc bd({key.k, key.n}, memory::data_type::f32, sb);
  const memory::desc cd({key.m, key.n}, memory::data_type::f32, memory::dims{key.ldc, 1});
  dnnl::primitive_attr attr;
  if (key.scaled) attr.set_output_scales(0, {key.alpha});
  if (key.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(key.beta);
    attr.set_post_ops(ops);
  }
  // One creation at a time, process-wide: rare (a new shape on a thread), and ThreadSanitizer
  // cannot see oneDNN's own locking of its primitive cache, so two threads creating their first
  // primitives at once (a product's pieces on the pool) read as a race.
  static std::mutex creating;
  std::lock_guard lock(creating);
  try {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, cd), attr, dnn.engine);
    note_kernel(&KernelLog::float32, onednn_name(pd));
    return {dnnl::matmul(pd), memory(ad, dnn.engine, DNNL_MEMORY_NONE),
            memory(bd, dnn.engine, DNNL_MEMORY_NONE), memory(cd, dnn.engine, DNNL_MEMORY_NONE)};
  } catch (const dnnl::error&) {
    return {};
  }
}

OneDnn* onednn() {
  static thread_local OneDnn* dnn = nullptr;
  static thread_local bool unavailable = false;
  if (onednn_gone) return nullptr;
  if (!dnn && !unavailable) {
    try {
      // oneDNN fixes a thread's team size when it first sees the thread (measured: a later
      // omp_set_num_threads does not reach it): one, since the pool shares large products.
      const int outer = omp_get_max_threads();
      omp_set_num_threads(1);
      static thread_local OneDnn instance;
      omp_set_num_threads(outer);
      dnn = &instance;
    } catch (const dnnl::error&) {
      unavailable = true;
    }
  }
  return dnn;
}

// True when oneDNN computed the product, on `threads` threads of its OpenMP team.
bool onednn_product(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                    float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                    float beta, float* C, std::int64_t ldc, int threads) {
  OneDnn* dnn = onednn();
  if (!dnn) return false;
  const MatmulKey key{trans_a, trans_b, alpha != 1.0f, beta != 0.0f, threads, m,   n,
                      k,       lda,     ldb,           ldc,          alpha,   beta};
  // The calling thread's OpenMP team size, for this product only.
  struct TeamSize {
    int outer = omp_get_max_threads(), inner;
    explicit TeamSize(int threads) : inner(threads) {
      if (outer != inner) omp_set_num_threads(inner);
    }
    ~TeamSize() {
      if (outer != inner) omp_set_num_threads(outer);
    }
  } team(threads);
  auto it = dnn->cache.find(key);
  if (it == dnn->cache.end()) {
    if (dnn->cache.size() >= kMaxCachedShapes) dnn->cache.clear();
    it = dnn->cache.emplace(key, make_matmul(*dnn, key)).first;
  }
  Matmul& mm = it->second;
  if (!mm.primitive) return false;
  try {
    mm.a.set_data_handle(const_cast<float*>(A));
    mm.b.set_data_handle(const_cast<float*>(B));
    mm.c.set_data_handle(C);
    mm.primitive.execute(dnn->stream,
                         {{DNNL_ARG_SRC, mm.a}, {DNNL_ARG_WEIGHTS, mm.b}, {DNNL_ARG_DST, mm.c}});
    dnn->stream.wait();
  } catch (const dnnl::error& e) {  // C may be half written: no fallback, an error
    throw Error("matmul",
                fmt::format("oneDNN failed on a {}x{}x{} product: {}", m, n, k, e.what()));
  }
  return true;
}

// A product shared by the pool (gemm_pool.hpp): pieces of C's rows, or of its columns when it
// has more columns than rows, each a one-thread oneDNN product followed by the epilogue on the
// piece, by the thread that computed it (C still in its cache; no serial pass over C after).
struct Split {
  bool trans_a, trans_b, by_rows;
  std::int64_t m, n, k, lda, ldb, ldc, step;
  float alpha, beta;
  const float *A, *B;
  float* C;
  Epilogue<float> epilogue;
};

void run_piece(void* context, int piece) {
  const Split& s = *static_cast<const Split*>(context);
  const std::int64_t begin = piece * s.step;
  const std::int64_t extent = std::min(s.step, (s.by_rows ? s.m : s.n) - begin);
  if (extent <= 0) return;
  const float* A = s.A;
  const float* B = s.B;
  float* C = s.C;
  std::int64_t m = s.m, n = s.n;
  Epilogue<float> epilogue = s.epilogue;
  if (s.by_rows) {
    A += s.trans_a ? begin : begin * s.lda;
    C += begin * s.ldc;
    m = extent;
  } else {
    B += s.trans_b ? begin * s.ldb : begin;
    C += begin;
    n = extent;
    if (epilogue.bias) epilogue.bias += begin;
  }
  if (!onednn_product(s.trans_a, s.trans_b, m, n, s.k, s.alpha, A, s.lda, B, s.ldb, s.beta, C,
                      s.ldc, 1)) {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                s.trans_b ? CblasTrans : CblasNoTrans, m, n, s.k, s.alpha, A, s.lda, B, s.ldb,
                s.beta, C, s.ldc);
  }
  if (epilogue.any()) apply_epilogue(C, s.ldc, m, n, epilogue);
}

// True when oneDNN computed the product; the epilogue is then applied too.
bool onednn_gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 float alpha, const float* A, std::int64_t lda, const float* B, std::int64_t ldb,
                 float beta, float* C, std::int64_t ldc, const Epilogue<float>& epilogue) {
  const int threads = gemm_threads(m, n, k, kPoolThreadingFlops);
  if (threads == 1 || !onednn()) {
    if (!onednn_product(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 1)) {
      return false;
    }
    if (epilogue.any()) apply_epilogue(C, ldc, m, n, epilogue);
    return true;
  }
  // Two pieces per thread: a thread that gets its core late leaves its pieces to the others.
  // One per thread where the operand that every piece reads whole (B for pieces of rows, A for
  // pieces of columns) has its rows a multiple of 4 KiB apart: those rows share cache sets, and
  // oneDNN then runs a product of fewer than ~384 rows or columns at half speed (1024^2 on the
  // AVX2 EPYC VM: 256-row pieces 40 GFLOP/s on one thread, 512-row ones 72; docs/benchmarks.md).
  const bool by_rows = m >= n;
  const std::int64_t whole_ld = by_rows ? ldb : lda;
  const bool page_strided = whole_ld * static_cast<std::int64_t>(sizeof(float)) % 4096 == 0;
  const int pieces = page_strided ? threads : 2 * threads;
  const std::int64_t extent = by_rows ? m : n, align = by_rows ? 8 : 16;
  const std::int64_t step = piece_length(extent, pieces, align);
  Split split{trans_a, trans_b, by_rows, m,    n, k, lda, ldb,
              ldc,     step,    alpha,   beta, A, B, C,   epilogue};
  run_chunks(threads - 1, static_cast<int>((extent + step - 1) / step), run_piece, &split);
  return true;
}
#else
// Built without oneDNN: CBLAS computes every float32 product.
bool onednn_gemm(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*,
                 std::int64_t, const float*, std::int64_t, float, float*, std::int64_t,
                 const Epilogue<float>&) {
  return false;
}
#endif

// BLAS's k == 0 rule (C = beta C) without calling a library on an empty product.
template <class T>
void scale_rows(std::int64_t m, std::int64_t n, T beta, T* C, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i) {
    T* row = C + i * ldc;
    for (std::int64_t j = 0; j < n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
  }
}

// Tiny products (gemm_small.hpp): true when the direct kernels computed this one.
template <class T>
bool small_product(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                   T alpha, const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T beta,
                   T* C, std::int64_t ldc, const Epilogue<T>& epilogue) {
  if (!small_gemm_suits(m, n, k)) return false;
  const SmallKernel kernel =
      small_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, epilogue);
  // Once per kernel: the log's lock stays off the hot path (no thread-local: the TLS block of
  // the library, loaded by Python, has no room to spare).
  static std::atomic<unsigned> noted{0};
  const unsigned bit = 1u << static_cast<int>(kernel);
  if (!(noted.load(std::memory_order_relaxed) & bit)) {
    note_kernel(std::is_same_v<T, float> ? &KernelLog::float32 : &KernelLog::float64,
                small_gemm_name(kernel));
    noted.fetch_or(bit, std::memory_order_relaxed);
  }
  return true;
}

}  // namespace

int gemm_threads(std::int64_t m, std::int64_t n, std::int64_t k, double threading_flops) noexcept {
  const double flops =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  return flops < threading_flops ? 1 : ag::num_threads();
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
          std::int64_t ldc, const Epilogue<float>& epilogue) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    scale_rows(m, n, beta, C, ldc);
  } else if (small_product(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                           epilogue)) {
    return;  // the epilogue applied as C was stored
  } else if (onednn_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                         epilogue)) {
    return;  // the epilogue applied, piece by piece where the product was shared
  } else {
    cblas_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  if (epilogue.any()) apply_epilogue(C, ldc, m, n, epilogue);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta,
          double* C, std::int64_t ldc, const Epilogue<double>& epilogue) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    scale_rows(m, n, beta, C, ldc);
  } else if (small_product(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                           epilogue)) {
    return;
  } else {
    cblas_gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  if (epilogue.any()) apply_epilogue(C, ldc, m, n, epilogue);
}

}  // namespace ag::detail

namespace ag {

std::string gemm_backend() {
  auto& log = detail::kernel_log();
  std::lock_guard lock(log.mutex);
  auto list = [](const std::set<std::string>& names) {
    return names.empty() ? std::string("none ran yet") : fmt::format("{}", fmt::join(names, ", "));
  };
#ifdef AG_GEMM_ONEDNN
  const char* built = "oneDNN matmul, CBLAS where oneDNN refuses";
#else
  const char* built = "CBLAS";
#endif
  return fmt::format("float32: {} (built for {}); float64: {}", list(log.float32), built,
                     list(log.float64));
}

std::string gemm_sharing() {
  const auto s = detail::pool_stats();
  return fmt::format("products split {}: shared {}, alone {} (back-off); pieces {}, helpers ran {}",
                     s.jobs, s.shared, s.backed_off, s.chunks, s.helper_chunks);
}

}  // namespace ag
