// safetensors reader and writer, following the published format
// (https://huggingface.co/docs/safetensors): u64 little-endian header size N, N bytes of JSON
// (padded with spaces to a multiple of 8, as the reference writer does), then the data section.
// The reader applies the reference implementation's checks: the offsets of all tensors must
// tile the data section exactly, and each tensor's byte size must match dtype and shape.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "autograd/error.hpp"
#include "nn/io.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace ag::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; add byte swapping for this platform");

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit

[[noreturn]] void fail(std::string_view source, const std::string& what) {
  throw Error("safetensors", "'" + std::string(source) + "': " + what);
}

// ---- JSON writing ----

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string_view dtype_code(Dtype d) { return d == float32 ? "F32" : "F64"; }

// ---- JSON reading (nlohmann-json: iterative, so deep nesting cannot overflow the stack) ----

using Json = nlohmann::ordered_json;  // keeps the header's order for messages

// Parses the header text; a duplicate top-level key (a tensor or __metadata__ listed twice)
// is an error rather than nlohmann's silent last-one-wins.
Json parse_header(std::string_view text, std::string_view source) {
  std::vector<std::string> keys;
  const Json::parser_callback_t reject_duplicates = [&](int depth, Json::parse_event_t event,
                                                        Json& parsed) {
    if (depth == 1 && event == Json::parse_event_t::key) {
      auto key = parsed.get<std::string>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end())
        fail(source, key == "__metadata__" ? "'__metadata__' appears twice"
                                           : "tensor '" + key + "' appears twice in the header");
      keys.push_back(std::move(key));
    }
    return true;
  };
  try {
    Json header = Json::parse(text.begin(), text.end(), reject_duplicates);
    if (!header.is_object())
      fail(source,
           std::string("bad JSON header: expected '{' (an object), found ") + header.type_name());
    return header;
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string what = e.what();
    const auto colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    if (what.ends_with("; expected end of input"))
      fail(source, "unexpected text after the header object (at byte " + std::to_string(e.byte) +
                       "): " + what);
    fail(source, "bad JSON header at byte " + std::to_string(e.byte) + ": " + what);
  } catch (const Json::out_of_range& e) {
    // A number beyond double, e.g. 1E99999: "[json.exception.out_of_range.406] number overflow
    // ...".
    std::string what = e.what();
    const auto bracket = what.find("] ");
    if (bracket != std::string::npos) what = what.substr(bracket + 2);
    fail(source, "bad JSON header: " + what);
  }
}

std::uint64_t unsigned_integer(const Json& value, std::string_view source,
                               const std::string& where) {
  if (!value.is_number_unsigned())
    fail(source, where + ": expected a non-negative integer, found " +
                     (value.is_number() ? value.dump() : std::string(value.type_name())));
  return value.get<std::uint64_t>();
}

std::vector<std::uint64_t> integer_array(const Json& value, std::string_view source,
                                         const std::string& where) {
  if (!value.is_array())
    fail(source, where + ": expected an array of integers, found " + value.type_name());
  if (value.size() > 64) fail(source, where + ": array longer than 64 entries");
  std::vector<std::uint64_t> values;
  for (const auto& v : value) values.push_back(unsigned_integer(v, source, where));
  return values;
}

struct TensorEntry {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

std::string shape_string(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads one {"dtype": .., "shape": [..], "data_offsets": [b, e]} object.
TensorEntry parse_entry(const Json& object, std::string name, std::string_view source) {
  TensorEntry entry;
  entry.name = std::move(name);
  const std::string where = "tensor '" + entry.name + "'";
  if (!object.is_object())
    fail(source, where + ": expected an object with dtype, shape and data_offsets, found " +
                     object.type_name());
  bool has_dtype = false, has_shape = false, has_offsets = false;
  for (const auto& [key, value] : object.items()) {
    if (key == "dtype") {
      if (!value.is_string())
        fail(source, where + ": dtype must be a string, found " + value.type_name());
      entry.dtype = value.get<std::string>();
      has_dtype = true;
    } else if (key == "shape") {
      entry.shape = integer_array(value, source, where + " shape");
      has_shape = true;
    } else if (key == "data_offsets") {
      const auto offsets = integer_array(value, source, where + " data_offsets");
      if (offsets.size() != 2)
        fail(source, where + ": data_offsets must be [begin, end], got " +
                         std::to_string(offsets.size()) + " numbers");
      entry.begin = offsets[0];
      entry.end = offsets[1];
      has_offsets = true;
    } else {
      fail(source, where + ": unknown key '" + key + "' (expected dtype, shape, data_offsets)");
    }
  }
  if (!has_dtype || !has_shape || !has_offsets)
    fail(source, where + " lacks " +
                     (!has_dtype   ? "dtype"
                      : !has_shape ? "shape"
                                   : "data_offsets"));
  return entry;
}

std::vector<std::uint8_t> read_whole_file(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(source, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(source, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) fail(source, "cannot determine the file size");
  in.seekg(0);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
    fail(source, "read error after " + std::to_string(in.gcount()) + " bytes");
  return bytes;
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string names;
    for (const auto& [n, t] : tensors) names += (names.empty() ? "" : ", ") + n;
    fail(source, "no tensor named '" + name +
                     "' (the file holds: " + (names.empty() ? "nothing" : names) + ")");
  }
  return it->second;
}

std::vector<std::uint8_t> encode_safetensors(const NamedTensors& tensors,
                                             const Metadata& metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      first = false;
      append_json_string(header, key);
      header += ':';
      append_json_string(header, value);
    }
    header += '}';
    first = false;
  }
  std::uint64_t offset = 0;
  std::vector<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (name.empty()) throw Error("safetensors", "save: a tensor has an empty name");
    if (name == "__metadata__")
      throw Error("safetensors", "save: '__metadata__' is reserved and cannot name a tensor");
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      throw Error("safetensors", "save: the name '" + name + "' is used twice");
    seen.push_back(name);
    if (!t.defined()) throw Error("safetensors", "save: tensor '" + name + "' is undefined");
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * size_of(t.dtype());
    if (!first) header += ',';
    first = false;
    append_json_string(header, name);
    header += ":{\"dtype\":\"";
    header += dtype_code(t.dtype());
    header += "\",\"shape\":[";
    for (std::size_t d = 0; d < t.shape().size(); ++d) {
      if (d) header += ',';
      header += std::to_string(t.shape()[d]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += '}';
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  header.append((8 - (header.size() % 8)) % 8, ' ');

  std::vector<std::uint8_t> out;
  out.reserve(8 + header.size() + offset);
  const std::uint64_t header_size = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(header_size >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& [name, t] : tensors) {
    const auto* data = t.dtype() == float32
                           ? reinterpret_cast<const std::uint8_t*>(t.data_ptr<float>())
                           : reinterpret_cast<const std::uint8_t*>(t.data_ptr<double>());
    out.insert(out.end(), data, data + static_cast<std::size_t>(t.numel()) * size_of(t.dtype()));
  }
  return out;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  const auto bytes = encode_safetensors(tensors, metadata);
  ag::write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
      "safetensors");
}

SafetensorsFile decode_safetensors(std::span<const std::uint8_t> bytes, std::string_view source) {
  if (bytes.size() < 8)
    fail(source, "truncated: " + std::to_string(bytes.size()) +
                     " bytes, too short for the 8-byte header length");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[static_cast<size_t>(i)];
  if (header_size > kMaxHeaderBytes)
    fail(source, "bad header length " + std::to_string(header_size) + " (limit " +
                     std::to_string(kMaxHeaderBytes) + "): not a safetensors file?");
  if (header_size > bytes.size() - 8)
    fail(source, "truncated: header length " + std::to_string(header_size) + " but only " +
                     std::to_string(bytes.size() - 8) + " bytes follow");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
  const std::span<const std::uint8_t> data = bytes.subspan(8 + header_size);

  const Json header = parse_header(text, source);
  SafetensorsFile file;
  file.source = std::string(source);
  std::vector<TensorEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        fail(source, std::string("'__metadata__' must be an object of strings, found ") +
                         value.type_name());
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string())
          fail(source,
               "metadata '" + meta_key + "' must be a string, found " + meta_value.type_name());
        file.metadata[meta_key] = meta_value.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(value, key, source));
  }

  // The offsets, sorted, must tile [0, data.size()) without gaps or overlaps.
  std::vector<const TensorEntry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t expected_begin = 0;
  for (const TensorEntry* e : by_offset) {
    if (e->dtype != "F32" && e->dtype != "F64")
      fail(source,
           "tensor '" + e->name + "' has dtype " + e->dtype + "; only F32 and F64 are supported");
    std::uint64_t numel = 1;
    for (const auto d : e->shape)
      if (__builtin_mul_overflow(numel, d, &numel))
        fail(source, "tensor '" + e->name + "': shape " + shape_string(e->shape) + " overflows");
    const std::uint64_t elem = e->dtype == "F32" ? 4 : 8;
    std::uint64_t expected_bytes = 0;
    if (__builtin_mul_overflow(numel, elem, &expected_bytes) ||
        numel > static_cast<std::uint64_t>(INT64_MAX))
      fail(source, "tensor '" + e->name + "': shape " + shape_string(e->shape) + " overflows");
    if (e->end < e->begin)
      fail(source, "tensor '" + e->name + "': data_offsets [" + std::to_string(e->begin) + ", " +
                       std::to_string(e->end) + "] end before they begin");
    if (e->end - e->begin != expected_bytes)
      fail(source, "tensor '" + e->name + "': data_offsets [" + std::to_string(e->begin) + ", " +
                       std::to_string(e->end) + "] span " + std::to_string(e->end - e->begin) +
                       " bytes, but " + e->dtype + " " + shape_string(e->shape) + " needs " +
                       std::to_string(expected_bytes));
    if (e->begin != expected_begin)
      fail(source, "tensor '" + e->name + "': data_offsets begin at " + std::to_string(e->begin) +
                       " but the previous tensor ends at " + std::to_string(expected_begin) +
                       " (offsets must tile the data section)");
    if (e->end > data.size())
      fail(source, "truncated: tensor '" + e->name + "' needs data up to byte " +
                       std::to_string(e->end) + " but the data section holds " +
                       std::to_string(data.size()) + " bytes");
    expected_begin = e->end;
  }
  if (expected_begin != data.size())
    fail(source, std::to_string(data.size() - expected_begin) +
                     " bytes after the last tensor's data: damaged or not a safetensors file");

  for (const auto& e : entries) {
    Shape shape(e.shape.begin(), e.shape.end());
    const Dtype dtype = e.dtype == "F32" ? float32 : float64;
    Tensor t = zeros(shape, dtype);
    if (e.end > e.begin) {
      auto* dst = dtype == float32 ? static_cast<void*>(t.mutable_data_ptr<float>())
                                   : static_cast<void*>(t.mutable_data_ptr<double>());
      std::memcpy(dst, data.data() + e.begin, e.end - e.begin);
    }
    file.tensors.emplace(e.name, std::move(t));
  }
  return file;
}

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  const auto bytes = read_whole_file(path);
  return decode_safetensors(bytes, path.string());
}

// ---- Checkpoints ----

namespace {
constexpr std::string_view kOptimPrefix = "optim.";

// One tensor a checkpoint holds for the module or the optimizer. `legacy_name` is the name an
// older writer gave optimizer state ("optim.<parameter name>.<slot>"), accepted when loading.
struct CheckpointEntry {
  std::string name;
  Tensor tensor;
  std::string legacy_name;
};

std::vector<CheckpointEntry> checkpoint_entries(const Module& module, const Optimizer* optimizer) {
  std::vector<CheckpointEntry> entries;
  const NamedTensors params = module.named_parameters();
  for (const auto& [name, t] : params) entries.push_back({name, t, ""});
  if (optimizer == nullptr) return entries;
  for (const auto& [name, t] : optimizer->named_state()) {
    std::string legacy;
    // "<index>.<slot>": the module's name for that parameter, when the optimizer holds one.
    const auto dot = name.find('.');
    const bool indexed = dot != std::string::npos && dot > 0 &&
                         std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(dot),
                                     [](char c) { return c >= '0' && c <= '9'; });
    if (indexed) {
      const auto index = static_cast<std::size_t>(std::stoul(name.substr(0, dot)));
      const auto& optimized = optimizer->named_params();
      if (index < optimized.size())
        for (const auto& [param_name, p] : params)
          if (p.node() == optimized[index].second.node())
            legacy = std::string(kOptimPrefix) + param_name + name.substr(dot);
    }
    entries.push_back({std::string(kOptimPrefix) + name, t, legacy});
  }
  return entries;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string list;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i)
    list += (i ? ", " : "") + ("'" + names[i] + "'");
  if (names.size() > 8) list += ", ... (" + std::to_string(names.size()) + " in all)";
  return list;
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Module& module,
                     const Optimizer* optimizer, const Metadata& metadata) {
  NamedTensors tensors;
  for (auto& entry : checkpoint_entries(module, optimizer))
    tensors.emplace_back(std::move(entry.name), std::move(entry.tensor));
  save_safetensors(path, tensors, metadata);
}

Metadata load_checkpoint(const std::filesystem::path& path, Module& module, Optimizer* optimizer) {
  SafetensorsFile file = load_safetensors(path);
  const std::string source = path.string();
  std::vector<CheckpointEntry> targets = checkpoint_entries(module, optimizer);

  // Check everything before writing anything, so that a refused file changes nothing.
  std::vector<std::string> missing;
  std::vector<const Tensor*> sources;
  std::vector<std::string> used;
  for (const auto& target : targets) {
    auto it = file.tensors.find(target.name);
    if (it == file.tensors.end() && !target.legacy_name.empty())
      it = file.tensors.find(target.legacy_name);
    if (it == file.tensors.end()) {
      missing.push_back(target.name);
      continue;
    }
    used.push_back(it->first);
    const Tensor& stored = it->second;
    sources.push_back(&stored);
    if (stored.dtype() != target.tensor.dtype() || stored.shape() != target.tensor.shape())
      fail(source, "tensor '" + it->first + "' is " + std::string(ag::name(stored.dtype())) + " " +
                       to_string(stored.shape()) + " in the file but " +
                       std::string(ag::name(target.tensor.dtype())) + " " +
                       to_string(target.tensor.shape()) + " in the " +
                       (target.name.starts_with(kOptimPrefix) ? "optimizer" : "module"));
  }
  if (!missing.empty()) {
    const bool optim_only = std::all_of(missing.begin(), missing.end(), [](const std::string& n) {
      return n.starts_with(kOptimPrefix);
    });
    std::vector<std::string> stored_optim;
    for (const auto& stored : file.tensors)
      if (stored.first.starts_with(kOptimPrefix)) stored_optim.push_back(stored.first);
    std::string hint = " (a different model?)";
    if (optim_only)
      hint = stored_optim.empty() ? " (saved without optimizer state?)"
                                  : " (the file's optimizer state, " + quoted_list(stored_optim) +
                                        ", belongs to another optimizer or model)";
    fail(source, "checkpoint lacks " + quoted_list(missing) + hint);
  }
  for (const auto& stored_entry : file.tensors) {
    const std::string& name = stored_entry.first;
    const bool is_optim = name.starts_with(kOptimPrefix);
    if (is_optim && optimizer == nullptr) continue;  // state not asked for
    if (std::find(used.begin(), used.end(), name) == used.end())
      fail(source, "tensor '" + name + "' in the checkpoint matches nothing in the " +
                       (is_optim ? "optimizer" : "module") + " (a different model?)");
  }

  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Tensor& stored = *sources[i];
    Tensor& target = targets[i].tensor;
    const auto bytes = static_cast<std::size_t>(stored.numel()) * size_of(stored.dtype());
    if (bytes == 0) continue;
    if (target.dtype() == float32)
      std::memcpy(target.mutable_data_ptr<float>(), stored.data_ptr<float>(), bytes);
    else
      std::memcpy(target.mutable_data_ptr<double>(), stored.data_ptr<double>(), bytes);
  }
  return file.metadata;
}

}  // namespace ag::nn
