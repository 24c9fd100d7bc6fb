// safetensors files and checkpoints: the exact bytes of a small file, round trips, damaged and
// mismatched files refused (leaving the module untouched), atomic replacement, and resuming
// training from a checkpoint giving bitwise the same parameters as not stopping.
// Also writes the file that tools/safetensors_check.py reads with numpy and PyTorch (CTest
// test safetensors_python_check).
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/io.hpp"
#include "nn/nn.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

using ag_test::expect_error;
using ag_test::TempDir;

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// A file from a header text and raw data, as another writer might produce it.
Bytes make_file(const std::string& header, const Bytes& data) {
  Bytes out;
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <class T>
Bytes raw(std::initializer_list<T> values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

bool bitwise_equal(const ag::Tensor& a, const ag::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const auto bytes = static_cast<std::size_t>(a.numel()) * ag::size_of(a.dtype());
  const void* pa = a.dtype() == ag::float32 ? static_cast<const void*>(a.data_ptr<float>())
                                            : static_cast<const void*>(a.data_ptr<double>());
  const void* pb = b.dtype() == ag::float32 ? static_cast<const void*>(b.data_ptr<float>())
                                            : static_cast<const void*>(b.data_ptr<double>());
  return bytes == 0 || std::memcmp(pa, pb, bytes) == 0;
}

ag::Tensor values(std::initializer_list<double> v, const ag::Shape& shape, ag::Dtype dtype) {
  return ag::tensor(std::span<const double>(v.begin(), v.size()), shape, dtype);
}

}  // namespace

BOOST_AUTO_TEST_CASE(exact_bytes_of_a_small_file) {
  const auto bytes = ag::nn::encode_safetensors({{"a", values({1.0, 2.0}, {2}, ag::float32)}});
  // 54 characters of JSON padded with two spaces to 56, a multiple of 8.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  )";
  BOOST_REQUIRE_EQUAL(header.size(), 56u);
  Bytes expected = make_file(header, raw<float>({1.0f, 2.0f}));
  BOOST_TEST(bytes == expected, boost::test_tools::per_element());
  BOOST_TEST(expected[0] == 56);                 // little-endian length
  BOOST_TEST(expected[8 + 56 + 4 + 3] == 0x40);  // 2.0f = 0x40000000, little-endian
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_values_dtypes_shapes_and_metadata) {
  TempDir dir;
  ag::Generator gen(7);
  const ag::nn::NamedTensors tensors = {
      {"w32", ag::randn({3, 4}, gen, ag::float32)},
      {"w64", ag::randn({2, 3, 2}, gen, ag::float64)},
      {"scalar", ag::scalar_tensor(-0.0, ag::float64)},
      {"empty", ag::zeros({0, 5}, ag::float32)},
      {"name with \"quotes\" and \xc3\xa9", ag::ones({1}, ag::float32)},
  };
  const ag::nn::Metadata metadata = {{"epoch", "3"}, {"note", "tab\there, \"quoted\", \\ \n"}};
  const auto path = dir.path / "round.safetensors";
  ag::nn::save_safetensors(path, tensors, metadata);
  const auto file = ag::nn::load_safetensors(path);
  BOOST_TEST(file.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(bitwise_equal(file.at(name), t)); }
    BOOST_TEST(!file.at(name).requires_grad());
  }
  BOOST_TEST(std::signbit(file.at("scalar").item()));  // -0.0 kept bit for bit
  BOOST_TEST(file.metadata == metadata);
  BOOST_TEST(dir.names() == std::vector<std::string>{"round.safetensors"},
             boost::test_tools::per_element());  // no temporary file left behind
}

BOOST_AUTO_TEST_CASE(reads_files_from_other_writers) {
  // As Python's safetensors writes them: metadata first, keys sorted, whitespace allowed,
  // tensors stored in a different order than the header lists them, \u escapes.
  const std::string header =
      "{ \"__metadata__\" : {\"format\": \"pt\"},\n"
      "  \"b\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [8, 16]},\n"
      "  \"a\\u00e9\": {\"shape\": [2], \"data_offsets\": [0, 8], \"dtype\": \"F32\"} }   ";
  Bytes data = raw<float>({0.5f, -4.0f});
  const Bytes b = raw<double>({3.25});
  data.insert(data.end(), b.begin(), b.end());
  const auto file = ag::nn::decode_safetensors(make_file(header, data), "other");
  BOOST_TEST(file.metadata.at("format") == "pt");
  BOOST_TEST(file.at("b").item() == 3.25);
  BOOST_TEST(file.at("a\xc3\xa9").to_vector() == (std::vector<double>{0.5, -4.0}),
             boost::test_tools::per_element());
  expect_error([&] { (void)file.at("c"); }, {"other", "no tensor named 'c'", "b"});
}

BOOST_AUTO_TEST_CASE(damaged_files_are_refused) {
  const Bytes two_floats = raw<float>({1.0f, 2.0f});
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  auto decode = [](const Bytes& bytes) {
    return [bytes] { ag::nn::decode_safetensors(bytes, "f"); };
  };

  expect_error(decode(Bytes{1, 2, 3}), {"'f'", "truncated", "8-byte header length"});
  Bytes huge_length = make_file(good, two_floats);
  huge_length[7] = 0x10;
  expect_error(decode(huge_length), {"bad header length"});
  Bytes long_length = make_file(good, two_floats);
  long_length[0] = 200;
  expect_error(decode(long_length), {"truncated", "header length 200"});
  expect_error(
      decode(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", two_floats)),
      {"bad JSON header", "expected '}'"});
  expect_error(decode(make_file(R"([1, 2])", {})), {"bad JSON header", "expected '{'"});
  expect_error(decode(make_file(good + "x", two_floats)), {"unexpected text after"});
  expect_error(decode(make_file(R"({"a":1E99999})", {})),
               {"'f'", "bad JSON header", "number overflow"});
  expect_error(decode(make_file(good, raw<float>({1.0f}))),
               {"truncated", "tensor 'a' needs data up to byte 8", "holds 4 bytes"});
  expect_error(decode(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})",
                                raw<float>({1.0f, 2.0f, 3.0f}))),
               {"span 12 bytes", "F32 [2] needs 8"});
  expect_error(decode(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                raw<float>({1.0f, 2.0f, 3.0f}))),
               {"begin at 4", "tile"});
  expect_error(
      decode(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", two_floats)),
      {"end before they begin"});
  expect_error(decode(make_file(good, raw<float>({1.0f, 2.0f, 3.0f}))),
               {"4 bytes after the last tensor"});
  expect_error(
      decode(make_file(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", two_floats)),
      {"dtype I64", "only F32 and F64"});
  expect_error(decode(make_file(R"({"a":{"dtype":"F32","shape":[2]}})", {})),
               {"'a' lacks data_offsets"});
  expect_error(
      decode(make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", two_floats)),
      {"non-negative integer"});
  expect_error(
      decode(make_file(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})",
          two_floats)),
      {"overflows"});
  expect_error(decode(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                two_floats)),
               {"appears twice"});
}

BOOST_AUTO_TEST_CASE(header_values_of_the_wrong_type_are_refused) {
  const Bytes two_floats = raw<float>({1.0f, 2.0f});
  const std::string tensor = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  auto decode = [](const std::string& header, const Bytes& data) {
    return [=] { ag::nn::decode_safetensors(make_file(header, data), "f"); };
  };
  expect_error(decode(R"({"__metadata__":{"epoch":3},)" + tensor + "}", two_floats),
               {"'f'", "metadata 'epoch' must be a string, found number"});
  expect_error(decode(R"({"__metadata__":[1],)" + tensor + "}", two_floats),
               {"'__metadata__' must be an object of strings, found array"});
  expect_error(decode(R"({"a":[1,2]})", two_floats),
               {"tensor 'a': expected an object with dtype, shape and data_offsets, found array"});
  expect_error(decode(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", two_floats),
               {"tensor 'a': dtype must be a string, found number"});
  expect_error(decode(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", two_floats),
               {"tensor 'a' shape: expected a non-negative integer, found 2.5"});
  expect_error(decode(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", two_floats),
               {"tensor 'a' shape: expected an array of integers, found number"});
  expect_error(decode(R"({"__metadata__":{},"__metadata__":{},)" + tensor + "}", two_floats),
               {"'__metadata__' appears twice"});
  // Nesting a million levels deep is a parse error, not a stack overflow.
  const std::string deep = R"({"__metadata__":)" + std::string(1'000'000, '[') + "}";
  expect_error(decode(deep, {}), {"'f'", "bad JSON header at byte"});
}

BOOST_AUTO_TEST_CASE(save_refuses_bad_names_and_keeps_the_old_file) {
  TempDir dir;
  const auto path = dir.path / "keep.safetensors";
  ag::nn::save_safetensors(path, {{"x", ag::ones({2})}});
  const Bytes before = read_bytes(path);
  expect_error(
      [&] {
        ag::nn::save_safetensors(path, {{"x", ag::ones({1})}, {"x", ag::ones({1})}});
      },
      {"'x' is used twice"});
  expect_error([&] { ag::nn::save_safetensors(path, {{"", ag::ones({1})}}); }, {"empty name"});
  expect_error(
      [&] {
        ag::nn::save_safetensors(path, {{"u", ag::Tensor()}});
      },
      {"'u' is undefined"});
  BOOST_TEST(read_bytes(path) == before, boost::test_tools::per_element());
  expect_error([&] { ag::nn::save_safetensors(dir.path / "no-such-dir" / "f", {}); },
               {"no-such-dir", "cannot create a temporary file"});
  expect_error([&] { ag::nn::load_safetensors(dir.path / "missing.safetensors"); },
               {"missing.safetensors", "cannot open"});
  BOOST_TEST(dir.names() == std::vector<std::string>{"keep.safetensors"},
             boost::test_tools::per_element());
}

namespace {

std::shared_ptr<ag::nn::Sequential> make_net(std::uint64_t seed, std::int64_t hidden = 8) {
  ag::Generator gen(seed);
  auto net = std::make_shared<ag::nn::Sequential>();
  net->emplace<ag::nn::Dense>(2, hidden, ag::nn::Init::HeNormal, gen);
  net->emplace<ag::nn::ReLU>();
  net->emplace<ag::nn::Dense>(hidden, 3, ag::nn::Init::XavierNormal, gen);
  return net;
}

// `steps` Adam steps on spiral data; step i uses a fixed batch, so a resumed run sees the
// same batches as an uninterrupted one.
void train(ag::nn::Sequential& net, ag::nn::Adam& opt, int first_step, int steps) {
  ag::Generator data_gen(3);
  const auto data = ag::nn::spiral_data(40, 3, data_gen);
  for (int s = first_step; s < first_step + steps; ++s) {
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < 32; ++i) rows.push_back((s * 37 + i * 11) % 120);
    const auto x = ag::nn::take_rows(data.X, rows);
    const auto y = ag::nn::take(data.y, rows);
    opt.zero_grad();
    ag::nn::cross_entropy(net(x), y).backward();
    opt.step();
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_and_names) {
  TempDir dir;
  auto net = make_net(1);
  ag::nn::Adam opt(net->named_parameters(), 0.01);
  train(*net, opt, 0, 3);
  const auto path = dir.path / "ckpt.safetensors";
  ag::nn::save_checkpoint(path, *net, &opt, {{"epoch", "1"}});

  const auto file = ag::nn::load_safetensors(path);
  BOOST_TEST(file.at("0.weight").shape() == (ag::Shape{2, 8}), boost::test_tools::per_element());
  BOOST_TEST(file.at("optim.step").item() == 3.0);
  // Optimizer state is named by parameter index: 0.weight is parameter 0, 2.bias is 3.
  BOOST_TEST(file.tensors.count("optim.0.exp_avg") == 1u);
  BOOST_TEST(file.tensors.count("optim.3.exp_avg_sq") == 1u);
  BOOST_TEST(file.tensors.count("optim.0.weight.exp_avg") == 0u);

  auto other = make_net(99);
  ag::nn::Adam other_opt(other->named_parameters(), 0.01);
  const auto metadata = ag::nn::load_checkpoint(path, *other, &other_opt);
  BOOST_TEST(metadata.at("epoch") == "1");
  BOOST_TEST(other_opt.steps() == 3);
  for (const auto& [name, p] : net->named_parameters()) {
    const auto other_params = other->named_parameters();
    const auto it = std::find_if(other_params.begin(), other_params.end(),
                                 [&](const auto& e) { return e.first == name; });
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(bitwise_equal(it->second, p)); }
  }
  // Parameters only (no optimizer given): optimizer entries are ignored.
  auto third = make_net(5);
  ag::nn::load_checkpoint(path, *third);
  BOOST_TEST(bitwise_equal(third->named_parameters()[0].second, net->named_parameters()[0].second));
}

// State saved from an optimizer built with named_parameters() loads into one built with
// parameters() and back: the state names do not depend on how the optimizer was built.
BOOST_AUTO_TEST_CASE(optimizer_state_loads_whichever_way_the_optimizer_was_built) {
  TempDir dir;
  auto net = make_net(1);
  ag::nn::Adam named_opt(net->named_parameters(), 0.01);
  train(*net, named_opt, 0, 3);
  const auto named_path = dir.path / "named.safetensors";
  ag::nn::save_checkpoint(named_path, *net, &named_opt);

  auto other = make_net(7);
  ag::nn::Adam unnamed_opt(other->parameters(), 0.01);
  ag::nn::load_checkpoint(named_path, *other, &unnamed_opt);
  BOOST_TEST(unnamed_opt.steps() == 3);
  const auto named_state = named_opt.named_state();
  const auto unnamed_state = unnamed_opt.named_state();
  BOOST_REQUIRE(named_state.size() == unnamed_state.size());
  for (std::size_t i = 0; i < named_state.size(); ++i) {
    BOOST_TEST_CONTEXT(named_state[i].first) {
      BOOST_TEST(named_state[i].first == unnamed_state[i].first);
      BOOST_TEST(bitwise_equal(named_state[i].second, unnamed_state[i].second));
    }
  }

  // And back: saved from parameters(), loaded into named_parameters().
  const auto unnamed_path = dir.path / "unnamed.safetensors";
  ag::nn::save_checkpoint(unnamed_path, *other, &unnamed_opt);
  auto third = make_net(8);
  ag::nn::Adam third_opt(third->named_parameters(), 0.01);
  ag::nn::load_checkpoint(unnamed_path, *third, &third_opt);
  BOOST_TEST(third_opt.steps() == 3);
  BOOST_TEST(bitwise_equal(third_opt.named_state()[0].second, named_state[0].second));
}

// Files that named optimizer state after the parameters ("optim.0.weight.exp_avg") still load.
BOOST_AUTO_TEST_CASE(optimizer_state_named_after_parameters_still_loads) {
  TempDir dir;
  auto net = make_net(1);
  ag::nn::Adam opt(net->named_parameters(), 0.01);
  train(*net, opt, 0, 2);
  ag::nn::NamedTensors tensors = net->named_parameters();
  const auto params = net->named_parameters();
  for (const auto& [name, t] : opt.named_state()) {
    if (name == "step") {
      tensors.emplace_back("optim.step", t);
      continue;
    }
    const auto dot = name.find('.');
    const auto index = std::stoul(name.substr(0, dot));
    tensors.emplace_back("optim." + params[index].first + name.substr(dot), t);
  }
  const auto path = dir.path / "old_names.safetensors";
  ag::nn::save_safetensors(path, tensors);
  auto other = make_net(9);
  ag::nn::Adam other_opt(other->parameters(), 0.01);
  ag::nn::load_checkpoint(path, *other, &other_opt);
  BOOST_TEST(other_opt.steps() == 2);
  BOOST_TEST(bitwise_equal(other_opt.named_state()[1].second, opt.named_state()[1].second));
}

BOOST_AUTO_TEST_CASE(mismatched_checkpoint_leaves_the_module_untouched) {
  TempDir dir;
  auto net = make_net(1);
  const auto path = dir.path / "small.safetensors";
  ag::nn::save_checkpoint(path, *net);

  auto wider = make_net(2, 16);
  const auto before = wider->named_parameters()[0].second.clone().detach();
  expect_error([&] { ag::nn::load_checkpoint(path, *wider); },
               {"small.safetensors", "'0.weight'", "float32 [2, 8] in the file",
                "float32 [2, 16] in the module"});
  BOOST_TEST(bitwise_equal(wider->named_parameters()[0].second, before));

  ag::nn::Adam opt(wider->named_parameters());
  auto same = make_net(3);
  ag::nn::Adam same_opt(same->named_parameters());
  const auto same_before = same->named_parameters()[0].second.clone().detach();
  expect_error([&] { ag::nn::load_checkpoint(path, *same, &same_opt); },
               {"lacks", "optim.", "without optimizer state"});
  BOOST_TEST(bitwise_equal(same->named_parameters()[0].second, same_before));

  // Optimizer state that is there but is another optimizer's: not "saved without" it.
  const auto sgd_path = dir.path / "sgd.safetensors";
  ag::nn::SGD sgd(net->parameters(), 0.1, 0.9);
  ag::nn::save_checkpoint(sgd_path, *net, &sgd);
  try {
    ag::nn::load_checkpoint(sgd_path, *same, &same_opt);
    BOOST_ERROR("loading SGD state into Adam did not throw");
  } catch (const ag::Error& e) {
    const std::string message = e.what();
    BOOST_TEST_CONTEXT(message) {
      BOOST_TEST(message.find("'optim.0.exp_avg'") != std::string::npos);
      BOOST_TEST(message.find("'optim.0.momentum_buffer'") != std::string::npos);
      BOOST_TEST(message.find("belongs to another optimizer") != std::string::npos);
      BOOST_TEST(message.find("without optimizer state") == std::string::npos);
    }
  }
  BOOST_TEST(bitwise_equal(same->named_parameters()[0].second, same_before));

  ag::nn::Sequential deeper;
  ag::Generator gen(4);
  deeper.emplace<ag::nn::Dense>(2, 8, ag::nn::Init::HeNormal, gen);
  expect_error([&] { ag::nn::load_checkpoint(path, deeper); },
               {"'2.bias'", "matches nothing in the module"});

  // A damaged file: the last byte cut off.
  Bytes bytes = read_bytes(path);
  bytes.pop_back();
  write_bytes(path, bytes);
  expect_error([&] { ag::nn::load_checkpoint(path, *same); }, {"small.safetensors", "truncated"});
  BOOST_TEST(bitwise_equal(same->named_parameters()[0].second, same_before));
}

BOOST_AUTO_TEST_CASE(resuming_gives_the_same_parameters_as_not_stopping) {
  TempDir dir;
  auto straight = make_net(11);
  ag::nn::Adam straight_opt(straight->named_parameters(), 0.02);
  train(*straight, straight_opt, 0, 12);

  auto first = make_net(11);
  ag::nn::Adam first_opt(first->named_parameters(), 0.02);
  train(*first, first_opt, 0, 5);
  const auto path = dir.path / "resume.safetensors";
  ag::nn::save_checkpoint(path, *first, &first_opt);

  auto resumed = make_net(12345);  // different initial weights: all must come from the file
  ag::nn::Adam resumed_opt(resumed->named_parameters(), 0.02);
  ag::nn::load_checkpoint(path, *resumed, &resumed_opt);
  train(*resumed, resumed_opt, 5, 7);

  const auto expected = straight->named_parameters();
  const auto got = resumed->named_parameters();
  BOOST_REQUIRE_EQUAL(expected.size(), got.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST_CONTEXT(expected[i].first) {
      BOOST_TEST(bitwise_equal(got[i].second, expected[i].second));
    }
  }
  BOOST_TEST(resumed_opt.steps() == 12);
  // And the run did move the parameters: a stopped run without resuming differs.
  BOOST_TEST(!bitwise_equal(first->named_parameters()[0].second, expected[0].second));
}

// The file tools/safetensors_check.py --check-fixture verifies with numpy and PyTorch.
BOOST_AUTO_TEST_CASE(python_fixture) {
  std::vector<double> w(6), x(12);
  for (int i = 0; i < 6; ++i) w[i] = (i - 2.5) * 0.375;
  for (int i = 0; i < 12; ++i) x[i] = (i % 5) * 0.5 - 1.0;
  const auto weight = ag::tensor(w, {3, 2}, ag::float32);
  const auto bias = values({0.125, -0.5}, {2}, ag::float32);
  const auto input = ag::tensor(x, {4, 3}, ag::float32);
  const auto output = (ag::matmul(input, weight) + bias).detach();
  const ag::nn::NamedTensors tensors = {
      {"dense.weight", weight},
      {"dense.bias", bias},
      {"x", input},
      {"y", output},
      {"third", values({1.0 / 3.0, -2.5, 1e-300, 6.02214076e23}, {2, 2}, ag::float64)},
      {"scalar", ag::scalar_tensor(42.0, ag::float64)},
      {"empty", ag::zeros({0, 4}, ag::float32)},
  };
  const fs::path path = fs::path(AG_BINARY_DIR) / "safetensors_fixture.safetensors";
  ag::nn::save_safetensors(path, tensors,
                           {{"producer", "ag test_safetensors"},
                            {"tricky", "quote \" backslash \\ newline \n \xc3\xa9"}});
  BOOST_TEST(ag::nn::load_safetensors(path).tensors.size() == tensors.size());
}
