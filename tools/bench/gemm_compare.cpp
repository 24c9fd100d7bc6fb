// gemm_compare: the matrix-product libraries installed here, side by side on the products of the
// MLP benchmark (784-256-128-10: each layer's forward X·W (NN), input gradient G·Wᵀ (NT) and
// weight gradient Xᵀ·G (TN) at batch 32, 128 and 1024), on the spiral benchmark's five (2-64-3,
// 300 points) and on 1024³, float32, row-major, operands 64-byte aligned as tensors are. The
// engine's own small-product kernels (autograd/src/gemm_small.hpp) are one of the libraries.
// Prints a Markdown table: GFLOP per CPU second (all threads; best of the rounds) and its % of one
// core's FMA peak, wall GFLOP/s, and the error against a float64 product.
//
//   ag_gemm_compare [--threads 1,2] [--rounds 7] [--peak GFLOPS-per-core] [--only SUBSTRING]
//
// Libraries: OpenBLAS (always), oneDNN, BLIS and libxsmm where CMake found them. Without --peak
// the peak comes from ag_bench_peak next to this program (best of 3; an error if it cannot run).
#include <cblas.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>
#ifdef AG_HAVE_DNNL
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef AG_HAVE_BLIS
#include <blis.h>
#endif
#ifdef AG_HAVE_XSMM
#include <libxsmm.h>
#endif

#include "autograd/src/gemm_small.hpp"

extern "C" char* openblas_get_corename();

namespace {

struct Product {
  std::string name;
  bool trans_a, trans_b;
  std::int64_t m, n, k;
  double flops() const { return 2.0 * static_cast<double>(m) * n * k; }
  std::int64_t lda() const { return trans_a ? m : k; }  // row-major leading dims
  std::int64_t ldb() const { return trans_b ? k : n; }
};

std::vector<Product> products() {
  std::vector<Product> out;
  const std::int64_t layers[3][2] = {{784, 256}, {256, 128}, {128, 10}};
  for (std::int64_t b : {32, 128, 1024}) {
    for (int l = 0; l < 3; ++l) {
      const std::int64_t in = layers[l][0], o = layers[l][1];
      char tag[32];
      std::snprintf(tag, sizeof tag, "b%lld L%d", static_cast<long long>(b), l + 1);
      out.push_back({std::string(tag) + " fwd NN", false, false, b, o, in});
      // The first layer's input gradient is never computed (the data batch needs none).
      if (l > 0) out.push_back({std::string(tag) + " dX NT", false, true, b, in, o});
      out.push_back({std::string(tag) + " dW TN", true, false, in, o, b});
    }
  }
  // The spiral's: X·W1 (with its bias and ReLU in the engine), H·W2, G·W2ᵀ, Hᵀ·G, Xᵀ·dH.
  out.push_back({"spiral L1 fwd NN", false, false, 300, 64, 2});
  out.push_back({"spiral L2 fwd NN", false, false, 300, 3, 64});
  out.push_back({"spiral L2 dX NT", false, true, 300, 64, 3});
  out.push_back({"spiral L2 dW TN", true, false, 64, 3, 300});
  out.push_back({"spiral L1 dW TN", true, false, 2, 64, 300});
  out.push_back({"1024^3 NN", false, false, 1024, 1024, 1024});
  return out;
}

// One library: sets its thread count, then computes C = op(A) op(B) (row-major, beta = 0).
struct Library {
  std::string name;
  std::string kernel;  // what the library says it runs
  std::function<void(int)> set_threads;
  std::function<void(const Product&, const float*, const float*, float*)> run;
};

std::vector<Library> libraries() {
  std::vector<Library> libs;
  // The engine's direct kernels, whatever the size (the engine itself sends them only products
  // of up to kSmallGemmMacs multiply-adds); one thread.
  libs.push_back({"small kernels",
                  std::string("ag ") + ag::detail::small_gemm_name(ag::detail::SmallKernel::rows) +
                      " and its columns and dots kernels",
                  [](int) {},
                  [](const Product& p, const float* a, const float* b, float* c) {
                    ag::detail::small_gemm(p.trans_a, p.trans_b, p.m, p.n, p.k, 1.0f, a, p.lda(), b,
                                           p.ldb(), 0.0f, c, p.n);
                  }});
  libs.push_back({"OpenBLAS", std::string("core ") + openblas_get_corename(),
                  [](int t) { openblas_set_num_threads(t); },
                  [](const Product& p, const float* a, const float* b, float* c) {
                    cblas_sgemm(CblasRowMajor, p.trans_a ? CblasTrans : CblasNoTrans,
                                p.trans_b ? CblasTrans : CblasNoTrans, p.m, p.n, p.k, 1.0f, a,
                                p.lda(), b, p.ldb(), 0.0f, c, p.n);
                  }});
#ifdef AG_HAVE_DNNL
  {
    // One primitive per shape, made outside the timed calls (as a primitive cache would).
    struct State {
      dnnl::engine engine{dnnl::engine::kind::cpu, 0};
      dnnl::stream stream{engine};
      std::map<std::string, std::pair<dnnl::matmul, dnnl::matmul::primitive_desc>> cache;
    };
    auto st = std::make_shared<State>();
    const auto* v = dnnl_version();
    libs.push_back(
        {"oneDNN",
         "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
             std::to_string(v->patch) + " matmul",
         [](int t) { omp_set_num_threads(t); },
         [st](const Product& p, const float* a, const float* b, float* c) {
           using dnnl::memory;
           auto it = st->cache.find(p.name);
           if (it == st->cache.end()) {
             const memory::dims sa = p.trans_a ? memory::dims{1, p.m} : memory::dims{p.k, 1};
             const memory::dims sb = p.trans_b ? memory::dims{1, p.k} : memory::dims{p.n, 1};
             const memory::desc ad({p.m, p.k}, memory::data_type::f32, sa);
             const memory::desc bd({p.k, p.n}, memory::data_type::f32, sb);
             const memory::desc cd({p.m, p.n}, memory::data_type::f32, memory::dims{p.n, 1});
             dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, cd), st->engine);
             it = st->cache.emplace(p.name, std::make_pair(dnnl::matmul(pd), pd)).first;
           }
           const auto& pd = it->second.second;
           memory am(pd.src_desc(), st->engine, const_cast<float*>(a));
           memory bm(pd.weights_desc(), st->engine, const_cast<float*>(b));
           memory cm(pd.dst_desc(), st->engine, c);
           it->second.first.execute(
               st->stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
           st->stream.wait();
         }});
  }
#endif
#ifdef AG_HAVE_BLIS
  libs.push_back({"BLIS",
                  std::string("BLIS ") + bli_info_get_version_str() + " " +
                      bli_arch_string(bli_arch_query_id()),
                  [](int t) { bli_thread_set_num_threads(t); },
                  [](const Product& p, const float* a, const float* b, float* c) {
                    float one = 1.0f, zero = 0.0f;
                    // Row-major through BLIS's general strides: (row stride, column stride).
                    bli_sgemm(p.trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                              p.trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, p.m, p.n, p.k, &one,
                              const_cast<float*>(a), p.lda(), 1, const_cast<float*>(b), p.ldb(), 1,
                              &zero, c, p.n, 1);
                  }});
#endif
#ifdef AG_HAVE_XSMM
  libxsmm_init();
  libs.push_back(
      {"libxsmm",
       std::string("libxsmm ") + LIBXSMM_VERSION + " " + libxsmm_get_target_arch() +
           " (JIT up to MNK " + std::to_string(LIBXSMM_CONFIG_MAX_MNK) + ", else its BLAS)",
       [](int t) { openblas_set_num_threads(t); },  // its fallback is the linked BLAS
       [](const Product& p, const float* a, const float* b, float* c) {
         // Column-major: C^T = op(B)^T op(A)^T.
         const char ta = p.trans_b ? 'T' : 'N', tb = p.trans_a ? 'T' : 'N';
         const libxsmm_blasint m = p.n, n = p.m, k = p.k, lda = p.ldb(), ldb = p.lda(), ldc = p.n;
         const float one = 1.0f, zero = 0.0f;
         libxsmm_sgemm(&ta, &tb, &m, &n, &k, &one, b, &lda, a, &ldb, &zero, c, &ldc);
       }});
#endif
  return libs;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 64-byte aligned, as the engine's tensor buffers are: a vector kernel's stores that straddle
// cache lines cost up to half again (the spiral's 300×64×2 product, 2.0 against 3.0 µs).
template <class T>
struct Aligned {
  using value_type = T;
  Aligned() = default;
  template <class U>
  Aligned(const Aligned<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete (p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const Aligned<U>&) const {
    return true;
  }
};
using Floats = std::vector<float, Aligned<float>>;

Floats uniform(std::uint64_t seed, std::int64_t count) {
  Floats v(static_cast<std::size_t>(count));
  for (auto& x : v) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<double>(seed >> 11) * 0x1.0p-53 * 2.0 - 1.0);
  }
  return v;
}

struct Operands {
  Floats a, b;
  std::vector<double> ref, bound;  // float64 product and |op(A)|·|op(B)|
};

Operands make_operands(const Product& p, std::uint64_t seed) {
  Operands o{uniform(seed, p.m * p.k), uniform(seed + 1, p.k * p.n), {}, {}};
  o.ref.assign(static_cast<std::size_t>(p.m * p.n), 0.0);
  o.bound.assign(o.ref.size(), 0.0);
  for (std::int64_t i = 0; i < p.m; ++i) {
    for (std::int64_t l = 0; l < p.k; ++l) {
      const double x = p.trans_a ? o.a[l * p.lda() + i] : o.a[i * p.lda() + l];
      for (std::int64_t j = 0; j < p.n; ++j) {
        const double y = p.trans_b ? o.b[j * p.ldb() + l] : o.b[l * p.ldb() + j];
        o.ref[i * p.n + j] += x * y;
        o.bound[i * p.n + j] += std::abs(x * y);
      }
    }
  }
  return o;
}

// max |C - C64| / (|op(A)|·|op(B)|): the componentwise error that rounding bounds by ~k·eps.
double max_error(const Operands& o, const Floats& c) {
  double worst = 0.0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (o.bound[i] > 0) worst = std::max(worst, std::abs(c[i] - o.ref[i]) / o.bound[i]);
  }
  return worst;
}

struct Timing {
  double best_cpu = 1e30, best_wall = 1e30, error = 0;  // seconds per call, best round
};

// Rounds of calls, each long enough to time (~20 ms); the best round counts. CPU time (all
// threads of the process) is the figure that other jobs on a shared machine disturb least.
Timing measure(const Library& lib, const Product& p, Operands& o, int rounds) {
  Floats c(static_cast<std::size_t>(p.m * p.n), 0.0f);
  lib.run(p, o.a.data(), o.b.data(), c.data());  // warm-up (JIT, primitive, thread start)
  Timing t;
  t.error = max_error(o, c);
  const int calls = std::max(1, static_cast<int>(2e-2 * 100e9 / p.flops()));
  for (int r = 0; r < rounds; ++r) {
    const double w0 = wall_seconds(), c0 = cpu_seconds();
    for (int i = 0; i < calls; ++i) lib.run(p, o.a.data(), o.b.data(), c.data());
    t.best_wall = std::min(t.best_wall, (wall_seconds() - w0) / calls);
    t.best_cpu = std::min(t.best_cpu, (cpu_seconds() - c0) / calls);
  }
  return t;
}

// ag_bench_peak's one-line report, or "" if it could not run or failed. Spawned without a shell,
// so no character of the path (this program's own, from argv[0]) is interpreted.
std::string peak_report(const std::string& program) {
  int out[2];
  if (pipe(out) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string args[] = {program, "--threads", "1", "--seconds", "0.2"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string report;
  if (error == 0) {
    char buffer[256];
    ssize_t n = 0;
    while ((n = read(out[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      report.clear();
    }
  }
  close(out[0]);
  return report;
}

// The best of three runs of ag_bench_peak from this program's directory (a bare name: PATH).
double measure_peak(const char* argv0) {
  std::string dir = argv0;
  dir = dir.substr(0, dir.find_last_of('/') + 1);
  const std::string program = dir + "ag_bench_peak";
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string report = peak_report(program);
    if (const auto at = report.find("\"gflops\": "); at != std::string::npos) {
      best = std::max(best, std::atof(report.c_str() + at + 10));
    }
  }
  if (!(best > 0)) {
    std::fprintf(stderr,
                 "ag_gemm_compare: %s did not report an FMA peak (it is built beside this "
                 "program); pass --peak GFLOPS-per-core\n",
                 program.c_str());
    std::exit(2);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts{1, 2};
  int rounds = 7;
  double peak = 0;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--threads") {
      thread_counts.clear();
      for (std::size_t at = 0; at < value.size();) {
        thread_counts.push_back(std::atoi(value.c_str() + at));
        const auto comma = value.find(',', at);
        at = comma == std::string::npos ? value.size() : comma + 1;
      }
    } else if (key == "--rounds") {
      rounds = std::atoi(value.c_str());
    } else if (key == "--peak") {
      peak = std::atof(value.c_str());
    } else if (key == "--only") {
      only = value;
    } else {
      std::fprintf(stderr, "ag_gemm_compare: unknown option %s\n", key.c_str());
      return 2;
    }
  }
  std::vector<Product> chosen;
  for (const auto& p : products()) {
    if (only.empty() || p.name.find(only) != std::string::npos) chosen.push_back(p);
  }
  if (chosen.empty()) {
    std::fprintf(stderr, "ag_gemm_compare: no product's name contains \"%s\"\n", only.c_str());
    return 2;
  }
  if (peak <= 0) peak = measure_peak(argv[0]);
  const auto libs = libraries();
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OPENBLAS_CORETYPE=%s; FMA peak %.0f GFLOP/s per core; %d rounds, best counts\n",
              coretype ? coretype : "(unset)", peak, rounds);
  for (const auto& lib : libs) std::printf("- %s: %s\n", lib.name.c_str(), lib.kernel.c_str());

  std::vector<Operands> operands;
  for (std::size_t i = 0; i < chosen.size(); ++i)
    operands.push_back(make_operands(chosen[i], 7 * i));
  // results[threads][library][product]. One library at a time: an idle pool that still spins
  // (OpenBLAS's, OpenMP's) would take a core from the next library on a 2-core machine.
  std::map<int, std::vector<std::vector<Timing>>> results;
  for (int t : thread_counts) {
    auto& per_lib = results[t];
    for (const auto& lib : libs) {
      lib.set_threads(t);
      per_lib.emplace_back();
      for (std::size_t i = 0; i < chosen.size(); ++i) {
        per_lib.back().push_back(measure(lib, chosen[i], operands[i], rounds));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  std::printf(
      "\nEach cell: GFLOP per CPU second of the process (%% of one core's peak) · wall GFLOP/s.\n"
      "\n| product | m×n×k | threads |");
  for (const auto& lib : libs) std::printf(" %s |", lib.name.c_str());
  std::printf(" max error (worst library) |\n|---|---|---|");
  for (std::size_t l = 0; l <= libs.size(); ++l) std::printf("---|");
  std::printf("\n");
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    for (int t : thread_counts) {
      const auto& p = chosen[i];
      std::printf("| %s | %lld×%lld×%lld | %d |", p.name.c_str(), static_cast<long long>(p.m),
                  static_cast<long long>(p.n), static_cast<long long>(p.k), t);
      double worst = 0;
      for (std::size_t l = 0; l < libs.size(); ++l) {
        const Timing& r = results[t][l][i];
        const double per_cpu = p.flops() / r.best_cpu * 1e-9;
        std::printf(" %.1f (%.0f%%) · %.1f |", per_cpu, 100 * per_cpu / peak,
                    p.flops() / r.best_wall * 1e-9);
        worst = std::max(worst, r.error);
      }
      std::printf(" %.1e |\n", worst);
    }
  }
  std::printf("\nmax error / (|A|·|B|) over all products:");
  for (std::size_t l = 0; l < libs.size(); ++l) {
    double worst = 0;
    for (const auto& [t, per_lib] : results) {
      for (const auto& r : per_lib[l]) worst = std::max(worst, r.error);
    }
    std::printf(" %s %.1e%s", libs[l].name.c_str(), worst, l + 1 < libs.size() ? "," : "\n");
  }
  return 0;
}
