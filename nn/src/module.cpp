#include "nn/module.hpp"

#include <fmt/format.h>

#include <string>
#include <tuple>
#include <typeinfo>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ag::nn {

void Module::register_parameter(std::string name, Tensor& member) {
  if (!member.defined()) throw Error("nn::Module", "parameter '" + name + "' is undefined");
  if (!member.is_leaf()) member = member.detach();
  member.requires_grad_(true);
  params_.emplace_back(std::move(name), &member);
}

void Module::register_module(std::string name, Module& member) {
  children_.emplace_back(std::move(name), &member);
}

void Module::register_module(std::string name, std::shared_ptr<Module> child) {
  if (!child) throw Error("nn::Module", "child module '" + name + "' is null");
  children_.emplace_back(std::move(name), child.get());
  owned_.push_back(std::move(child));
}

// A module or parameter reached twice (weight tying: one layer added in two places, or one
// tensor assigned to two modules) is listed once, under the first name it is reached by, as in
// PyTorch: an optimizer steps it once per step and a checkpoint stores it once. Tracking the
// modules seen also ends the walk of a module that contains itself.
std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::unordered_set<const Module*> seen_modules;
  std::unordered_set<const detail::Node*> seen_params;
  // Explicit stack of (prefix, module) so that deep nesting cannot overflow the call stack.
  std::vector<std::pair<std::string, const Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, module] = std::move(stack.back());
    stack.pop_back();
    if (!seen_modules.insert(module).second) continue;
    for (const auto& [name, slot] : module->params_)
      if (seen_params.insert(slot->node()).second) out.emplace_back(prefix + name, *slot);
    // Pushed in reverse so that children come out in registration order.
    for (auto it = module->children_.rbegin(); it != module->children_.rend(); ++it) {
      stack.emplace_back(prefix + it->first + ".", it->second);
    }
  }
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(std::move(p));
  return out;
}

std::int64_t Module::num_parameters() const {
  std::int64_t total = 0;
  for (const auto& [name, p] : named_parameters()) total += p.numel();
  return total;
}

void Module::train(bool on) {
  std::vector<Module*> stack{this};
  std::unordered_set<const Module*> seen;
  while (!stack.empty()) {
    Module* module = stack.back();
    stack.pop_back();
    if (!seen.insert(module).second) continue;
    module->training_ = on;
    for (auto& [name, child] : module->children_) stack.push_back(child);
  }
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

std::string summary(const Module& module) {
  std::string out;
  std::vector<std::tuple<std::string, const Module*, int>> stack{{"", &module, 0}};
  while (!stack.empty()) {
    auto [name, m, depth] = std::move(stack.back());
    stack.pop_back();
    out += std::string(static_cast<std::size_t>(2 * depth), ' ');
    out += name.empty() ? m->describe() : name + ": " + m->describe();
    out += '\n';
    const auto& children = m->children();
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      stack.emplace_back(it->first, it->second, depth + 1);
    }
  }
  out += fmt::format("parameters: {}\n", module.num_parameters());
  return out;
}

Dense::Dense(std::int64_t in_features, std::int64_t out_features, Init init, Generator& gen,
             Dtype dtype)
    : in_(in_features), out_(out_features) {
  if (in_features <= 0 || out_features <= 0) {
    throw Error("nn::Dense", fmt::format("in and out features must be positive, got ({}, {})",
                                         in_features, out_features));
  }
  checked_numel("nn::Dense", {in_features, out_features});
  weight = init_weight(init, in_features, out_features, gen, dtype);
  bias = zeros({out_features}, dtype);
  register_parameter("weight", weight);
  register_parameter("bias", bias);
}

Tensor Dense::forward(const Tensor& x) { return forward_activated(x, Activation::none); }

Tensor Dense::forward_activated(const Tensor& x, Activation activation) {
  if (x.dim() < 1 || x.size(-1) != in_) {
    throw Error("nn::Dense", fmt::format("input of shape {} does not end in in_features = {} "
                                         "(weight {})",
                                         to_string(x.shape()), in_, to_string(weight.shape())));
  }
  return linear(x, weight, bias, activation);  // one op, bias preloaded into the product
}

std::string Dense::describe() const {
  return fmt::format("Dense({}, {}, {})", in_, out_, name(weight.dtype()));
}

std::string Softmax::describe() const { return fmt::format("Softmax(dim={})", dim_); }

std::shared_ptr<Module> make_activation(std::string_view name) {
  if (name == "linear" || name == "identity") return std::make_shared<Identity>();
  if (name == "relu") return std::make_shared<ReLU>();
  if (name == "sigmoid") return std::make_shared<Sigmoid>();
  if (name == "tanh") return std::make_shared<Tanh>();
  if (name == "softmax") return std::make_shared<Softmax>(-1);
  throw Error("nn::make_activation",
              fmt::format("unknown activation '{}' (expected linear, identity, relu, sigmoid, "
                          "tanh or softmax)",
                          name));
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> module) {
  return add(std::to_string(modules_.size()), std::move(module));
}

Sequential& Sequential::add(std::string name, std::shared_ptr<Module> module) {
  if (!module) throw Error("nn::Sequential", "cannot add a null module as '" + name + "'");
  for (const auto& [existing, child] : children()) {
    if (existing == name) throw Error("nn::Sequential", "a child named '" + name + "' exists");
  }
  scopes_.push_back(name + ":" + module->describe());
  modules_.push_back(module);
  register_module(std::move(name), std::move(module));
  return *this;
}

Module& Sequential::operator[](std::size_t i) const {
  if (i >= modules_.size()) {
    throw Error("nn::Sequential",
                fmt::format("index {} out of range for {} modules", i, modules_.size()));
  }
  return *modules_[i];
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor out = x;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    ScopeGuard scope(scopes_[i].c_str());
    // Exact classes only: a subclass may override forward.
    Module& m = *modules_[i];
    // A plain pointer: typeid of a call's result is one clang warns about.
    const Module* next = i + 1 < modules_.size() ? modules_[i + 1].get() : nullptr;
    if (next && typeid(m) == typeid(Dense) && typeid(*next) == typeid(ReLU)) {
      out = static_cast<Dense&>(m).forward_activated(out, Activation::relu);
      ++i;
      continue;
    }
    out = m.forward(out);
  }
  return out;
}

}  // namespace ag::nn
