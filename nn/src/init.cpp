#include "nn/init.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace ag::nn {

std::string_view name(Init init) {
  switch (init) {
    case Init::Nnfs:
      return "nnfs";
    case Init::XavierNormal:
      return "xavier_normal";
    case Init::XavierUniform:
      return "xavier_uniform";
    case Init::HeNormal:
      return "he_normal";
    case Init::Normal:
      return "normal";
    case Init::Zeros:
      return "zeros";
  }
  return "unknown";
}

Tensor init_weight(Init init, std::int64_t fan_in, std::int64_t fan_out, Generator& gen,
                   Dtype dtype) {
  if (fan_in <= 0 || fan_out <= 0) {
    throw Error("nn::init_weight", "fan_in and fan_out must be positive, got [" +
                                       std::to_string(fan_in) + ", " + std::to_string(fan_out) +
                                       "]");
  }
  // Checked before anything is allocated; the values are drawn in float64 and then converted,
  // so that both dtypes see the same random sequence.
  const Shape shape{fan_in, fan_out};
  checked_numel("nn::init_weight", shape);
  Tensor weight = zeros(shape, float64);
  const std::span<double> values(weight.mutable_data_ptr<double>(),
                                 static_cast<std::size_t>(weight.numel()));
  const double fan_sum = static_cast<double>(fan_in + fan_out);
  auto fill_normal = [&](double stddev) {
    for (double& v : values) v = stddev * gen.normal();
  };
  switch (init) {
    case Init::Nnfs:
      fill_normal(0.01);
      break;
    case Init::XavierNormal:
      fill_normal(std::sqrt(2.0 / fan_sum));
      break;
    case Init::HeNormal:
      fill_normal(std::sqrt(2.0 / static_cast<double>(fan_in)));
      break;
    case Init::Normal:
      fill_normal(0.05);
      break;
    case Init::XavierUniform: {
      const double bound = std::sqrt(6.0 / fan_sum);
      for (double& v : values) v = bound * (2.0 * gen.uniform() - 1.0);
      break;
    }
    case Init::Zeros:
      break;
  }
  return weight.to(dtype);
}

}  // namespace ag::nn
