// The checker: structure, shapes and safe domains first, then the engine's gradients against
// central differences (ag::gradcheck) and real Value leaves against bridged 0-d tensors.
#include <fmt/format.h>

#include <cmath>

#include "internal.hpp"

namespace ag::fuzz {

namespace detail {
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

// The graph as a function of its inputs, for ag::gradcheck, which wants tensors: Value
// inputs enter as 0-d tensors bridged with Value(t).
struct GraphFunction {
  const RandomGraph& g;
  std::vector<Tensor> inputs;
  std::vector<int> input_nodes;

  explicit GraphFunction(const RandomGraph& graph) : g(graph) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      if (g.nodes[i].op == "tensor") inputs.push_back(make_input(g.nodes[i]));
      if (g.nodes[i].op == "value") inputs.push_back(scalar_tensor(g.nodes[i].reals[0], float64));
      if (g.nodes[i].op == "tensor" || g.nodes[i].op == "value")
        input_nodes.push_back(static_cast<int>(i));
    }
  }
  void split(const std::vector<Tensor>& xs, std::vector<Tensor>& ts, std::vector<Value>& vs) const {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      if (g.nodes[input_nodes[k]].op == "tensor") {
        ts.push_back(xs[k]);
      } else {
        vs.emplace_back(xs[k]);
      }
    }
  }
  Tensor operator()(const std::vector<Tensor>& xs) const {
    std::vector<Tensor> ts;
    std::vector<Value> vs;
    split(xs, ts, vs);
    return run_graph(g, ts, vs);
  }
};

// ag::gradcheck or ag::gradgradcheck of the graph; a mismatch names the graph inputs behind
// the checker's input numbers.
CheckResult check_with(const GraphFunction& f, bool second_order) {
  const char* checker = second_order ? "gradgradcheck" : "gradcheck";
  GradcheckResult gc;
  try {
    gc = second_order ? gradgradcheck(f, f.inputs) : gradcheck(f, f.inputs);
  } catch (const Error& e) {
    return {Outcome::Exception, -1, e.op(), fmt::format("{} threw: {}", checker, e.what())};
  } catch (const std::exception& e) {
    return {Outcome::Exception, -1, "", fmt::format("{} threw: {}", checker, e.what())};
  }
  if (gc.ok) return {};
  std::string detail = gc.summary();
  for (std::size_t k = 0; k < f.input_nodes.size(); ++k)
    detail += fmt::format("\n  ({} input {} is n{})", checker, k, f.input_nodes[k]);
  return {second_order ? Outcome::GradGradMismatch : Outcome::GradMismatch, -1, "", detail};
}

CheckResult check_gradients(const RandomGraph& g, bool second_order) {
  const GraphFunction f(g);
  const std::vector<Tensor>& inputs = f.inputs;
  const std::vector<int>& input_nodes = f.input_nodes;
  if (CheckResult r = check_with(f, false); r.outcome != Outcome::Pass) return r;

  // Real Value leaves must receive what the bridged 0-d tensors received.
  try {
    std::vector<Tensor> bridged_inputs;
    for (auto& t : inputs) bridged_inputs.push_back(t.detach().clone().requires_grad_());
    std::vector<Tensor> ts, leaf_ts;
    std::vector<Value> vs, leaf_vs;
    f.split(bridged_inputs, ts, vs);
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
  return second_order ? check_with(f, true) : CheckResult{};
}

}  // namespace
}  // namespace detail

CheckResult check_graph(const RandomGraph& g, bool safe_domains, bool second_order) {
  CheckResult r = detail::validate(g, GenerateOptions{}.max_result_numel, safe_domains);
  if (r.outcome != Outcome::Pass) return r;
  return detail::check_gradients(g, second_order);
}

bool checked_to_second_order(std::uint64_t seed) { return seed % kSecondOrderEvery == 0; }

}  // namespace ag::fuzz
