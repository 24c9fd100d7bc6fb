// Threads: independent graphs built and backpropagated concurrently give bitwise the same
// numbers as one thread, and the per-thread switches (grad mode, anomaly mode, scopes) stay
// per thread. Also run under ThreadSanitizer by tools/ci/tsan.sh.
//
// What is shared between threads inside the library, and why this is safe: the scalar node
// pool, grad mode, anomaly mode, the current scope and the destroy/walk scratch lists are
// thread_local; labels and scope names live in side tables behind one mutex. Node reference
// counts are NOT atomic: one graph belongs to the thread that built it.
#include <fmt/format.h>

#include <algorithm>
#include <barrier>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/nn.hpp"
#include "random_graph.hpp"

namespace {

constexpr int kThreads = 4;

// Runs job(i) for i in [0, n) once serially and once with each i on its own thread (all
// started together behind a barrier, so they really overlap), and checks both give bitwise
// identical results; returns the serial ones. Jobs must not use Boost.Test assertions: the
// framework is not thread-safe.
std::vector<std::vector<double>> expect_same_in_threads(
    int n, const std::function<std::vector<double>(int)>& job) {
  std::vector<std::vector<double>> serial(n), parallel(n);
  for (int i = 0; i < n; ++i) serial[i] = job(i);
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      parallel[i] = job(i);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    BOOST_TEST_CONTEXT("job " << i) {
      BOOST_TEST_REQUIRE(serial[i].size() == parallel[i].size());
      BOOST_TEST(!serial[i].empty());
      // Bitwise: memcmp, so that -0.0 vs 0.0 or two NaNs would count too.
      BOOST_TEST(std::memcmp(serial[i].data(), parallel[i].data(),
                             serial[i].size() * sizeof(double)) == 0);
    }
  }
  return serial;
}

// A micrograd-style MLP of Values (2-8-8-1), trained a few steps: thousands of scalar nodes
// from the thread's pool per step, built and freed.
std::vector<double> scalar_mlp(int job) {
  ag::Generator gen(100 + static_cast<std::uint64_t>(job));
  auto weight = [&] { return ag::Value(gen.uniform() * 2 - 1); };
  const int sizes[] = {2, 8, 8, 1};
  std::vector<std::vector<std::vector<ag::Value>>> w;  // layer, neuron, input (+ bias last)
  for (int l = 0; l < 3; ++l) {
    w.emplace_back();
    for (int o = 0; o < sizes[l + 1]; ++o) {
      w.back().emplace_back();
      for (int i = 0; i <= sizes[l]; ++i) w.back().back().push_back(weight());
    }
  }
  std::vector<double> trace;
  for (int step = 0; step < 20; ++step) {
    ag::Value loss = 0.0;
    for (int p = 0; p < 16; ++p) {
      std::vector<ag::Value> x = {ag::Value(std::sin(p + job)), ag::Value(std::cos(p * 0.5))};
      for (int l = 0; l < 3; ++l) {
        std::vector<ag::Value> y;
        for (auto& neuron : w[l]) {
          ag::Value act = neuron.back();
          for (std::size_t i = 0; i < x.size(); ++i) act = act + neuron[i] * x[i];
          y.push_back(l < 2 ? tanh(act) : act);
        }
        x = std::move(y);
      }
      loss = loss + pow(x[0] - (p % 2 ? 1.0 : -1.0), 2.0);
    }
    for (auto& layer : w)
      for (auto& neuron : layer)
        for (auto& p : neuron) p.zero_grad();
    loss.backward();
    trace.push_back(loss.data());
    for (auto& layer : w)
      for (auto& neuron : layer)
        for (auto& p : neuron) p = ag::Value(p.data() - 0.05 * p.grad());
  }
  return trace;
}

// Tensor ops of every family with a shared subexpression, backpropagated; the gradients.
std::vector<double> tensor_graph(int job) {
  ag::Generator gen(7 + static_cast<std::uint64_t>(job));
  auto a = ag::randn({16, 8}, gen, ag::float64).requires_grad_();
  auto b = ag::randn({8, 5}, gen, ag::float64).requires_grad_();
  auto c = ag::rand({5}, gen, ag::float64).requires_grad_();
  std::vector<double> out;
  for (int rep = 0; rep < 30; ++rep) {
    auto h = ag::tanh(ag::matmul(a, b) + c);
    auto shared = ag::softmax(h, 1);
    auto y = ag::log_softmax(h * shared, -1).mean(0) + ag::sqrt(c + 1.0) * ag::max(h, 0);
    std::vector<std::int64_t> labels(16);
    for (int i = 0; i < 16; ++i) labels[i] = (i + rep) % 5;
    auto loss = ag::sum(y) + ag::mean(ag::pick(ag::cat({h, shared}, 1), labels)) +
                ag::Tensor(ag::Value(ag::sum(c)) * 2.0);
    a.zero_grad(), b.zero_grad(), c.zero_grad();
    loss.backward();
    out.push_back(loss.item());
  }
  for (const auto& t : {a.grad(), b.grad(), c.grad()})
    for (double x : t.to_vector()) out.push_back(x);
  return out;
}

// nn: a small classifier trained with Adam on spiral data; the loss curve and final weights.
std::vector<double> nn_training(int job) {
  ag::Generator gen(static_cast<std::uint64_t>(job));
  auto data = ag::nn::spiral_data(50, 3, gen, 0.2, ag::float64);
  ag::nn::Sequential net;
  net.emplace<ag::nn::Dense>(2, 16, ag::nn::Init::HeNormal, gen, ag::float64);
  net.emplace<ag::nn::ReLU>();
  net.emplace<ag::nn::Dense>(16, 3, ag::nn::Init::XavierNormal, gen, ag::float64);
  ag::nn::Adam opt(net.parameters(), 0.02);
  std::vector<double> out;
  for (int epoch = 0; epoch < 40; ++epoch) {
    auto loss = ag::nn::cross_entropy(net(data.X), data.y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    out.push_back(loss.item());
  }
  for (const auto& p : net.parameters())
    for (double x : p.to_vector()) out.push_back(x);
  return out;
}

struct SingleKernelThread {
  // One kernel thread per caller: threads calling into a multi-threaded BLAS at once would
  // oversubscribe the machine (results are the same either way).
  SingleKernelThread() { ag::set_num_threads(1); }
};

}  // namespace

BOOST_GLOBAL_FIXTURE(SingleKernelThread);

BOOST_AUTO_TEST_CASE(scalar_graphs_in_threads_match_one_thread) {
  expect_same_in_threads(kThreads, scalar_mlp);
}

BOOST_AUTO_TEST_CASE(tensor_graphs_in_threads_match_one_thread) {
  expect_same_in_threads(kThreads, tensor_graph);
}

BOOST_AUTO_TEST_CASE(nn_training_in_threads_matches_one_thread) {
  expect_same_in_threads(kThreads, nn_training);
}

// Random graphs checked against finite differences in parallel: every thread's verdicts must
// be the same passes as the serial run's (graphs mix every op, labels off).
BOOST_AUTO_TEST_CASE(random_graphs_in_threads_match_one_thread) {
  const auto results = expect_same_in_threads(kThreads, [](int job) {
    std::vector<double> verdicts;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
      const auto g = ag::fuzz::generate_graph(1000 * static_cast<std::uint64_t>(job) + seed);
      verdicts.push_back(static_cast<double>(ag::fuzz::check_graph(g).outcome));
      verdicts.push_back(static_cast<double>(g.nodes.size()));
    }
    return verdicts;
  });
  for (const auto& verdicts : results)
    for (std::size_t i = 0; i < verdicts.size(); i += 2)
      BOOST_TEST(verdicts[i] == static_cast<double>(ag::fuzz::Outcome::Pass));
}

// Grad mode is per thread: one thread inside a NoGradGuard does not stop another recording.
BOOST_AUTO_TEST_CASE(grad_mode_is_per_thread) {
  std::barrier sync(2);
  bool other_recorded = false, guarded_recorded = true;
  std::thread guarded([&] {
    ag::NoGradGuard no_grad;
    sync.arrive_and_wait();  // the guard is on while the other thread works
    ag::Value x = 2.0;
    guarded_recorded = !(x * x).is_leaf();
    sync.arrive_and_wait();
  });
  std::thread recording([&] {
    sync.arrive_and_wait();
    ag::Value x = 2.0;
    auto y = x * x;
    other_recorded = !y.is_leaf();
    y.backward();
    other_recorded = other_recorded && x.grad() == 4.0;
    sync.arrive_and_wait();
  });
  guarded.join();
  recording.join();
  BOOST_TEST(other_recorded);
  BOOST_TEST(!guarded_recorded);
  BOOST_TEST(ag::grad_enabled());
}

// Anomaly mode is per thread too: a NaN in a thread without it is silent, with it an error.
BOOST_AUTO_TEST_CASE(anomaly_mode_is_per_thread) {
  std::barrier sync(2);
  std::string caught;
  bool silent_nan = false;
  std::thread checking([&] {
    ag::AnomalyModeGuard anomaly;
    sync.arrive_and_wait();
    try {
      auto x = ag::tensor({-1.0, 1.0}, ag::float64);
      (void)ag::sqrt(x - 2.0 + 1.0 + ag::abs(x) - ag::abs(x));  // sqrt(-2), sqrt(0)
    } catch (const ag::Error& e) {
      caught = e.what();
    }
    try {
      auto zero = ag::tensor({0.0}, ag::float64);
      (void)ag::log(zero);  // -inf
    } catch (const ag::Error& e) {
      caught += std::string("|") + e.what();
    }
    sync.arrive_and_wait();
  });
  std::thread plain([&] {
    sync.arrive_and_wait();
    auto zero = ag::tensor({0.0}, ag::float64);
    silent_nan = std::isinf(ag::log(zero).item());
    sync.arrive_and_wait();
  });
  checking.join();
  plain.join();
  BOOST_TEST(silent_nan);
  BOOST_TEST(caught.find("log") != std::string::npos, caught);
}

// Labels and scope names are shared tables: many threads naming nodes at once must each see
// their own labels.
BOOST_AUTO_TEST_CASE(labels_and_scopes_from_many_threads) {
  std::vector<int> wrong(kThreads, 0);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 2000; ++i) {
        ag::ScopeGuard scope(i % 2 ? "odd" : "even");
        const std::string name = fmt::format("t{}_{}", t, i);
        const std::string derived = fmt::format("t{}_{}_w", t, i);
        ag::Value v(1.0, name);
        auto w = (v * 2.0).set_label(derived);
        if (v.label() != name || w.label() != derived) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) BOOST_TEST(wrong[t] == 0);
}

// A graph built in one thread, handed over whole (the builder keeps no handle), and
// backpropagated and freed in another: only one thread touches it at a time, which the
// non-atomic counts allow. The scalar pool must cope with nodes freed by a thread other than
// the one that allocated them: the receiving thread's own live nodes must stay intact.
BOOST_AUTO_TEST_CASE(graph_handed_over_between_threads) {
  // A fresh receiving thread, so that its pool starts empty and the outcome does not depend
  // on what earlier tests left in the main thread's pool. Results are checked after join.
  double x_grad = 0.0, keep_data = 0.0, x_data = 0.0;
  int fresh_wrong = 0;
  std::thread receiver([&] {
    ag::Value keep(5.0);  // a node of this thread's pool that lives throughout
    ag::Value x = 3.0;
    ag::Value y;
    std::thread builder([&] {
      ag::Value acc = x;
      for (int i = 0; i < 1000; ++i) acc = acc * 1.001 + 0.5;
      y = acc;
    });
    builder.join();
    y.backward();
    x_grad = x.grad();
    y = ag::Value();  // frees 2000 nodes of the builder's pool, from this thread
    std::vector<ag::Value> fresh;
    for (int i = 0; i < 3000; ++i) fresh.emplace_back(100.0 + i);
    keep_data = keep.data();
    x_data = x.data();
    for (int i = 0; i < 3000; ++i) fresh_wrong += fresh[i].data() != 100.0 + i;
  });
  receiver.join();
  BOOST_TEST(x_grad == std::pow(1.001, 1000), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(keep_data == 5.0);
  BOOST_TEST(x_data == 3.0);
  BOOST_TEST(fresh_wrong == 0);
}

// ---- ag::parallel_for: the library's helper threads running an elementwise loop ----
namespace {

// Sets the kernel thread budget for one test and puts the fixture's back after.
struct KernelThreads {
  explicit KernelThreads(int n) { ag::set_num_threads(n); }
  ~KernelThreads() { ag::set_num_threads(1); }
};

struct Range {
  std::int64_t begin, end;
};

// The ranges one parallel_for call handed out, sorted; each element's visits are counted by
// the range that owns it (plain ints: ThreadSanitizer reports two ranges writing one element).
std::vector<Range> ranges_of(std::int64_t n, std::int64_t grain, std::vector<int>& visits) {
  std::mutex mutex;
  std::vector<Range> ranges;
  visits.assign(static_cast<std::size_t>(n), 0);
  ag::parallel_for(n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) ++visits[static_cast<std::size_t>(k)];
    std::lock_guard lock(mutex);
    ranges.push_back({begin, end});
  });
  std::sort(ranges.begin(), ranges.end(), [](Range a, Range b) { return a.begin < b.begin; });
  return ranges;
}

}  // namespace

BOOST_AUTO_TEST_CASE(parallel_for_covers_every_element_once_in_whole_cache_lines) {
  constexpr std::int64_t kGrain = 1000;
  for (int threads : {1, 2, 3}) {
    KernelThreads budget(threads);
    for (std::int64_t n : {0, 1, 63, 64, 65, 1999, 2000, 2001, 4096, 100003}) {
      for (int round = 0; round < 3; ++round) {  // whoever runs the ranges, the same cover
        std::vector<int> visits;
        const std::vector<Range> ranges = ranges_of(n, kGrain, visits);
        BOOST_TEST_CONTEXT("threads " << threads << ", n " << n) {
          BOOST_TEST(std::count(visits.begin(), visits.end(), 1) == n);
          // Below 2 grains, or on one thread, one range; else at most two per thread, each of
          // at least a grain (the last excepted) and starting on a multiple of 64.
          const bool shared = threads > 1 && n >= 2 * kGrain;
          BOOST_TEST(ranges.size() == (n == 0 ? 0u : shared ? ranges.size() : 1u));
          if (shared) {
            BOOST_TEST(ranges.size() >= 2u);
            BOOST_TEST(ranges.size() <= static_cast<std::size_t>(2 * threads));
          }
          std::int64_t at = 0;
          for (std::size_t i = 0; i < ranges.size(); ++i) {
            BOOST_TEST(ranges[i].begin == at);
            BOOST_TEST(ranges[i].begin % 64 == 0);
            BOOST_TEST(ranges[i].end > ranges[i].begin);
            if (i + 1 < ranges.size()) BOOST_TEST(ranges[i].end - ranges[i].begin >= kGrain);
            at = ranges[i].end;
          }
          BOOST_TEST(at == n);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(parallel_for_rethrows_the_first_exception_once_every_range_ran) {
  KernelThreads budget(2);
  constexpr std::int64_t n = 10'000;
  std::vector<int> visits(n, 0);
  std::string caught;
  try {
    ag::parallel_for(n, 1000, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) ++visits[static_cast<std::size_t>(k)];
      if (begin == 0) throw ag::Error("test", "the first range failed");
    });
  } catch (const ag::Error& e) {
    caught = e.what();
  }
  BOOST_TEST(caught.find("the first range failed") != std::string::npos, caught);
  BOOST_TEST(std::count(visits.begin(), visits.end(), 1) == n);
}

// A parallel_for inside a body (on the caller or on a helper) runs on that thread alone when the
// outer one is shared, and may be shared when the outer one ran alone: no deadlock either way,
// and the same cover.
BOOST_AUTO_TEST_CASE(parallel_for_inside_a_body_covers_every_element) {
  KernelThreads budget(2);
  constexpr std::int64_t rows = 8, cols = 5000;
  std::vector<int> visits(rows * cols, 0);
  ag::parallel_for(rows * 640, 640, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin / 640; r < (end + 639) / 640; ++r) {
      ag::parallel_for(cols, 1000, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t k = b; k < e; ++k) ++visits[static_cast<std::size_t>(r * cols + k)];
      });
    }
  });
  BOOST_TEST(std::count(visits.begin(), visits.end(), 1) == rows * cols);
}

// The optimizers' update passes run on the helper threads for large parameters: each element's
// update is its own, so two threads give the bits one thread gives.
BOOST_AUTO_TEST_CASE(optimizer_steps_are_the_same_bits_at_any_thread_count) {
  // Float32 and float64 parameters above and below the size that is shared, and their bytes
  // after three steps.
  auto train = [](int threads, const std::string& which, std::vector<double>& initial) {
    KernelThreads budget(threads);
    ag::Generator gen(7);
    std::vector<ag::Tensor> params = {ag::randn({300, 250}, gen).requires_grad_(),
                                      ag::randn({300, 230}, gen, ag::float64).requires_grad_(),
                                      ag::randn({37}, gen).requires_grad_()};
    initial = {params[0].data_ptr<float>()[0], params[1].data_ptr<double>()[0]};
    std::unique_ptr<ag::nn::Optimizer> opt;
    if (which == "adam") opt = std::make_unique<ag::nn::Adam>(params, 0.01);
    if (which == "sgd") opt = std::make_unique<ag::nn::SGD>(params, 0.1, 0.9, 0.01);
    if (which == "plain sgd") opt = std::make_unique<ag::nn::SGD>(params, 0.1);
    for (int step = 0; step < 3; ++step) {
      opt->zero_grad();
      auto loss = (params[0] * params[0]).sum() + ag::sin(params[1]).sum().to(ag::float32) +
                  ag::exp(params[2]).sum();
      loss.backward();
      opt->step();
    }
    std::vector<std::uint8_t> bytes;
    for (const auto& p : params) {
      const auto* b = p.dtype() == ag::float32
                          ? reinterpret_cast<const std::uint8_t*>(p.data_ptr<float>())
                          : reinterpret_cast<const std::uint8_t*>(p.data_ptr<double>());
      bytes.insert(bytes.end(), b, b + p.numel() * (p.dtype() == ag::float32 ? 4 : 8));
    }
    return bytes;
  };
  for (const std::string which : {"adam", "sgd", "plain sgd"}) {
    std::vector<double> initial;
    const auto one = train(1, which, initial);
    const auto two = train(2, which, initial);
    BOOST_TEST_CONTEXT(which) {
      BOOST_TEST((one == two));
      // The steps moved the parameters (each first element, of either dtype).
      float first32;
      double first64;
      std::memcpy(&first32, one.data(), 4);
      std::memcpy(&first64, one.data() + 300 * 250 * 4, 8);
      BOOST_TEST(first32 != static_cast<float>(initial[0]));
      BOOST_TEST(first64 != initial[1]);
    }
  }
}
