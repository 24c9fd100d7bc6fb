// The direct kernels for tiny products (autograd/src/gemm_small.hpp), called themselves and
// through detail::gemm on both sides of their threshold: every transposition, leading dims wider
// than the rows (the padding holds NaN: never read, never written), alpha and beta, beta == 0
// over a C of NaN, k == 0, and the epilogue (a bias per column, relu; on each piece of a shared
// product too), against a float64 product computed here.
#include <autograd/autograd.hpp>
#include <autograd/gemm_backend.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "autograd/src/gemm.hpp"
#include "autograd/src/gemm_pool.hpp"
#include "autograd/src/gemm_small.hpp"
#include "test_support.hpp"

namespace {

using ag::detail::SmallKernel;

struct Shape3 {
  std::int64_t m, n, k;
};

double number(unsigned& seed) {
  seed = seed * 1103515245u + 12345u;
  return static_cast<double>((seed >> 8) % 2001) / 1000.0 - 1.0;  // exact in float: k/1000
}

// A stored rows x cols matrix, `pad` NaN columns after each row.
template <class T>
std::vector<T> matrix(std::int64_t rows, std::int64_t cols, std::int64_t pad, unsigned& seed) {
  std::vector<T> v(static_cast<std::size_t>(rows * (cols + pad)));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols + pad; ++c) {
      v[r * (cols + pad) + c] = c < cols ? T(number(seed)) : std::numeric_limits<T>::quiet_NaN();
    }
  }
  return v;
}

struct Outcome {
  double worst;  // largest |C - C64| / (eps k (|alpha| sum |a b| + |beta c|)): a few at most
  bool padding_kept;
  SmallKernel kernel;
  std::vector<double> c, bias;  // C [m, ldc] and the bias as computed (exact in double)
};

// The epilogue of a product (gemm.hpp): a bias per column, relu.
struct Fused {
  bool bias = false, relu = false;
};

// C = alpha op(A) op(B) + beta C (+ bias, relu) by small_gemm (direct) or detail::gemm, checked
// against float64.
template <class T>
Outcome run(bool ta, bool tb, Shape3 s, std::int64_t pad, double alpha, double beta, bool direct,
            unsigned seed, Fused fused = {}) {
  const auto [m, n, k] = s;
  const std::int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  const std::int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  const std::int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
  const std::vector<T> a = matrix<T>(a_rows, a_cols, pad, seed);
  const std::vector<T> b = matrix<T>(b_rows, b_cols, pad, seed);
  std::vector<T> c = matrix<T>(m, n, pad, seed);
  if (beta == 0.0) {  // beta == 0: C's contents, NaN here, must not reach the result
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
    }
  }
  const std::vector<T> c0 = c;
  const std::vector<T> bias = matrix<T>(1, n, 0, seed);
  const ag::detail::Epilogue<T> epilogue{fused.bias ? bias.data() : nullptr, fused.relu};
  Outcome out{0.0, true, SmallKernel::rows, {}, {bias.begin(), bias.end()}};
  if (direct) {
    out.kernel = ag::detail::small_gemm(ta, tb, m, n, k, T(alpha), a.data(), lda, b.data(), ldb,
                                        T(beta), c.data(), ldc, epilogue);
  } else {
    ag::detail::gemm(ta, tb, m, n, k, T(alpha), a.data(), lda, b.data(), ldb, T(beta), c.data(),
                     ldc, epilogue);
  }
  const double eps = std::numeric_limits<T>::epsilon();
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < ldc; ++j) {
      const double got = c[i * ldc + j];
      if (j >= n) {  // padding: still NaN
        out.padding_kept = out.padding_kept && std::isnan(got);
        continue;
      }
      double sum = 0.0, bound = 0.0;
      for (std::int64_t l = 0; l < k; ++l) {
        const double x = ta ? a[l * lda + i] : a[i * lda + l];
        const double y = tb ? b[j * ldb + l] : b[l * ldb + j];
        sum += x * y;
        bound += std::abs(x * y);
      }
      const double before = beta == 0.0 ? 0.0 : double(c0[i * ldc + j]);
      const double added = fused.bias ? double(bias[j]) : 0.0;
      const double sum_all = alpha * sum + beta * before + added;
      const double want = fused.relu && sum_all <= 0.0 ? 0.0 : sum_all;
      const double scale =
          eps * static_cast<double>(k + 3) *
              (std::abs(alpha) * bound + std::abs(beta * before) + std::abs(added)) +
          std::numeric_limits<double>::min();
      const double error = std::abs(got - want) / scale;
      out.worst = std::max(out.worst, std::isnan(got) ? 1e300 : error);
    }
  }
  out.c.assign(c.begin(), c.end());
  return out;
}

// The spiral MLP's products (300 points, 2-64-3) and their backward ones, odd sizes around the
// kernels' tile edges (4 rows, two vectors of columns; four vectors for one or two rows), single
// elements, products of one to four long columns (the few-column dots: rows left over past
// its blocks, k past its vectors), and k of one to four.
const std::vector<Shape3> kShapes = {
    {300, 64, 2}, {300, 3, 64}, {300, 64, 3}, {64, 3, 300}, {2, 64, 300}, {5, 7, 3},   {1, 1, 1},
    {1, 1, 70},   {17, 33, 9},  {33, 17, 40}, {4, 100, 1},  {100, 4, 37}, {3, 5, 70},  {7, 65, 2},
    {6, 31, 12},  {9, 2, 129},  {13, 1, 70},  {11, 2, 45},  {23, 3, 67},  {21, 3, 16}, {7, 4, 33},
    {19, 4, 64},  {1, 130, 40}, {6, 97, 21},  {9, 37, 4},
};

template <class T>
void every_case(bool direct, std::set<SmallKernel>& kernels) {
  unsigned seed = 7;
  for (const Shape3& s : kShapes) {
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      for (std::int64_t pad : {0, 3}) {
        for (auto [alpha, beta] : {std::pair{1.0, 0.0}, {1.0, 1.0}, {-0.5, 2.0}, {2.0, 0.0}}) {
          // The epilogue in every layout: bias alone, relu alone, both (linear's forward).
          const Fused fused{seed % 3 != 1, seed % 3 != 0};
          BOOST_TEST_CONTEXT((sizeof(T) == 4 ? "float32" : "float64")
                             << (direct ? " small_gemm" : " gemm") << " ta " << ta << " tb " << tb
                             << " " << s.m << "x" << s.n << "x" << s.k << " pad " << pad
                             << " alpha " << alpha << " beta " << beta << " bias " << fused.bias
                             << " relu " << fused.relu) {
            const Outcome plain = run<T>(ta, tb, s, pad, alpha, beta, direct, seed += 5);
            BOOST_TEST(plain.worst <= 4.0);
            BOOST_TEST(plain.padding_kept);
            const Outcome o = run<T>(ta, tb, s, pad, alpha, beta, direct, seed, fused);
            BOOST_TEST(o.worst <= 4.0);
            BOOST_TEST(o.padding_kept);
            // The same operands: the fused product's floats are the plain product's with the
            // epilogue applied after, bit for bit (the kernels apply it in registers).
            std::size_t differing = 0;
            const std::int64_t ldc = s.n + pad;
            for (std::int64_t i = 0; i < s.m * ldc; ++i) {
              if (i % ldc >= s.n) continue;
              T v = T(plain.c[i]);
              if (fused.bias) v += T(o.bias[i % ldc]);
              if (fused.relu && v <= T(0)) v = T(0);
              const T got = T(o.c[i]);
              if (std::memcmp(&got, &v, sizeof v) != 0) ++differing;
            }
            BOOST_TEST(differing == 0u);
            kernels.insert(o.kernel);
          }
        }
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(kernels_agree_with_float64_in_every_layout) {
  for (bool direct : {true, false}) {
    std::set<SmallKernel> f32, f64;
    every_case<float>(direct, f32);
    every_case<double>(direct, f64);
    if (direct) {  // the shapes reach every kernel
      BOOST_TEST(f32.size() == 3u);
      BOOST_TEST(f64.size() == 3u);
    }
  }
}

BOOST_AUTO_TEST_CASE(both_sides_of_the_threshold) {
  BOOST_TEST(ag::detail::small_gemm_suits(300, 3, 64));
  BOOST_TEST(ag::detail::small_gemm_suits(64, 64, 16));  // 2^16 multiply-adds: the last one in
  BOOST_TEST(!ag::detail::small_gemm_suits(64, 64, 17));
  BOOST_TEST(!ag::detail::small_gemm_suits(32, 128, 256));
  for (Shape3 s :
       {Shape3{64, 64, 16}, Shape3{64, 64, 17}, Shape3{16, 64, 64}, Shape3{17, 64, 64}}) {
    for (int t = 0; t < 4; ++t) {
      BOOST_TEST_CONTEXT("ta " << (t & 1) << " tb " << (t & 2) << " " << s.m << "x" << s.n << "x"
                               << s.k) {
        const Outcome f = run<float>(t & 1, t & 2, s, 2, -0.5, 2.0, false, 3u + t);
        const Outcome d = run<double>(t & 1, t & 2, s, 0, 1.0, 0.0, false, 9u + t);
        BOOST_TEST(f.worst <= 4.0);
        BOOST_TEST(d.worst <= 4.0);
        BOOST_TEST(f.padding_kept);
        // The epilogue: in the store on one side, a pass after the library's product on the other.
        const Outcome fe = run<float>(t & 1, t & 2, s, 2, 1.0, 0.0, false, 5u + t, {true, true});
        const Outcome de = run<double>(t & 1, t & 2, s, 0, 1.0, 0.0, false, 7u + t, {true, true});
        const Outcome fr = run<float>(t & 1, t & 2, s, 0, 1.0, 0.0, false, 8u + t, {false, true});
        BOOST_TEST(fe.worst <= 4.0);
        BOOST_TEST(de.worst <= 4.0);
        BOOST_TEST(fr.worst <= 4.0);
        BOOST_TEST(fe.padding_kept);
      }
    }
  }
  const std::string backend = ag::gemm_backend();
  BOOST_TEST_MESSAGE(backend);
  BOOST_TEST(backend.find("small ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_shared_product_applies_the_epilogue_to_each_piece) {
  // At 2 threads a large float32 product is cut into pieces of rows (m >= n) or of columns, and
  // each piece gets the epilogue where it was computed: a piece of columns reads its own part of
  // the bias. Every transposition, padded, with and without relu; the pieces were shared.
  const bool pooled = ag_test::products_use_the_pool();
  ag::set_num_threads(2);
  for (Shape3 s : {Shape3{256, 248, 264}, Shape3{248, 264, 256}}) {
    BOOST_TEST(2.0 * s.m * s.n * s.k >= ag::detail::kGemmThreadingFlops);
    for (int t = 0; t < 4; ++t) {
      BOOST_TEST_CONTEXT("ta " << (t & 1) << " tb " << (t & 2) << " " << s.m << "x" << s.n << "x"
                               << s.k) {
        const auto before = ag::detail::pool_stats();
        const Outcome both = run<float>(t & 1, t & 2, s, 3, 1.0, 0.0, false, 11u + t, {true, true});
        const Outcome bias = run<float>(t & 1, t & 2, s, 0, 1.0, 0.0, false, 13u + t, {true});
        const auto after = ag::detail::pool_stats();
        BOOST_TEST(both.worst <= 4.0);
        BOOST_TEST(bias.worst <= 4.0);
        BOOST_TEST(both.padding_kept);
        BOOST_TEST(after.chunks - before.chunks == (pooled ? 2 * 4 : 0));
      }
    }
  }
  ag::set_num_threads(1);
}

BOOST_AUTO_TEST_CASE(k_zero_scales_c_and_beta_zero_clears_it) {
  // 2x2 with ldc 3: column 2 is padding, never written.
  std::vector<float> c = {1, 2, 7, 3, 4, 7};
  ag::detail::small_gemm(false, true, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 1, 0.5f, c.data(), 3);
  BOOST_TEST((c == std::vector<float>{0.5f, 1, 7, 1.5f, 2, 7}));
  c[4] = std::nanf("");
  ag::detail::small_gemm(false, true, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 1, 0.0f, c.data(), 3);
  BOOST_TEST((c == std::vector<float>{0, 0, 7, 0, 0, 7}));  // NaN too: beta == 0 ignores C
  std::vector<double> d = {std::nan(""), 4};
  ag::detail::small_gemm(true, false, 1, 2, 0, 1.0, nullptr, 1, nullptr, 2, 0.0, d.data(), 2);
  BOOST_TEST((d == std::vector<double>{0, 0}));
}

BOOST_AUTO_TEST_CASE(the_epilogue_keeps_relus_rule_for_nan_and_k_zero_gets_it_too) {
  // A 2 x k times k x 64 product, B all ones: row 0 of A starts with a NaN, which relu keeps
  // (NaN <= 0 is false); row 1 is all -1, so relu gives 0 whatever the bias in [-1, 1].
  // k = 2 runs the direct kernels, k = 600 (76800 multiply-adds) a library and the pass.
  for (std::int64_t k : {2, 600}) {
    std::vector<float> a(static_cast<std::size_t>(2 * k), -1.0f);
    a[0] = std::nanf("");
    const std::vector<float> b(static_cast<std::size_t>(k * 64), 1.0f);
    std::vector<float> bias(64);
    for (int j = 0; j < 64; ++j) bias[j] = static_cast<float>(j - 32) / 32.0f;
    std::vector<float> c(128, 7.0f);
    BOOST_TEST(ag::detail::small_gemm_suits(2, 64, k) == (k == 2));
    ag::detail::gemm(false, false, 2, 64, k, 1.0f, a.data(), k, b.data(), 64, 0.0f, c.data(), 64,
                     {bias.data(), true});
    BOOST_TEST_CONTEXT("k " << k) {
      for (int j = 0; j < 64; ++j) {
        BOOST_TEST(std::isnan(c[j]));
        BOOST_TEST(c[64 + j] == 0.0f);
      }
    }
  }
  // k == 0: C = beta C, then the bias and relu.
  const std::vector<float> bias = {0.5f, -2};
  std::vector<float> e = {1, -5};
  ag::detail::gemm(false, false, 1, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 1.0f, e.data(), 2,
                   {bias.data(), true});
  BOOST_TEST((e == std::vector<float>{1.5f, 0.0f}));
}

BOOST_AUTO_TEST_CASE(names_say_which_kernel_and_cpu_variant) {
  for (SmallKernel k : {SmallKernel::rows, SmallKernel::columns, SmallKernel::dots}) {
    const std::string name = ag::detail::small_gemm_name(k);
    BOOST_TEST_MESSAGE(name);
    BOOST_TEST(name.find("small ") == 0);
    BOOST_TEST((name.find("(x86-64)") != std::string::npos ||
                name.find("(AVX2)") != std::string::npos ||
                name.find("(AVX-512)") != std::string::npos));
  }
}
