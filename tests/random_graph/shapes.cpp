// Reference shape rules (NumPy / PyTorch semantics), independent of the engine.
#include <algorithm>

#include "internal.hpp"

namespace ag::fuzz::detail {

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

namespace {

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

}  // namespace

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

}  // namespace ag::fuzz::detail
