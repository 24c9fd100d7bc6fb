#include "nn/optim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "autograd/threads.hpp"

namespace ag::nn {

namespace {

// Elements per piece of an update pass shared across threads (ag::parallel_for): a piece is
// tens of microseconds of work, well above the cost of handing it to a helper. Each element's
// update is independent of the others', so the results are the same at any thread count.
constexpr std::int64_t kUpdateGrain = std::int64_t{1} << 15;

// The update passes over elements [begin, end). The constants come by value, so that they stay
// in registers: read through the caller's closure, every store to the arrays could have changed
// them (as far as the compiler knows), so the loop reloaded them each time (the batch-128 MLP
// step took 1.41 ms instead of 0.99).
template <class T>
struct SgdConstants {
  T lr, decay, momentum;
};
template <class T>
void sgd_update(SgdConstants<T> c, T* p, const T* g, T* buf, std::int64_t begin, std::int64_t end) {
  if (!buf) {
    for (std::int64_t k = begin; k < end; ++k) p[k] -= c.lr * (g[k] + c.decay * p[k]);
    return;
  }
  // As Adam's moments: a buffer that decays below the smallest normal number (a parameter whose
  // gradient stays 0) is stored as 0, off the slow subnormal path. The step it would make is
  // below lr * 1e-38.
  const T tiny = std::numeric_limits<T>::min();
  for (std::int64_t k = begin; k < end; ++k) {
    const T bk = c.momentum * buf[k] + (g[k] + c.decay * p[k]);
    buf[k] = std::abs(bk) < tiny ? T(0) : bk;
    p[k] -= c.lr * buf[k];
  }
}

template <class T>
struct AdamConstants {
  T b1, b2, one_minus_b1, one_minus_b2, step_size, inv_c2, eps;
};
template <class T>
inline __attribute__((always_inline)) void adam_loop(AdamConstants<T> c, T* p, const T* g, T* m,
                                                     T* v, std::int64_t begin, std::int64_t end) {
  // Moments below the smallest normal number are stored as 0: a parameter whose gradient stays 0
  // (a dead ReLU unit) decays its moments into the subnormal range, where every multiply takes a
  // microcode assist (a whole spiral run's Adam went 10x slower). The step such a moment makes is
  // below lr * 1e-38 / eps: no parameter changes by it.
  const T tiny = std::numeric_limits<T>::min();
  for (std::int64_t k = begin; k < end; ++k) {
    const T mk = c.b1 * m[k] + c.one_minus_b1 * g[k];
    const T vk = c.b2 * v[k] + c.one_minus_b2 * g[k] * g[k];
    m[k] = std::abs(mk) < tiny ? T(0) : mk;
    v[k] = vk < tiny ? T(0) : vk;
    p[k] -= c.step_size * m[k] / (std::sqrt(v[k] * c.inv_c2) + c.eps);
  }
}
// The loop compiled twice, for AVX2 and for baseline x86-64, and run in the one the CPU has.
// Its time is the square roots and divisions, which AVX2 does 8 at a time instead of 4: the
// batch-32 MLP step went 665 -> 549 us, batch 128 1920 -> 1820 (the AMD EPYC VM, 2026-12-07).
// AVX2 without FMA, so no multiply-add is contracted: every rounding is the baseline code's and
// the results do not depend on the CPU. Picked at the first call rather than by target_clones,
// whose resolver runs while the program is being loaded, before ThreadSanitizer's runtime is
// set up: every TSan build crashed there.
template <class T>
[[gnu::noinline]] __attribute__((target("avx2"))) void adam_loop_avx2(AdamConstants<T> c, T* p,
                                                                      const T* g, T* m, T* v,
                                                                      std::int64_t begin,
                                                                      std::int64_t end) {
  adam_loop(c, p, g, m, v, begin, end);
}
template <class T>
void adam_update(AdamConstants<T> c, T* p, const T* g, T* m, T* v, std::int64_t begin,
                 std::int64_t end) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) {
    adam_loop_avx2(c, p, g, m, v, begin, end);
  } else {
    adam_loop(c, p, g, m, v, begin, end);
  }
}

NamedTensors name_by_index(std::vector<Tensor> params) {
  NamedTensors named;
  named.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    named.emplace_back(std::to_string(i), std::move(params[i]));
  }
  return named;
}

void require(bool ok, const char* who, const std::string& message) {
  if (!ok) throw Error(who, message);
}

// Runs `update(param, grad, i)` with typed pointers for every parameter that has a gradient.
template <class Update>
void for_each_with_grad(const NamedTensors& params, const char* who, Update&& update) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    Tensor param = params[i].second;
    const Tensor grad = param.grad();
    if (!grad.defined()) continue;
    if (grad.shape() != param.shape() || grad.dtype() != param.dtype()) {
      throw Error(who, fmt::format("gradient of '{}' has shape {} {}, parameter has {} {}",
                                   params[i].first, to_string(grad.shape()), name(grad.dtype()),
                                   to_string(param.shape()), name(param.dtype())));
    }
    if (param.dtype() == float32) {
      update(param.mutable_data_ptr<float>(), grad.data_ptr<float>(), param.numel(), i);
    } else {
      update(param.mutable_data_ptr<double>(), grad.data_ptr<double>(), param.numel(), i);
    }
  }
}

template <class T>
T* state_ptr(Tensor& state) {
  return state.mutable_data_ptr<T>();
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params)
    : Optimizer(name_by_index(std::move(params)), 0.0, "nn::Optimizer") {}

Optimizer::Optimizer(NamedTensors named_params)
    : Optimizer(std::move(named_params), 0.0, "nn::Optimizer") {}

Optimizer::Optimizer(NamedTensors named_params, double lr, const char* who)
    : params_(std::move(named_params)), lr_(lr), who_(who) {
  require(lr >= 0.0 && std::isfinite(lr), who, fmt::format("learning rate {} is not >= 0", lr));
  for (const auto& [param_name, p] : params_) {
    require(p.defined(), who, "parameter '" + param_name + "' is undefined");
    require(p.is_leaf() && p.requires_grad(), who,
            "parameter '" + param_name + "' must be a leaf that requires grad");
  }
  // A parameter listed twice (a tied weight) is stepped once per step: the first entry stays.
  std::unordered_set<const detail::Node*> seen;
  std::erase_if(params_,
                [&](const auto& named) { return !seen.insert(named.second.node()).second; });
  step_counter_ = scalar_tensor(0.0, float64);
}

void Optimizer::zero_grad() {
  for (auto& [param_name, p] : params_) p.zero_grad();
}

void Optimizer::set_lr(double lr) {
  require(lr >= 0.0 && std::isfinite(lr), who_, fmt::format("learning rate {} is not >= 0", lr));
  lr_ = lr;
}

std::int64_t Optimizer::steps() const { return static_cast<std::int64_t>(step_counter_.item()); }

// ---- SGD ----

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double weight_decay)
    : SGD(name_by_index(std::move(params)), lr, momentum, weight_decay) {}

SGD::SGD(NamedTensors params, double lr, double momentum, double weight_decay)
    : Optimizer(std::move(params), lr, "nn::SGD"),
      momentum_(momentum),
      weight_decay_(weight_decay) {
  init();
}

void SGD::init() {
  require(momentum_ >= 0.0, who_, fmt::format("momentum {} is negative", momentum_));
  require(weight_decay_ >= 0.0, who_, fmt::format("weight_decay {} is negative", weight_decay_));
  if (momentum_ > 0.0) {
    for (const auto& [param_name, p] : params_) buffers_.push_back(zeros(p.shape(), p.dtype()));
  }
}

void SGD::step() {
  NoGradGuard no_grad;
  for_each_with_grad(params_, who_, [&](auto* p, const auto* g, std::int64_t n, std::size_t i) {
    using T = std::remove_pointer_t<decltype(p)>;
    const SgdConstants<T> c{static_cast<T>(lr_), static_cast<T>(weight_decay_),
                            static_cast<T>(momentum_)};
    T* buf = momentum_ > 0.0 ? state_ptr<T>(buffers_[i]) : nullptr;
    parallel_for(n, kUpdateGrain, [&](std::int64_t begin, std::int64_t end) {
      sgd_update(c, p, g, buf, begin, end);
    });
  });
  step_counter_.mutable_data_ptr<double>()[0] += 1.0;
}

NamedTensors SGD::named_state() const {
  NamedTensors state;
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    state.emplace_back(std::to_string(i) + ".momentum_buffer", buffers_[i]);
  }
  state.emplace_back("step", step_counter_);
  return state;
}

// ---- Adam ----

Adam::Adam(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps,
           double decay)
    : Adam(name_by_index(std::move(params)), lr, beta1, beta2, eps, decay) {}

Adam::Adam(NamedTensors params, double lr, double beta1, double beta2, double eps, double decay)
    : Optimizer(std::move(params), lr, "nn::Adam"),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps),
      decay_(decay) {
  init();
}

void Adam::init() {
  require(beta1_ >= 0.0 && beta1_ < 1.0, who_, fmt::format("beta1 {} is not in [0, 1)", beta1_));
  require(beta2_ >= 0.0 && beta2_ < 1.0, who_, fmt::format("beta2 {} is not in [0, 1)", beta2_));
  require(eps_ > 0.0, who_, fmt::format("eps {} is not > 0", eps_));
  require(decay_ >= 0.0, who_, fmt::format("decay {} is negative", decay_));
  for (const auto& [param_name, p] : params_) {
    exp_avg_.push_back(zeros(p.shape(), p.dtype()));
    exp_avg_sq_.push_back(zeros(p.shape(), p.dtype()));
  }
}

double Adam::current_lr() const { return lr_ / (1.0 + decay_ * static_cast<double>(steps())); }

void Adam::step() {
  NoGradGuard no_grad;
  const double t = static_cast<double>(steps()) + 1.0;
  const double lr_t = current_lr();
  const double correction1 = 1.0 - std::pow(beta1_, t);
  const double correction2 = 1.0 - std::pow(beta2_, t);
  for_each_with_grad(params_, who_, [&](auto* p, const auto* g, std::int64_t n, std::size_t i) {
    using T = std::remove_pointer_t<decltype(p)>;
    T* m = state_ptr<T>(exp_avg_[i]);
    T* v = state_ptr<T>(exp_avg_sq_[i]);
    // 1 - beta in double: in float32, 1 - float(0.999) is 0.00099998713 (1.3e-5 off), which
    // biases v against the bias correction and makes float32 training drift from PyTorch.
    const AdamConstants<T> c{static_cast<T>(beta1_),
                             static_cast<T>(beta2_),
                             static_cast<T>(1.0 - beta1_),
                             static_cast<T>(1.0 - beta2_),
                             static_cast<T>(lr_t / correction1),
                             static_cast<T>(1.0 / correction2),
                             static_cast<T>(eps_)};
    parallel_for(n, kUpdateGrain, [&](std::int64_t begin, std::int64_t end) {
      adam_update(c, p, g, m, v, begin, end);
    });
  });
  step_counter_.mutable_data_ptr<double>()[0] = t;
}

NamedTensors Adam::named_state() const {
  NamedTensors state;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    state.emplace_back(std::to_string(i) + ".exp_avg", exp_avg_[i]);
    state.emplace_back(std::to_string(i) + ".exp_avg_sq", exp_avg_sq_[i]);
  }
  state.emplace_back("step", step_counter_);
  return state;
}

}  // namespace ag::nn
