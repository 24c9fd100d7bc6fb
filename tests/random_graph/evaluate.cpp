// Evaluation through the engine: one node, or a whole graph.
#include <fmt/format.h>

#include "internal.hpp"

namespace ag::fuzz::detail {

Slot evaluate(const NodeSpec& spec, const std::vector<Slot>& slots, const Value* value_input,
              const Tensor* tensor_input) {
  const OpInfo& info = *find_op(spec.op);
  auto T = [&](int i) -> const Tensor& { return slots[spec.args[i]].tensor; };
  auto V = [&](int i) -> const Value& { return slots[spec.args[i]].value; };
  const double c = spec.reals.empty() ? 0.0 : spec.reals[0];
  Slot r;
  r.is_value = info.result == 'V';
  switch (info.op) {
    case Op::TensorIn:
      r.tensor = *tensor_input;
      break;
    case Op::ValueIn:
      r.value = *value_input;
      break;
    case Op::Add:
      r.tensor = T(0) + T(1);
      break;
    case Op::Sub:
      r.tensor = T(0) - T(1);
      break;
    case Op::Mul:
      r.tensor = T(0) * T(1);
      break;
    case Op::Div:
      r.tensor = T(0) / T(1);
      break;
    case Op::PowTT:
      r.tensor = pow(T(0), T(1));
      break;
    case Op::AddTV:
      r.tensor = T(0) + V(1);
      break;
    case Op::SubTV:
      r.tensor = T(0) - V(1);
      break;
    case Op::MulTV:
      r.tensor = T(0) * V(1);
      break;
    case Op::DivTV:
      r.tensor = T(0) / V(1);
      break;
    case Op::AddVT:
      r.tensor = V(0) + T(1);
      break;
    case Op::SubVT:
      r.tensor = V(0) - T(1);
      break;
    case Op::MulVT:
      r.tensor = V(0) * T(1);
      break;
    case Op::DivVT:
      r.tensor = V(0) / T(1);
      break;
    case Op::AddTC:
      r.tensor = T(0) + c;
      break;
    case Op::SubTC:
      r.tensor = T(0) - c;
      break;
    case Op::MulTC:
      r.tensor = T(0) * c;
      break;
    case Op::DivTC:
      r.tensor = T(0) / c;
      break;
    case Op::AddCT:
      r.tensor = c + T(0);
      break;
    case Op::SubCT:
      r.tensor = c - T(0);
      break;
    case Op::MulCT:
      r.tensor = c * T(0);
      break;
    case Op::DivCT:
      r.tensor = c / T(0);
      break;
    case Op::Neg:
      r.tensor = -T(0);
      break;
    case Op::PowTC:
      r.tensor = pow(T(0), c);
      break;
    case Op::Exp:
      r.tensor = exp(T(0));
      break;
    case Op::Log:
      r.tensor = log(T(0));
      break;
    case Op::Sqrt:
      r.tensor = sqrt(T(0));
      break;
    case Op::Tanh:
      r.tensor = tanh(T(0));
      break;
    case Op::Sigmoid:
      r.tensor = sigmoid(T(0));
      break;
    case Op::Relu:
      r.tensor = relu(T(0));
      break;
    case Op::Abs:
      r.tensor = abs(T(0));
      break;
    case Op::Clamp:
      r.tensor = clamp(T(0), spec.reals[0], spec.reals[1]);
      break;
    case Op::SumAll:
      r.tensor = sum(T(0));
      break;
    case Op::SumDim:
      r.tensor = sum(T(0), spec.ints[0], spec.ints[1] != 0);
      break;
    case Op::MeanAll:
      r.tensor = mean(T(0));
      break;
    case Op::MeanDim:
      r.tensor = mean(T(0), spec.ints[0], spec.ints[1] != 0);
      break;
    case Op::MaxAll:
      r.tensor = max(T(0));
      break;
    case Op::MaxDim:
      r.tensor = max(T(0), spec.ints[0], spec.ints[1] != 0);
      break;
    case Op::Matmul:
      r.tensor = matmul(T(0), T(1));
      break;
    case Op::Reshape:
      r.tensor = reshape(T(0), spec.ints);
      break;
    case Op::Transpose:
      r.tensor = transpose(T(0), spec.ints[0], spec.ints[1]);
      break;
    case Op::Cat: {
      std::vector<Tensor> parts;
      for (std::size_t i = 0; i < spec.args.size(); ++i) parts.push_back(T(static_cast<int>(i)));
      r.tensor = cat(parts, spec.ints[0]);
      break;
    }
    case Op::Softmax:
      r.tensor = softmax(T(0), spec.ints[0]);
      break;
    case Op::LogSoftmax:
      r.tensor = log_softmax(T(0), spec.ints[0]);
      break;
    case Op::Pick:
      r.tensor = pick(T(0), spec.ints);
      break;
    case Op::Clone:
      r.tensor = T(0).clone();
      break;
    case Op::To64:
      r.tensor = T(0).to(float64);
      break;
    case Op::SumMethod:
      r.tensor = T(0).sum();
      break;
    case Op::MeanDimMethod:
      r.tensor = T(0).mean(spec.ints[0], spec.ints[1] != 0);
      break;
    case Op::TanhMethod:
      r.tensor = T(0).tanh();
      break;
    case Op::ExpMethod:
      r.tensor = T(0).exp();
      break;
    case Op::MatmulMethod:
      r.tensor = T(0).matmul(T(1));
      break;
    case Op::TMethod:
      r.tensor = T(0).t();
      break;
    case Op::TensorOfValue:
      r.tensor = Tensor(V(0));
      break;
    case Op::VAdd:
      r.value = V(0) + V(1);
      break;
    case Op::VSub:
      r.value = V(0) - V(1);
      break;
    case Op::VMul:
      r.value = V(0) * V(1);
      break;
    case Op::VDiv:
      r.value = V(0) / V(1);
      break;
    case Op::VAddC:
      r.value = V(0) + c;
      break;
    case Op::VSubC:
      r.value = V(0) - c;
      break;
    case Op::VMulC:
      r.value = V(0) * c;
      break;
    case Op::VDivC:
      r.value = V(0) / c;
      break;
    case Op::VCAdd:
      r.value = c + V(0);
      break;
    case Op::VCSub:
      r.value = c - V(0);
      break;
    case Op::VCMul:
      r.value = c * V(0);
      break;
    case Op::VCDiv:
      r.value = c / V(0);
      break;
    case Op::VNeg:
      r.value = -V(0);
      break;
    case Op::VPowC:
      r.value = pow(V(0), c);
      break;
    case Op::VPowVV:
      r.value = pow(V(0), V(1));
      break;
    case Op::VExp:
      r.value = exp(V(0));
      break;
    case Op::VLog:
      r.value = log(V(0));
      break;
    case Op::VSqrt:
      r.value = sqrt(V(0));
      break;
    case Op::VTanh:
      r.value = tanh(V(0));
      break;
    case Op::VSigmoid:
      r.value = sigmoid(V(0));
      break;
    case Op::VRelu:
      r.value = relu(V(0));
      break;
    case Op::VAbs:
      r.value = abs(V(0));
      break;
    case Op::ValueOfTensor:
      r.value = Value(T(0));
      break;
    case Op::Table: {
      std::vector<Tensor> xs;
      for (std::size_t i = 0; i < spec.args.size(); ++i) xs.push_back(T(static_cast<int>(i)));
      r.tensor = entry_of(spec).on_tensors(xs, spec.reals);
      break;
    }
    case Op::VTable: {
      std::vector<Value> xs;
      for (std::size_t i = 0; i < spec.args.size(); ++i) xs.push_back(V(static_cast<int>(i)));
      r.value = entry_of(spec).on_values(xs, spec.reals);
      break;
    }
    case Op::Count:
      break;
  }
  return r;
}

std::vector<std::vector<int>> consumers_of(const RandomGraph& g) {
  std::vector<std::vector<int>> users(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int a : g.nodes[i].args) users[a].push_back(static_cast<int>(i));
  return users;
}

Tensor run_graph(const RandomGraph& g, const std::vector<Tensor>& tensor_inputs,
                 const std::vector<Value>& value_inputs, std::vector<Slot>* slots_out) {
  std::vector<Slot> slots;
  std::size_t ti = 0, vi = 0;
  for (const auto& spec : g.nodes) {
    const bool is_tin = spec.op == "tensor", is_vin = spec.op == "value";
    slots.push_back(evaluate(spec, slots, is_vin ? &value_inputs[vi] : nullptr,
                             is_tin ? &tensor_inputs[ti] : nullptr));
    ti += is_tin;
    vi += is_vin;
  }
  const auto users = consumers_of(g);
  const Slot& last = slots.back();
  Tensor out = last.is_value ? Tensor(last.value) : last.tensor;
  for (std::size_t i = 0; i + 1 < slots.size(); ++i) {
    if (!users[i].empty()) continue;
    out = slots[i].is_value ? out + slots[i].value : out + sum(slots[i].tensor);
  }
  if (slots_out) *slots_out = std::move(slots);
  return out;
}

Tensor make_input(const NodeSpec& spec) { return tensor(spec.reals, spec.ints, float64); }

std::string describe(const RandomGraph& g, int node) {
  return fmt::format("n{} ({})", node, g.nodes[node].op);
}

}  // namespace ag::fuzz::detail
