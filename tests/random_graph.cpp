// Random graphs: the op table, a reference shape rule per op, the safe-domain rules, the
// generator, the checker (ag::gradcheck) and the shrinker. See random_graph.hpp.
#include "random_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "autograd/autograd.hpp"

namespace ag::fuzz {

namespace {

// ---------------------------------------------------------------------------------------
// The op table. Operand kinds: 'T' tensor, 'V' Value; "T+" is one or more tensors.
// ints/reals: how many parameters each op takes (-1: any number).

enum class Op {
  TensorIn,
  ValueIn,
  Add,
  Sub,
  Mul,
  Div,
  PowTT,
  AddTV,
  SubTV,
  MulTV,
  DivTV,
  AddVT,
  SubVT,
  MulVT,
  DivVT,
  AddTC,
  SubTC,
  MulTC,
  DivTC,
  AddCT,
  SubCT,
  MulCT,
  DivCT,
  Neg,
  PowTC,
  Exp,
  Log,
  Sqrt,
  Tanh,
  Sigmoid,
  Relu,
  Abs,
  Clamp,
  SumAll,
  SumDim,
  MeanAll,
  MeanDim,
  MaxAll,
  MaxDim,
  Matmul,
  Reshape,
  Transpose,
  Cat,
  Softmax,
  LogSoftmax,
  Pick,
  Clone,
  To64,
  SumMethod,
  MeanDimMethod,
  TanhMethod,
  ExpMethod,
  MatmulMethod,
  TMethod,
  TensorOfValue,
  VAdd,
  VSub,
  VMul,
  VDiv,
  VAddC,
  VSubC,
  VMulC,
  VDivC,
  VCAdd,
  VCSub,
  VCMul,
  VCDiv,
  VNeg,
  VPowC,
  VPowVV,
  VExp,
  VLog,
  VSqrt,
  VTanh,
  VSigmoid,
  VRelu,
  VAbs,
  ValueOfTensor,
  Count,
  // Not in kOps: the registry's elementwise ops that have no entry above (ag::op_registry),
  // as tensor ops ("sin") and as Value ops ("v_sin"). Drawn and checked from the registry.
  Table,
  VTable,
};

struct OpInfo {
  Op op;
  const char* name;
  const char* operands;  // kinds, "T+" for variadic tensors
  char result;           // 'T' or 'V'
  int ints;
  int reals;
};

constexpr OpInfo kOps[] = {
    {Op::TensorIn, "tensor", "", 'T', -1, -1},
    {Op::ValueIn, "value", "", 'V', 0, 1},
    {Op::Add, "add", "TT", 'T', 0, 0},
    {Op::Sub, "sub", "TT", 'T', 0, 0},
    {Op::Mul, "mul", "TT", 'T', 0, 0},
    {Op::Div, "div", "TT", 'T', 0, 0},
    {Op::PowTT, "pow", "TT", 'T', 0, 0},
    {Op::AddTV, "add_tv", "TV", 'T', 0, 0},
    {Op::SubTV, "sub_tv", "TV", 'T', 0, 0},
    {Op::MulTV, "mul_tv", "TV", 'T', 0, 0},
    {Op::DivTV, "div_tv", "TV", 'T', 0, 0},
    {Op::AddVT, "add_vt", "VT", 'T', 0, 0},
    {Op::SubVT, "sub_vt", "VT", 'T', 0, 0},
    {Op::MulVT, "mul_vt", "VT", 'T', 0, 0},
    {Op::DivVT, "div_vt", "VT", 'T', 0, 0},
    {Op::AddTC, "add_tc", "T", 'T', 0, 1},
    {Op::SubTC, "sub_tc", "T", 'T', 0, 1},
    {Op::MulTC, "mul_tc", "T", 'T', 0, 1},
    {Op::DivTC, "div_tc", "T", 'T', 0, 1},
    {Op::AddCT, "add_ct", "T", 'T', 0, 1},
    {Op::SubCT, "sub_ct", "T", 'T', 0, 1},
    {Op::MulCT, "mul_ct", "T", 'T', 0, 1},
    {Op::DivCT, "div_ct", "T", 'T', 0, 1},
    {Op::Neg, "neg", "T", 'T', 0, 0},
    {Op::PowTC, "pow_tc", "T", 'T', 0, 1},
    {Op::Exp, "exp", "T", 'T', 0, 0},
    {Op::Log, "log", "T", 'T', 0, 0},
    {Op::Sqrt, "sqrt", "T", 'T', 0, 0},
    {Op::Tanh, "tanh", "T", 'T', 0, 0},
    {Op::Sigmoid, "sigmoid", "T", 'T', 0, 0},
    {Op::Relu, "relu", "T", 'T', 0, 0},
    {Op::Abs, "abs", "T", 'T', 0, 0},
    {Op::Clamp, "clamp", "T", 'T', 0, 2},
    {Op::SumAll, "sum", "T", 'T', 0, 0},
    {Op::SumDim, "sum_dim", "T", 'T', 2, 0},
    {Op::MeanAll, "mean", "T", 'T', 0, 0},
    {Op::MeanDim, "mean_dim", "T", 'T', 2, 0},
    {Op::MaxAll, "max", "T", 'T', 0, 0},
    {Op::MaxDim, "max_dim", "T", 'T', 2, 0},
    {Op::Matmul, "matmul", "TT", 'T', 0, 0},
    {Op::Reshape, "reshape", "T", 'T', -1, 0},
    {Op::Transpose, "transpose", "T", 'T', 2, 0},
    {Op::Cat, "cat", "T+", 'T', 1, 0},
    {Op::Softmax, "softmax", "T", 'T', 1, 0},
    {Op::LogSoftmax, "log_softmax", "T", 'T', 1, 0},
    {Op::Pick, "pick", "T", 'T', -1, 0},
    {Op::Clone, "clone", "T", 'T', 0, 0},
    {Op::To64, "to_float64", "T", 'T', 0, 0},
    {Op::SumMethod, "m_sum", "T", 'T', 0, 0},
    {Op::MeanDimMethod, "m_mean_dim", "T", 'T', 2, 0},
    {Op::TanhMethod, "m_tanh", "T", 'T', 0, 0},
    {Op::ExpMethod, "m_exp", "T", 'T', 0, 0},
    {Op::MatmulMethod, "m_matmul", "TT", 'T', 0, 0},
    {Op::TMethod, "m_t", "T", 'T', 0, 0},
    {Op::TensorOfValue, "tensor_of", "V", 'T', 0, 0},
    {Op::VAdd, "v_add", "VV", 'V', 0, 0},
    {Op::VSub, "v_sub", "VV", 'V', 0, 0},
    {Op::VMul, "v_mul", "VV", 'V', 0, 0},
    {Op::VDiv, "v_div", "VV", 'V', 0, 0},
    {Op::VAddC, "v_add_c", "V", 'V', 0, 1},
    {Op::VSubC, "v_sub_c", "V", 'V', 0, 1},
    {Op::VMulC, "v_mul_c", "V", 'V', 0, 1},
    {Op::VDivC, "v_div_c", "V", 'V', 0, 1},
    {Op::VCAdd, "v_c_add", "V", 'V', 0, 1},
    {Op::VCSub, "v_c_sub", "V", 'V', 0, 1},
    {Op::VCMul, "v_c_mul", "V", 'V', 0, 1},
    {Op::VCDiv, "v_c_div", "V", 'V', 0, 1},
    {Op::VNeg, "v_neg", "V", 'V', 0, 0},
    {Op::VPowC, "v_pow_c", "V", 'V', 0, 1},
    {Op::VPowVV, "v_pow", "VV", 'V', 0, 0},
    {Op::VExp, "v_exp", "V", 'V', 0, 0},
    {Op::VLog, "v_log", "V", 'V', 0, 0},
    {Op::VSqrt, "v_sqrt", "V", 'V', 0, 0},
    {Op::VTanh, "v_tanh", "V", 'V', 0, 0},
    {Op::VSigmoid, "v_sigmoid", "V", 'V', 0, 0},
    {Op::VRelu, "v_relu", "V", 'V', 0, 0},
    {Op::VAbs, "v_abs", "V", 'V', 0, 0},
    {Op::ValueOfTensor, "value_of", "T", 'V', 0, 0},
};
static_assert(std::size(kOps) == static_cast<std::size_t>(Op::Count));

const OpInfo* find_static_op(std::string_view name) {
  for (const auto& info : kOps)
    if (name == info.name) return &info;
  return nullptr;
}

// The registry's elementwise ops with no kOps entry, in registry order: tensor forms first.
struct TableOp {
  OpInfo info;
  const ag::OpEntry* entry;
};
const std::vector<TableOp>& table_ops() {
  static const std::vector<TableOp> ops = [] {
    std::vector<TableOp> v;
    static std::vector<std::string> names;  // stable storage for OpInfo::name
    names.reserve(2 * ag::op_registry().size());
    for (const ag::OpEntry& e : ag::op_registry()) {
      if (e.kind == ag::OpKind::Other) {  // tensor operands at the entry's example shapes
        const std::string name(e.name);
        if (find_static_op(name)) continue;
        names.push_back(name);
        v.push_back({{Op::Table, names.back().c_str(), e.arity == 1 ? "T" : "TT", 'T', 0, 0}, &e});
        continue;
      }
      const bool binary = e.kind == ag::OpKind::ElementwiseBinary;
      const std::string tensor_name(e.name), value_name = "v_" + std::string(e.name);
      if (!find_static_op(tensor_name)) {
        names.push_back(tensor_name);
        v.push_back(
            {{Op::Table, names.back().c_str(), binary ? "TT" : "T", 'T', 0, e.num_params}, &e});
      }
      if (e.on_values && !find_static_op(value_name)) {
        names.push_back(value_name);
        v.push_back(
            {{Op::VTable, names.back().c_str(), binary ? "VV" : "V", 'V', 0, e.num_params}, &e});
      }
    }
    return v;
  }();
  return ops;
}

const OpInfo* find_op(std::string_view name) {
  if (const OpInfo* info = find_static_op(name)) return info;
  for (const auto& t : table_ops())
    if (name == t.info.name) return &t.info;
  return nullptr;
}
const ag::OpEntry& entry_of(const NodeSpec& spec) {
  for (const auto& t : table_ops())
    if (spec.op == t.info.name) return *t.entry;
  throw std::logic_error("no registry entry for " + spec.op);
}

// Safe-domain constants: finite differences with eps = 1e-6 move an intermediate by far less
// than kKinkMargin, so no kink or tie is crossed, and log/sqrt/pow stay well-conditioned.
constexpr double kPositiveFloor = 0.2;
constexpr double kKinkMargin = 0.02;
constexpr double kMaxMagnitude = 1e3;
constexpr double kMaxExpInput = 4.0;

// ---------------------------------------------------------------------------------------
// Reference shape rules (NumPy / PyTorch semantics), independent of the engine.

struct Slot {
  bool is_value = false;
  Value value;
  Tensor tensor;
};

struct Kind {
  bool is_value = false;
  Shape shape;
};

std::optional<Shape> broadcast(const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::optional<std::int64_t> norm_dim(std::int64_t dim, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (rank == 0 || dim < -r || dim >= r) return std::nullopt;
  return dim < 0 ? dim + r : dim;
}

std::optional<Shape> matmul_shape(Shape a, Shape b) {
  if (a.empty() || b.empty()) return std::nullopt;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  if (a.back() != b[b.size() - 2]) return std::nullopt;
  const Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  auto batch = broadcast(batch_a, batch_b);
  if (!batch) return std::nullopt;
  Shape out = *batch;
  if (!a1) out.push_back(a[a.size() - 2]);
  if (!b1) out.push_back(b.back());
  return out;
}

// The result kind of node `spec` given its operands' kinds; nullopt when malformed.
std::optional<Kind> predict(const NodeSpec& spec, const std::vector<Kind>& kinds, int index) {
  const OpInfo* info = find_op(spec.op);
  if (!info) return std::nullopt;
  if (info->ints >= 0 && static_cast<int>(spec.ints.size()) != info->ints) return std::nullopt;
  if (info->reals >= 0 && static_cast<int>(spec.reals.size()) != info->reals) return std::nullopt;
  const std::string_view want = info->operands;
  if (want == "T+") {
    if (spec.args.empty()) return std::nullopt;
  } else if (spec.args.size() != want.size()) {
    return std::nullopt;
  }
  std::vector<const Kind*> in;
  for (std::size_t i = 0; i < spec.args.size(); ++i) {
    const int a = spec.args[i];
    if (a < 0 || a >= index) return std::nullopt;
    const char k = want == "T+" ? 'T' : want[i];
    if (kinds[a].is_value != (k == 'V')) return std::nullopt;
    in.push_back(&kinds[a]);
  }
  Kind out;
  out.is_value = info->result == 'V';
  switch (info->op) {
    case Op::TensorIn: {
      for (auto d : spec.ints)
        if (d < 0) return std::nullopt;
      if (static_cast<std::int64_t>(spec.reals.size()) != numel(spec.ints)) return std::nullopt;
      out.shape = spec.ints;
      return out;
    }
    case Op::ValueIn:
    case Op::VAdd:
    case Op::VSub:
    case Op::VMul:
    case Op::VDiv:
    case Op::VAddC:
    case Op::VSubC:
    case Op::VMulC:
    case Op::VDivC:
    case Op::VCAdd:
    case Op::VCSub:
    case Op::VCMul:
    case Op::VCDiv:
    case Op::VNeg:
    case Op::VPowC:
    case Op::VPowVV:
    case Op::VExp:
    case Op::VLog:
    case Op::VSqrt:
    case Op::VTanh:
    case Op::VSigmoid:
    case Op::VRelu:
    case Op::VAbs:
      return out;
    case Op::ValueOfTensor:
      if (numel(in[0]->shape) != 1) return std::nullopt;
      return out;
    case Op::TensorOfValue:
      return out;  // 0-d
    case Op::VTable:
      return out;
    case Op::Table: {
      const ag::OpEntry& e = entry_of(spec);
      if (e.kind == ag::OpKind::Other) {
        // Fixed operand shapes; the result's shape is what the op gives on zeros (PyTorch's
        // shapes for these ops are checked by the stored references).
        std::vector<Tensor> zs;
        for (const Kind* k : in) zs.push_back(zeros(k->shape, float64));
        bool fits = false;
        for (const auto& shapes : e.example_shapes) {
          bool same = shapes.size() == in.size();
          for (std::size_t i = 0; same && i < in.size(); ++i) same = shapes[i] == in[i]->shape;
          fits = fits || same;
        }
        if (!fits) return std::nullopt;
        NoGradGuard no_grad;
        out.shape = e.on_tensors(zs, {}).shape();
        return out;
      }
      if (in.size() == 1) {
        out.shape = in[0]->shape;
        return out;
      }
    }
      [[fallthrough]];
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::PowTT: {
      auto s = broadcast(in[0]->shape, in[1]->shape);
      if (!s) return std::nullopt;
      out.shape = *s;
      return out;
    }
    case Op::AddTV:
    case Op::SubTV:
    case Op::MulTV:
    case Op::DivTV:
    case Op::AddTC:
    case Op::SubTC:
    case Op::MulTC:
    case Op::DivTC:
    case Op::AddCT:
    case Op::SubCT:
    case Op::MulCT:
    case Op::DivCT:
    case Op::Neg:
    case Op::PowTC:
    case Op::Exp:
    case Op::Log:
    case Op::Sqrt:
    case Op::Tanh:
    case Op::Sigmoid:
    case Op::Relu:
    case Op::Abs:
    case Op::Clamp:
    case Op::Clone:
    case Op::To64:
    case Op::TanhMethod:
    case Op::ExpMethod:
      out.shape = in[0]->shape;
      return out;
    case Op::AddVT:
    case Op::SubVT:
    case Op::MulVT:
    case Op::DivVT:
      out.shape = in[1]->shape;
      return out;
    case Op::SumAll:
    case Op::MeanAll:
    case Op::MaxAll:
    case Op::SumMethod:
      if (numel(in[0]->shape) == 0 && info->op == Op::MaxAll) return std::nullopt;
      return out;
    case Op::SumDim:
    case Op::MeanDim:
    case Op::MaxDim:
    case Op::MeanDimMethod: {
      auto d = norm_dim(spec.ints[0], in[0]->shape.size());
      if (!d || (spec.ints[1] != 0 && spec.ints[1] != 1)) return std::nullopt;
      if (in[0]->shape[*d] == 0 && info->op != Op::SumDim) return std::nullopt;
      out.shape = in[0]->shape;
      if (spec.ints[1]) {
        out.shape[*d] = 1;
      } else {
        out.shape.erase(out.shape.begin() + *d);
      }
      return out;
    }
    case Op::Matmul:
    case Op::MatmulMethod: {
      auto s = matmul_shape(in[0]->shape, in[1]->shape);
      if (!s) return std::nullopt;
      out.shape = *s;
      return out;
    }
    case Op::Reshape: {
      std::int64_t known = 1;
      int infer = -1;
      for (std::size_t i = 0; i < spec.ints.size(); ++i) {
        if (spec.ints[i] == -1) {
          if (infer >= 0) return std::nullopt;
          infer = static_cast<int>(i);
        } else if (spec.ints[i] < 0) {
          return std::nullopt;
        } else {
          known *= spec.ints[i];
        }
      }
      const std::int64_t n = numel(in[0]->shape);
      out.shape = spec.ints;
      if (infer >= 0) {
        if (known == 0 || n % known != 0) return std::nullopt;
        out.shape[infer] = n / known;
      } else if (known != n) {
        return std::nullopt;
      }
      return out;
    }
    case Op::Transpose:
    case Op::TMethod: {
      const Shape& s = in[0]->shape;
      if (s.size() < 2) return std::nullopt;
      const std::int64_t d0 = info->op == Op::TMethod ? 0 : spec.ints[0];
      const std::int64_t d1 = info->op == Op::TMethod ? 1 : spec.ints[1];
      auto a = norm_dim(d0, s.size()), b = norm_dim(d1, s.size());
      if (!a || !b) return std::nullopt;
      out.shape = s;
      std::swap(out.shape[*a], out.shape[*b]);
      return out;
    }
    case Op::Cat: {
      const Shape& first = in[0]->shape;
      auto d = norm_dim(spec.ints[0], first.size());
      if (!d) return std::nullopt;
      out.shape = first;
      out.shape[*d] = 0;
      for (const Kind* k : in) {
        if (k->shape.size() != first.size()) return std::nullopt;
        for (std::size_t i = 0; i < first.size(); ++i)
          if (static_cast<std::int64_t>(i) != *d && k->shape[i] != first[i]) return std::nullopt;
        out.shape[*d] += k->shape[*d];
      }
      return out;
    }
    case Op::Softmax:
    case Op::LogSoftmax: {
      if (!norm_dim(spec.ints[0], in[0]->shape.size())) return std::nullopt;
      out.shape = in[0]->shape;
      return out;
    }
    case Op::Pick: {
      const Shape& s = in[0]->shape;
      if (s.size() != 2 || static_cast<std::int64_t>(spec.ints.size()) != s[0]) return std::nullopt;
      for (auto label : spec.ints)
        if (label < 0 || label >= s[1]) return std::nullopt;
      out.shape = {s[0]};
      return out;
    }
    case Op::Count:
      break;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Evaluation through the engine.

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

std::vector<double> elements(const Slot& s) {
  return s.is_value ? std::vector<double>{s.value.data()} : s.tensor.to_vector();
}

bool all_of(const std::vector<double>& xs, auto&& pred) {
  return std::all_of(xs.begin(), xs.end(), pred);
}

bool is_integer(double x) { return std::nearbyint(x) == x; }

// Why the op's operands are outside its smooth interior, or "" when they are safe. Checked
// before the op runs: ops throw for some of these (log of a negative number).
std::string unsafe_operands(const NodeSpec& spec, const std::vector<Slot>& slots) {
  const OpInfo& info = *find_op(spec.op);
  auto arg = [&](int i) { return elements(slots[spec.args[i]]); };
  auto positive = [](double x) { return x >= kPositiveFloor; };
  auto away_from_zero = [](double x) { return std::abs(x) >= kPositiveFloor; };
  const double c = spec.reals.empty() ? 0.0 : spec.reals[0];
  switch (info.op) {
    case Op::Table:
    case Op::VTable: {
      // The registry's domain: inside [lo, hi], off the kinks.
      const ag::OpEntry& e = entry_of(spec);
      for (std::size_t i = 0; i < spec.args.size(); ++i) {
        if (!all_of(arg(static_cast<int>(i)), [&](double x) {
              return x >= e.domain.lo && x <= e.domain.hi && !e.domain.near_kink(x, kKinkMargin);
            }))
          return "outside the op's domain";
      }
      if (e.domain.kink_at_ties && spec.args.size() == 1) {
        std::vector<double> xs = arg(0);
        std::sort(xs.begin(), xs.end());
        for (std::size_t i = 1; i < xs.size(); ++i)
          if (xs[i] - xs[i - 1] < kKinkMargin) return "elements tie";
      } else if (e.domain.kink_at_ties) {
        NoGradGuard no_grad;
        const Slot& a = slots[spec.args[0]];
        const Slot& b = slots[spec.args[1]];
        const std::vector<double> d = info.op == Op::VTable
                                          ? std::vector<double>{a.value.data() - b.value.data()}
                                          : (a.tensor - b.tensor).to_vector();
        if (!all_of(d, [](double x) { return std::abs(x) >= kKinkMargin; })) return "operands tie";
      }
      break;
    }
    case Op::TensorIn:
    case Op::ValueIn:
      for (double x : spec.reals)
        if (!std::isfinite(x) || std::abs(x) > kMaxMagnitude) return "input out of range";
      break;
    case Op::Div:
    case Op::DivTV:
    case Op::DivVT:
    case Op::VDiv:
      if (!all_of(arg(1), away_from_zero)) return "divisor near 0";
      break;
    case Op::DivCT:
    case Op::VCDiv:
      if (!all_of(arg(0), away_from_zero)) return "divisor near 0";
      break;
    case Op::DivTC:
    case Op::VDivC:
      if (!away_from_zero(c)) return "divisor near 0";
      break;
    case Op::PowTT:
    case Op::VPowVV:
      if (!all_of(arg(0), positive)) return "pow base not positive";
      if (!all_of(arg(1), [](double x) { return std::abs(x) <= 3; }))
        return "pow exponent too large";
      break;
    case Op::PowTC:
    case Op::VPowC:
      if (std::abs(c) > 3) return "pow exponent too large";
      if (!is_integer(c) && !all_of(arg(0), positive))
        return "fractional power of a non-positive base";
      if (c < 0 && !all_of(arg(0), away_from_zero)) return "negative power near 0";
      break;
    case Op::Exp:
    case Op::VExp:
    case Op::ExpMethod:
      if (!all_of(arg(0), [](double x) { return x <= kMaxExpInput; })) return "exp input too large";
      break;
    case Op::Log:
    case Op::Sqrt:
    case Op::VLog:
    case Op::VSqrt:
      if (!all_of(arg(0), positive)) return "log/sqrt of a value below the floor";
      break;
    case Op::Relu:
    case Op::Abs:
    case Op::VRelu:
    case Op::VAbs:
      if (!all_of(arg(0), [](double x) { return std::abs(x) >= kKinkMargin; }))
        return "input near the kink";
      break;
    case Op::Clamp: {
      const double lo = spec.reals[0], hi = spec.reals[1];
      if (!(lo < hi)) return "clamp bounds";
      if (!all_of(arg(0), [&](double x) {
            return std::abs(x - lo) >= kKinkMargin && std::abs(x - hi) >= kKinkMargin;
          }))
        return "input near a clamp bound";
      break;
    }
    case Op::MaxAll:
    case Op::MaxDim: {
      const Tensor& x = slots[spec.args[0]].tensor;
      const std::vector<double> xs = x.to_vector();
      // Slices along the reduced dim: outer x extent x inner.
      std::int64_t outer = 1, extent = static_cast<std::int64_t>(xs.size()), inner = 1;
      if (info.op == Op::MaxDim) {
        const auto d = *norm_dim(spec.ints[0], x.shape().size());
        outer = inner = 1;
        for (std::int64_t i = 0; i < d; ++i) outer *= x.shape()[i];
        extent = x.shape()[d];
        for (std::size_t i = d + 1; i < x.shape().size(); ++i) inner *= x.shape()[i];
      }
      for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t in = 0; in < inner; ++in) {
          double best = -INFINITY, second = -INFINITY;
          for (std::int64_t e = 0; e < extent; ++e) {
            const double v = xs[(o * extent + e) * inner + in];
            if (v > best) {
              second = best;
              best = v;
            } else if (v > second) {
              second = v;
            }
          }
          if (best - second < kKinkMargin) return "tie for the maximum";
        }
      break;
    }
    default:
      break;
  }
  return "";
}

// Why a result is unusable (too large for cheap finite differences, or not finite).
std::string unsafe_result(const Slot& result, int max_result_numel) {
  const std::vector<double> out = elements(result);
  if (static_cast<int>(out.size()) > max_result_numel) return "result too large";
  if (!all_of(out, [](double x) { return std::isfinite(x) && std::abs(x) <= kMaxMagnitude; }))
    return "result out of range";
  return "";
}

std::vector<std::vector<int>> consumers_of(const RandomGraph& g) {
  std::vector<std::vector<int>> users(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int a : g.nodes[i].args) users[a].push_back(static_cast<int>(i));
  return users;
}

// Runs the whole graph: inputs as given (tensor inputs and Value inputs in node order), and
// the output as the header describes. Returns the output; `slots` gets every node.
Tensor run_graph(const RandomGraph& g, const std::vector<Tensor>& tensor_inputs,
                 const std::vector<Value>& value_inputs, std::vector<Slot>* slots_out = nullptr) {
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

}  // namespace

const char* name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Pass:
      return "pass";
    case Outcome::Invalid:
      return "invalid";
    case Outcome::Exception:
      return "exception";
    case Outcome::WrongShape:
      return "wrong shape";
    case Outcome::GradMismatch:
      return "gradient mismatch";
    case Outcome::LeafMismatch:
      return "leaf gradient mismatch";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, Outcome outcome) { return out << name(outcome); }

std::string CheckResult::signature() const { return fmt::format("{}:{}", name(outcome), op); }

// ---------------------------------------------------------------------------------------
// Text form.

std::string to_text(const RandomGraph& g) {
  std::string s;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    s += fmt::format("n{} = {}", i, n.op);
    for (int a : n.args) s += fmt::format(" n{}", a);
    const OpInfo* info = find_op(n.op);
    if (!n.ints.empty() || (info && info->op == Op::TensorIn))
      s += fmt::format(" [{}]", fmt::join(n.ints, " "));
    if (!n.reals.empty()) {
      s += " {";
      for (std::size_t k = 0; k < n.reals.size(); ++k)
        s += fmt::format("{}{:.17g}", k ? " " : "", n.reals[k]);
      s += "}";
    }
    s += "\n";
  }
  return s;
}

RandomGraph parse_graph(std::string_view text) {
  RandomGraph g;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    // Brackets become separate tokens.
    std::string spaced;
    for (char ch : line) {
      if (ch == '[' || ch == ']' || ch == '{' || ch == '}' || ch == '=') {
        spaced += ' ';
        spaced += ch;
        spaced += ' ';
      } else {
        spaced += ch;
      }
    }
    std::istringstream tokens(spaced);
    std::vector<std::string> tok;
    for (std::string t; tokens >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    auto fail = [&](const std::string& why) {
      throw std::runtime_error(fmt::format("random graph line {}: {}: '{}'", line_no, why, line));
    };
    if (tok.size() < 3 || tok[1] != "=") fail("expected 'nK = op ...'");
    if (tok[0] != fmt::format("n{}", g.nodes.size()))
      fail(fmt::format("expected node name n{}", g.nodes.size()));
    NodeSpec spec;
    spec.op = tok[2];
    if (!find_op(spec.op)) fail("unknown op '" + spec.op + "'");
    std::size_t k = 3;
    try {
      for (; k < tok.size() && tok[k][0] == 'n'; ++k)
        spec.args.push_back(std::stoi(tok[k].substr(1)));
      if (k < tok.size() && tok[k] == "[") {
        for (++k; k < tok.size() && tok[k] != "]"; ++k) spec.ints.push_back(std::stoll(tok[k]));
        if (k == tok.size()) fail("unclosed '['");
        ++k;
      }
      if (k < tok.size() && tok[k] == "{") {
        for (++k; k < tok.size() && tok[k] != "}"; ++k) spec.reals.push_back(std::stod(tok[k]));
        if (k == tok.size()) fail("unclosed '{'");
        ++k;
      }
    } catch (const std::logic_error&) {  // stoi/stod: invalid_argument, out_of_range
      fail("bad number '" + tok[k] + "'");
    }
    if (k != tok.size()) fail("unexpected '" + tok[k] + "'");
    g.nodes.push_back(std::move(spec));
  }
  return g;
}

// ---------------------------------------------------------------------------------------
// Checking.

namespace {

// Structure, shapes and safe domains, evaluating each node through the engine once.
CheckResult validate(const RandomGraph& g, int max_result_numel, bool safe_domains) {
  if (g.nodes.empty()) return {Outcome::Invalid, -1, "", "empty graph"};
  std::vector<Kind> kinds;
  std::vector<Slot> slots;
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& spec = g.nodes[i];
    const int index = static_cast<int>(i);
    auto kind = predict(spec, kinds, index);
    if (!kind) return {Outcome::Invalid, index, spec.op, "malformed node " + describe(g, index)};
    if (auto why = safe_domains ? unsafe_operands(spec, slots) : ""; !why.empty())
      return {Outcome::Invalid, index, spec.op, describe(g, index) + ": " + why};
    Slot slot;
    try {
      Value v = spec.op == "value" ? Value(spec.reals[0]) : Value();
      Tensor t = spec.op == "tensor" ? make_input(spec) : Tensor();
      slot = evaluate(spec, slots, &v, &t);
    } catch (const std::exception& e) {
      return {Outcome::Exception, index, spec.op,
              fmt::format("{} threw: {}", describe(g, index), e.what())};
    }
    if (!kind->is_value && (slot.tensor.shape() != kind->shape || slot.tensor.dtype() != float64)) {
      return {Outcome::WrongShape, index, spec.op,
              fmt::format("{} gave {} {}, expected float64 {}", describe(g, index),
                          name(slot.tensor.dtype()), to_string(slot.tensor.shape()),
                          to_string(kind->shape))};
    }
    if (auto why = unsafe_result(slot, max_result_numel); !why.empty())
      return {Outcome::Invalid, index, spec.op, describe(g, index) + ": " + why};
    kinds.push_back(*kind);
    slots.push_back(std::move(slot));
  }
  return {};
}

CheckResult check_gradients(const RandomGraph& g) {
  // ag::gradcheck wants tensors: Value inputs enter as 0-d tensors bridged with Value(t).
  std::vector<Tensor> inputs;
  std::vector<int> input_nodes;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op == "tensor") inputs.push_back(make_input(g.nodes[i]));
    if (g.nodes[i].op == "value") inputs.push_back(scalar_tensor(g.nodes[i].reals[0], float64));
    if (g.nodes[i].op == "tensor" || g.nodes[i].op == "value")
      input_nodes.push_back(static_cast<int>(i));
  }
  auto split = [&](const std::vector<Tensor>& xs, std::vector<Tensor>& ts, std::vector<Value>& vs) {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      if (g.nodes[input_nodes[k]].op == "tensor") {
        ts.push_back(xs[k]);
      } else {
        vs.emplace_back(xs[k]);
      }
    }
  };
  auto f = [&](const std::vector<Tensor>& xs) {
    std::vector<Tensor> ts;
    std::vector<Value> vs;
    split(xs, ts, vs);
    return run_graph(g, ts, vs);
  };
  GradcheckResult gc;
  try {
    gc = gradcheck(f, inputs);
  } catch (const Error& e) {
    return {Outcome::Exception, -1, e.op(), fmt::format("gradcheck threw: {}", e.what())};
  } catch (const std::exception& e) {
    return {Outcome::Exception, -1, "", fmt::format("gradcheck threw: {}", e.what())};
  }
  if (!gc.ok) {
    std::string detail = gc.summary();
    // Name the graph inputs behind gradcheck's input numbers.
    for (std::size_t k = 0; k < input_nodes.size(); ++k)
      detail += fmt::format("\n  (gradcheck input {} is n{})", k, input_nodes[k]);
    return {Outcome::GradMismatch, -1, "", detail};
  }

  // Real Value leaves must receive what the bridged 0-d tensors received.
  try {
    std::vector<Tensor> bridged_inputs;
    for (auto& t : inputs) bridged_inputs.push_back(t.detach().clone().requires_grad_());
    std::vector<Tensor> ts, leaf_ts;
    std::vector<Value> vs, leaf_vs;
    split(bridged_inputs, ts, vs);
    run_graph(g, ts, vs).sum().backward();
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (g.nodes[input_nodes[k]].op == "tensor") {
        leaf_ts.push_back(inputs[k].detach().clone().requires_grad_());
      } else {
        leaf_vs.emplace_back(inputs[k].item());
      }
    }
    run_graph(g, leaf_ts, leaf_vs).sum().backward();
    std::size_t ti = 0, vi = 0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      const Tensor bridged_grad = bridged_inputs[k].grad();
      const std::vector<double> want = bridged_grad.defined()
                                           ? bridged_grad.to_vector()
                                           : std::vector<double>(inputs[k].numel(), 0.0);
      std::vector<double> got;
      if (g.nodes[input_nodes[k]].op == "tensor") {
        const Tensor lg = leaf_ts[ti++].grad();
        got = lg.defined() ? lg.to_vector() : std::vector<double>(inputs[k].numel(), 0.0);
      } else {
        got = {leaf_vs[vi++].grad()};
      }
      for (std::size_t j = 0; j < want.size(); ++j) {
        if (!(std::abs(got[j] - want[j]) <= 1e-12 * (1 + std::abs(want[j])))) {
          return {Outcome::LeafMismatch, input_nodes[k], "value",
                  fmt::format(
                      "leaf n{} element {}: gradient {} as a leaf, {} through a bridged 0-d tensor",
                      input_nodes[k], j, got[j], want[j])};
        }
      }
    }
  } catch (const Error& e) {
    return {Outcome::Exception, -1, e.op(), fmt::format("backward threw: {}", e.what())};
  } catch (const std::exception& e) {
    return {Outcome::Exception, -1, "", fmt::format("backward threw: {}", e.what())};
  }
  return {};
}

}  // namespace

CheckResult check_graph(const RandomGraph& g, bool safe_domains) {
  CheckResult r = validate(g, GenerateOptions{}.max_result_numel, safe_domains);
  if (r.outcome != Outcome::Pass) return r;
  return check_gradients(g);
}

// ---------------------------------------------------------------------------------------
// Generation.

namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  // Integer in [0, n): our own mapping, identical on every standard library.
  int below(int n) { return static_cast<int>(engine_() % static_cast<std::uint64_t>(n)); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  template <class T>
  const T& pick(const std::vector<T>& xs) {
    return xs[below(static_cast<int>(xs.size()))];
  }

 private:
  std::mt19937_64 engine_;
};

class Builder {
 public:
  Builder(std::uint64_t seed, const GenerateOptions& options)
      : rng_(seed), table_rng_(seed ^ 0x7ab1e0b5ULL), options_(options) {}

  RandomGraph build() {
    const int ops = 1 + rng_.below(options_.max_ops);
    if (rng_.chance(0.8)) new_tensor(random_shape());
    if (rng_.chance(0.5) || g_.nodes.empty()) new_value();
    if (!add_ops(ops, false)) return g_;
    // The op registry's table ops come on top, drawn from a stream of their own, so that
    // what comes before is the same graph for a seed whatever the table holds.
    std::swap(rng_, table_rng_);
    add_ops(rng_.below(4), true);
    return g_;
  }

 private:
  enum class Verdict { Keep, Drop, Broken };

  // Appends up to `ops` op nodes; false when the engine broke (the graph is the finding).
  bool add_ops(int ops, bool table) {
    int added = 0;
    for (int attempt = 0; attempt < ops * 20 && added < ops; ++attempt) {
      const std::size_t mark = g_.nodes.size();
      if (!propose(table)) {
        rollback(mark);
        continue;
      }
      switch (try_last()) {
        case Verdict::Keep:
          ++added;
          break;
        case Verdict::Drop:
          rollback(mark);
          break;
        case Verdict::Broken:
          return false;
      }
    }
    return true;
  }

  // Evaluates the newest node; keeps it when the engine agrees with the reference shape and
  // the op is in its safe domain.
  Verdict try_last() {
    const int index = static_cast<int>(g_.nodes.size()) - 1;
    const NodeSpec& spec = g_.nodes.back();
    auto kind = predict(spec, kinds_, index);
    if (!kind || !unsafe_operands(spec, slots_).empty()) return Verdict::Drop;
    Slot slot;
    try {
      NoGradGuard no_grad;
      Value v = spec.op == "value" ? Value(spec.reals[0]) : Value();
      Tensor t = spec.op == "tensor" ? make_input(spec) : Tensor();
      slot = evaluate(spec, slots_, &v, &t);
    } catch (const std::exception&) {
      return Verdict::Broken;
    }
    if (!kind->is_value && slot.tensor.shape() != kind->shape) return Verdict::Broken;
    if (!unsafe_result(slot, options_.max_result_numel).empty()) return Verdict::Drop;
    kinds_.push_back(*kind);
    slots_.push_back(std::move(slot));
    return Verdict::Keep;
  }

  void rollback(std::size_t mark) {
    g_.nodes.resize(mark);
    kinds_.resize(std::min(kinds_.size(), mark));
    slots_.resize(std::min(slots_.size(), mark));
  }

  double random_number() {
    // Magnitude in [0.1, 2], mostly positive, so that log/sqrt/pow find operands.
    const double magnitude = 0.1 + 1.9 * rng_.uniform();
    return rng_.chance(0.7) ? magnitude : -magnitude;
  }

  double random_constant() {
    static const std::vector<double> constants = {0.5, 2.0, -1.5, 3.0, 1.25, -0.75};
    return rng_.pick(constants);
  }

  Shape random_shape(int max_rank = 3) {
    Shape s(static_cast<std::size_t>(rng_.below(max_rank + 1)));
    for (auto& d : s) d = 1 + rng_.below(3);
    while (numel(s) > options_.max_numel) s.back() = 1, s.erase(s.begin());
    return s;
  }

  // A shape that broadcasts with `s`: some dims set to 1, some leading dims dropped or added.
  Shape broadcastable_to(const Shape& s) {
    Shape out = s;
    for (auto& d : out)
      if (rng_.chance(0.3)) d = 1;
    while (!out.empty() && rng_.chance(0.25)) out.erase(out.begin());
    if (out.size() < 3 && rng_.chance(0.15)) out.insert(out.begin(), 1 + rng_.below(2));
    return out;
  }

  int new_tensor(const Shape& shape) {
    NodeSpec spec{"tensor", {}, shape, {}};
    for (std::int64_t i = 0; i < numel(shape); ++i) spec.reals.push_back(random_number());
    return push_input(std::move(spec));
  }
  int new_value() { return push_input(NodeSpec{"value", {}, {}, {random_number()}}); }

  int push_input(NodeSpec spec) {
    g_.nodes.push_back(std::move(spec));
    if (try_last() != Verdict::Keep) {
      g_.nodes.pop_back();
      return -1;
    }
    return static_cast<int>(g_.nodes.size()) - 1;
  }

  std::vector<int> nodes_where(auto&& pred) const {
    std::vector<int> out;
    for (std::size_t i = 0; i < kinds_.size(); ++i)
      if (pred(kinds_[i])) out.push_back(static_cast<int>(i));
    return out;
  }

  // An existing node of the wanted kind (half the time the newest: long chains), else new.
  int tensor_operand(auto&& pred, const Shape& fallback_shape) {
    auto candidates = nodes_where([&](const Kind& k) { return !k.is_value && pred(k.shape); });
    if (!candidates.empty() && rng_.chance(0.8))
      return rng_.chance(0.5) ? candidates.back() : rng_.pick(candidates);
    return new_tensor(fallback_shape);
  }
  int any_tensor() {
    return tensor_operand([](const Shape&) { return true; }, random_shape());
  }
  int value_operand() {
    auto candidates = nodes_where([](const Kind& k) { return k.is_value; });
    if (!candidates.empty() && rng_.chance(0.8))
      return rng_.chance(0.5) ? candidates.back() : rng_.pick(candidates);
    return new_value();
  }

  std::int64_t random_dim(std::size_t rank) {
    const auto r = static_cast<std::int64_t>(rank);
    const std::int64_t d = rng_.below(static_cast<int>(rank));
    return rng_.chance(0.3) ? d - r : d;  // negative dims too
  }

  // A different shape with the same number of elements, maybe with a -1.
  Shape reshape_target(std::int64_t n) {
    Shape s;
    std::int64_t left = n;
    const int rank = rng_.below(4);
    for (int i = 0; i + 1 < rank; ++i) {
      std::vector<std::int64_t> divisors;
      for (std::int64_t d = 1; d <= left; ++d)
        if (left % d == 0) divisors.push_back(d);
      const std::int64_t d = rng_.pick(divisors);
      s.push_back(d);
      left /= d;
    }
    if (rank > 0) s.push_back(left);
    if (rank == 0 && n != 1) s.push_back(n);
    if (!s.empty() && rng_.chance(0.3)) s[rng_.below(static_cast<int>(s.size()))] = -1;
    return s;
  }

  // Appends one op node (and any fresh inputs it needs); false when nothing fits.
  bool propose(bool table) {
    static const std::vector<const OpInfo*> ops = [] {
      std::vector<const OpInfo*> v;
      for (const auto& info : kOps)
        if (info.op != Op::TensorIn && info.op != Op::ValueIn) v.push_back(&info);
      return v;
    }();
    static const std::vector<const OpInfo*> table_ops_only = [] {
      std::vector<const OpInfo*> v;
      for (const auto& t : table_ops()) v.push_back(&t.info);
      return v;
    }();
    const OpInfo& info = *rng_.pick(table ? table_ops_only : ops);
    NodeSpec spec;
    spec.op = info.name;
    const std::string_view operands = info.operands;
    if (info.reals == 1) spec.reals = {random_constant()};
    if (info.op == Op::Table || info.op == Op::VTable) {
      const ag::OpEntry& e = entry_of(spec);
      spec.reals.clear();
      for (int k = 0; k < e.num_params; ++k)
        spec.reals.push_back(e.param_lo + (e.param_hi - e.param_lo) * rng_.uniform());
    }
    if (info.op == Op::Table && entry_of(spec).kind == ag::OpKind::Other) {
      const auto& cases = entry_of(spec).example_shapes;
      const auto& shapes =
          cases[static_cast<std::size_t>(rng_.below(static_cast<int>(cases.size())))];
      for (const Shape& want : shapes) {
        const int x = tensor_operand([&](const Shape& s) { return s == want; }, want);
        if (x < 0) return false;
        spec.args.push_back(x);
      }
      g_.nodes.push_back(std::move(spec));
      return true;
    }
    switch (info.op) {
      case Op::Table:
        if (operands == "T") {
          spec.args = {any_tensor()};
          break;
        }
        [[fallthrough]];
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
      case Op::PowTT: {
        const int a = any_tensor();
        if (a < 0) return false;
        const Shape sa = kinds_[a].shape;
        const int b =
            rng_.chance(0.15)
                ? a
                : tensor_operand([&](const Shape& s) { return broadcast(s, sa).has_value(); },
                                 broadcastable_to(sa));
        if (b < 0) return false;
        spec.args = rng_.chance(0.5) ? std::vector<int>{a, b} : std::vector<int>{b, a};
        break;
      }
      case Op::PowTC:
      case Op::VPowC: {
        static const std::vector<double> exponents = {2.0, 3.0, 0.5, -1.0, 1.5, -0.5};
        spec.reals = {rng_.pick(exponents)};
        spec.args = {operands == "V" ? value_operand() : any_tensor()};
        break;
      }
      case Op::Clamp: {
        const double lo = -1.0 + rng_.uniform(), hi = lo + 0.2 + rng_.uniform();
        spec.reals = {lo, hi};
        spec.args = {any_tensor()};
        break;
      }
      case Op::SumDim:
      case Op::MeanDim:
      case Op::MaxDim:
      case Op::MeanDimMethod:
      case Op::Softmax:
      case Op::LogSoftmax: {
        const int a = tensor_operand([](const Shape& s) { return !s.empty(); }, random_shape(3));
        if (a < 0 || kinds_[a].shape.empty()) return false;
        spec.args = {a};
        spec.ints = {random_dim(kinds_[a].shape.size())};
        if (info.ints == 2) spec.ints.push_back(rng_.below(2));
        break;
      }
      case Op::Matmul:
      case Op::MatmulMethod: {
        const int a = tensor_operand([](const Shape& s) { return !s.empty(); },
                                     {1 + rng_.below(3), 1 + rng_.below(3)});
        if (a < 0 || kinds_[a].shape.empty()) return false;
        const Shape& sa = kinds_[a].shape;
        const std::int64_t k = sa.back();
        Shape sb;
        switch (rng_.below(4)) {
          case 0:
            sb = {k};
            break;
          case 1:
            sb = {k, 1 + rng_.below(3)};
            break;
          case 2:
            sb = {sa.size() >= 3 && rng_.chance(0.5) ? sa[0] : 1 + rng_.below(2), k,
                  1 + rng_.below(3)};
            break;
          default:
            sb = {1, k, 1 + rng_.below(2)};
            break;
        }
        if (sa.size() == 1 && sb.size() == 3 && rng_.chance(0.5)) sb.erase(sb.begin());
        const int b = tensor_operand([&](const Shape& s) { return s == sb; }, sb);
        if (b < 0) return false;
        spec.args = {a, b};
        break;
      }
      case Op::Reshape: {
        const int a = any_tensor();
        if (a < 0) return false;
        spec.args = {a};
        spec.ints = reshape_target(numel(kinds_[a].shape));
        break;
      }
      case Op::Transpose:
      case Op::TMethod: {
        const int a = tensor_operand([](const Shape& s) { return s.size() >= 2; }, random_shape(3));
        if (a < 0 || kinds_[a].shape.size() < 2) return false;
        spec.args = {a};
        if (info.op == Op::Transpose)
          spec.ints = {random_dim(kinds_[a].shape.size()), random_dim(kinds_[a].shape.size())};
        break;
      }
      case Op::Cat: {
        const int a = tensor_operand([](const Shape& s) { return !s.empty(); },
                                     {1 + rng_.below(3), 1 + rng_.below(2)});
        if (a < 0 || kinds_[a].shape.empty()) return false;
        const Shape sa = kinds_[a].shape;
        const std::int64_t dim = random_dim(sa.size());
        const auto d = *norm_dim(dim, sa.size());
        spec.args = {a};
        spec.ints = {dim};
        for (int parts = rng_.below(3); parts > 0; --parts) {
          if (rng_.chance(0.2)) {
            spec.args.push_back(a);  // the same tensor twice: two gradient paths
            continue;
          }
          Shape sb = sa;
          sb[d] = 1 + rng_.below(3);
          const int b = tensor_operand(
              [&](const Shape& s) {
                if (s.size() != sa.size()) return false;
                for (std::size_t i = 0; i < s.size(); ++i)
                  if (static_cast<std::int64_t>(i) != d && s[i] != sa[i]) return false;
                return true;
              },
              sb);
          if (b < 0) return false;
          spec.args.push_back(b);
        }
        break;
      }
      case Op::Pick: {
        const int a = tensor_operand([](const Shape& s) { return s.size() == 2; },
                                     {1 + rng_.below(3), 2 + rng_.below(2)});
        if (a < 0 || kinds_[a].shape.size() != 2) return false;
        spec.args = {a};
        for (std::int64_t i = 0; i < kinds_[a].shape[0]; ++i)
          spec.ints.push_back(rng_.below(static_cast<int>(kinds_[a].shape[1])));
        break;
      }
      case Op::ValueOfTensor: {
        const int a =
            tensor_operand([](const Shape& s) { return numel(s) == 1; }, Shape(rng_.below(3), 1));
        if (a < 0) return false;
        spec.args = {a};
        break;
      }
      default: {
        for (char k : operands) {
          const int x = k == 'V' ? value_operand() : any_tensor();
          if (x < 0) return false;
          spec.args.push_back(x);
        }
        // Mixed Tensor/Value ops and Value pairs sometimes reuse one node for both operands.
        if (operands == "VV" && rng_.chance(0.15)) spec.args[1] = spec.args[0];
        break;
      }
    }
    for (int a : spec.args)
      if (a < 0) return false;
    g_.nodes.push_back(std::move(spec));
    return true;
  }

  Rng rng_;
  Rng table_rng_;
  GenerateOptions options_;
  RandomGraph g_;
  std::vector<Kind> kinds_;
  std::vector<Slot> slots_;
};

}  // namespace

RandomGraph generate_graph(std::uint64_t seed, const GenerateOptions& options) {
  return Builder(seed, options).build();
}

// ---------------------------------------------------------------------------------------
// Shrinking.

namespace {

// Removes node k, pointing its users at `replacement` (an earlier node, or -1 when unused).
RandomGraph remove_node(const RandomGraph& g, int k, int replacement) {
  RandomGraph out;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (static_cast<int>(i) == k) continue;
    NodeSpec n = g.nodes[i];
    for (int& a : n.args) {
      if (a == k) a = replacement;
      if (a > k) --a;
    }
    out.nodes.push_back(std::move(n));
  }
  return out;
}

double round_to(double x, double step) {
  const double r = std::round(x / step) * step;
  return r == 0.0 ? (x < 0 ? -step : step) : r;
}

std::vector<RandomGraph> candidates(const RandomGraph& g) {
  std::vector<RandomGraph> out;
  const auto users = consumers_of(g);
  const int n = static_cast<int>(g.nodes.size());
  // 1. Drop a node: unused ones outright; used ones replaced by an operand or an earlier node.
  for (int k = n - 1; k >= 0; --k) {
    if (users[k].empty()) {
      if (n > 1) out.push_back(remove_node(g, k, -1));
      continue;
    }
    std::vector<int> replacements = g.nodes[k].args;
    for (int j = 0; j < k; ++j) replacements.push_back(j);
    std::sort(replacements.begin(), replacements.end());
    replacements.erase(std::unique(replacements.begin(), replacements.end()), replacements.end());
    for (int r : replacements) out.push_back(remove_node(g, k, r));
  }
  // 2. Fewer cat operands.
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "cat" || g.nodes[k].args.size() < 2) continue;
    for (std::size_t j = 0; j < g.nodes[k].args.size(); ++j) {
      RandomGraph c = g;
      c.nodes[k].args.erase(c.nodes[k].args.begin() + static_cast<std::ptrdiff_t>(j));
      out.push_back(std::move(c));
    }
  }
  // 3. Reshapes that flatten (so that the shapes feeding them can shrink next).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "reshape" || g.nodes[k].ints == Shape{-1}) continue;
    RandomGraph c = g;
    c.nodes[k].ints = {-1};
    out.push_back(std::move(c));
  }
  // 4. Smaller input shapes: a dim to 1, or a dim dropped (keeping the leading elements).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "tensor") continue;
    const Shape& s = g.nodes[k].ints;
    for (std::size_t d = 0; d < s.size(); ++d) {
      for (bool drop : {true, false}) {
        if (!drop && s[d] == 1) continue;
        RandomGraph c = g;
        Shape& cs = c.nodes[k].ints;
        if (drop) {
          cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(d));
        } else {
          cs[d] = 1;
        }
        c.nodes[k].reals.resize(static_cast<std::size_t>(numel(cs)));
        out.push_back(std::move(c));
      }
    }
  }
  // 5. Rounder numbers in inputs (each input at once).
  for (int k = 0; k < n; ++k) {
    if (g.nodes[k].op != "tensor" && g.nodes[k].op != "value") continue;
    for (double step : {1.0, 0.5, 0.1}) {
      RandomGraph c = g;
      for (double& x : c.nodes[k].reals) x = round_to(x, step);
      if (c.nodes[k].reals != g.nodes[k].reals) out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

RandomGraph shrink_graph(RandomGraph graph,
                         const std::function<bool(const RandomGraph&)>& still_fails, int* tries) {
  int count = 0;
  for (bool progress = true; progress && count < 20000;) {
    progress = false;
    for (auto& c : candidates(graph)) {
      ++count;
      if (still_fails(c)) {
        graph = std::move(c);
        progress = true;
        break;
      }
    }
  }
  if (tries) *tries = count;
  return graph;
}

RandomGraph shrink_failure(const RandomGraph& graph, bool safe_domains) {
  const CheckResult original = check_graph(graph, safe_domains);
  if (!original.failed()) return graph;
  const std::string signature = original.signature();
  return shrink_graph(graph, [&](const RandomGraph& c) {
    const CheckResult r = check_graph(c, safe_domains);
    return r.failed() && r.signature() == signature;
  });
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& info : kOps)
    if (info.op != Op::TensorIn && info.op != Op::ValueIn) names.emplace_back(info.name);
  for (const auto& t : table_ops()) names.emplace_back(t.info.name);
  return names;
}

FuzzSummary fuzz_graphs(std::uint64_t first_seed, long count, const std::string& save_dir,
                        std::ostream& log, int max_failures, const GenerateOptions& options) {
  FuzzSummary summary;
  std::set<std::string> seen;
  for (long i = 0; i < count && summary.failures < max_failures; ++i) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    const RandomGraph g = generate_graph(seed, options);
    ++summary.graphs;
    const auto users = consumers_of(g);
    for (std::size_t k = 0; k < g.nodes.size(); ++k) {
      if (g.nodes[k].op != "tensor" && g.nodes[k].op != "value") {
        ++summary.ops;
        seen.insert(g.nodes[k].op);
      }
      summary.shared_nodes += users[k].size() >= 2;
    }
    const CheckResult r = check_graph(g);
    if (!r.failed()) continue;
    ++summary.failures;
    const RandomGraph small = shrink_failure(g);
    const CheckResult rs = check_graph(small);
    std::string text = fmt::format("# seed {}: {}\n# {}\n", seed, rs.signature(), rs.detail);
    for (std::size_t p = 0; p < text.size(); ++p)
      if (text[p] == '\n' && p + 1 < text.size() && text[p + 1] != '#') text.insert(p + 1, "# ");
    text += to_text(small);
    log << "random graph FAILED (seed " << seed << ", " << g.nodes.size() << " nodes, shrunk to "
        << small.nodes.size() << "):\n"
        << text;
    if (!save_dir.empty()) {
      std::filesystem::create_directories(save_dir);
      const auto path = std::filesystem::path(save_dir) / fmt::format("seed_{}.graph", seed);
      std::ofstream(path) << text;
      log << "saved as " << path.string() << "\n";
    }
    summary.failure_texts.push_back(std::move(text));
  }
  summary.ops_seen.assign(seen.begin(), seen.end());
  return summary;
}

}  // namespace ag::fuzz
