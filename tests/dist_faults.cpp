// A training loop in which one rank fails on purpose (argv[1]), for CTest to check that the
// whole job stops with a message naming that rank, quickly, instead of hanging:
//   throw  rank 1 throws an ag::Error in its third step
//   crash  rank 1 dies from SIGKILL in its third step (no chance to say anything)
//   stall  rank 1 stops taking part (sleeps) in its third step; the others time out
//   terminate  rank 1 calls std::terminate with an exception in flight (a noexcept breach)
#include <csignal>
#include <cstring>
#include <thread>

#include "autograd/autograd.hpp"
#include "dist/dist.hpp"
#include "nn/nn.hpp"

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return ag::dist::run(argc, argv, [&] {
    ag::dist::set_timeout(3);
    ag::Generator gen(1);
    ag::nn::Sequential net;
    net.emplace<ag::nn::Dense>(4, 3, ag::nn::Init::HeNormal, gen);
    ag::dist::DistributedDataParallel ddp(net);
    ag::nn::SGD sgd(net.named_parameters(), 0.1);
    const ag::Tensor x = ag::randn({8, 4}, gen);
    const std::vector<std::int64_t> y{0, 1, 2, 0, 1, 2, 0, 1};
    for (int step = 0; step < 1000; ++step) {
      if (ag::dist::rank() == 1 && step == 2) {
        if (mode == "throw") throw ag::Error("dist_faults", "rank 1 fails on purpose");
        if (mode == "crash") std::raise(SIGKILL);
        if (mode == "stall") std::this_thread::sleep_for(std::chrono::hours(1));
        if (mode == "terminate") {
          auto fail = [] { throw ag::Error("dist_faults", "rank 1 terminates on purpose"); };
          [&]() noexcept { fail(); }();
        }
      }
      sgd.zero_grad();
      ag::nn::cross_entropy(ddp(x), y).backward();
      ddp.finish_gradient_sync();
      sgd.step();
    }
    return 0;
  });
}
