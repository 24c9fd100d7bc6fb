// IDX loader: values of small hand-made files (plain and gzip), every kind of bad file refused
// with an error naming the file and the fault, and the real Fashion-MNIST test set.
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/io.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using ag_test::expect_error;
using ag_test::TempDir;

void append_be32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const Bytes& pixels) {
  Bytes out;
  append_be32(out, 0x00000803);
  append_be32(out, count);
  append_be32(out, rows);
  append_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes idx_labels(const Bytes& labels) {
  Bytes out;
  append_be32(out, 0x00000801);
  append_be32(out, static_cast<std::uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

fs::path write_plain(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return path;
}

fs::path write_gzip(const fs::path& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  BOOST_REQUIRE(f != nullptr);
  BOOST_REQUIRE_EQUAL(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
                      static_cast<int>(bytes.size()));
  gzclose(f);
  return path;
}

// Runs `load` and checks that it throws ag::Error whose message holds every one of `parts`.

// 2 images of 2 x 3 pixels.
const Bytes kPixels = {0, 51, 102, 153, 204, 255, 255, 0, 255, 0, 255, 0};

}  // namespace

BOOST_AUTO_TEST_CASE(plain_images_scaled_to_unit_interval) {
  TempDir dir("ag-test-idx");
  const auto path = write_plain(dir.path / "images-idx3-ubyte", idx_images(2, 2, 3, kPixels));
  const auto loaded = ag::nn::load_idx_images(path);
  BOOST_TEST(loaded.rows == 2);
  BOOST_TEST(loaded.cols == 3);
  BOOST_TEST(loaded.count() == 2);
  BOOST_TEST(loaded.images.shape() == (ag::Shape{2, 6}), boost::test_tools::per_element());
  BOOST_TEST((loaded.images.dtype() == ag::float32));
  const float* p = loaded.images.data_ptr<float>();
  const float expected[] = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f};
  for (int i = 0; i < 12; ++i) BOOST_TEST(p[i] == expected[i], boost::test_tools::tolerance(1e-7f));
}

BOOST_AUTO_TEST_CASE(gzip_and_plain_give_the_same_data) {
  TempDir dir("ag-test-idx");
  const auto plain = write_plain(dir.path / "a-idx3-ubyte", idx_images(2, 2, 3, kPixels));
  const auto gz = write_gzip(dir.path / "a-idx3-ubyte.gz", idx_images(2, 2, 3, kPixels));
  BOOST_TEST(ag::nn::load_idx_images(plain).images.to_vector() ==
                 ag::nn::load_idx_images(gz).images.to_vector(),
             boost::test_tools::per_element());
  const auto labels = ag::nn::load_idx_labels(write_gzip(dir.path / "l.gz", idx_labels({7, 0, 9})));
  BOOST_TEST(labels == (std::vector<std::int64_t>{7, 0, 9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dataset_pairs_images_with_labels) {
  TempDir dir("ag-test-idx");
  const auto data =
      ag::nn::load_idx_dataset(write_gzip(dir.path / "i.gz", idx_images(2, 2, 3, kPixels)),
                               write_plain(dir.path / "l", idx_labels({3, 1})), 10);
  BOOST_TEST(data.count() == 2);
  BOOST_TEST(data.labels == (std::vector<std::int64_t>{3, 1}), boost::test_tools::per_element());
  BOOST_TEST(data.images.size(1) == 6);
}

BOOST_AUTO_TEST_CASE(wrong_magic_is_refused) {
  TempDir dir("ag-test-idx");
  Bytes bytes = idx_images(2, 2, 3, kPixels);
  bytes[0] = 'P';  // e.g. a zip file
  bytes[1] = 'K';
  const auto path = write_plain(dir.path / "not-idx", bytes);
  expect_error([&] { ag::nn::load_idx_images(path); },
               {"not-idx", "wrong magic number", "0x504b0803", "expected 0x00000803"});
  Bytes float_type = idx_images(2, 2, 3, kPixels);
  float_type[2] = 0x0D;  // IDX float elements
  const auto float_path = write_plain(dir.path / "floats", float_type);
  expect_error([&] { ag::nn::load_idx_images(float_path); },
               {"floats", "element type 0x0000000d is not unsigned byte"});
}

BOOST_AUTO_TEST_CASE(wrong_dimension_count_is_refused) {
  TempDir dir("ag-test-idx");
  // A label file (1 dimension) handed to the image loader, and the reverse.
  const auto labels = write_gzip(dir.path / "labels.gz", idx_labels({1, 2, 3}));
  expect_error([&] { ag::nn::load_idx_images(labels); },
               {"labels.gz", "wrong dimension count 1", "images have 3"});
  const auto images = write_plain(dir.path / "images", idx_images(2, 2, 3, kPixels));
  expect_error([&] { ag::nn::load_idx_labels(images); },
               {"images", "wrong dimension count 3", "labels have 1"});
}

BOOST_AUTO_TEST_CASE(truncated_files_are_refused) {
  TempDir dir("ag-test-idx");
  Bytes short_data = idx_images(3, 2, 3, kPixels);  // announces 3 images, holds 2
  const auto path = write_gzip(dir.path / "short.gz", short_data);
  expect_error([&] { ag::nn::load_idx_images(path); },
               {"short.gz", "truncated data", "[3, 2, 3] = 18 bytes", "only 12"});
  const auto header_only = write_plain(dir.path / "header", Bytes{0, 0, 8, 3, 0, 0});
  expect_error([&] { ag::nn::load_idx_images(header_only); }, {"header", "truncated header"});
  const auto empty = write_plain(dir.path / "empty", Bytes{});
  expect_error([&] { ag::nn::load_idx_labels(empty); }, {"empty", "truncated", "0 bytes"});

  // A gzip stream cut in the middle.
  Bytes big(4000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>((i * 7919) % 251);
  const auto whole = write_gzip(dir.path / "whole.gz", idx_images(4, 20, 50, big));
  std::ifstream in(whole, std::ios::binary);
  Bytes compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  const auto cut = write_plain(dir.path / "cut.gz", compressed);
  expect_error([&] { ag::nn::load_idx_images(cut); }, {"cut.gz", "truncated"});
}

BOOST_AUTO_TEST_CASE(trailing_bytes_are_refused) {
  TempDir dir("ag-test-idx");
  Bytes bytes = idx_labels({1, 2});
  bytes.push_back(5);
  const auto path = write_plain(dir.path / "long", bytes);
  expect_error([&] { ag::nn::load_idx_labels(path); }, {"long", "1 unexpected bytes"});
}

BOOST_AUTO_TEST_CASE(image_and_label_counts_must_agree) {
  TempDir dir("ag-test-idx");
  const auto images = write_plain(dir.path / "imgs", idx_images(2, 2, 3, kPixels));
  const auto labels = write_plain(dir.path / "lbls", idx_labels({1, 2, 3}));
  expect_error([&] { ag::nn::load_idx_dataset(images, labels); },
               {"imgs", "2 images", "lbls", "3 labels", "counts differ"});
  const auto bad_labels = write_plain(dir.path / "big", idx_labels({1, 12}));
  expect_error([&] { ag::nn::load_idx_dataset(images, bad_labels, 10); },
               {"big", "label 12 at index 1", "[0, 10)"});
}

BOOST_AUTO_TEST_CASE(missing_files_are_named) {
  TempDir dir("ag-test-idx");
  expect_error([&] { ag::nn::load_idx_images(dir.path / "nope.gz"); },
               {"nope.gz", "cannot open", "No such file"});
  expect_error([&] { ag::nn::load_idx_labels(dir.path); }, {"is a directory"});
  expect_error([&] { ag::nn::load_fashion_mnist(dir.path); },
               {"train-images-idx3-ubyte.gz", "not found", "dataset-fashion-mnist"});
}

BOOST_AUTO_TEST_CASE(header_claiming_huge_sizes_fails_without_allocating) {
  TempDir dir("ag-test-idx");
  Bytes bytes;
  append_be32(bytes, 0x00000803);
  for (int i = 0; i < 3; ++i) append_be32(bytes, 0xFFFFFFFFu);
  const auto path = write_plain(dir.path / "huge", bytes);
  expect_error([&] { ag::nn::load_idx_images(path); }, {"huge", "more than 2^64", "MiB limit"});
  Bytes large;
  append_be32(large, 0x00000803);
  for (const std::uint32_t d : {100000u, 28u, 28u}) append_be32(large, d);
  const auto large_path = write_plain(dir.path / "large", large);
  expect_error([&] { ag::nn::load_idx_images(large_path); }, {"large", "78400000 bytes", "only 0"});
  // No images, but each of 4166844664 x 4278255360 bytes: the data is empty, the shape is not
  // (rows x cols overflows int64). Found by fuzz_idx.
  Bytes none_but_huge;
  append_be32(none_but_huge, 0x00000803);
  for (const std::uint32_t d : {0u, 4166844664u, 4278255360u}) append_be32(none_but_huge, d);
  const auto none_path = write_plain(dir.path / "none_but_huge", none_but_huge);
  expect_error(
      [&] { ag::nn::load_idx_images(none_path); },
      {"none_but_huge", "[0, 4166844664, 4278255360], one of them = 17826825518045399040 bytes",
       "MiB limit"});
  Bytes none_but_large;
  append_be32(none_but_large, 0x00000803);
  for (const std::uint32_t d : {0u, 65536u, 65536u}) append_be32(none_but_large, d);
  expect_error([&] { ag::nn::decode_idx_images(none_but_large, "in memory"); },
               {"in memory", "one of them = 4294967296 bytes", "1024 MiB limit"});
}

BOOST_AUTO_TEST_CASE(fashion_mnist_test_set) {
  const fs::path dir = ag::nn::kFashionMnistDir;
  if (!fs::exists(dir / "t10k-images-idx3-ubyte.gz")) {
    BOOST_TEST_MESSAGE("skipped: " << dir << " missing (apt-get install dataset-fashion-mnist)");
    return;
  }
  const auto test = ag::nn::load_idx_dataset(dir / "t10k-images-idx3-ubyte.gz",
                                             dir / "t10k-labels-idx1-ubyte.gz", 10);
  BOOST_TEST(test.count() == 10000);
  BOOST_TEST(test.rows == 28);
  BOOST_TEST(test.cols == 28);
  BOOST_TEST(test.images.shape() == (ag::Shape{10000, 784}), boost::test_tools::per_element());
  // The published test set: 1,000 images per class, the first an ankle boot, then a pullover.
  std::map<std::int64_t, int> per_class;
  for (const auto label : test.labels) ++per_class[label];
  for (int k = 0; k < 10; ++k) BOOST_TEST(per_class[k] == 1000);
  BOOST_TEST(test.labels[0] == 9);
  BOOST_TEST(test.labels[1] == 2);
  BOOST_TEST(ag::nn::fashion_mnist_class_names()[9] == "Ankle boot");
  const float* p = test.images.data_ptr<float>();
  float lo = 1.0f, hi = 0.0f;
  for (std::int64_t i = 0; i < test.images.numel(); ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  BOOST_TEST(lo == 0.0f);
  BOOST_TEST(hi == 1.0f);
}
