#pragma once
// Data in and out: IDX image/label files (MNIST, Fashion-MNIST) and safetensors checkpoints.
//
//   auto data = ag::nn::load_fashion_mnist();          // /usr/share/datasets/fashion-mnist
//   data.train.images;                                  // float32 [60000, 784] in [0, 1]
//   data.train.labels;                                  // 60000 labels in [0, 10)
//
//   ag::nn::save_safetensors("w.safetensors", {{"w", w}, {"b", b}}, {{"epoch", "3"}});
//   auto file = ag::nn::load_safetensors("w.safetensors");   // file.tensors.at("w")
//
// Every failure is an ag::Error (op "idx" or "safetensors") naming the file and what is wrong.
// Writes go through ag::write_file_atomically (autograd/write_file.hpp): a reader never sees a
// half-written file, and a failed write leaves the old file in place.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autograd/tensor.hpp"

namespace ag::nn {

// ---- IDX (http://yann.lecun.com/exdb/mnist/): big-endian header, unsigned-byte data ----
// Files may be gzip-compressed (.gz) or plain; both are read through zlib.

struct IdxImages {
  Tensor images;          // float32 [count, rows * cols], pixel / 255, so in [0, 1]
  std::int64_t rows = 0;  // e.g. 28
  std::int64_t cols = 0;  // e.g. 28
  std::int64_t count() const { return images.defined() ? images.size(0) : 0; }
};

// An idx3-ubyte file (magic 0x00000803). Images are flattened row-major, one per row of the
// result: reshape({count, rows, cols}) gives the 2-d pictures back.
IdxImages load_idx_images(const std::filesystem::path& path);
// An idx1-ubyte file (magic 0x00000801).
std::vector<std::int64_t> load_idx_labels(const std::filesystem::path& path);

// The same, from bytes already in memory (uncompressed); `source` names them in errors.
IdxImages decode_idx_images(std::span<const std::uint8_t> bytes, std::string_view source);
std::vector<std::int64_t> decode_idx_labels(std::span<const std::uint8_t> bytes,
                                            std::string_view source);

// Images with their labels (same count, checked).
struct LabeledImages {
  Tensor images;  // float32 [count, rows * cols]
  std::vector<std::int64_t> labels;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t count() const { return static_cast<std::int64_t>(labels.size()); }
};

// Loads a pair of files and checks that they hold the same number of items. When
// `num_classes` > 0, every label must lie in [0, num_classes).
LabeledImages load_idx_dataset(const std::filesystem::path& images_path,
                               const std::filesystem::path& labels_path, int num_classes = 0);

// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnist {
  LabeledImages train;  // 60,000 images
  LabeledImages test;   // 10,000 images
};
// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir`.
FashionMnist load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDir);
// "T-shirt/top", "Trouser", ..., "Ankle boot": the names of labels 0..9.
const std::vector<std::string>& fashion_mnist_class_names();

// ---- safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header
// length, a JSON header {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
// "__metadata__": {"key": "value"}}, then the raw little-endian data. Readable by Python's
// safetensors.torch.load_file and by tools/safetensors_check.py. ----

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

// Writes float32 ("F32") and float64 ("F64") tensors under unique, non-empty names, in the
// order given. Throws before touching `path` when a name is duplicated or a tensor undefined.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // fresh leaves, requires_grad() == false
  Metadata metadata;
  // The tensor called `name`; throws an ag::Error naming `name` and the file when absent.
  const Tensor& at(const std::string& name) const;
  std::string source;  // the file it came from, for error messages
};

// Reads a whole file and validates it: header length, JSON, dtypes, shapes, and that the data
// offsets tile the data section exactly. Tensors of other dtypes (F16, I64, ...) are refused.
SafetensorsFile load_safetensors(const std::filesystem::path& path);
SafetensorsFile decode_safetensors(std::span<const std::uint8_t> bytes, std::string_view source);
// The bytes save_safetensors would write.
std::vector<std::uint8_t> encode_safetensors(const NamedTensors& tensors,
                                             const Metadata& metadata = {});

// ---- Checkpoints: a module's parameters (and an optimizer's state) in one safetensors file ----

class Module;
class Optimizer;

// Parameters under their named_parameters() names ("0.weight", "0.bias", ...), optimizer
// state under "optim." + named_state() names ("optim.0.exp_avg", "optim.step"; files that
// name state after the parameters, "optim.0.weight.exp_avg", load too).
// Dense weights are stored as they are held, [in, out] (PyTorch's nn.Linear holds [out, in]).
void save_checkpoint(const std::filesystem::path& path, const Module& module,
                     const Optimizer* optimizer = nullptr, const Metadata& metadata = {});

// Restores what save_checkpoint wrote into `module` (and `optimizer`, when given), returning
// the file's metadata. Every tensor is checked first (present, same dtype and shape; no
// unknown names): on any mismatch or damage it throws ag::Error and changes nothing.
Metadata load_checkpoint(const std::filesystem::path& path, Module& module,
                         Optimizer* optimizer = nullptr);

}  // namespace ag::nn
