// detail::gemm, the one matrix-product entry point: every transposition, alpha and beta, leading
// dims wider than the matrix, k == 0, the threaded path, a shape seen again with new pointers
// (the primitive cache), other threads, against a float64 product computed here; the pool that
// shares large products (its back-off, its counts).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <autograd/autograd.hpp>
#include <autograd/gemm_backend.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "autograd/src/gemm.hpp"
#include "autograd/src/gemm_pool.hpp"
#include "test_support.hpp"

namespace {

struct Case {
  bool ta, tb;
  std::int64_t m, n, k, pad;  // pad: extra columns in every stored matrix (lda > its width)
};

std::vector<double> numbers(std::size_t count, unsigned seed) {
  std::vector<double> v(count);
  for (auto& x : v) {
    seed = seed * 1103515245u + 12345u;
    x = static_cast<double>((seed >> 8) % 2001) / 1000.0 - 1.0;  // exact in float: k/1000
  }
  return v;
}

// Runs detail::gemm on T and returns the largest |C - C64| / (|A|·|B| + |beta C0|).
template <class T>
double worst_error(const Case& c, double alpha, double beta, unsigned seed) {
  const std::int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const std::int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const std::int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
  std::vector<T> at, bt, ct;
  for (double x : numbers(static_cast<std::size_t>(a_rows * lda), seed)) at.push_back(T(x));
  for (double x : numbers(static_cast<std::size_t>(b_rows * ldb), seed + 1)) bt.push_back(T(x));
  for (double x : numbers(static_cast<std::size_t>(c.m * ldc), seed + 2)) ct.push_back(T(x));
  // The reference reads the same (rounded) inputs: only the product's own rounding is measured.
  const std::vector<double> a(at.begin(), at.end()), b(bt.begin(), bt.end()),
      c0(ct.begin(), ct.end());
  ag::detail::gemm(c.ta, c.tb, c.m, c.n, c.k, T(alpha), at.data(), lda, bt.data(), ldb, T(beta),
                   ct.data(), ldc);
  double worst = 0.0;
  for (std::int64_t i = 0; i < c.m; ++i) {
    for (std::int64_t j = 0; j < ldc; ++j) {
      const double before = c0[i * ldc + j], got = ct[i * ldc + j];
      if (j >= c.n) {  // padding: never written
        if (got != before) return 1.0;
        continue;
      }
      double sum = 0.0, bound = 0.0;
      for (std::int64_t l = 0; l < c.k; ++l) {
        const double x = c.ta ? a[l * lda + i] : a[i * lda + l];
        const double y = c.tb ? b[j * ldb + l] : b[l * ldb + j];
        sum += x * y;
        bound += std::abs(x * y);
      }
      const double want = alpha * sum + (beta == 0.0 ? 0.0 : beta * before);
      const double scale = std::abs(alpha) * bound + std::abs(beta * before) + 1e-300;
      worst = std::max(worst, std::abs(got - want) / scale);
    }
  }
  return worst;
}

const std::vector<Case> kCases = {
    {false, false, 5, 7, 3, 0},    {false, true, 5, 7, 3, 2},      {true, false, 5, 7, 3, 1},
    {true, true, 5, 7, 3, 3},      {false, false, 32, 10, 128, 0}, {true, false, 128, 10, 32, 4},
    {false, true, 32, 128, 10, 0}, {false, false, 1, 1, 1, 0},     {false, false, 200, 260, 320, 5},
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_transposition_alpha_beta_and_leading_dim_float32_and_float64) {
  unsigned seed = 1;
  for (const Case& c : kCases) {
    for (auto [alpha, beta] : {std::pair{1.0, 0.0}, {1.0, 1.0}, {-0.5, 2.0}, {2.0, 0.0}}) {
      BOOST_TEST_CONTEXT("ta " << c.ta << " tb " << c.tb << " " << c.m << "x" << c.n << "x" << c.k
                               << " pad " << c.pad << " alpha " << alpha << " beta " << beta) {
        BOOST_TEST(worst_error<float>(c, alpha, beta, seed) < 1e-6);
        BOOST_TEST(worst_error<double>(c, alpha, beta, seed) < 1e-14);
      }
      seed += 3;
    }
  }
}

BOOST_AUTO_TEST_CASE(k_zero_scales_c_and_beta_zero_clears_it) {
  std::vector<float> c = {1, 2, 3, std::nanf("")};
  ag::detail::gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, c.data(), 2);
  BOOST_TEST(c[0] == 0.5f);
  BOOST_TEST(c[2] == 1.5f);
  ag::detail::gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, c.data(), 2);
  BOOST_TEST((c == std::vector<float>{0, 0, 0, 0}));  // NaN too: beta == 0 ignores C
}

BOOST_AUTO_TEST_CASE(same_shape_new_data_and_two_threads_budget) {
  // A product above the threading threshold, at budgets 1 and 2, twice each with fresh buffers:
  // a cached primitive must read this call's pointers, not the first call's.
  const Case big{false, false, 256, 256, 512, 0};
  BOOST_TEST(2.0 * 256 * 256 * 512 >= ag::detail::kGemmThreadingFlops);
  for (int threads : {1, 2}) {
    ag::set_num_threads(threads);
    BOOST_TEST(ag::detail::gemm_threads(256, 256, 512, ag::detail::kGemmThreadingFlops) == threads);
    BOOST_TEST(ag::detail::gemm_threads(32, 256, 784, ag::detail::kGemmThreadingFlops) == 1);
    for (unsigned seed : {11u, 29u}) BOOST_TEST(worst_error<float>(big, 1.0, 0.0, seed) < 1e-6);
  }
  ag::set_num_threads(1);
}

BOOST_AUTO_TEST_CASE(a_shared_product_is_the_same_whoever_runs_its_pieces) {
  // At a budget of 2 a large product is cut into the same pieces whether the pool shares them,
  // the caller runs them all (another job holds the pool, or ShareBackoff on a busy machine),
  // or helpers claim them in any order: the numbers never depend on timing. Two threads, each
  // repeating every transposition of the MLP's first-layer shapes, so that both paths run.
  struct Shape {
    std::int64_t m, n, k;
  };
  const std::vector<Shape> shapes = {{1024, 256, 784}, {784, 256, 1024}};
  std::vector<std::vector<float>> a, b, reference;
  auto product = [&](std::size_t i, bool ta, bool tb) {
    const Shape s = shapes[i];
    std::vector<float> c(static_cast<std::size_t>(s.m * s.n));
    ag::detail::gemm(ta, tb, s.m, s.n, s.k, 1.0f, a[i].data(), ta ? s.m : s.k, b[i].data(),
                     tb ? s.k : s.n, 0.0f, c.data(), s.n);
    return c;
  };
  ag::set_num_threads(2);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const Shape s = shapes[i];
    BOOST_TEST(2.0 * s.m * s.n * s.k >= ag::detail::kGemmThreadingFlops);
    a.emplace_back();
    b.emplace_back();
    for (double x : numbers(static_cast<std::size_t>(s.m * s.k), 7)) a[i].push_back(float(x));
    for (double x : numbers(static_cast<std::size_t>(s.k * s.n), 8)) b[i].push_back(float(x));
    for (int t = 0; t < 4; ++t) reference.push_back(product(i, t & 1, t & 2));
  }
  std::atomic<int> mismatches{0};
  auto repeat = [&] {
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        for (int t = 0; t < 4; ++t) {
          if (product(i, t & 1, t & 2) != reference[4 * i + t]) ++mismatches;
        }
      }
    }
  };
  const auto before = ag::detail::pool_stats();
  std::thread other(repeat);
  repeat();
  other.join();
  const auto after = ag::detail::pool_stats();
  ag::set_num_threads(1);
  BOOST_TEST(mismatches.load() == 0);
  // The pool shares oneDNN's products; a build without oneDNN (AG_GEMM=openblas, or no libgomp
  // found) leaves the float32 ones to OpenBLAS, which threads them itself.
  const bool pooled = ag_test::products_use_the_pool();
  BOOST_TEST(after.jobs - before.jobs == (pooled ? 2 * 3 * 2 * 4 : 0));
  BOOST_TEST_MESSAGE("shared " << after.shared - before.shared << ", run by the caller alone "
                               << after.jobs - before.jobs - (after.shared - before.shared));
}

BOOST_AUTO_TEST_CASE(a_batch_32_layer_is_shared_by_the_pool_but_not_by_openblas) {
  // 32x256x784 (12.8 MFLOP): above the pool's threshold, below CBLAS's. In float32 on oneDNN it
  // is cut into pieces for the pool; in float64 OpenBLAS runs it on one thread.
  const Case layer{false, false, 32, 256, 784, 0};
  const double flops = 2.0 * 32 * 256 * 784;
  BOOST_TEST(flops >= ag::detail::kPoolThreadingFlops);
  BOOST_TEST(flops < ag::detail::kGemmThreadingFlops);
  BOOST_TEST(2.0 * 32 * 128 * 256 < ag::detail::kPoolThreadingFlops);  // its next layer: alone
  const bool pooled = ag_test::products_use_the_pool();
  ag::set_num_threads(2);
  BOOST_TEST(ag::detail::gemm_threads(32, 256, 784, ag::detail::kPoolThreadingFlops) == 2);
  BOOST_TEST(ag::detail::gemm_threads(32, 256, 784, ag::detail::kGemmThreadingFlops) == 1);
  const auto before = ag::detail::pool_stats();
  BOOST_TEST(worst_error<float>(layer, 1.0, 0.0, 43u) < 1e-6);
  const auto between = ag::detail::pool_stats();
  BOOST_TEST(worst_error<double>(layer, 1.0, 0.0, 47u) < 1e-14);
  const auto after = ag::detail::pool_stats();
  ag::set_num_threads(1);
  BOOST_TEST(between.chunks - before.chunks == (pooled ? 4 : 0));  // by columns, 2 per thread
  BOOST_TEST(after.chunks - between.chunks == 0);
}

BOOST_AUTO_TEST_CASE(an_operand_with_rows_4_kib_apart_is_cut_one_piece_per_thread) {
  // oneDNN runs a product of a few hundred rows at half speed when the operand every piece reads
  // whole has its rows a multiple of 4 KiB apart (gemm.cpp): such a product is cut into one piece
  // per thread, any other into two. Pieces of rows read all of B; pieces of columns all of A.
  const bool pooled = ag_test::products_use_the_pool();
  struct Expect {
    Case shape;
    long long pieces;
  };
  const std::vector<Expect> expects = {
      {{false, false, 1024, 1024, 32, 0}, 2},  // rows; B's rows 1024 floats apart
      {{false, false, 1024, 1024, 32, 8}, 4},  // rows; 1032 floats apart
      {{false, true, 1024, 1024, 32, 0}, 4},   // rows; B stored transposed: 32 floats apart
      {{false, false, 128, 256, 1024, 0}, 2},  // columns; A's rows 1024 floats apart
      {{true, false, 128, 256, 1024, 0}, 4},   // columns; A transposed: 128 floats apart
  };
  ag::set_num_threads(2);
  for (const Expect& e : expects) {
    const Case& c = e.shape;
    BOOST_TEST(2.0 * c.m * c.n * c.k >= ag::detail::kGemmThreadingFlops);
    const auto before = ag::detail::pool_stats();
    BOOST_TEST(worst_error<float>(c, 1.0, 0.0, 41u) < 1e-6);
    const auto after = ag::detail::pool_stats();
    BOOST_TEST(after.chunks - before.chunks == (pooled ? e.pieces : 0),
               c.m << "x" << c.n << "x" << c.k << " pad " << c.pad << (c.ta ? " A^T" : "")
                   << (c.tb ? " B^T" : ""));
  }
  ag::set_num_threads(1);
}

BOOST_AUTO_TEST_CASE(large_products_from_two_threads_share_one_pool) {
  // Budget 2: each product is split into pieces; while one thread's job holds the pool, the
  // other's runs all its pieces itself. Uneven sizes leave a short last piece.
  ag::set_num_threads(2);
  const Case by_rows{true, false, 300, 200, 300, 1}, by_columns{false, true, 120, 500, 400, 0};
  double errors[2] = {0.0, 0.0};
  std::thread other([&] {
    for (unsigned seed : {1u, 2u, 3u}) {
      errors[0] = std::max(errors[0], worst_error<float>(by_rows, 1.0, 1.0, seed));
    }
  });
  for (unsigned seed : {4u, 5u, 6u}) {
    errors[1] = std::max(errors[1], worst_error<float>(by_columns, -1.0, 0.0, seed));
  }
  other.join();
  ag::set_num_threads(1);
  BOOST_TEST(errors[0] < 1e-6);
  BOOST_TEST(errors[1] < 1e-6);
}

BOOST_AUTO_TEST_CASE(products_on_other_threads) {
  std::vector<double> errors(3, 1.0);
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < errors.size(); ++i) {
    workers.emplace_back([&errors, i] {
      errors[i] = worst_error<float>(kCases[4 + i], 1.0, 1.0, static_cast<unsigned>(100 + i));
    });
  }
  for (auto& w : workers) w.join();
  for (double e : errors) BOOST_TEST(e < 1e-6);
}

// A product in a global's destructor: after this thread's oneDNN state is gone (thread-locals die
// first). A wrong or crashing product makes the process fail after the suite has passed.
struct ProductAtExit {
  ~ProductAtExit() {
    const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    float c[4] = {};
    ag::detail::gemm(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    if (c[0] != 19 || c[1] != 22 || c[2] != 43 || c[3] != 50) std::_Exit(3);
  }
} product_at_exit;

BOOST_AUTO_TEST_CASE(backend_names_the_libraries_that_ran) {
  (void)worst_error<float>(kCases[0], 1.0, 0.0, 5);
  (void)worst_error<double>(kCases[0], 1.0, 0.0, 5);
  const std::string backend = ag::gemm_backend();
  BOOST_TEST_MESSAGE(backend);
  BOOST_TEST(backend.find("float32: ") == 0);
  BOOST_TEST(backend.find("float64: OpenBLAS (core ") != std::string::npos);
  BOOST_TEST(backend.find("none ran yet") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(share_backoff_windows_double_on_losses_and_halve_on_gains) {
  using ag::detail::ShareBackoff;
  using ms = std::chrono::milliseconds;
  using us = std::chrono::microseconds;
  ShareBackoff backoff;
  const ShareBackoff::Clock::time_point t0{};
  BOOST_TEST(!backoff.solo(t0));
  backoff.record(t0, us(300), us(400));  // gained: no window
  BOOST_TEST(!backoff.solo(t0));
  BOOST_TEST((backoff.window() == ShareBackoff::kFirstWindow));
  backoff.record(t0, us(500), us(400));  // lost: 10 ms alone
  BOOST_TEST((backoff.solo_until() == t0 + ms(10)));
  BOOST_TEST(backoff.solo(t0));
  BOOST_TEST(backoff.solo(t0 + ms(9)));
  BOOST_TEST(!backoff.solo(t0 + ms(10)));
  const auto t1 = t0 + ms(10);
  backoff.record(t1, us(500), us(400));  // lost again: 20 ms
  BOOST_TEST(backoff.solo(t1 + ms(19)));
  BOOST_TEST(!backoff.solo(t1 + ms(20)));
  auto t = t1 + ms(20);
  for (int i = 0; i < 10; ++i) {  // 40, 80, ... 640, then 640 again
    backoff.record(t, us(500), us(400));
    t += ShareBackoff::kLongestWindow;
  }
  BOOST_TEST((backoff.window() == ShareBackoff::kLongestWindow));
  backoff.record(t, us(500), us(400));
  BOOST_TEST(backoff.solo(t + ms(639)));
  BOOST_TEST(!backoff.solo(t + ms(640)));
  t += ms(640);
  backoff.record(t, us(400), us(400));  // as fast as alone counts as a gain: halves the window
  BOOST_TEST((backoff.window() == ms(320)));
  BOOST_TEST(!backoff.solo(t));
  backoff.record(t, us(300), us(400));
  BOOST_TEST((backoff.window() == ms(160)));
  for (int i = 0; i < 10; ++i) backoff.record(t, us(300), us(400));
  BOOST_TEST((backoff.window() == ShareBackoff::kFirstWindow));
  // A window lasts at least 8 times the job that lost: a 5 ms job, 40 ms alone.
  backoff.record(t, ms(5), ms(4));
  BOOST_TEST((backoff.solo_until() == t + 8 * ms(5)));
  BOOST_TEST((backoff.window() == 2 * ShareBackoff::kFirstWindow));
}

// A chunk that throws: every other chunk still runs, and the first exception reaches the
// caller, whether the job was shared or ran on the caller alone (no helpers, or nested in a
// chunk of a shared job, which holds the pool).
BOOST_AUTO_TEST_CASE(run_chunks_rethrows_after_every_chunk_ran_shared_or_alone) {
  struct Job {
    std::vector<std::atomic<int>> runs = std::vector<std::atomic<int>>(9);
  };
  auto chunk = [](void* context, int i) {
    (*static_cast<Job*>(context)).runs[i].fetch_add(1);
    if (i == 2 || i == 5) throw ag::Error("test", fmt::format("chunk {} failed", i));
  };
  auto run = [&](int helpers) {
    Job job;
    std::string caught;
    try {
      ag::detail::run_chunks(helpers, 9, chunk, &job);
    } catch (const ag::Error& e) {
      caught = e.what();
    }
    int ran = 0;
    for (auto& r : job.runs) ran += r.load();
    return std::pair{ran, caught};
  };
  for (int helpers : {0, 1}) {
    const auto [ran, caught] = run(helpers);
    BOOST_TEST(ran == 9);
    BOOST_TEST((caught.find("chunk 2 failed") != std::string::npos ||
                caught.find("chunk 5 failed") != std::string::npos),
               caught);
  }
  // The inner job run from the single chunk of an outer job with `outer_helpers` helpers.
  struct Outer {
    std::function<std::pair<int, std::string>(int)> run;
    std::pair<int, std::string> inner;
  };
  auto nested = [&](int outer_helpers) {
    Outer outer{run, {}};
    ag::detail::run_chunks(
        outer_helpers, 1,
        [](void* context, int) {
          auto& o = *static_cast<Outer*>(context);
          o.inner = o.run(1);
        },
        &outer);
    return outer.inner;
  };
  // In a shared job, which holds the pool, the inner one runs on its caller alone.
  const auto [in_shared_ran, in_shared_caught] = nested(1);
  BOOST_TEST(in_shared_ran == 9);
  BOOST_TEST(in_shared_caught.find("chunk 2 failed") != std::string::npos, in_shared_caught);
  // In a job that runs alone (no helpers), which has let the pool go, the inner one may be
  // shared or not; every chunk runs either way.
  const auto [in_alone_ran, in_alone_caught] = nested(0);
  BOOST_TEST(in_alone_ran == 9);
  BOOST_TEST((in_alone_caught.find("chunk 2 failed") != std::string::npos ||
              in_alone_caught.find("chunk 5 failed") != std::string::npos),
             in_alone_caught);
}

// A job that may not wake a sleeping helper (ag::parallel_for's short loops) runs on the caller
// alone once the helpers have slept: every chunk, none by a helper.
BOOST_AUTO_TEST_CASE(a_job_that_wakes_no_sleeper_runs_alone_once_the_helpers_sleep) {
  std::vector<std::atomic<int>> runs(8);
  auto count = [](void* context, int i) {
    (*static_cast<std::vector<std::atomic<int>>*>(context))[i].fetch_add(1);
  };
  ag::detail::run_chunks(1, 8, count, &runs);                  // starts the helper if none ran yet
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past its busy wait: asleep
  const auto before = ag::detail::pool_stats();
  ag::detail::run_chunks(1, 8, count, &runs, /*wake_sleeping=*/false);
  const auto after = ag::detail::pool_stats();
  for (auto& r : runs) BOOST_TEST(r.load() == 2);
  BOOST_TEST(after.helper_chunks == before.helper_chunks);
  BOOST_TEST(after.shared == before.shared);
}

BOOST_AUTO_TEST_CASE(run_chunks_runs_every_chunk_once_and_counts_it) {
  // Whether a helper gets a chunk depends on the machine: the totals do not.
  const auto before = ag::detail::pool_stats();
  std::vector<std::atomic<int>> runs(37);
  for (int job = 0; job < 20; ++job) {
    ag::detail::run_chunks(
        1, 37,
        [](void* context, int i) {
          (*static_cast<std::vector<std::atomic<int>>*>(context))[i].fetch_add(1);
        },
        &runs);
  }
  for (auto& r : runs) BOOST_TEST(r.load() == 20);
  const auto after = ag::detail::pool_stats();
  BOOST_TEST(after.jobs - before.jobs == 20);
  BOOST_TEST(after.chunks - before.chunks == 20 * 37);
  BOOST_TEST(after.shared + after.backed_off - before.shared - before.backed_off == 20);
  BOOST_TEST(after.helper_chunks - before.helper_chunks <= 20 * 37);
  const std::string sharing = ag::gemm_sharing();
  BOOST_TEST_MESSAGE(sharing);
  BOOST_TEST(
      sharing.find(fmt::format("products split {}: shared {}, alone {} (back-off); pieces {}",
                               after.jobs, after.shared, after.backed_off, after.chunks)) == 0);
}
