#include "dist/checkpoint.hpp"

#include "autograd/error.hpp"
#include "dist/comm.hpp"

namespace ag::dist {

namespace {

std::string encode(const nn::Metadata& metadata) {
  std::string out;
  for (const auto& [key, value] : metadata) {
    out += std::to_string(key.size()) + ":" + key + std::to_string(value.size()) + ":" + value;
  }
  return out;
}

nn::Metadata decode(const std::string& text) {
  nn::Metadata out;
  std::size_t at = 0;
  auto next = [&] {
    const std::size_t colon = text.find(':', at);
    const std::size_t length = std::stoull(text.substr(at, colon - at));
    std::string item = text.substr(colon + 1, length);
    at = colon + 1 + length;
    return item;
  };
  while (at < text.size()) {
    std::string key = next();
    out[key] = next();
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const nn::Module& module,
                     const nn::Optimizer* optimizer, const nn::Metadata& metadata) {
  std::string error;
  if (rank() == 0) {
    try {
      nn::save_checkpoint(path, module, optimizer, metadata);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  agree_or_throw(error, "dist::save_checkpoint");
}

nn::Metadata load_checkpoint(const std::filesystem::path& path, nn::Module& module,
                             nn::Optimizer* optimizer) {
  std::string error, metadata;
  if (rank() == 0) {
    try {
      metadata = encode(nn::load_checkpoint(path, module, optimizer));
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  agree_or_throw(error, "dist::load_checkpoint");
  // Rank 0 now holds the checkpoint; the same names in the same order exist everywhere.
  for (auto& [name, p] : module.named_parameters()) broadcast(p, 0);
  if (optimizer) {
    for (auto& [name, t] : optimizer->named_state()) broadcast(t, 0);
  }
  broadcast(metadata, 0);
  return decode(metadata);
}

}  // namespace ag::dist
