// Data-parallel training over MPI, run by CTest as `mpirun -np N test_dist`: every rank runs
// every case, in the same order. Each case compares what N ranks compute with what one process
// computes on the whole batch (the reference, computed by every rank on its own).
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <nn/nn.hpp>

#include "dist/dist.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using ag::Tensor;
namespace dist = ag::dist;
namespace nn = ag::nn;

namespace {

struct MpiRuntime {
  MpiRuntime() {
    auto& suite = boost::unit_test::framework::master_test_suite();
    env = std::make_unique<dist::Environment>(suite.argc, suite.argv);
    dist::set_timeout(20);  // a broken case fails in seconds instead of hanging CTest
  }
  std::unique_ptr<dist::Environment> env;
};
BOOST_TEST_GLOBAL_FIXTURE(MpiRuntime);

// Dense 6-8-3 with a tanh between; `seed` draws the weights.
std::shared_ptr<nn::Sequential> make_net(std::uint64_t seed, ag::Dtype dtype) {
  ag::Generator gen(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->emplace<nn::Dense>(6, 8, nn::Init::HeNormal, gen, dtype);
  net->emplace<nn::Tanh>();
  net->emplace<nn::Dense>(8, 3, nn::Init::XavierNormal, gen, dtype);
  return net;
}

// The data set every rank holds: 96 rows, 3 classes.
struct Data {
  Tensor x;
  std::vector<std::int64_t> y;
};
Data make_data(ag::Dtype dtype) {
  ag::Generator gen(11);
  Data d{ag::randn({96, 6}, gen, dtype), {}};
  for (int i = 0; i < 96; ++i) d.y.push_back(static_cast<std::int64_t>(gen.uniform() * 3));
  return d;
}

void backward_on(nn::Module& net, const Data& d, std::span<const std::int64_t> rows) {
  nn::cross_entropy(net(nn::take_rows(d.x, rows)), nn::take(d.y, rows)).backward();
}

// Largest |a - b| / max(|b|, 1e-300) over two modules' parameters.
double max_relative_difference(const nn::Module& a, const nn::Module& b) {
  double worst = 0.0;
  const auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const auto va = pa[i].to_vector(), vb = pb[i].to_vector();
    for (std::size_t j = 0; j < va.size(); ++j)
      worst = std::max(worst, std::abs(va[j] - vb[j]) / std::max(std::abs(vb[j]), 1e-300));
  }
  return worst;
}

// 20 steps of `make_optimizer` on global batches of 24 rows: one process on the whole batch
// (reference), N ranks on their shares through DistributedDataParallel, and each rank on its
// share alone (what the reference would differ by without the all-reduce).
template <class MakeOptimizer>
void check_equivalence(ag::Dtype dtype, double tolerance, MakeOptimizer make_optimizer) {
  const Data data = make_data(dtype);
  const int rank = dist::rank(), world = dist::world_size();
  auto reference = make_net(5, dtype);
  auto alone = make_net(5, dtype);
  auto replica = make_net(5 + static_cast<std::uint64_t>(rank), dtype);  // ranks start apart
  dist::DistributedDataParallel ddp(*replica, {.bucket_bytes = 256});
  BOOST_TEST(max_relative_difference(*replica, *reference) == 0.0);  // rank 0's weights
  auto opt_ref = make_optimizer(*reference), opt_alone = make_optimizer(*alone),
       opt_ddp = make_optimizer(*replica);
  dist::DistributedSampler sampler(96, 24, world, rank, 3);
  for (std::int64_t epoch = 0; epoch < 5; ++epoch) {
    const auto global = sampler.global_batches(epoch);
    const auto mine = sampler.epoch_batches(epoch);
    for (std::size_t step = 0; step < global.size(); ++step) {
      opt_ref->zero_grad();
      backward_on(*reference, data, global[step]);
      opt_ref->step();
      opt_alone->zero_grad();
      backward_on(*alone, data, mine[step]);
      opt_alone->step();
      opt_ddp->zero_grad();
      backward_on(ddp.module(), data, mine[step]);
      BOOST_TEST_REQUIRE(ddp.finish_gradient_sync());
      opt_ddp->step();
    }
  }
  BOOST_TEST(opt_ddp->steps() == 20);
  BOOST_TEST_MESSAGE("rank " << rank << " of " << world << ": max relative difference "
                             << max_relative_difference(*replica, *reference));
  BOOST_TEST(max_relative_difference(*replica, *reference) <= tolerance);
  if (world > 1) BOOST_TEST(max_relative_difference(*alone, *reference) > 1e-4);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ranks_with_shares_of_the_batch_match_one_process_float64) {
  check_equivalence(ag::float64, 1e-12, [](nn::Module& m) {
    return std::make_unique<nn::SGD>(m.named_parameters(), 0.1, 0.9);
  });
}

BOOST_AUTO_TEST_CASE(ranks_with_shares_of_the_batch_match_one_process_float32_adam) {
  // float32 sums in another order differ by rounding: the benchmark's float32 tolerance.
  check_equivalence(ag::float32, 1e-4, [](nn::Module& m) {
    return std::make_unique<nn::Adam>(m.named_parameters(), 0.01);
  });
}

BOOST_AUTO_TEST_CASE(buckets_follow_reverse_registration_and_start_during_backward) {
  const Data data = make_data(ag::float64);
  const std::vector<std::int64_t> rows{0, 1, 2, 3};
  auto net = make_net(1, ag::float64);  // weights 6x8 (384 bytes), 8x3 (192 bytes)
  {
    // Tiny buckets: one per parameter, each started the moment its gradient is ready.
    dist::DistributedDataParallel ddp(*net, {.bucket_bytes = 1});
    std::vector<std::vector<std::string>> names;
    for (const auto& b : ddp.buckets()) names.push_back(b.params);
    BOOST_TEST(names.size() == 4u);
    BOOST_TEST((names == std::vector<std::vector<std::string>>{
                             {"2.bias"}, {"2.weight"}, {"0.bias"}, {"0.weight"}}));
    backward_on(*net, data, rows);
    BOOST_TEST(ddp.finish_gradient_sync());
    const auto& launches = ddp.last_launches();
    BOOST_REQUIRE(launches.size() == 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      BOOST_TEST(launches[i].bucket == i);
      BOOST_TEST(launches[i].ready_params == i + 1);  // 1..3 of 4: overlapped with backward
    }
    BOOST_TEST(ddp.gradient_bytes() == (6u * 8 + 8 + 8 * 3 + 3) * 8);
  }
  net->zero_grad();
  {
    // 250 bytes: 2.bias (24) + 2.weight (192) fit; 0.bias (64) would make 280, so it opens
    // the next bucket, which 0.weight (384) then overflows into a third.
    dist::DistributedDataParallel ddp(*net, {.bucket_bytes = 250});
    std::vector<std::size_t> sizes;
    for (const auto& b : ddp.buckets()) sizes.push_back(b.bytes);
    BOOST_TEST((sizes == std::vector<std::size_t>{216, 64, 384}));
    backward_on(*net, data, rows);
    BOOST_TEST(ddp.finish_gradient_sync());
    BOOST_TEST(ddp.last_launches().size() == 3u);
    BOOST_TEST(ddp.last_launches()[0].ready_params == 2u);
  }
}

BOOST_AUTO_TEST_CASE(no_sync_accumulates_locally_then_averages_the_sum) {
  const Data data = make_data(ag::float64);
  const int rank = dist::rank(), world = dist::world_size();
  // Micro-batches of 4 rows: rank r takes rows [8r, 8r+4) then [8r+4, 8r+8).
  auto rows_of = [](int r, int micro) {
    std::vector<std::int64_t> rows;
    for (int i = 0; i < 4; ++i) rows.push_back(8 * r + 4 * micro + i);
    return rows;
  };
  auto net = make_net(2, ag::float64);
  dist::DistributedDataParallel ddp(*net);
  {
    auto guard = ddp.no_sync();
    backward_on(*net, data, rows_of(rank, 0));
  }
  BOOST_TEST(!ddp.finish_gradient_sync());  // nothing was sent
  auto local = make_net(2, ag::float64);
  backward_on(*local, data, rows_of(rank, 0));
  BOOST_TEST(net->parameters()[0].grad().to_vector() == local->parameters()[0].grad().to_vector());

  backward_on(*net, data, rows_of(rank, 1));
  BOOST_TEST(ddp.finish_gradient_sync());
  BOOST_TEST(ddp.last_launches().size() == ddp.buckets().size());
  // Reference: the sum over every rank's two micro-batches, divided by the number of ranks.
  auto reference = make_net(2, ag::float64);
  for (int r = 0; r < world; ++r)
    for (int micro = 0; micro < 2; ++micro) backward_on(*reference, data, rows_of(r, micro));
  const auto got = net->parameters(), want = reference->parameters();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto g = got[i].grad().to_vector(), w = want[i].grad().to_vector();
    for (std::size_t j = 0; j < g.size(); ++j)
      BOOST_TEST(g[j] == w[j] / world, boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(two_backwards_without_no_sync_are_refused) {
  const Data data = make_data(ag::float64);
  auto net = make_net(2, ag::float64);
  dist::DistributedDataParallel ddp(*net);
  backward_on(*net, data, {{0, 1}});
  ag_test::expect_error(
      [&] {
        backward_on(*net, data, {{2, 3}});
      },
      {"'2.bias'", "second gradient", "no_sync"});
  // Rank-local misuse: ddp's destructor cancels the step's outstanding requests.
}

BOOST_AUTO_TEST_CASE(sampler_uses_every_row_once_per_epoch_on_every_rank_count) {
  for (int world : {1, 2, 3, 4}) {
    for (std::int64_t n : {96, 101, 103}) {
      const dist::DistributedSampler probe(n, 10, world, 0, 9);
      std::vector<int> seen(static_cast<std::size_t>(n), 0);
      std::size_t steps = probe.epoch_batches(1).size();
      for (int r = 0; r < world; ++r) {
        const auto batches = dist::DistributedSampler(n, 10, world, r, 9).epoch_batches(1);
        BOOST_TEST(batches.size() == steps);  // the same number of all-reduces on every rank
        for (const auto& b : batches) {
          BOOST_TEST(!b.empty());
          for (auto row : b) ++seen[static_cast<std::size_t>(row)];
        }
      }
      BOOST_TEST(std::count(seen.begin(), seen.end(), 1) == n, "n " << n << " world " << world);
    }
  }
  // 101 rows in batches of 10 over 3 ranks: the last single row joins the tenth batch.
  const auto global = dist::DistributedSampler(101, 10, 3, 0, 9).global_batches(0);
  BOOST_TEST(global.size() == 10u);
  BOOST_TEST(global.back().size() == 11u);
  // A fresh shuffle each epoch, the same for the same seed.
  const dist::DistributedSampler a(96, 8, 2, 1, 4), b(96, 8, 2, 1, 4);
  BOOST_TEST(a.epoch_batches(0) == b.epoch_batches(0));
  BOOST_TEST(a.epoch_batches(0) != a.epoch_batches(1));
  ag_test::expect_error([] { dist::DistributedSampler(10, 2, 3, 0, 1); }, {"2 rows", "3 ranks"});
  ag_test::expect_error([] { dist::DistributedSampler(2, 4, 3, 0, 1); }, {"2 rows", "3 ranks"});
  ag_test::expect_error([] { dist::DistributedSampler(10, 4, 3, 3, 1); }, {"rank 3", "[0, 3)"});
  // Fewer rows than a global batch: one step of all of them.
  BOOST_TEST(dist::DistributedSampler(5, 8, 2, 1, 1).epoch_batches(0).size() == 1u);
  BOOST_TEST(dist::DistributedSampler(5, 8, 2, 1, 1).epoch_batches(0)[0].size() == 3u);
}

BOOST_AUTO_TEST_CASE(sampler_partitions_across_the_real_ranks) {
  const dist::DistributedSampler sampler(101, 16, dist::world_size(), dist::rank(), 21);
  std::vector<double> count(101, 0.0);
  for (const auto& b : sampler.epoch_batches(2))
    for (auto row : b) count[static_cast<std::size_t>(row)] += 1;
  const auto total = dist::all_reduce_sum(count);
  BOOST_TEST(std::count(total.begin(), total.end(), 1.0) == 101);
  const double steps = static_cast<double>(sampler.epoch_batches(2).size());
  BOOST_TEST(dist::all_reduce_sum(steps) == steps * dist::world_size());
}

BOOST_AUTO_TEST_CASE(different_models_are_refused_at_start_naming_the_parameter) {
  ag::Generator gen(1);
  nn::Sequential net;
  net.emplace<nn::Dense>(4, dist::rank() == 1 ? 6 : 5, nn::Init::HeNormal, gen);
  if (dist::world_size() == 1) return;
  ag_test::expect_error([&] { dist::DistributedDataParallel ddp(net); },
                        {"'0.weight'", "[4, 6]", "rank 1", "[4, 5]", "rank 0"});
}

BOOST_AUTO_TEST_CASE(checkpoint_written_by_rank0_loads_on_any_rank_count) {
  const Data data = make_data(ag::float32);
  std::string dir;
  if (dist::rank() == 0) dir = ag_test::TempDir("dist-ckpt").path.string() + "-run";
  dist::broadcast(dir, 0);
  if (dist::rank() == 0) fs::create_directories(dir);
  dist::barrier();
  const fs::path path = fs::path(dir) / "model.safetensors";

  auto net = make_net(3, ag::float32);
  dist::DistributedDataParallel ddp(*net);
  nn::Adam adam(net->named_parameters(), 0.01);
  const dist::DistributedSampler sampler(96, 16, dist::world_size(), dist::rank(), 1);
  for (const auto& rows : sampler.epoch_batches(0)) {
    adam.zero_grad();
    backward_on(*net, data, rows);
    ddp.finish_gradient_sync();
    adam.step();
  }
  dist::save_checkpoint(path, *net, &adam, {{"epoch", "1"}});
  if (dist::rank() == 0) {
    // Only the checkpoint: no temporary left behind.
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    BOOST_TEST(names == std::vector<std::string>{"model.safetensors"});
    // One process reads it with the plain loader: nothing in it depends on the rank count.
    auto single = make_net(99, ag::float32);
    nn::Adam single_adam(single->named_parameters(), 0.01);
    BOOST_TEST(nn::load_checkpoint(path, *single, &single_adam).at("epoch") == "1");
    BOOST_TEST(max_relative_difference(*single, *net) == 0.0);
    BOOST_TEST(single_adam.steps() == adam.steps());
  }
  // Every rank, starting from other weights, resumes from rank 0's file.
  auto resumed = make_net(40 + static_cast<std::uint64_t>(dist::rank()), ag::float32);
  nn::Adam resumed_adam(resumed->named_parameters(), 0.01);
  const auto meta = dist::load_checkpoint(path, *resumed, &resumed_adam);
  BOOST_TEST(meta.at("epoch") == "1");
  BOOST_TEST(max_relative_difference(*resumed, *net) == 0.0);
  BOOST_TEST(resumed_adam.steps() == adam.steps());
  BOOST_TEST(resumed_adam.named_state()[0].second.to_vector() ==
             adam.named_state()[0].second.to_vector());

  // A missing file: every rank gets rank 0's error, nobody hangs, weights unchanged.
  const auto before = resumed->parameters()[0].to_vector();
  ag_test::expect_error([&] { dist::load_checkpoint(fs::path(dir) / "absent", *resumed); },
                        {"absent"});
  BOOST_TEST(resumed->parameters()[0].to_vector() == before);
  dist::barrier();
  if (dist::rank() == 0) fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(metrics_sum_over_ranks) {
  const double r = dist::rank(), n = dist::world_size();
  const auto sums = dist::all_reduce_sum(std::vector<double>{1.0, r});
  BOOST_TEST(sums[0] == n);
  BOOST_TEST(sums[1] == n * (n - 1) / 2);
}
