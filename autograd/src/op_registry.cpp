// The op registry: the op table's rows (op_table.hpp) turned into entries, followed by the
// ops that are not elementwise, each with the operand shapes to check it at.
#include "autograd/op_registry.hpp"

#include <algorithm>

#include "autograd/tensor.hpp"
#include "autograd/value.hpp"
#include "op_table.hpp"

namespace ag {
namespace {

using Tensors = std::span<const Tensor>;
using Values = std::span<const Value>;
using Params = std::span<const double>;

template <class Row>
OpEntry unary_entry() {
  OpEntry e;
  e.name = Row::name;
  e.kind = OpKind::ElementwiseUnary;
  e.arity = 1;
  e.num_params = Row::num_params;
  e.param_lo = Row::param_lo;
  e.param_hi = Row::param_hi;
  e.domain = Row::domain;
  e.on_values = [](Values v, Params p) {
    return op_math::unary_op<Row>(v[0], p.empty() ? Row::default_param : p[0]);
  };
  e.on_tensors = [](Tensors t, Params p) {
    return op_math::unary_op<Row>(t[0], p.empty() ? Row::default_param : p[0]);
  };
  return e;
}

template <class Row>
OpEntry binary_entry() {
  OpEntry e;
  e.name = Row::name;
  e.kind = OpKind::ElementwiseBinary;
  e.arity = 2;
  e.domain = Row::domain;
  e.on_values = [](Values v, Params) { return op_math::binary_op<Row>(v[0], v[1]); };
  e.on_tensors = [](Tensors t, Params) { return op_math::binary_op<Row>(t[0], t[1]); };
  return e;
}

// An op that is not elementwise: checked at the given operand shapes.
OpEntry other(std::string_view name, std::vector<std::vector<Shape>> shapes,
              std::function<Tensor(Tensors, Params)> f, OpDomain domain = {}) {
  OpEntry e;
  e.name = name;
  e.kind = OpKind::Other;
  e.arity = static_cast<int>(shapes.front().size());
  e.domain = domain;
  e.example_shapes = std::move(shapes);
  e.on_tensors = std::move(f);
  return e;
}

std::vector<OpEntry> build() {
  std::vector<OpEntry> ops;
#define AG_UNARY_ENTRY(Row) ops.push_back(unary_entry<op_math::Row>());
#define AG_BINARY_ENTRY(Row) ops.push_back(binary_entry<op_math::Row>());
  AG_ELEMENTWISE_UNARY_OPS(AG_UNARY_ENTRY)
  AG_ELEMENTWISE_BINARY_OPS(AG_BINARY_ENTRY)
#undef AG_UNARY_ENTRY
#undef AG_BINARY_ENTRY
  const OpDomain positive{.lo = 0.3, .hi = 2.0};
  ops.push_back(other(
      "pow", {{{2, 3}, {2, 3}}, {{2, 3}, {3}}}, [](Tensors t, Params) { return pow(t[0], t[1]); },
      positive));
  ops.push_back(other(
      "clamp", {{{3, 4}}}, [](Tensors t, Params) { return clamp(t[0], -0.7, 0.8); },
      OpDomain{.kinks = {-0.7, 0.8}}));
  // where, checked as the elementwise function where(a > b, a * b, b) of a and b.
  OpEntry select = other(
      "where", {{{2, 3}, {2, 3}}},
      [](Tensors t, Params) { return where(gt(t[0], t[1]), t[0] * t[1], t[1]); },
      OpDomain{.kink_at_ties = true});
  select.kind = OpKind::ElementwiseBinary;
  select.example_shapes.clear();
  ops.push_back(std::move(select));
  ops.push_back(other("sum", {{{2, 3, 4}}}, [](Tensors t, Params) { return sum(t[0]); }));
  ops.push_back(
      other("sum_dim", {{{2, 3, 4}}}, [](Tensors t, Params) { return sum(t[0], 1, true); }));
  ops.push_back(other("mean", {{{2, 3, 4}}}, [](Tensors t, Params) { return mean(t[0]); }));
  ops.push_back(other("mean_dim", {{{2, 3, 4}}}, [](Tensors t, Params) { return mean(t[0], -1); }));
  ops.push_back(other("max_dim", {{{2, 3, 4}}}, [](Tensors t, Params) { return max(t[0], 1); }));
  ops.push_back(other("matmul", {{{2, 3}, {3, 4}}, {{2, 2, 3}, {3, 2}}},
                      [](Tensors t, Params) { return matmul(t[0], t[1]); }));
  ops.push_back(other("reshape", {{{2, 3, 4}}}, [](Tensors t, Params) {
    return reshape(t[0], {4, -1});
  }));
  ops.push_back(
      other("transpose", {{{2, 3, 4}}}, [](Tensors t, Params) { return transpose(t[0], 0, 2); }));
  ops.push_back(other("softmax", {{{3, 4}}}, [](Tensors t, Params) { return softmax(t[0], 1); }));
  ops.push_back(
      other("log_softmax", {{{3, 4}}}, [](Tensors t, Params) { return log_softmax(t[0], 0); }));
  ops.push_back(other("cat", {{{2, 3}, {1, 3}}}, [](Tensors t, Params) {
    return cat({t[0], t[1]}, 0);
  }));
  return ops;
}

}  // namespace

const std::vector<OpEntry>& op_registry() {
  static const std::vector<OpEntry> ops = build();
  return ops;
}

const OpEntry* find_op(std::string_view name) {
  const auto& ops = op_registry();
  const auto it =
      std::find_if(ops.begin(), ops.end(), [&](const OpEntry& e) { return e.name == name; });
  return it == ops.end() ? nullptr : &*it;
}

}  // namespace ag
