#pragma once
// The generator: draws ops one at a time and keeps each only when the engine agrees with the
// reference shape and the op is in its safe domain (propose() is in generate.cpp).
#include <algorithm>
#include <random>

#include "internal.hpp"

namespace ag::fuzz::detail {

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
  bool propose(bool table);

  Rng rng_;
  Rng table_rng_;
  GenerateOptions options_;
  RandomGraph g_;
  std::vector<Kind> kinds_;
  std::vector<Slot> slots_;
};

}  // namespace ag::fuzz::detail
