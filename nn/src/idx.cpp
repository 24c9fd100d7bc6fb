// IDX reader. The header is parsed before the data is read, and the data is read in chunks up
// to the size the header announces: a corrupt header claiming terabytes fails on the missing
// bytes instead of allocating them.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "autograd/error.hpp"
#include "nn/io.hpp"

namespace ag::nn {
namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
// Far beyond any IDX data set (Fashion-MNIST's training images are 47 MB, EMNIST's largest
// 550 MB), and small enough that the decoded float32 tensor (4 GiB) can be allocated.
constexpr std::uint64_t kMaxIdxDataBytes = std::uint64_t{1} << 30;

struct IdxLayout {
  std::vector<std::uint64_t> dims;
  std::size_t header_bytes = 0;
  std::uint64_t data_bytes = 0;
};

std::string in_quotes(std::string_view source) { return "'" + std::string(source) + "'"; }

[[noreturn]] void throw_idx_error(std::string_view source, const std::string& what) {
  throw Error("idx", in_quotes(source) + ": " + what);
}

std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xF];
  return s;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::string dims_string(const std::vector<std::uint64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

const char* kind_of(std::size_t dims) { return dims == 3 ? "images" : "labels"; }

// Checks the magic number (needs 4 bytes).
void check_magic(std::span<const std::uint8_t> bytes, std::size_t expected_dims,
                 std::string_view source) {
  if (bytes.size() < 4)
    throw_idx_error(source, "truncated: " + std::to_string(bytes.size()) +
                                " bytes, too short for the 4-byte IDX magic number");
  const std::uint32_t magic = read_be32(bytes.data());
  const std::uint32_t expected =
      (std::uint32_t{kUnsignedByteType} << 8) | static_cast<std::uint32_t>(expected_dims);
  if (bytes[0] != 0 || bytes[1] != 0)
    throw_idx_error(source, "wrong magic number " + hex32(magic) + ", expected " + hex32(expected) +
                                " (IDX unsigned-byte " + kind_of(expected_dims) +
                                "): not an IDX file");
  if (bytes[2] != kUnsignedByteType)
    throw_idx_error(source, "wrong magic number " + hex32(magic) + ": element type " +
                                hex32(bytes[2]) + " is not unsigned byte (0x08)");
  if (bytes[3] != expected_dims)
    throw_idx_error(source, "wrong dimension count " + std::to_string(bytes[3]) +
                                " in magic number " + hex32(magic) + ": IDX " +
                                kind_of(expected_dims) + " have " + std::to_string(expected_dims) +
                                " (expected " + hex32(expected) + ")");
}

// Parses the whole header (magic and dimension sizes) from a prefix of the file.
IdxLayout parse_layout(std::span<const std::uint8_t> bytes, std::size_t expected_dims,
                       std::string_view source) {
  check_magic(bytes, expected_dims, source);
  IdxLayout layout;
  layout.header_bytes = 4 + 4 * expected_dims;
  if (bytes.size() < layout.header_bytes)
    throw_idx_error(source, "truncated header: " + std::to_string(bytes.size()) + " bytes, the " +
                                std::to_string(expected_dims) + "-dimension header needs " +
                                std::to_string(layout.header_bytes));
  // The whole data and one item (an image's rows x cols): with no items the first is 0, yet
  // the item's size still becomes a tensor's shape.
  std::uint64_t total = 1, item = 1;
  for (std::size_t d = 0; d < expected_dims; ++d) {
    const std::uint64_t size = read_be32(bytes.data() + 4 + 4 * d);
    layout.dims.push_back(size);
    if (__builtin_mul_overflow(total, size, &total)) total = UINT64_MAX;
    if (d > 0 && __builtin_mul_overflow(item, size, &item)) item = UINT64_MAX;
  }
  // Checked before any data is read or decompressed: a small gzip file can announce gigabytes
  // (a gzip bomb), and the decoded images take 4 bytes per announced byte.
  const auto refuse = [&](const std::string& what, std::uint64_t bytes_announced) {
    throw_idx_error(source, "the header announces " + std::string(kind_of(expected_dims)) +
                                " of shape " + dims_string(layout.dims) + what + " = " +
                                (bytes_announced == UINT64_MAX ? std::string("more than 2^64")
                                                               : std::to_string(bytes_announced)) +
                                " bytes, more than the " + std::to_string(kMaxIdxDataBytes >> 20) +
                                " MiB limit of an IDX file");
  };
  if (total > kMaxIdxDataBytes) refuse("", total);
  if (item > kMaxIdxDataBytes) refuse(", one of them", item);
  layout.data_bytes = total;
  return layout;
}

// Checks that `bytes` is the header plus exactly the announced data.
IdxLayout validate(std::span<const std::uint8_t> bytes, std::size_t expected_dims,
                   std::string_view source) {
  IdxLayout layout = parse_layout(bytes, expected_dims, source);
  const std::uint64_t have = bytes.size() - layout.header_bytes;
  if (have < layout.data_bytes)
    throw_idx_error(source, "truncated data: header announces " +
                                std::string(kind_of(expected_dims)) + " of shape " +
                                dims_string(layout.dims) + " = " +
                                std::to_string(layout.data_bytes) + " bytes, but only " +
                                std::to_string(have) + " follow the header");
  if (have > layout.data_bytes)
    throw_idx_error(source, std::to_string(have - layout.data_bytes) +
                                " unexpected bytes after the data announced by the header (shape " +
                                dims_string(layout.dims) + ")");
  return layout;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads header + data of an IDX file (gzip or plain), reading no more than the header announces
// plus one byte (to detect trailing garbage).
std::vector<std::uint8_t> read_idx_file(const std::filesystem::path& path,
                                        std::size_t expected_dims) {
  const std::string source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_idx_error(source, "is a directory, not an IDX file");
  errno = 0;
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(source.c_str(), "rb"));
  if (!file)
    throw_idx_error(source,
                    std::string("cannot open: ") +
                        (errno ? std::strerror(errno) : "zlib could not allocate its state"));

  std::vector<std::uint8_t> bytes;
  // Reads until `bytes` holds `target` bytes or the file ends.
  auto read_up_to = [&](std::uint64_t target) {
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    while (bytes.size() < target) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, target - bytes.size()));
      const std::size_t old_size = bytes.size();
      bytes.resize(old_size + want);
      const int got = gzread(file.get(), bytes.data() + old_size, static_cast<unsigned>(want));
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file.get(), &code);
        throw_idx_error(source, std::string("read error (corrupt gzip data?): ") +
                                    (code == Z_ERRNO ? std::strerror(errno) : message));
      }
      bytes.resize(old_size + static_cast<std::size_t>(got));
      if (static_cast<std::size_t>(got) < want) {
        // Short read: end of file, or a truncated gzip stream that zlib reports as an error.
        int code = 0;
        const char* message = gzerror(file.get(), &code);
        if (code != Z_OK && code != Z_BUF_ERROR)
          throw_idx_error(source, std::string("read error (corrupt gzip data?): ") + message);
        if (code == Z_BUF_ERROR)
          throw_idx_error(source, "truncated: the gzip stream ends early (" + std::string(message) +
                                      ") after " + std::to_string(bytes.size()) + " bytes");
        return;
      }
    }
  };

  read_up_to(4);
  check_magic(bytes, expected_dims, source);
  read_up_to(4 + 4 * expected_dims);
  const IdxLayout layout = parse_layout(bytes, expected_dims, source);
  read_up_to(layout.header_bytes + layout.data_bytes + 1);
  return bytes;
}

}  // namespace

IdxImages decode_idx_images(std::span<const std::uint8_t> bytes, std::string_view source) {
  const IdxLayout layout = validate(bytes, 3, source);
  IdxImages result;
  result.rows = static_cast<std::int64_t>(layout.dims[1]);
  result.cols = static_cast<std::int64_t>(layout.dims[2]);
  const auto count = static_cast<std::int64_t>(layout.dims[0]);
  result.images = zeros({count, result.rows * result.cols}, float32);
  float* out = result.images.mutable_data_ptr<float>();
  const std::uint8_t* in = bytes.data() + layout.header_bytes;
  for (std::uint64_t i = 0; i < layout.data_bytes; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
  return result;
}

std::vector<std::int64_t> decode_idx_labels(std::span<const std::uint8_t> bytes,
                                            std::string_view source) {
  const IdxLayout layout = validate(bytes, 1, source);
  const std::uint8_t* in = bytes.data() + layout.header_bytes;
  return std::vector<std::int64_t>(in, in + layout.data_bytes);
}

IdxImages load_idx_images(const std::filesystem::path& path) {
  const auto bytes = read_idx_file(path, 3);
  return decode_idx_images(bytes, path.string());
}

std::vector<std::int64_t> load_idx_labels(const std::filesystem::path& path) {
  const auto bytes = read_idx_file(path, 1);
  return decode_idx_labels(bytes, path.string());
}

LabeledImages load_idx_dataset(const std::filesystem::path& images_path,
                               const std::filesystem::path& labels_path, int num_classes) {
  IdxImages images = load_idx_images(images_path);
  std::vector<std::int64_t> labels = load_idx_labels(labels_path);
  if (images.count() != static_cast<std::int64_t>(labels.size()))
    throw Error("idx", in_quotes(images_path.string()) + " holds " +
                           std::to_string(images.count()) + " images but " +
                           in_quotes(labels_path.string()) + " holds " +
                           std::to_string(labels.size()) + " labels: counts differ");
  if (num_classes > 0) {
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] >= num_classes)
        throw_idx_error(labels_path.string(), "label " + std::to_string(labels[i]) + " at index " +
                                                  std::to_string(i) + " is outside [0, " +
                                                  std::to_string(num_classes) + ")");
  }
  LabeledImages result;
  result.images = std::move(images.images);
  result.labels = std::move(labels);
  result.rows = images.rows;
  result.cols = images.cols;
  return result;
}

namespace {
// The file `stem`, compressed or not; the .gz name when neither exists (for the error).
std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  const auto gz = dir / (stem + ".gz");
  if (std::filesystem::exists(gz, ec)) return gz;
  const auto plain = dir / stem;
  if (std::filesystem::exists(plain, ec)) return plain;
  throw Error("idx", "Fashion-MNIST file " + in_quotes(gz.string()) + " (or " +
                         in_quotes(plain.string()) +
                         ") not found; on Debian/Ubuntu: apt-get install dataset-fashion-mnist");
}
}  // namespace

FashionMnist load_fashion_mnist(const std::filesystem::path& dir) {
  // Looked up in this order, so that a missing directory names the first file.
  const auto train_images = find_idx(dir, "train-images-idx3-ubyte");
  const auto train_labels = find_idx(dir, "train-labels-idx1-ubyte");
  const auto test_images = find_idx(dir, "t10k-images-idx3-ubyte");
  const auto test_labels = find_idx(dir, "t10k-labels-idx1-ubyte");
  FashionMnist data;
  data.train = load_idx_dataset(train_images, train_labels, 10);
  data.test = load_idx_dataset(test_images, test_labels, 10);
  return data;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

}  // namespace ag::nn
