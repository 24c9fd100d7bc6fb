// libFuzzer target: the IDX decoders must return data of the announced shape or throw
// ag::Error, never crash or allocate what the input does not hold, on any byte string.
// The first input byte picks images or labels. Also built into a corpus-replay program.
#include <cstddef>
#include <cstdint>
#include <span>

#include "autograd/error.hpp"
#include "nn/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  try {
    if (data[0] & 1) {
      const auto labels = ag::nn::decode_idx_labels(bytes, "fuzz");
      if (labels.size() + 8 != bytes.size()) __builtin_trap();
    } else {
      const auto images = ag::nn::decode_idx_images(bytes, "fuzz");
      if (static_cast<std::size_t>(images.images.numel()) + 16 != bytes.size()) __builtin_trap();
      const float* p = images.images.data_ptr<float>();
      for (std::int64_t i = 0; i < images.images.numel(); ++i)
        if (!(p[i] >= 0.0f && p[i] <= 1.0f)) __builtin_trap();
    }
  } catch (const ag::Error&) {
  }
  return 0;
}
