// The smallest data-parallel training loop (docs/distributed.md shows this file):
//   mpirun -np 2 build/examples/ddp_quickstart
#include <cstdio>

#include "dist/dist.hpp"
#include "nn/nn.hpp"

int main(int argc, char** argv) {
  return ag::dist::run(argc, argv, [] {
    namespace nn = ag::nn;
    const int rank = ag::dist::rank(), world = ag::dist::world_size();
    ag::Generator gen(7);  // same seed everywhere: every rank holds the same data set
    const nn::Dataset data = nn::spiral_data(100, 3, gen);
    nn::Sequential net;
    net.emplace<nn::Dense>(2, 64, nn::Init::HeNormal, gen);
    net.emplace<nn::ReLU>();
    net.emplace<nn::Dense>(64, 3, nn::Init::XavierNormal, gen);

    ag::dist::DistributedDataParallel ddp(net);  // rank 0's weights everywhere
    nn::Adam adam(net.named_parameters(), 0.02);
    const ag::dist::DistributedSampler sampler(300, 60, world, rank, /*seed=*/1);
    for (int epoch = 0; epoch < 200; ++epoch) {
      for (const auto& rows : sampler.epoch_batches(epoch)) {  // this rank's share
        adam.zero_grad();
        const auto logits = ddp(nn::take_rows(data.X, rows));
        nn::cross_entropy(logits, nn::take(data.y, rows)).backward();
        ddp.finish_gradient_sync();  // gradients: the average over ranks
        adam.step();
      }
    }
    const auto score = ag::dist::evaluate(net, data.X, data.y);   // summed over ranks
    ag::dist::save_checkpoint("spiral.safetensors", net, &adam);  // rank 0 writes
    if (rank == 0) std::printf("%d ranks: accuracy %.3f\n", world, score.accuracy);
    return 0;
  });
}
