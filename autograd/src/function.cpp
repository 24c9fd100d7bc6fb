// User-defined ops (autograd/function.hpp): one graph node per apply, whose closure calls the
// user's backward after checking that nothing saved for it was overwritten.
#include "autograd/function.hpp"

#include <map>
#include <mutex>

#include "tensor_impl.hpp"

namespace ag {

struct FunctionAccess {
  static FunctionContext::Saved& add(FunctionContext& ctx) { return ctx.saved_.emplace_back(); }
  static const std::vector<Tensor>& inputs(const FunctionContext& ctx) { return ctx.inputs_; }
  static const std::string& name(const FunctionContext& ctx) { return ctx.name_; }
  static void init(FunctionContext& ctx, const char* name, std::vector<Tensor> inputs) {
    ctx.name_ = name;
    ctx.inputs_ = std::move(inputs);
  }
};

namespace {

std::uint64_t version_of(const Tensor& t) { return detail::node_of(t).storage->version; }

// One OpInfo per user op name, alive as long as the program (nodes point to it).
const detail::OpInfo& op_named(const char* name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<detail::OpInfo>, std::less<>> ops;
  static std::map<std::string, std::unique_ptr<std::string>, std::less<>> names;
  const std::lock_guard lock(mutex);
  auto it = ops.find(name);
  if (it == ops.end()) {
    auto& stored = names[name];
    stored = std::make_unique<std::string>(name);
    it = ops.emplace(name, std::make_unique<detail::OpInfo>(detail::tensor_op(stored->c_str())))
             .first;
  }
  return *it->second;
}

}  // namespace

void FunctionContext::save_for_backward(std::initializer_list<Tensor> tensors) {
  for (const Tensor& t : tensors) {
    detail::checked(name_.c_str(), t);
    Saved& s = FunctionAccess::add(*this);
    s.version = version_of(t);
    for (std::size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i].node() == t.node()) s.input = static_cast<int>(i);
    // An input is kept as itself (the node holds it anyway); anything else, the output above
    // all, without history: holding the output here would be a cycle through the closure.
    s.tensor = s.input >= 0 ? t : t.detach();
  }
}

std::vector<Tensor> FunctionContext::saved_tensors() const {
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < saved_.size(); ++k) {
    const Saved& s = saved_[k];
    const std::uint64_t now = version_of(s.tensor);
    if (now != s.version) {
      throw Error(name_, fmt::format("saved tensor {} (shape {}) was modified by an in-place "
                                     "operation after it was saved (version {}, now {})",
                                     k, to_string(s.tensor.shape()), s.version, now));
    }
    out.push_back(s.input >= 0 ? inputs_[static_cast<std::size_t>(s.input)] : s.tensor);
  }
  return out;
}

Tensor detail::apply_function(const char* name, std::vector<Tensor> inputs,
                              const std::function<Tensor(FunctionContext&)>& forward,
                              std::vector<Tensor> (*backward)(FunctionContext&, const Tensor&)) {
  for (const Tensor& t : inputs) checked(name, t);
  auto ctx = std::make_shared<FunctionContext>();
  FunctionAccess::init(*ctx, name, inputs);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward(*ctx);
    if (!out.defined()) throw Error(name, "forward returned an undefined tensor");
    // The result becomes this op's node: it must be a fresh tensor, not an input.
    for (const Tensor& t : inputs)
      if (t.node() == out.node()) out = out.clone();
  }
  const OpInfo& op = op_named(name);
  return record(op, out, inputs, [ctx, backward](const Tensor& g) {
    const auto& ins = FunctionAccess::inputs(*ctx);
    std::vector<Tensor> grads = backward(*ctx, g);
    const std::string& op_name = FunctionAccess::name(*ctx);
    if (grads.size() != ins.size()) {
      throw Error(op_name, fmt::format("backward returned {} gradients for {} inputs", grads.size(),
                                       ins.size()));
    }
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (grads[i].defined() && grads[i].shape() != ins[i].shape()) {
        throw Error(op_name,
                    fmt::format("backward's gradient {} has shape {}, input {} has {}", i,
                                to_string(grads[i].shape()), i, to_string(ins[i].shape())));
      }
    }
    return grads;
  });
}

}  // namespace ag
