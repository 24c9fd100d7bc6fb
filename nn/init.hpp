#pragma once
// Weight initialisers. Every one draws from an explicit ag::Generator, so a seed repeats a run
// exactly. fan_in/fan_out are a Dense weight's [in, out].
#include <autograd/autograd.hpp>
#include <cstdint>
#include <string_view>

namespace ag::nn {

enum class Init {
  Nnfs,           // 0.01 * N(0, 1): NNFS's Layer_Dense
  XavierNormal,   // N(0, 2 / (fan_in + fan_out)): Glorot normal (Keras glorot_normal, untruncated)
  XavierUniform,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out)): Glorot uniform
  HeNormal,       // N(0, 2 / fan_in): He / Kaiming normal for ReLU layers
  Normal,         // N(0, 0.05^2): Keras's RandomNormal default
  Zeros,
};

std::string_view name(Init init);

// A new [fan_in, fan_out] tensor drawn from `init` (no gradient tracking; call requires_grad_()).
Tensor init_weight(Init init, std::int64_t fan_in, std::int64_t fan_out, Generator& gen,
                   Dtype dtype = float32);

}  // namespace ag::nn
