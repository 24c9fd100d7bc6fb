// libFuzzer target: decode_safetensors must either return tensors that re-encode to a file
// decoding to the same tensors, or throw ag::Error; never crash, on any byte string.
// Also built into a corpus-replay program.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "autograd/error.hpp"
#include "nn/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto file = ag::nn::decode_safetensors(std::span<const std::uint8_t>(data, size), "fuzz");
    ag::nn::NamedTensors tensors(file.tensors.begin(), file.tensors.end());
    const auto again = ag::nn::decode_safetensors(
        ag::nn::encode_safetensors(tensors, file.metadata), "fuzz-again");
    if (again.tensors.size() != file.tensors.size() || again.metadata != file.metadata)
      __builtin_trap();
    for (const auto& [name, t] : file.tensors) {
      const auto& u = again.at(name);
      if (u.shape() != t.shape() || u.dtype() != t.dtype()) __builtin_trap();
      const auto bytes = static_cast<std::size_t>(t.numel()) * ag::size_of(t.dtype());
      const void* a = t.dtype() == ag::float32 ? static_cast<const void*>(t.data_ptr<float>())
                                               : static_cast<const void*>(t.data_ptr<double>());
      const void* b = u.dtype() == ag::float32 ? static_cast<const void*>(u.data_ptr<float>())
                                               : static_cast<const void*>(u.data_ptr<double>());
      if (bytes != 0 && std::memcmp(a, b, bytes) != 0) __builtin_trap();
    }
  } catch (const ag::Error&) {
  }
  return 0;
}
