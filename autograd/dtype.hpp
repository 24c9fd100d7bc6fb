#pragma once
// Element types and devices. Only the CPU exists today; kernels dispatch on Device so a CUDA
// backend can be added without changing the user-facing API.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ag {

enum class Dtype : std::uint8_t { Float32, Float64 };
inline constexpr Dtype float32 = Dtype::Float32;
inline constexpr Dtype float64 = Dtype::Float64;

enum class Device : std::uint8_t { CPU };

constexpr std::string_view name(Dtype d) { return d == Dtype::Float32 ? "float32" : "float64"; }
constexpr std::size_t size_of(Dtype d) { return d == Dtype::Float32 ? 4 : 8; }
constexpr std::string_view name(Device) { return "cpu"; }

}  // namespace ag
