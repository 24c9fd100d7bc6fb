#pragma once
// The random-graph machinery's shared parts (one job per file in tests/random_graph/):
//   ops.cpp       the op table: the fixed ops and the registry's table ops
//   shapes.cpp    reference shape rules (NumPy / PyTorch semantics), independent of the engine
//   evaluate.cpp  running one node, or a whole graph, through the engine
//   domains.cpp   the safe-domain rules that keep finite differences a valid oracle
//   text.cpp      the replayable text form and outcome names
//   check.cpp     the checker: validation, then ag::gradcheck (and ag::gradgradcheck)
//   builder.hpp   the generator (generate.cpp draws each op's operands)
//   shrink.cpp    delta debugging and the fuzz loop's reporting
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/autograd.hpp"
#include "random_graph.hpp"

namespace ag::fuzz::detail {

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

// The fixed ops (kOps), inputs "tensor" and "value" included, in Op order.
std::span<const OpInfo> static_ops();

// The registry's elementwise ops with no kOps entry, in registry order: tensor forms first.
struct TableOp {
  OpInfo info;
  const ag::OpEntry* entry;
};
const std::vector<TableOp>& table_ops();

const OpInfo* find_op(std::string_view name);  // nullptr for an unknown name
const ag::OpEntry& entry_of(const NodeSpec& spec);

// Safe-domain constants: finite differences with eps = 1e-6 move an intermediate by far less
// than kKinkMargin, so no kink or tie is crossed, and log/sqrt/pow stay well-conditioned.
constexpr double kPositiveFloor = 0.2;
constexpr double kKinkMargin = 0.02;
constexpr double kMaxMagnitude = 1e3;
constexpr double kMaxExpInput = 4.0;

// A node's result while a graph runs, and its predicted kind.
struct Slot {
  bool is_value = false;
  Value value;
  Tensor tensor;
};

struct Kind {
  bool is_value = false;
  Shape shape;
};

std::optional<Shape> broadcast(const Shape& a, const Shape& b);
std::optional<std::int64_t> norm_dim(std::int64_t dim, std::size_t rank);
// The result kind of node `spec` given its operands' kinds; nullopt when malformed.
std::optional<Kind> predict(const NodeSpec& spec, const std::vector<Kind>& kinds, int index);

// One node through the engine (`value_input` / `tensor_input` for the input nodes).
Slot evaluate(const NodeSpec& spec, const std::vector<Slot>& slots, const Value* value_input,
              const Tensor* tensor_input);
// Why the op's operands are outside its smooth interior, or "" when they are safe.
std::string unsafe_operands(const NodeSpec& spec, const std::vector<Slot>& slots);
// Why a result is unusable (too large for cheap finite differences, or not finite).
std::string unsafe_result(const Slot& result, int max_result_numel);

std::vector<std::vector<int>> consumers_of(const RandomGraph& g);
// Runs the whole graph: inputs as given (tensor inputs and Value inputs in node order), and
// the output as random_graph.hpp describes. Returns the output; `slots` gets every node.
Tensor run_graph(const RandomGraph& g, const std::vector<Tensor>& tensor_inputs,
                 const std::vector<Value>& value_inputs, std::vector<Slot>* slots_out = nullptr);
Tensor make_input(const NodeSpec& spec);
std::string describe(const RandomGraph& g, int node);

}  // namespace ag::fuzz::detail
