// The engine's side of every benchmark workload. The PyTorch twin (torch_bench.py) mirrors each
// function here: same inputs (bench_data), same math, same figures.
#include "workloads.hpp"

#include <unistd.h>

#include <autograd/autograd.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nn/nn.hpp>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "bench_data.hpp"

namespace agbench {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- scalar chain: x = x * w + b, n times, then backward ----
// w = 1 - 1e-6 keeps every gradient w^k in the normal range for n up to 10^7 (denormals would
// time the FPU's slow path instead of the engine). On an ag::Tape (PyTorch has none: compared
// with its plain chain) the scope ends inside the timed free, and the figure includes it.
template <bool OnTape>
Outcome chain_run(const Params& p) {
  const std::int64_t n = get_int(p, "n", 1'000'000);
  ag::Value x0(0.5), w(1.0 - 1e-6), b(1e-6);  // parameters, made before any scope
  const std::int64_t rss_before = current_rss_bytes();
  std::optional<ag::Tape> tape;
  if constexpr (OnTape) tape.emplace();
  std::optional<ag::Value> x(x0);
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) x = *x * w + b;
  const double fwd = seconds_since(t0);
  const std::int64_t rss_after = current_rss_bytes();
  const auto t1 = Clock::now();
  x->backward();
  const double bwd = seconds_since(t1);
  const double value = x->data();
  const auto t2 = Clock::now();
  x.reset();     // frees the 2n recorded nodes
  tape.reset();  // on a tape: frees them at once
  const double free_s = seconds_since(t2);
  const double ops = 2.0 * static_cast<double>(n);
  return {(fwd + bwd + (OnTape ? free_s : 0.0)) / ops,
          "op",
          {{"fwd_ns_per_op", fwd / ops * 1e9},
           {"bwd_ns_per_op", bwd / ops * 1e9},
           {"bwd_over_fwd", bwd / fwd},
           {"free_ns_per_op", free_s / ops * 1e9},
           {"rss_bytes_per_op", static_cast<double>(rss_after - rss_before) / ops}},
          {{"x", value}, {"x0.grad", x0.grad()}, {"w.grad", w.grad()}, {"b.grad", b.grad()}}};
}
Outcome chain(const Params& p) { return chain_run<false>(p); }
Outcome chain_tape(const Params& p) { return chain_run<true>(p); }

// ---- the 10-node graph, built from fresh leaves and backpropagated n times (float64); with
// ---- a tape, one scope per iteration, as a training loop would use it.
template <bool OnTape>
Outcome tiny_graph_run(const Params& p) {
  const std::int64_t n = get_int(p, "n", 100'000);
  double g_value = 0.0, a_grad = 0.0, b_grad = 0.0;
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    std::optional<ag::Tape> tape;
    if constexpr (OnTape) tape.emplace();
    ag::Value a(-41.0), b(2.0);
    auto c = a + b;
    auto d = a * b + pow(b, 3.0);
    auto e = c - d;
    auto f = pow(e, 2.0);
    auto g = f / 2.0;
    g.backward();
    g_value = g.data();
    a_grad = a.grad();
    b_grad = b.grad();
  }
  const double total = seconds_since(t0);
  return {total / static_cast<double>(n),
          "iteration",
          {},
          {{"g", g_value}, {"a.grad", a_grad}, {"b.grad", b_grad}}};
}
Outcome tiny_graph(const Params& p) { return tiny_graph_run<false>(p); }
Outcome tiny_graph_tape(const Params& p) { return tiny_graph_run<true>(p); }

// ---- micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, SVM max-margin loss, SGD ----
struct ScalarLayer {
  std::int64_t in, out;
  std::vector<ag::Value> w;  // [in, out] row-major: w[i * out + j] joins input i to neuron j
  std::vector<ag::Value> b;  // [out]
};

std::vector<ScalarLayer> scalar_mlp(const std::vector<std::int64_t>& sizes) {
  std::vector<ScalarLayer> layers;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    ScalarLayer layer{sizes[l], sizes[l + 1], {}, {}};
    for (double v : uniform(kWeightSeed + l, layer.in * layer.out, -1.0, 1.0)) {
      layer.w.emplace_back(v);
    }
    for (std::int64_t j = 0; j < layer.out; ++j) layer.b.emplace_back(0.0);
    layers.push_back(std::move(layer));
  }
  return layers;
}

// micrograd's Neuron: b + w0*x0 + w1*x1 + ..., ReLU on every layer but the last.
ag::Value score(const std::vector<ScalarLayer>& layers, double x0, double x1) {
  std::vector<ag::Value> act;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const ScalarLayer& L = layers[l];
    std::vector<ag::Value> next;
    next.reserve(static_cast<std::size_t>(L.out));
    for (std::int64_t j = 0; j < L.out; ++j) {
      ag::Value s = L.b[j];
      if (l == 0) {
        s = s + L.w[0 * L.out + j] * x0;
        s = s + L.w[1 * L.out + j] * x1;
      } else {
        for (std::int64_t i = 0; i < L.in; ++i) s = s + L.w[i * L.out + j] * act[i];
      }
      next.push_back(l + 1 < layers.size() ? relu(s) : s);
    }
    act = std::move(next);
  }
  return act[0];
}

Outcome micrograd(const Params& p) {
  const std::int64_t steps = get_int(p, "steps", 10);
  const std::int64_t points = get_int(p, "points", 100);
  const Moons data = moons(points, kMoonsSeed);
  auto layers = scalar_mlp({2, 16, 16, 1});
  double loss_value = 0.0, accuracy = 0.0;
  const auto t0 = Clock::now();
  for (std::int64_t k = 0; k < steps; ++k) {
    std::optional<ag::Value> data_loss;
    std::int64_t correct = 0;
    for (std::int64_t i = 0; i < points; ++i) {
      const double y = data.targets[i];
      ag::Value s = score(layers, data.x[2 * i], data.x[2 * i + 1]);
      ag::Value margin = relu(1.0 + (-y) * s);
      data_loss = data_loss ? *data_loss + margin : margin;
      correct += (y > 0) == (s.data() > 0);
    }
    std::optional<ag::Value> squares;
    for (auto& L : layers) {
      for (auto* group : {&L.w, &L.b}) {
        for (auto& v : *group) squares = squares ? *squares + v * v : v * v;
      }
    }
    ag::Value total = *data_loss * (1.0 / static_cast<double>(points)) + 1e-4 * *squares;
    for (auto& L : layers) {
      for (auto& v : L.w) v.zero_grad();
      for (auto& v : L.b) v.zero_grad();
    }
    total.backward();
    // SGD in place, as micrograd does (p.data -= lr * p.grad).
    const double lr = 1.0 - 0.9 * static_cast<double>(k) / 100.0;
    for (auto& L : layers) {
      for (auto* group : {&L.w, &L.b}) {
        for (auto& v : *group) v.set_data(v.data() - lr * v.grad());
      }
    }
    loss_value = total.data();
    accuracy = static_cast<double>(correct) / static_cast<double>(points);
  }
  const double total_s = seconds_since(t0);
  return {total_s / static_cast<double>(steps),
          "step",
          {{"accuracy", accuracy}},
          {{"loss", loss_value}, {"accuracy", accuracy}}};
}

// ---- dense networks (float32) ----
void load_glorot(ag::nn::Dense& dense, std::uint64_t seed) {
  const auto values = glorot_weight(seed, dense.in_features(), dense.out_features());
  auto fill = [&](auto* w) {
    using T = std::remove_pointer_t<decltype(w)>;
    for (std::size_t i = 0; i < values.size(); ++i) w[i] = static_cast<T>(values[i]);
  };
  if (dense.weight.dtype() == ag::float32) {
    fill(dense.weight.mutable_data_ptr<float>());
  } else {
    fill(dense.weight.mutable_data_ptr<double>());
  }
}

// Dense(sizes[0], sizes[1]) - ReLU - ... - Dense(.., sizes.back()), Glorot weights, zero biases.
void build_mlp(ag::nn::Sequential& net, const std::vector<std::int64_t>& sizes, ag::Dtype dtype) {
  ag::Generator unused(0);
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    auto& dense =
        net.emplace<ag::nn::Dense>(sizes[l], sizes[l + 1], ag::nn::Init::Zeros, unused, dtype);
    load_glorot(dense, kWeightSeed + l);
    if (l + 2 < sizes.size()) net.emplace<ag::nn::ReLU>();
  }
}

struct TrainOutcome {
  double seconds_per_step;
  double loss;
  double accuracy;
};

// `steps` full-batch steps of softmax cross-entropy + Adam (NNFS's rule, decay 0 = PyTorch's).
// f64 trains in float64: the agreement check of long runs, where float32 rounding differences
// grow (Adam turns a gradient's rounding-level sign into a full step).
TrainOutcome train(const std::vector<std::int64_t>& sizes, const Classification& data,
                   std::int64_t steps, double lr, bool f64) {
  const ag::Dtype dtype = f64 ? ag::float64 : ag::float32;
  ag::nn::Sequential net;
  build_mlp(net, sizes, dtype);
  const std::int64_t n = static_cast<std::int64_t>(data.labels.size());
  const ag::Tensor x = ag::tensor(data.x, {n, sizes.front()}, dtype);
  ag::nn::Adam opt(net.named_parameters(), lr, 0.9, 0.999, 1e-7, 0.0);
  double loss_value = 0.0, accuracy = 0.0;
  const auto t0 = Clock::now();
  for (std::int64_t k = 0; k < steps; ++k) {
    opt.zero_grad();
    ag::Tensor logits = net(x);
    ag::Tensor loss = ag::nn::cross_entropy(logits, data.labels);
    loss.backward();
    opt.step();
    if (k + 1 == steps) {
      loss_value = loss.item();
      accuracy = ag::nn::accuracy(logits, data.labels);
    }
  }
  return {seconds_since(t0) / static_cast<double>(steps), loss_value, accuracy};
}

Outcome spiral_training(const Params& p) {
  const std::int64_t epochs = get_int(p, "epochs", 200);
  const Classification data = spiral(get_int(p, "per_class", 100), 3, kSpiralSeed);
  const auto t = train({2, 64, 3}, data, epochs, 0.05, get_int(p, "f64", 0) != 0);
  return {t.seconds_per_step,
          "epoch",
          {{"accuracy", t.accuracy}},
          {{"loss", t.loss}, {"accuracy", t.accuracy}}};
}

Outcome mlp_training(const Params& p) {
  const std::int64_t batch = get_int(p, "batch", 128);
  const std::int64_t steps = get_int(p, "steps", 10);
  const std::int64_t hidden = get_int(p, "hidden", 256);  // smoke tests shrink the net
  const Classification data = random_images(batch, 784, 10, kImagesSeed);
  const auto t = train({784, hidden, hidden / 2, 10}, data, steps, 1e-3, get_int(p, "f64", 0) != 0);
  // FLOPs a step needs: forward x@W and backward dW = X^T@dY (2·batch·weights each), and
  // dX = dY@W^T for every layer but the first (the data batch needs no gradient).
  const double weights = 784.0 * hidden + hidden * (hidden / 2.0) + (hidden / 2.0) * 10.0;
  const double b = static_cast<double>(batch);
  const double flops = 2.0 * b * (3.0 * weights - 784.0 * hidden);
  return {t.seconds_per_step,
          "step",
          {{"gflops", flops / t.seconds_per_step * 1e-9}},
          {{"loss", t.loss}}};
}

// ---- sgemm through ag::matmul ----
Outcome matmul(const Params& p) {
  const std::int64_t n = get_int(p, "n", 1024);
  const std::int64_t repeat = get_int(p, "repeat", 5);
  ag::NoGradGuard no_grad;
  const ag::Tensor a = ag::tensor(uniform(kMatmulSeed, n * n, -1.0, 1.0), {n, n});
  const ag::Tensor b = ag::tensor(uniform(kMatmulSeed + 1, n * n, -1.0, 1.0), {n, n});
  ag::Tensor c = ag::matmul(a, b);  // warm-up: first touch of the output, BLAS thread start
  const auto t0 = Clock::now();
  for (std::int64_t r = 0; r < repeat; ++r) c = ag::matmul(a, b);
  const double each = seconds_since(t0) / static_cast<double>(repeat);
  double checksum = 0.0;
  const float* data = c.data_ptr<float>();
  for (std::int64_t i = 0; i < n * n; ++i) checksum += data[i];
  const double nd = static_cast<double>(n);
  return {each,
          "matmul",
          {{"gflops", 2.0 * nd * nd * nd / each * 1e-9}},
          {{"mean", checksum / (nd * nd)}, {"c00", data[0]}, {"c_last", data[n * n - 1]}}};
}

}  // namespace

std::int64_t get_int(const Params& params, const std::string& key, std::int64_t fallback) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  // std::from_chars, not std::stoll: its failures say only "stoll".
  std::int64_t v = 0;
  const char* first = it->second.data();
  const char* last = first + it->second.size();
  const auto [end, error] = std::from_chars(first, last, v);
  if (error != std::errc() || end != last) {
    throw std::invalid_argument("parameter " + key + "=" + it->second +
                                (error == std::errc::result_out_of_range
                                     ? " is out of the 64-bit integer range"
                                     : " is not an integer"));
  }
  return v;
}

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names = {"chain",     "tiny",   "chain_tape", "tiny_tape",
                                                 "micrograd", "spiral", "mlp",        "matmul"};
  return names;
}

Outcome run_workload(const std::string& name, const Params& params) {
  if (name == "chain") return chain(params);
  if (name == "tiny") return tiny_graph(params);
  if (name == "chain_tape") return chain_tape(params);
  if (name == "tiny_tape") return tiny_graph_tape(params);
  if (name == "micrograd") return micrograd(params);
  if (name == "spiral") return spiral_training(params);
  if (name == "mlp") return mlp_training(params);
  if (name == "matmul") return matmul(params);
  throw std::invalid_argument("unknown workload '" + name + "'");
}

std::int64_t current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// VmHWM, not getrusage's ru_maxrss: the latter survives exec and would report the parent's
// (the Python runner's) footprint at fork time.
std::int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // in kB
  }
  return -1;
}

}  // namespace agbench
