#pragma once
// Optimizers. step() updates the parameters in place from their .grad(), outside the graph:
// no graph nodes are created, and a parameter whose grad() is undefined is skipped.
//
//   ag::nn::Adam opt(net.named_parameters(), 0.02, 0.9, 0.999, 1e-7, 5e-7);
//   for (...) { opt.zero_grad(); auto loss = ...; loss.backward(); opt.step(); }
#include <autograd/autograd.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ag::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  // Parameters are named "0", "1", ... unless given with names (used in error messages).
  explicit Optimizer(std::vector<Tensor> params);
  explicit Optimizer(NamedTensors named_params);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // Drops the accumulated gradient of every parameter.
  void zero_grad();

  // The optimizer's state as tensors, named "<index>.<slot>" (the index of the parameter in
  // the list the optimizer was built from) plus "step" (a 0-d float64 tensor), for
  // checkpoints: writing into these tensors (mutable_data_ptr) restores a state. The names do
  // not depend on whether the parameters came with names, so a state saved from
  // Adam(net.named_parameters()) loads into Adam(net.parameters()) and back.
  virtual NamedTensors named_state() const = 0;

  const NamedTensors& named_params() const { return params_; }
  double lr() const { return lr_; }
  void set_lr(double lr);
  std::int64_t steps() const;  // completed step() calls

 protected:
  Optimizer(NamedTensors named_params, double lr, const char* who);
  // The 0-d float64 step counter shared with named_state().
  Tensor step_counter_;
  NamedTensors params_;
  double lr_ = 0.0;
  const char* who_ = "nn::Optimizer";
};

// Stochastic gradient descent, PyTorch's rule (dampening 0):
//   g = grad + weight_decay * p;  buf = momentum * buf + g;  p -= lr * buf
// (with momentum 0: p -= lr * g). Equals NNFS's momentum SGD at a constant learning rate.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0.0, double weight_decay = 0.0);
  SGD(NamedTensors params, double lr, double momentum = 0.0, double weight_decay = 0.0);
  void step() override;
  NamedTensors named_state() const override;  // "<index>.momentum_buffer" when momentum > 0

 private:
  void init();
  double momentum_;
  double weight_decay_;
  std::vector<Tensor> buffers_;
};

// Adam as in NNFS (and PyTorch, whose eps default is 1e-8 instead):
//   lr_t = lr / (1 + decay * t)   (NNFS's learning-rate decay; t = completed steps)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr_t * (m / (1 - b1^(t+1))) / (sqrt(v / (1 - b2^(t+1))) + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-7, double decay = 0.0);
  Adam(NamedTensors params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-7, double decay = 0.0);
  void step() override;
  NamedTensors named_state() const override;  // "<index>.exp_avg", "<index>.exp_avg_sq", "step"
  // The learning rate the next step() will use (after decay).
  double current_lr() const;

 private:
  void init();
  double beta1_, beta2_, eps_, decay_;
  std::vector<Tensor> exp_avg_;
  std::vector<Tensor> exp_avg_sq_;
};

}  // namespace ag::nn
