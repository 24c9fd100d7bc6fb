// The op table: the fixed ops and the op registry's elementwise ops (see internal.hpp).
#include <iterator>
#include <stdexcept>

#include "internal.hpp"

namespace ag::fuzz::detail {

namespace {

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

}  // namespace

std::span<const OpInfo> static_ops() { return kOps; }

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

}  // namespace ag::fuzz::detail

namespace ag::fuzz {

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& info : detail::static_ops())
    if (info.op != detail::Op::TensorIn && info.op != detail::Op::ValueIn)
      names.emplace_back(info.name);
  for (const auto& t : detail::table_ops()) names.emplace_back(t.info.name);
  return names;
}

}  // namespace ag::fuzz
