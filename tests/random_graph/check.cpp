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
}  // namespace detail

CheckResult check_graph(const RandomGraph& g, bool safe_domains) {
  CheckResult r = detail::validate(g, GenerateOptions{}.max_result_numel, safe_domains);
  if (r.outcome != Outcome::Pass) return r;
  return detail::check_gradients(g);
}

}  // namespace ag::fuzz
