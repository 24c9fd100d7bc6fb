// Sizes from any source are checked once (checked_numel): an element count that overflows, a
// negative dim, an allocation the system refuses and an IDX header announcing gigabytes all end
// in an ag::Error naming the op or file and the shape, never a crash, hang or std::bad_alloc.
// Also the handle's own edge cases: size() of a 0-d tensor, moved-from handles, ScopeGuard(null).
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/nn.hpp"
#include "test_support.hpp"

namespace {

using ag_test::expect_error;

// The op that raised the error: the message starts with "ag::<op>:".
template <class F>
std::string error_op(F&& f) {
  try {
    f();
  } catch (const ag::Error& e) {
    return e.op();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(element_counts_that_overflow_are_refused_naming_op_and_shape) {
  expect_error(
      [] {
        ag::zeros({std::int64_t{1} << 31, std::int64_t{1} << 31});
      },
      {"ag::zeros", "[2147483648, 2147483648]", "2^60"});
  // Used to hang in the buffer cache's size-class search.
  expect_error([] { ag::zeros({(std::int64_t{1} << 61) + 1}); },
               {"ag::zeros", "[2305843009213693953]"});
  // Used to wrap around to numel() == 1.
  expect_error(
      [] {
        ag::ones({7, 7905747460161236407LL});
      },
      {"ag::ones", "[7, 7905747460161236407]"});
  expect_error([] { ag::full({-2, 3}, 1.0); }, {"ag::full", "negative", "[-2, 3]"});
  ag::Generator gen(1);
  expect_error(
      [&] {
        ag::randn({std::int64_t{1} << 40, std::int64_t{1} << 40}, gen);
      },
      {"ag::randn", "[1099511627776, 1099511627776]"});
  const std::vector<double> values{1, 2};
  expect_error(
      [&] {
        ag::tensor(values, {std::int64_t{1} << 62, 8});
      },
      {"ag::tensor", "[4611686018427387904, 8]"});
  // A size-0 dim makes any shape valid, as in PyTorch.
  BOOST_TEST(ag::zeros({0, std::int64_t{1} << 62}).numel() == 0);
}

BOOST_AUTO_TEST_CASE(shapes_made_by_ops_are_checked_too) {
  // Empty operands are valid however large their other dims; their product's shape is not.
  const ag::Tensor a = ag::zeros({std::int64_t{1} << 40, 0});
  const ag::Tensor b = ag::zeros({0, std::int64_t{1} << 40});
  expect_error([&] { ag::matmul(a, b); }, {"ag::matmul", "[1099511627776, 1099511627776]"});
  const ag::Tensor x = ag::ones({4});
  expect_error(
      [&] {
        x.reshape({std::int64_t{1} << 62, std::int64_t{1} << 62, -1});
      },
      {"ag::reshape", "[4611686018427387904, 4611686018427387904, 1]"});
  expect_error([&] { x.reshape({-3, 2}); }, {"ag::reshape", "negative"});
  BOOST_TEST(x.to_vector() == std::vector<double>({1, 1, 1, 1}));  // the input is intact
}

BOOST_AUTO_TEST_CASE(allocation_failures_are_errors_naming_op_and_sizes) {
  // 4 TiB: more than this machine (or any CI runner) can commit.
  expect_error([] { ag::zeros({std::int64_t{1} << 40}); },
               {"ag::zeros", "cannot allocate 4398046511104 bytes", "[1099511627776]"});
  expect_error([] { ag::arange(0, 1e300, 1e-300); }, {"ag::arange", "1e+300", "1e-300"});
  ag::Generator gen(0);
  expect_error(
      [&] {
        ag::nn::Dense layer(std::int64_t{1} << 31, std::int64_t{1} << 31, ag::nn::Init::HeNormal,
                            gen);
      },
      {"ag::nn::Dense", "[2147483648, 2147483648]"});
  // Within the element limit but not within memory: the weight's allocation fails cleanly.
  BOOST_TEST(error_op([&] {
               ag::nn::Dense layer(std::int64_t{1} << 21, std::int64_t{1} << 21,
                                   ag::nn::Init::Zeros, gen);
             }) == "zeros");
}

namespace {

// A gzip IDX file: the header (magic, dims) followed by `data_bytes` zero bytes.
void write_gz_idx(const std::filesystem::path& path, std::uint8_t ndims,
                  const std::vector<std::uint32_t>& dims, std::size_t data_bytes) {
  std::vector<std::uint8_t> bytes{0, 0, 0x08, ndims};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back((d >> shift) & 0xFF);
  bytes.resize(bytes.size() + data_bytes, 0);
  gzFile f = gzopen(path.c_str(), "wb9");
  BOOST_REQUIRE(f != nullptr);
  BOOST_REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                static_cast<int>(bytes.size()));
  gzclose(f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_idx_header_announcing_gigabytes_is_refused_before_reading_data) {
  ag_test::TempDir dir("ag-limits");
  // 2 GiB of images announced; the file holds 1 MiB of (highly compressible) data. It used to be
  // read and decompressed up to the announced size.
  const auto images = dir.path / "bomb-images-idx3-ubyte.gz";
  write_gz_idx(images, 3, {2048, 1024, 1024}, std::size_t{1} << 20);
  expect_error(
      [&] { ag::nn::load_idx_images(images); },
      {"ag::idx", images.string(), "[2048, 1024, 1024]", "2147483648 bytes", "1024 MiB limit"});
  const auto labels = dir.path / "bomb-labels-idx1-ubyte.gz";
  write_gz_idx(labels, 1, {3000000000u}, 4096);
  expect_error([&] { ag::nn::load_idx_labels(labels); },
               {"ag::idx", "[3000000000]", "1024 MiB limit"});
}

BOOST_AUTO_TEST_CASE(size_of_a_0d_tensor_is_an_error_not_a_stale_dim) {
  const ag::Tensor s = ag::scalar_tensor(2.0);
  expect_error([&] { s.size(0); }, {"ag::size", "0-d"});
  expect_error([&] { s.size(-1); }, {"ag::size", "0-d"});
  const ag::Tensor v = ag::ones({3, 5});
  BOOST_TEST(v.size(-1) == 5);
  expect_error([&] { v.size(2); }, {"ag::size", "out of range"});
}

BOOST_AUTO_TEST_CASE(a_moved_from_tensor_gives_errors_not_crashes) {
  ag::Tensor t = ag::ones({2}, ag::float64).requires_grad_();
  const ag::Tensor kept = std::move(t);
  BOOST_TEST(!t.defined());  // NOLINT(bugprone-use-after-move): the point of the test
  expect_error([&] { (void)(t + kept); }, {"ag::add", "undefined"});
  expect_error([&] { (void)(t * 2.0); }, {"undefined"});
  expect_error([&] { t.sum(); }, {"ag::sum", "undefined"});
  expect_error([&] { t.shape(); }, {"ag::shape", "undefined"});
  expect_error([&] { t.size(0); }, {"undefined"});
  expect_error([&] { t.numel(); }, {"undefined"});
  expect_error([&] { t.item(); }, {"ag::item", "undefined"});
  expect_error([&] { t.to_vector(); }, {"undefined"});
  expect_error([&] { t.data_ptr<double>(); }, {"undefined"});
  expect_error([&] { t.mutable_data_ptr<double>(); }, {"undefined"});
  expect_error([&] { t.backward(); }, {"ag::backward", "undefined"});
  expect_error([&] { t.grad(); }, {"undefined"});
  expect_error([&] { t.zero_grad(); }, {"undefined"});
  expect_error([&] { t.requires_grad_(); }, {"undefined"});
  expect_error([&] { t.detach(); }, {"undefined"});
  expect_error([&] { t.clone(); }, {"undefined"});
  expect_error([&] { t.to(ag::float32); }, {"undefined"});
  expect_error([&] { t.set_label("x"); }, {"undefined"});
  expect_error([&] { ag::zeros_like(t); }, {"undefined"});
  expect_error([&] { ag::Value v(t); }, {"undefined"});
  expect_error([&] { ag::matmul(kept.reshape({1, 2}), t); }, {"ag::matmul", "undefined"});
  expect_error([&] { ag::cat({kept, t}, 0); }, {"ag::cat", "undefined"});
  BOOST_TEST(ag::to_string(t) == "tensor(undefined)");
  BOOST_TEST(t.label().empty());
  t = kept;  // a moved-from handle can be assigned again
  BOOST_TEST(t.sum().item() == 2.0);
}

BOOST_AUTO_TEST_CASE(a_null_scope_name_is_an_error) {
  expect_error([] { ag::ScopeGuard guard(nullptr); }, {"ag::ScopeGuard", "null"});
  const ag::Tensor x = ag::ones({1}).requires_grad_();
  {
    ag::ScopeGuard outer("layer");
    expect_error([] { ag::ScopeGuard inner(nullptr); }, {"ag::ScopeGuard"});
    // The refused guard left the current scope as it was.
    BOOST_TEST(ag::collect_graph({x * 2.0}).back().scope == "layer");
  }
  BOOST_TEST(ag::collect_graph({x * 2.0}).back().scope.empty());
}
