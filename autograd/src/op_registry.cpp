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
  OpEntry where_entry = other(
      "where", {{{2, 3}, {2, 3}}},
      [](Tensors t, Params) { return where(gt(t[0], t[1]), t[0] * t[1], t[1]); },
      OpDomain{.kink_at_ties = true});
  where_entry.kind = OpKind::ElementwiseBinary;
  where_entry.example_shapes.clear();
  ops.push_back(std::move(where_entry));
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
  // Indexing and view-like ops (index_ops.cpp).
  const OpDomain distinct{.kink_at_ties = true};  // no two elements tie (min's choice)
  ops.push_back(other(
      "min", {{{2, 3}}}, [](Tensors t, Params) { return min(t[0]); }, distinct));
  ops.push_back(other(
      "min_dim", {{{2, 3}}}, [](Tensors t, Params) { return min(t[0], 1); }, distinct));
  ops.push_back(other("squeeze", {{{2, 1, 3}}}, [](Tensors t, Params) { return squeeze(t[0]); }));
  ops.push_back(
      other("unsqueeze", {{{2, 3}}}, [](Tensors t, Params) { return unsqueeze(t[0], 1); }));
  ops.push_back(
      other("flatten", {{{2, 3, 2}}}, [](Tensors t, Params) { return flatten(t[0], 1); }));
  ops.push_back(other("expand", {{{3, 1}}}, [](Tensors t, Params) {
    return ag::expand(t[0], {2, 3, 4});
  }));
  ops.push_back(other("stack", {{{2, 3}, {2, 3}}}, [](Tensors t, Params) {
    return stack({t[0], t[1]}, 1);
  }));
  ops.push_back(
      other("narrow", {{{4, 5}}}, [](Tensors t, Params) { return narrow(t[0], 1, 1, 3); }));
  ops.push_back(other("select", {{{4, 5}}}, [](Tensors t, Params) { return select(t[0], 0, -2); }));
  ops.push_back(other("slice", {{{5, 6}}}, [](Tensors t, Params) {
    return slice(slice(t[0], 1, 0, 6, 2), 0, -4, 100, 3);  // x[-4:100:3, 0:6:2]
  }));
  ops.push_back(other("index_select", {{{4, 3}}}, [](Tensors t, Params) {
    const std::int64_t index[] = {2, 0, 2};
    return index_select(t[0], 0, index);
  }));
  ops.push_back(other("gather", {{{3, 4}}}, [](Tensors t, Params) {
    const std::int64_t index[] = {0, 3, 3, 1, 0, 2, 2, 2, 1};
    return gather(t[0], 1, index, {3, 3});
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
