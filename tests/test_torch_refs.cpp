// Compares the engine with PyTorch: tests/data/torch_refs.txt holds, for each named case, the
// inputs, the output and the gradients that torch 1.13 computed in float64
// (tools/make_torch_refs.py writes it; see the format there). This file rebuilds every case by
// name with the ag API, runs forward and backward, and compares. It needs no torch.
#include <fmt/format.h>

#include <algorithm>
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "test_support.hpp"

namespace {

using ag::Tensor;
using ag::Value;

// ---------------------------------------------------------------- the reference file

struct RefTensor {
  std::string name;  // input name; empty for output and weight
  std::string kind;  // inputs only: "tensor" or "value"
  ag::Dtype dtype = ag::float64;
  ag::Shape shape;
  std::vector<double> values;
};

struct RefCase {
  std::string name;
  std::string kind;  // "tensor": Tensor output, backward(weight); "value": Value output
  int line = 0;
  std::vector<RefTensor> inputs;
  std::vector<std::int64_t> labels;
  RefTensor output;
  std::optional<RefTensor> weight;
  std::vector<RefTensor> grads;  // same order as inputs
};

class LineReader {
 public:
  LineReader(std::string path, int line_number, const std::string& line)
      : path_(std::move(path)), line_(line_number), tokens_(line) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path_ + ":" + std::to_string(line_) + ": " + what);
  }
  std::string word() {
    std::string w;
    if (!(tokens_ >> w)) fail("line ends early");
    return w;
  }
  double number() {
    const std::string w = word();
    char* end = nullptr;
    const double x = std::strtod(w.c_str(), &end);  // exact for the 17-digit reprs stored
    if (end != w.c_str() + w.size()) fail("not a number: '" + w + "'");
    return x;
  }
  std::int64_t integer() {
    const std::string w = word();
    char* end = nullptr;
    const long long x = std::strtoll(w.c_str(), &end, 10);
    if (end != w.c_str() + w.size()) fail("not an integer: '" + w + "'");
    return x;
  }
  RefTensor tensor() {
    RefTensor t;
    const std::string dtype = word();
    if (dtype == "float64") {
      t.dtype = ag::float64;
    } else if (dtype == "float32") {
      t.dtype = ag::float32;
    } else {
      fail("unknown dtype '" + dtype + "'");
    }
    const std::int64_t ndim = integer();
    for (std::int64_t d = 0; d < ndim; ++d) t.shape.push_back(integer());
    t.values.resize(static_cast<std::size_t>(ag::numel(t.shape)));
    for (double& x : t.values) x = number();
    return t;
  }
  void finish() {
    std::string extra;
    if (tokens_ >> extra) fail("unexpected '" + extra + "'");
  }

 private:
  std::string path_;
  int line_;
  std::istringstream tokens_;
};

std::vector<RefCase> read_reference_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::vector<RefCase> cases;
  std::optional<RefCase> current;
  std::string line;
  int line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    LineReader in(path, line_number, line);
    const std::string record = in.word();
    if (record == "case") {
      if (current) in.fail("case " + current->name + " has no 'end'");
      current.emplace();
      current->name = in.word();
      current->kind = in.word();
      current->line = line_number;
      if (current->kind != "tensor" && current->kind != "value") in.fail("bad case kind");
    } else if (!current) {
      in.fail("'" + record + "' outside a case");
    } else if (record == "input") {
      const std::string name = in.word();
      const std::string kind = in.word();
      RefTensor t = in.tensor();
      t.name = name;
      t.kind = kind;
      if (kind != "tensor" && (kind != "value" || !t.shape.empty())) in.fail("bad input kind");
      current->inputs.push_back(std::move(t));
    } else if (record == "labels") {
      const std::int64_t n = in.integer();
      for (std::int64_t i = 0; i < n; ++i) current->labels.push_back(in.integer());
    } else if (record == "output") {
      current->output = in.tensor();
    } else if (record == "weight") {
      current->weight = in.tensor();
    } else if (record == "grad") {
      const std::string name = in.word();
      RefTensor t = in.tensor();
      t.name = name;
      current->grads.push_back(std::move(t));
    } else if (record == "end") {
      if (current->grads.size() != current->inputs.size()) in.fail("grads do not match inputs");
      if ((current->kind == "tensor") != current->weight.has_value()) in.fail("weight misplaced");
      cases.push_back(std::move(*current));
      current.reset();
    } else {
      in.fail("unknown record '" + record + "'");
    }
    in.finish();
  }
  if (current) throw std::runtime_error(path + ": case " + current->name + " has no 'end'");
  return cases;
}

const std::vector<RefCase>& reference_cases() {
  static const std::vector<RefCase> cases =
      read_reference_file(ag_test::data_file("torch_refs.txt").string());
  return cases;
}

// ---------------------------------------------------------------- the ag side of each case

// The leaves of one case, by the names the reference file gives them.
class Leaves {
 public:
  std::map<std::string, Tensor, std::less<>> tensors;
  std::map<std::string, Value, std::less<>> values;
  std::vector<std::int64_t> labels;

  const Tensor& t(std::string_view name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end())
      throw std::runtime_error("no tensor input '" + std::string(name) + "'");
    return it->second;
  }
  const Value& v(std::string_view name) const {
    const auto it = values.find(name);
    if (it == values.end()) throw std::runtime_error("no value input '" + std::string(name) + "'");
    return it->second;
  }
};

using Output = std::variant<Tensor, Value>;

struct Builder {
  std::function<Output(const Leaves&)> build;
  // Whether the float32 pass runs it too (false where the case itself names dtypes, or where
  // everything is a Value, which is always double).
  bool float32 = true;
};

Builder tensor_case(std::function<Tensor(const Leaves&)> f) {
  return {[f = std::move(f)](const Leaves& in) -> Output { return f(in); }, true};
}
Builder float64_only(std::function<Tensor(const Leaves&)> f) {
  return {[f = std::move(f)](const Leaves& in) -> Output { return f(in); }, false};
}
Builder value_case(std::function<Value(const Leaves&)> f, bool float32 = false) {
  return {[f = std::move(f)](const Leaves& in) -> Output { return f(in); }, float32};
}

// One entry per case of tools/make_torch_refs.py, with the same name and the same expression.
const std::map<std::string, Builder, std::less<>>& builders() {
  using namespace ag;  // NOLINT: the table reads like the Python it mirrors
  static const std::map<std::string, Builder, std::less<>> table = {
      // ---- elementwise arithmetic
      {"add_same_shape", tensor_case([](const Leaves& in) { return in.t("a") + in.t("b"); })},
      {"add_scalar_0d", tensor_case([](const Leaves& in) { return in.t("a") + in.t("s"); })},
      {"add_scalar_0d_left", tensor_case([](const Leaves& in) { return in.t("s") + in.t("a"); })},
      {"sub_row_vector", tensor_case([](const Leaves& in) { return in.t("a") - in.t("row"); })},
      {"sub_row_vector_left",
       tensor_case([](const Leaves& in) { return in.t("row") - in.t("a"); })},
      {"mul_column_vector", tensor_case([](const Leaves& in) { return in.t("a") * in.t("col"); })},
      {"div_column_vector", tensor_case([](const Leaves& in) { return in.t("a") / in.t("col"); })},
      {"div_row_vector_left",
       tensor_case([](const Leaves& in) { return in.t("row") / in.t("a"); })},
      {"add_both_broadcast", tensor_case([](const Leaves& in) { return in.t("a") + in.t("b"); })},
      {"sub_both_broadcast", tensor_case([](const Leaves& in) { return in.t("a") - in.t("b"); })},
      {"mul_both_broadcast", tensor_case([](const Leaves& in) { return in.t("a") * in.t("b"); })},
      {"div_both_broadcast", tensor_case([](const Leaves& in) { return in.t("a") / in.t("b"); })},
      {"add_rank_difference", tensor_case([](const Leaves& in) { return in.t("a") + in.t("b"); })},
      {"mul_rank_difference", tensor_case([](const Leaves& in) { return in.t("b") * in.t("a"); })},
      {"div_scalar_0d", tensor_case([](const Leaves& in) { return in.t("s") / in.t("b"); })},
      {"double_right",
       tensor_case([](const Leaves& in) { return ((in.t("a") + 2.5) * 3.0 - 1.5) / 4.0; })},
      {"double_left", tensor_case([](const Leaves& in) {
         const Tensor& a = in.t("a");
         return (0.5 + a) + (1.5 - a) * (3.0 * a) + 2.0 / in.t("b");
       })},
      {"neg", tensor_case([](const Leaves& in) { return -in.t("a"); })},
      // ---- pow and unary functions
      {"pow_double_integer",
       tensor_case([](const Leaves& in) { return pow(in.t("a"), 3.0) + pow(in.t("a"), 2.0); })},
      {"pow_double_fraction",
       tensor_case([](const Leaves& in) { return pow(in.t("p"), 0.5) + pow(in.t("p"), -1.5); })},
      {"pow_tensor",
       tensor_case([](const Leaves& in) { return pow(in.t("base"), in.t("exponent")); })},
      {"pow_tensor_broadcast",
       tensor_case([](const Leaves& in) { return pow(in.t("base"), in.t("exponent")); })},
      {"unary_exp", tensor_case([](const Leaves& in) { return exp(in.t("a")); })},
      {"unary_log", tensor_case([](const Leaves& in) { return log(in.t("a")); })},
      {"unary_sqrt", tensor_case([](const Leaves& in) { return sqrt(in.t("a")); })},
      {"unary_tanh", tensor_case([](const Leaves& in) { return tanh(in.t("a")); })},
      {"unary_sigmoid", tensor_case([](const Leaves& in) { return sigmoid(in.t("a")); })},
      {"sigmoid_extreme", tensor_case([](const Leaves& in) { return sigmoid(in.t("a")); })},
      {"tanh_extreme", tensor_case([](const Leaves& in) { return tanh(in.t("a")); })},
      {"unary_relu", tensor_case([](const Leaves& in) { return relu(in.t("a")); })},
      {"unary_abs", tensor_case([](const Leaves& in) { return abs(in.t("a")); })},
      {"clamp", tensor_case([](const Leaves& in) { return clamp(in.t("a"), -0.5, 0.8); })},
      // ---- reductions
      {"sum_all", tensor_case([](const Leaves& in) { return in.t("a").sum(); })},
      {"sum_dim", tensor_case([](const Leaves& in) { return in.t("a").sum(1); })},
      {"sum_dim_keepdim", tensor_case([](const Leaves& in) { return sum(in.t("a"), 0, true); })},
      {"sum_negative_dim", tensor_case([](const Leaves& in) { return in.t("a").sum(-1); })},
      {"mean_all", tensor_case([](const Leaves& in) { return mean(in.t("a")); })},
      {"mean_dim", tensor_case([](const Leaves& in) { return in.t("a").mean(2); })},
      {"mean_dim_keepdim", tensor_case([](const Leaves& in) { return in.t("a").mean(1, true); })},
      {"max_all", tensor_case([](const Leaves& in) { return max(in.t("a")); })},
      {"max_dim", tensor_case([](const Leaves& in) { return in.t("a").max(1); })},
      {"max_dim_keepdim", tensor_case([](const Leaves& in) { return max(in.t("a"), -1, true); })},
      // ---- matmul
      {"matmul_2d", tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_batched",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_batch_broadcast_right",
       tensor_case([](const Leaves& in) { return in.t("a").matmul(in.t("b")); })},
      {"matmul_batch_broadcast_left",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_batch_broadcast_both",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_vector_matrix",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_matrix_vector",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_vector_vector",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_batched_vector",
       tensor_case([](const Leaves& in) { return matmul(in.t("a"), in.t("b")); })},
      {"matmul_transposed",
       tensor_case([](const Leaves& in) { return matmul(in.t("a").t(), in.t("b")); })},
      // ---- shape ops
      {"reshape", tensor_case([](const Leaves& in) {
         return tanh(in.t("a")).reshape({4, -1});
       })},
      {"reshape_flatten",
       tensor_case([](const Leaves& in) { return reshape(in.t("a"), {6}) * in.t("b"); })},
      {"transpose_2d", tensor_case([](const Leaves& in) { return in.t("a").t() * in.t("b"); })},
      {"transpose_3d",
       tensor_case([](const Leaves& in) { return transpose(in.t("a"), 0, 2) + in.t("b"); })},
      {"cat_dim0", tensor_case([](const Leaves& in) {
         return cat({in.t("a"), in.t("b")}, 0);
       })},
      {"cat_dim1", tensor_case([](const Leaves& in) {
         return cat({in.t("a"), in.t("b"), in.t("c")}, 1);
       })},
      {"cat_negative_dim", tensor_case([](const Leaves& in) {
         const std::vector<Tensor> parts = {in.t("a"), in.t("b")};
         return cat(std::span<const Tensor>(parts), -1);
       })},
      {"clone", tensor_case([](const Leaves& in) { return in.t("a").clone() * 2.0; })},
      // ---- softmax family and pick
      {"softmax_dim1", tensor_case([](const Leaves& in) { return softmax(in.t("a"), 1); })},
      {"softmax_dim0", tensor_case([](const Leaves& in) { return in.t("a").softmax(0); })},
      {"softmax_3d_middle_dim",
       tensor_case([](const Leaves& in) { return softmax(in.t("a"), 1); })},
      {"log_softmax_dim1", tensor_case([](const Leaves& in) { return log_softmax(in.t("a"), 1); })},
      {"log_softmax_negative_dim",
       tensor_case([](const Leaves& in) { return in.t("a").log_softmax(-1); })},
      {"softmax_large_logits", tensor_case([](const Leaves& in) { return softmax(in.t("a"), 1); })},
      // float32 holds this to 1e-5 only if the kernel forms (x - max) - log(sum), as torch does:
      // x - (max + log(sum)) rounds the shift near 1e4 to steps of 2^-10.
      {"log_softmax_large_logits",
       tensor_case([](const Leaves& in) { return log_softmax(in.t("a"), 1); })},
      {"pick_rows", tensor_case([](const Leaves& in) { return pick(in.t("a"), in.labels); })},
      {"cross_entropy_fused",
       tensor_case([](const Leaves& in) { return cross_entropy(in.t("a"), in.labels); })},
      // ---- fused linear
      {"linear_bias",
       tensor_case([](const Leaves& in) { return linear(in.t("x"), in.t("w"), in.t("b")); })},
      {"linear_3d_input_no_bias",
       tensor_case([](const Leaves& in) { return linear(in.t("x"), in.t("w")); })},
      {"linear_relu_bias", tensor_case([](const Leaves& in) {
         return linear(in.t("x"), in.t("w"), in.t("b"), Activation::relu);
       })},
      {"linear_relu_3d_input_no_bias", tensor_case([](const Leaves& in) {
         return linear(in.t("x"), in.t("w"), Tensor(), Activation::relu);
       })},
      // ---- dtype conversion
      {"to_float32",
       float64_only([](const Leaves& in) { return (in.t("a") * 1.1).to(float32) * 3.0 + 0.25; })},
      {"to_float64",
       float64_only([](const Leaves& in) { return in.t("a").to(float64) * in.t("b"); })},
      // ---- Values in tensor expressions
      {"tensor_value_mix", tensor_case([](const Leaves& in) {
         const Tensor& a = in.t("a");
         const Value& v = in.v("v");
         const Value& u = in.v("u");
         return (a + v) * (u - a) + (a - v) / u + (v * a) - (a / v) + (u + a) * u +
                v / (a * a + 1.0) + a * u;
       })},
      {"value_from_tensor", value_case(
                                [](const Leaves& in) {
                                  const Tensor& x = in.t("x");
                                  const Value s((x * x).sum());
                                  const Value m(x.mean());
                                  return tanh(s * 0.1) * m + pow(s, 0.5);
                                },
                                /*float32=*/true)},
      // ---- composites
      {"mlp_cross_entropy", tensor_case([](const Leaves& in) {
         const Tensor hidden = tanh(matmul(in.t("x"), in.t("w1")) + in.t("b1"));
         const Tensor logits = matmul(hidden, in.t("w2")) + in.t("b2");
         return -pick(log_softmax(logits, 1), in.labels).mean();
       })},
      {"relu_mlp_mse", tensor_case([](const Leaves& in) {
         const Tensor hidden = relu(matmul(in.t("x"), in.t("w1")) + in.t("b1"));
         return pow(matmul(hidden, in.t("w2")) - in.t("target"), 2.0).mean();
       })},
      {"attention", tensor_case([](const Leaves& in) {
         const Tensor scores = matmul(in.t("q"), in.t("k").transpose(1, 2)) / std::sqrt(4.0);
         return matmul(softmax(scores, -1), in.t("v"));
       })},
      {"layer_norm", tensor_case([](const Leaves& in) {
         const Tensor& x = in.t("x");
         const Tensor mu = x.mean(1, true);
         const Tensor var = pow(x - mu, 2.0).mean(1, true);
         return (x - mu) / sqrt(var + 1e-5) * in.t("gain");
       })},
      {"logsumexp_by_hand", tensor_case([](const Leaves& in) {
         const Tensor& x = in.t("x");
         const Tensor m = x.max(1, true);
         return log(exp(x - m).sum(1)) + m.reshape({3});
       })},
      {"abs_clamp_sigmoid_chain", tensor_case([](const Leaves& in) {
         const Tensor& x = in.t("x");
         const Tensor y = clamp(abs(x) * 2.0 - 1.0, -0.6, 0.9);
         return sigmoid(y) * exp(-x);
       })},
      // ---- scalar Values
      {"micrograd_issue", value_case([](const Leaves& in) {
         const Value& x = in.v("x");
         auto z = 2 * x + 2 + x;
         auto q = relu(z) + z * x;
         auto h = relu(z * z);
         return h + q + q * x;
       })},
      {"micrograd_sanity", value_case([](const Leaves& in) {
         const Value& a = in.v("a");
         const Value& b = in.v("b");
         Value c = a + b;
         Value d = a * b + pow(b, 3.0);
         c += c + 1;
         c += 1 + c + (-a);
         d += d * 2 + relu(b + a);
         d += 3 * d + relu(b - a);
         Value e = c - d;
         Value f = pow(e, 2.0);
         Value g = f / 2.0;
         g += 10.0 / f;
         return g;
       })},
      {"value_pow", value_case([](const Leaves& in) {
         const Value& a = in.v("a");
         const Value& b = in.v("b");
         return pow(a, b) + pow(a, 2.5) + pow(b, 3.0) + pow(a + b, -2.0);
       })},
      {"value_division_chain", value_case([](const Leaves& in) {
         const Value& a = in.v("a");
         const Value& b = in.v("b");
         const Value& c = in.v("c");
         Value r = a / b;
         r /= c;
         r /= 1.0 + a;
         r = 3.0 / r;
         r -= a / b / c;
         r *= 0.5;
         r -= 1.0;
         return r;
       })},
      {"value_unary", value_case([](const Leaves& in) {
         const Value& a = in.v("a");
         const Value& b = in.v("b");
         return exp(a) + log(a) + sqrt(a) + tanh(b) + sigmoid(b) + relu(a) + relu(b) + abs(b) -
                (-a) * b;
       })},
      {"value_extreme", value_case([](const Leaves& in) {
         const Value& p = in.v("p");
         const Value& n = in.v("n");
         return sigmoid(p) + sigmoid(n) * 2.0 + tanh(p) * 3.0 + tanh(n) * 4.0 +
                sigmoid(in.v("pf")) * 5.0 + sigmoid(in.v("nf")) * 6.0 + tanh(in.v("nf")) * 7.0;
       })},
  };
  return table;
}

// Cases "op_NAME_K" and "op_v_NAME_K" of the op registry's ops (tools/make_torch_refs.py
// derives them from tests/data/op_table.txt): inputs x0, x1, ..., the op's registered
// callable, its parameter at the middle of the sampler's range (as the script uses).
std::optional<Builder> registry_builder(std::string_view name) {
  if (!name.starts_with("op_")) return std::nullopt;
  std::string_view rest = name.substr(3);
  const bool on_values = rest.starts_with("v_") && !ag::find_op(rest.substr(0, rest.rfind('_')));
  if (on_values) rest.remove_prefix(2);
  const ag::OpEntry* op = ag::find_op(rest.substr(0, rest.rfind('_')));
  if (!op) return std::nullopt;
  std::vector<double> params(op->num_params, 0.5 * (op->param_lo + op->param_hi));
  if (on_values) {
    if (!op->on_values) return std::nullopt;
    return value_case([op, params](const Leaves& in) {
      std::vector<Value> xs;
      // fmt, not "x" + std::to_string(i): GCC 12 warns falsely (-Wrestrict) on the latter.
      for (int i = 0; i < op->arity; ++i) xs.push_back(in.v(fmt::format("x{}", i)));
      return op->on_values(xs, params);
    });
  }
  return tensor_case([op, params](const Leaves& in) {
    std::vector<Tensor> xs;
    for (int i = 0; i < op->arity; ++i) xs.push_back(in.t(fmt::format("x{}", i)));
    return op->on_tensors(xs, params);
  });
}

// The case's builder: a hand-written one above, else the registry's.
std::optional<Builder> builder_for(std::string_view name) {
  const auto it = builders().find(name);
  if (it != builders().end()) return it->second;
  return registry_builder(name);
}

// ---------------------------------------------------------------- running and comparing

enum class Pass { Float64, Float32 };

// float64 should agree with torch to rounding: 1e-10 relative leaves room for different
// summation orders (BLAS blocking, reductions) and nothing more. float32 carries ~6e-8 per
// operation; 1e-5 relative plus 1e-6 absolute (for entries that cancel to near zero) is what a
// correct float32 kernel meets on these O(1) inputs.
struct Tolerance {
  double rtol;
  double atol;
};
Tolerance tolerance_for(ag::Dtype dtype) {
  return dtype == ag::float64 ? Tolerance{1e-10, 1e-12} : Tolerance{1e-5, 1e-6};
}

struct CaseReport {
  std::vector<std::string> problems;  // empty when everything agrees
  double worst_ratio = 0.0;           // largest error / allowed error over all compared numbers
  std::string worst_what;
};

// Compares one tensor; a line per mismatching element (the first few) goes to the report.
void compare(const std::string& what, ag::Dtype dtype, const ag::Shape& shape,
             const std::vector<double>& actual, const RefTensor& expected, CaseReport& report) {
  if (shape != expected.shape) {
    report.problems.push_back(what + ": shape " + ag::to_string(shape) + ", torch has " +
                              ag::to_string(expected.shape));
    return;
  }
  const Tolerance tol = tolerance_for(dtype);
  int mismatches = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double want = expected.values[i];
    const double error = std::abs(actual[i] - want);
    const double allowed = tol.atol + tol.rtol * std::abs(want);
    if (!(error / allowed <= report.worst_ratio)) {
      report.worst_ratio = error / allowed;
      report.worst_what = what + "[" + std::to_string(i) + "]";
    }
    if (error <= allowed) continue;  // NaN fails here too
    if (++mismatches > 4) continue;
    std::ostringstream line;
    line.precision(17);
    line << what << "[" << i << "]: ag " << actual[i] << ", torch " << want << " (error " << error
         << ")";
    report.problems.push_back(line.str());
  }
  if (mismatches > 4) {
    report.problems.push_back(what + ": " + std::to_string(mismatches) + " mismatches in all");
  }
}

// Runs one case and compares its output and gradients.
CaseReport run_case(const RefCase& ref, const Builder& builder, Pass pass) {
  const ag::Dtype tensor_dtype_override = pass == Pass::Float32 ? ag::float32 : ag::float64;
  Leaves leaves;
  leaves.labels = ref.labels;
  for (const RefTensor& input : ref.inputs) {
    if (input.kind == "value") {
      leaves.values.emplace(input.name, Value(input.values[0], input.name));
    } else {
      const ag::Dtype dtype = pass == Pass::Float32 ? tensor_dtype_override : input.dtype;
      Tensor t = ag::tensor(input.values, input.shape, dtype);
      t.requires_grad_().set_label(input.name);
      leaves.tensors.emplace(input.name, t);
    }
  }

  CaseReport report;
  std::vector<std::string>& problems = report.problems;
  const Output output = builder.build(leaves);
  if (const Tensor* out = std::get_if<Tensor>(&output)) {
    const ag::Dtype want_dtype = pass == Pass::Float32 ? ag::float32 : ref.output.dtype;
    if (out->dtype() != want_dtype) {
      problems.push_back("output dtype " + std::string(ag::name(out->dtype())) + ", expected " +
                         std::string(ag::name(want_dtype)));
    }
    compare("output", out->dtype(), out->shape(), out->to_vector(), ref.output, report);
    if (!ref.weight || out->shape() != ref.weight->shape) {
      problems.push_back("cannot seed backward: no weight of the output's shape");
      return report;
    }
    out->backward(ag::tensor(ref.weight->values, ref.weight->shape, out->dtype()));
  } else {
    const Value& value = std::get<Value>(output);
    compare("output", pass == Pass::Float32 ? ag::float32 : ag::float64, {}, {value.data()},
            ref.output, report);
    value.backward();
  }

  for (std::size_t i = 0; i < ref.inputs.size(); ++i) {
    const RefTensor& input = ref.inputs[i];
    const RefTensor& grad = ref.grads[i];
    const std::string what = "grad " + input.name;
    if (input.kind == "value") {
      compare(what, pass == Pass::Float32 ? ag::float32 : ag::float64, {},
              {leaves.v(input.name).grad()}, grad, report);
      continue;
    }
    const Tensor g = leaves.t(input.name).grad();
    if (!g.defined()) {
      problems.push_back(what + ": undefined after backward");
      continue;
    }
    const Tensor& leaf = leaves.t(input.name);
    if (g.dtype() != leaf.dtype()) {
      problems.push_back(what + ": dtype " + std::string(ag::name(g.dtype())) + ", leaf has " +
                         std::string(ag::name(leaf.dtype())));
    }
    compare(what, g.dtype(), g.shape(), g.to_vector(), grad, report);
  }
  return report;
}

void run_pass(Pass pass) {
  int ran = 0;
  double worst_ratio = 0.0;
  std::string worst;
  for (const RefCase& ref : reference_cases()) {
    const std::optional<Builder> builder = builder_for(ref.name);
    if (!builder) continue;  // reported by every_case_has_a_builder
    if (pass == Pass::Float32 && !builder->float32) continue;
    ++ran;
    BOOST_TEST_CONTEXT("case " << ref.name << " (torch_refs.txt line " << ref.line << ")") {
      CaseReport report;
      try {
        report = run_case(ref, *builder, pass);
      } catch (const std::exception& e) {
        report.problems.push_back(std::string("threw: ") + e.what());
      }
      std::string lines;
      for (const std::string& p : report.problems) lines += "\n    " + p;
      BOOST_TEST(report.problems.empty(), "disagrees with torch:" << lines);
      if (report.problems.empty() && report.worst_ratio > worst_ratio) {
        worst_ratio = report.worst_ratio;
        worst = ref.name + " " + report.worst_what;
      }
    }
  }
  // The margin of the agreeing cases: how close the closest call came to the tolerance.
  BOOST_TEST_MESSAGE("compared " << ran << " cases; largest error among the agreeing ones is "
                                 << worst_ratio << " of the tolerance (" << worst << ")");
  BOOST_TEST(ran >= (pass == Pass::Float64 ? 80 : 60));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(torch_refs)

BOOST_AUTO_TEST_CASE(every_case_has_a_builder_and_every_builder_a_case) {
  std::set<std::string> in_file;
  for (const RefCase& ref : reference_cases()) {
    BOOST_TEST(in_file.insert(ref.name).second, "case " << ref.name << " appears twice");
    BOOST_TEST(builder_for(ref.name).has_value(),
               "case " << ref.name << " of torch_refs.txt has no builder in this test");
  }
  for (const auto& [name, builder] : builders()) {
    BOOST_TEST(in_file.contains(name),
               "builder " << name << " has no case in torch_refs.txt (rerun the script)");
  }
}

// The stored data itself against values known by hand (micrograd's README expression), so a
// broken reference file cannot pass unnoticed.
BOOST_AUTO_TEST_CASE(reference_file_holds_the_known_micrograd_values) {
  const auto& cases = reference_cases();
  const auto it = std::find_if(cases.begin(), cases.end(),
                               [](const RefCase& c) { return c.name == "micrograd_issue"; });
  BOOST_TEST_REQUIRE((it != cases.end()));
  BOOST_TEST(it->inputs.at(0).values.at(0) == -4.0);
  BOOST_TEST(it->output.values.at(0) == -20.0);
  BOOST_TEST(it->grads.at(0).values.at(0) == 46.0);
}

BOOST_AUTO_TEST_CASE(float64_matches_torch) { run_pass(Pass::Float64); }

// The same inputs (exactly representable in float32) through the float32 kernels.
BOOST_AUTO_TEST_CASE(float32_matches_torch) { run_pass(Pass::Float32); }

BOOST_AUTO_TEST_SUITE_END()
