// Fashion-MNIST across processes: the MLP 784-256-128-10 of examples/fashion_mnist.cpp
// trained data-parallel. Every rank holds the model; each step's global batch is split over
// the ranks, and the gradients are averaged (all-reduced during backward) before Adam steps.
// With the same seed and global batch it draws the same batches as fashion_mnist, so it
// trains the same model, up to float32 rounding, in fewer seconds per epoch.
//
//   mpirun -np 2 build/examples/fashion_mnist_ddp                      # 12 epochs, batch 128
//   mpirun -np 2 build/examples/fashion_mnist_ddp --epochs 1 --subset 6000
//   mpirun -np 4 build/examples/fashion_mnist_ddp --resume out/checkpoint.safetensors
//
// Rank 0 alone prints progress and writes the checkpoint; a checkpoint resumes on any
// number of ranks. Data: /usr/share/datasets/fashion-mnist (apt-get install
// dataset-fashion-mnist), read by every rank.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "autograd/autograd.hpp"
#include "command_line/options.hpp"
#include "dist/dist.hpp"
#include "nn/nn.hpp"

namespace {

struct Options {
  int epochs = 12;
  std::int64_t batch = 128;  // global: split over the ranks
  std::int64_t subset = 0;
  double lr = 1e-3;
  double lr_decay = 0.8;
  std::uint64_t seed = 1;
  int threads = 1;
  std::string data_dir = ag::nn::kFashionMnistDir;
  std::string out_dir = "fashion_mnist_ddp_out";
  std::string resume;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  command_line::Options options{"Train an MLP 784-256-128-10 on Fashion-MNIST over MPI ranks"};
  options.add("--epochs", opt.epochs, "epochs in all").show_default();
  options.add("--batch", opt.batch, "global minibatch, split over the ranks").show_default();
  options.add("--subset", opt.subset, "first N training images only (0 = all)");
  options.add("--lr", opt.lr, "Adam learning rate of the first epoch").show_default();
  options.add("--lr-decay", opt.lr_decay, "factor per epoch").show_default();
  options.add("--seed", opt.seed, "weights and shuffles").show_default();
  options.add("--threads", opt.threads, "kernel threads per rank").show_default();
  options.add("--data-dir", opt.data_dir, "IDX files").show_default();
  options.add("--out", opt.out_dir, "checkpoint directory").show_default();
  options.add("--resume", opt.resume, "continue from this checkpoint");
  if (auto status = options.parse(argc, argv)) return *status;

  return ag::dist::run(argc, argv, [&] {
    namespace nn = ag::nn;
    const int rank = ag::dist::rank(), world = ag::dist::world_size();
    auto say = [&](auto... args) {  // the one progress display: rank 0's
      if (rank == 0) {
        std::printf(args...);
        std::fflush(stdout);
      }
    };
    ag::set_num_threads(opt.threads);
    auto data = nn::load_fashion_mnist(opt.data_dir);
    if (opt.subset > 0 && opt.subset < data.train.count()) {
      std::vector<std::int64_t> rows(static_cast<std::size_t>(opt.subset));
      std::iota(rows.begin(), rows.end(), 0);
      data.train.images = nn::take_rows(data.train.images, rows);
      data.train.labels.resize(rows.size());
    }
    ag::Generator init_gen(opt.seed);
    nn::Sequential net;
    net.emplace<nn::Dense>(784, 256, nn::Init::HeNormal, init_gen);
    net.emplace<nn::ReLU>();
    net.emplace<nn::Dense>(256, 128, nn::Init::HeNormal, init_gen);
    net.emplace<nn::ReLU>();
    net.emplace<nn::Dense>(128, 10, nn::Init::XavierNormal, init_gen);
    ag::dist::DistributedDataParallel ddp(net);
    nn::Adam adam(net.named_parameters(), opt.lr, 0.9, 0.999, 1e-8);
    int first_epoch = 0;
    if (!opt.resume.empty()) {
      first_epoch = std::stoi(ag::dist::load_checkpoint(opt.resume, net, &adam).at("epoch"));
      say("resumed after epoch %d\n", first_epoch);
    }
    const ag::dist::DistributedSampler sampler(data.train.count(), opt.batch, world, rank,
                                               opt.seed);
    say("%d ranks, global batch %lld (%lld per rank), %lld training images\n", world,
        static_cast<long long>(opt.batch), static_cast<long long>(opt.batch / world),
        static_cast<long long>(data.train.count()));

    if (rank == 0) std::filesystem::create_directories(opt.out_dir);
    ag::dist::Score test;
    if (first_epoch >= opt.epochs)
      test = ag::dist::evaluate(net, data.test.images, data.test.labels);
    for (int epoch = first_epoch; epoch < opt.epochs; ++epoch) {
      adam.set_lr(opt.lr * std::pow(opt.lr_decay, epoch));
      const auto start = std::chrono::steady_clock::now();
      const auto batches = sampler.epoch_batches(epoch);
      double loss_sum = 0.0, correct = 0.0, seen = 0.0, sync_seconds = 0.0;
      for (std::size_t step = 0; step < batches.size(); ++step) {
        const auto& rows = batches[step];
        const auto y = nn::take(data.train.labels, rows);
        adam.zero_grad();
        const auto logits = ddp(nn::take_rows(data.train.images, rows));
        auto loss = nn::cross_entropy(logits, y);
        loss.backward();
        ddp.finish_gradient_sync();
        sync_seconds += ddp.last_wait_seconds();
        adam.step();
        loss_sum += loss.item() * static_cast<double>(rows.size());
        const auto predicted = ag::argmax(logits, 1);
        for (std::size_t i = 0; i < rows.size(); ++i) correct += predicted[i] == y[i];
        seen += static_cast<double>(rows.size());
        if ((step + 1) % (batches.size() / 4 + 1) == 0)
          say("epoch %d/%d  %3.0f%%  loss %.4f  (rank 0's rows)\n", epoch + 1, opt.epochs,
              100.0 * static_cast<double>(step + 1) / static_cast<double>(batches.size()),
              loss_sum / seen);
      }
      const double train_seconds = seconds_since(start);
      const double local[] = {loss_sum, correct, seen};
      const auto total = ag::dist::all_reduce_sum(local);  // every rank's rows
      test = ag::dist::evaluate(net, data.test.images, data.test.labels);
      say("epoch %2d: train loss %.4f acc %.4f, test loss %.4f acc %.4f, %.2f s "
          "(%.2f s waiting for all-reduce)\n",
          epoch + 1, total[0] / total[2], total[1] / total[2], test.loss, test.accuracy,
          train_seconds, sync_seconds);
      ag::dist::save_checkpoint(std::filesystem::path(opt.out_dir) / "checkpoint.safetensors", net,
                                &adam,
                                {{"epoch", std::to_string(epoch + 1)},
                                 {"seed", std::to_string(opt.seed)},
                                 {"ranks", std::to_string(world)},
                                 {"test_accuracy", std::to_string(test.accuracy)}});
    }
    say("final test accuracy %.4f\n", test.accuracy);
    return 0;
  });
}
