#pragma once
// Data helpers: toy data sets from the tutorials, NumPy-compatible random numbers for
// reproducing notebooks, and shuffled minibatches.
#include <autograd/autograd.hpp>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace ag::nn {

// Features and integer labels of a classification data set.
struct Dataset {
  Tensor X;                     // [N, features]
  std::vector<std::int64_t> y;  // N labels
};

// The numbers NumPy's legacy global generator draws after np.random.seed(seed): the same
// Mersenne Twister and the same polar Box-Muller, so a notebook's "random" arrays can be
// reproduced bit for bit (np.random.seed(0); np.random.randn() == 1.764052345967664).
class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint32_t seed) : engine_(seed) {}
  double random_sample();  // np.random.random_sample(): [0, 1), 53 bits
  double randn();          // np.random.randn()
  std::vector<double> randn(std::int64_t count);

 private:
  std::mt19937 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// NNFS's spiral data (nnfs.datasets.spiral_data / the book's create_data): `classes` arms of
// `points_per_class` points, radius 0..1, angle noise `noise` * N(0, 1). Labels are 0..classes-1
// in blocks. The NumpyRandom overload reproduces NNFS's arrays exactly.
Dataset spiral_data(std::int64_t points_per_class, std::int64_t classes, Generator& gen,
                    double noise = 0.2, Dtype dtype = float32);
Dataset spiral_data(std::int64_t points_per_class, std::int64_t classes, NumpyRandom& gen,
                    double noise = 0.2, Dtype dtype = float32);

// Two parabolas (deepreplay's data set of the activation-functions lesson): class 0 on
// x2 = x1^2, class 1 on x2 = x1^2 - 0.5, x1 evenly spaced in [-1, 1], `points_per_class` each,
// in that order (unshuffled). Not linearly separable.
Dataset parabolas(std::int64_t points_per_class, Dtype dtype = float32);

// One epoch of minibatches: a random permutation of [0, n) (Fisher-Yates from `gen`) cut into
// batches of `batch_size` rows; the last batch holds the remainder.
std::vector<std::vector<std::int64_t>> shuffled_batches(std::int64_t n, std::int64_t batch_size,
                                                        Generator& gen);
// Rows `rows` of x (first dim), as a new tensor without history.
Tensor take_rows(const Tensor& x, std::span<const std::int64_t> rows);
std::vector<std::int64_t> take(std::span<const std::int64_t> values,
                               std::span<const std::int64_t> rows);
// Labels as an [N, 1] tensor of 0.0/1.0 (binary targets), or [N] when column == false.
Tensor labels_to_tensor(std::span<const std::int64_t> labels, Dtype dtype = float32,
                        bool column = true);

}  // namespace ag::nn
