// The safe-domain rules: operands inside each op's smooth interior, so that finite
// differences with eps = 1e-6 cross no kink, tie or domain edge.
#include <algorithm>
#include <cmath>

#include "internal.hpp"

namespace ag::fuzz::detail {

namespace {

std::vector<double> elements(const Slot& s) {
  return s.is_value ? std::vector<double>{s.value.data()} : s.tensor.to_vector();
}

bool all_of(const std::vector<double>& xs, auto&& pred) {
  return std::all_of(xs.begin(), xs.end(), pred);
}

bool is_integer(double x) { return std::nearbyint(x) == x; }

}  // namespace

// Checked before the op runs: ops throw for some of these (log of a negative number).
std::string unsafe_operands(const NodeSpec& spec, const std::vector<Slot>& slots) {
  const OpInfo& info = *find_op(spec.op);
  auto arg = [&](int i) { return elements(slots[spec.args[i]]); };
  auto positive = [](double x) { return x >= kPositiveFloor; };
  auto away_from_zero = [](double x) { return std::abs(x) >= kPositiveFloor; };
  const double c = spec.reals.empty() ? 0.0 : spec.reals[0];
  switch (info.op) {
    case Op::Table:
    case Op::VTable: {
      // The registry's domain: inside [lo, hi], off the kinks.
      const ag::OpEntry& e = entry_of(spec);
      for (std::size_t i = 0; i < spec.args.size(); ++i) {
        if (!all_of(arg(static_cast<int>(i)), [&](double x) {
              return x >= e.domain.lo && x <= e.domain.hi && !e.domain.near_kink(x, kKinkMargin);
            }))
          return "outside the op's domain";
      }
      if (e.domain.kink_at_ties && spec.args.size() == 1) {
        std::vector<double> xs = arg(0);
        std::sort(xs.begin(), xs.end());
        for (std::size_t i = 1; i < xs.size(); ++i)
          if (xs[i] - xs[i - 1] < kKinkMargin) return "elements tie";
      } else if (e.domain.kink_at_ties) {
        NoGradGuard no_grad;
        const Slot& a = slots[spec.args[0]];
        const Slot& b = slots[spec.args[1]];
        const std::vector<double> d = info.op == Op::VTable
                                          ? std::vector<double>{a.value.data() - b.value.data()}
                                          : (a.tensor - b.tensor).to_vector();
        if (!all_of(d, [](double x) { return std::abs(x) >= kKinkMargin; })) return "operands tie";
      }
      break;
    }
    case Op::TensorIn:
    case Op::ValueIn:
      for (double x : spec.reals)
        if (!std::isfinite(x) || std::abs(x) > kMaxMagnitude) return "input out of range";
      break;
    case Op::Div:
    case Op::DivTV:
    case Op::DivVT:
    case Op::VDiv:
      if (!all_of(arg(1), away_from_zero)) return "divisor near 0";
      break;
    case Op::DivCT:
    case Op::VCDiv:
      if (!all_of(arg(0), away_from_zero)) return "divisor near 0";
      break;
    case Op::DivTC:
    case Op::VDivC:
      if (!away_from_zero(c)) return "divisor near 0";
      break;
    case Op::PowTT:
    case Op::VPowVV:
      if (!all_of(arg(0), positive)) return "pow base not positive";
      if (!all_of(arg(1), [](double x) { return std::abs(x) <= 3; }))
        return "pow exponent too large";
      break;
    case Op::PowTC:
    case Op::VPowC:
      if (std::abs(c) > 3) return "pow exponent too large";
      if (!is_integer(c) && !all_of(arg(0), positive))
        return "fractional power of a non-positive base";
      if (c < 0 && !all_of(arg(0), away_from_zero)) return "negative power near 0";
      break;
    case Op::Exp:
    case Op::VExp:
    case Op::ExpMethod:
      if (!all_of(arg(0), [](double x) { return x <= kMaxExpInput; })) return "exp input too large";
      break;
    case Op::Log:
    case Op::Sqrt:
    case Op::VLog:
    case Op::VSqrt:
      if (!all_of(arg(0), positive)) return "log/sqrt of a value below the floor";
      break;
    case Op::Relu:
    case Op::Abs:
    case Op::VRelu:
    case Op::VAbs:
      if (!all_of(arg(0), [](double x) { return std::abs(x) >= kKinkMargin; }))
        return "input near the kink";
      break;
    case Op::Clamp: {
      const double lo = spec.reals[0], hi = spec.reals[1];
      if (!(lo < hi)) return "clamp bounds";
      if (!all_of(arg(0), [&](double x) {
            return std::abs(x - lo) >= kKinkMargin && std::abs(x - hi) >= kKinkMargin;
          }))
        return "input near a clamp bound";
      break;
    }
    case Op::MaxAll:
    case Op::MaxDim: {
      const Tensor& x = slots[spec.args[0]].tensor;
      const std::vector<double> xs = x.to_vector();
      // Slices along the reduced dim: outer x extent x inner.
      std::int64_t outer = 1, extent = static_cast<std::int64_t>(xs.size()), inner = 1;
      if (info.op == Op::MaxDim) {
        const auto d = *norm_dim(spec.ints[0], x.shape().size());
        outer = inner = 1;
        for (std::int64_t i = 0; i < d; ++i) outer *= x.shape()[i];
        extent = x.shape()[d];
        for (std::size_t i = d + 1; i < x.shape().size(); ++i) inner *= x.shape()[i];
      }
      for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t in = 0; in < inner; ++in) {
          double best = -INFINITY, second = -INFINITY;
          for (std::int64_t e = 0; e < extent; ++e) {
            const double v = xs[(o * extent + e) * inner + in];
            if (v > best) {
              second = best;
              best = v;
            } else if (v > second) {
              second = v;
            }
          }
          if (best - second < kKinkMargin) return "tie for the maximum";
        }
      break;
    }
    default:
      break;
  }
  return "";
}

std::string unsafe_result(const Slot& result, int max_result_numel) {
  const std::vector<double> out = elements(result);
  if (static_cast<int>(out.size()) > max_result_numel) return "result too large";
  if (!all_of(out, [](double x) { return std::isfinite(x) && std::abs(x) <= kMaxMagnitude; }))
    return "result out of range";
  return "";
}

}  // namespace ag::fuzz::detail
