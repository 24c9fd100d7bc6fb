// The generator's op drawing: one op node with operands of the kinds and shapes it needs.
#include "builder.hpp"

namespace ag::fuzz {

namespace detail {

bool Builder::propose(bool table) {
  static const std::vector<const OpInfo*> ops = [] {
    std::vector<const OpInfo*> v;
    for (const auto& info : static_ops())
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

}  // namespace detail

RandomGraph generate_graph(std::uint64_t seed, const GenerateOptions& options) {
  return detail::Builder(seed, options).build();
}

}  // namespace ag::fuzz
