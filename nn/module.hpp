#pragma once
// Modules: layers that own parameters, composed into networks.
//
//   ag::Generator gen(0);
//   ag::nn::Sequential net;
//   net.emplace<ag::nn::Dense>(2, 64, ag::nn::Init::HeNormal, gen);
//   net.emplace<ag::nn::ReLU>();
//   net.emplace<ag::nn::Dense>(64, 3, ag::nn::Init::XavierNormal, gen);
//   ag::Tensor logits = net(x);            // x: [N, 2] -> [N, 3]
//   net.named_parameters();                // "0.weight", "0.bias", "2.weight", "2.bias"
//
// A module registers its parameters and children by address, so reassigning a member
// (dense.weight = ...) is seen by named_parameters(). For the same reason modules are neither
// copyable nor movable: hold them by value as members, or by std::shared_ptr.
#include <autograd/autograd.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/init.hpp"

namespace ag::nn {

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
  // One line describing this module alone, e.g. "Dense(2, 64, float32)".
  virtual std::string describe() const = 0;

  // Parameters of this module and its children, depth first, with dotted names
  // ("weight", "0.weight", "dense1.bias").
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  std::int64_t num_parameters() const;  // total number of elements
  // Direct children in registration order.
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

  // Training mode (the default) or evaluation mode, for this module and all its children.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops the accumulated gradients of every parameter.
  void zero_grad();

 protected:
  // Registers a member tensor as a parameter; it is made a leaf that requires grad.
  void register_parameter(std::string name, Tensor& member);
  // Registers a child held elsewhere (a member of the derived class).
  void register_module(std::string name, Module& member);
  // Registers a child this module owns.
  void register_module(std::string name, std::shared_ptr<Module> child);

 private:
  std::vector<std::pair<std::string, Tensor*>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
  std::vector<std::shared_ptr<Module>> owned_;
  bool training_ = true;
};

// A multi-line tree of a module: "name: describe()" per line, then the parameter count.
std::string summary(const Module& module);

// y = x @ weight + bias with weight [in, out] and bias [out] (NNFS's layout: no transpose).
// x may be [in], [N, in] or batched [..., N, in].
class Dense : public Module {
 public:
  Dense(std::int64_t in_features, std::int64_t out_features, Init init, Generator& gen,
        Dtype dtype = float32);
  Tensor forward(const Tensor& x) override;
  // activation(forward(x)) as one op (ag::linear's fused activation); Sequential calls it for
  // a Dense followed by a ReLU.
  Tensor forward_activated(const Tensor& x, Activation activation);
  std::string describe() const override;
  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }

  Tensor weight;  // [in, out], drawn from `init`
  Tensor bias;    // [out], zeros

 private:
  std::int64_t in_;
  std::int64_t out_;
};

// Parameter-free activations.
class Identity : public Module {  // "linear" activation: y = x
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "Identity"; }
};
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string describe() const override { return "ReLU"; }
};
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
  std::string describe() const override { return "Sigmoid"; }
};
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
  std::string describe() const override { return "Tanh"; }
};
class Softmax : public Module {
 public:
  explicit Softmax(std::int64_t dim = -1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return softmax(x, dim_); }
  std::string describe() const override;

 private:
  std::int64_t dim_;
};

// The activation named "linear" (or "identity"), "relu", "sigmoid", "tanh" or "softmax";
// throws ag::Error for any other name.
std::shared_ptr<Module> make_activation(std::string_view name);

// Runs its children in order. Children are named "0", "1", ... unless given a name. A Dense
// directly followed by a ReLU (both exactly those classes, not subclasses) runs as one fused
// op, linear(x, w, b, Activation::relu): same values and gradients, one node fewer.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);

  Sequential& add(std::shared_ptr<Module> module);
  Sequential& add(std::string name, std::shared_ptr<Module> module);
  // Constructs a module in place and returns it, e.g. net.emplace<Dense>(2, 3, init, gen).
  template <class M, class... Args>
  M& emplace(Args&&... args) {
    auto module = std::make_shared<M>(std::forward<Args>(args)...);
    M& ref = *module;
    add(std::move(module));
    return ref;
  }

  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sequential"; }
  std::size_t size() const { return modules_.size(); }
  Module& operator[](std::size_t i) const;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
  std::vector<std::string> scopes_;  // "0:Dense": graph pictures cluster each child's nodes
};

}  // namespace ag::nn
