// Plots: confusion-matrix counts, PNG files gnuplot writes (signature and pixel size from the
// IHDR chunk), atomic replacement, and clear errors for bad input and for a missing gnuplot.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/autograd.hpp"
#include "nn/plot.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using ag_test::expect_error;
using ag_test::TempDir;

struct PngSize {
  std::uint32_t width = 0, height = 0;
};

// Checks the 8-byte PNG signature and an IHDR first chunk; returns the picture size.
PngSize check_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> head(24);
  in.read(reinterpret_cast<char*>(head.data()), 24);
  BOOST_REQUIRE_MESSAGE(in.gcount() == 24, path << " is shorter than a PNG header");
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  BOOST_REQUIRE_MESSAGE(std::equal(signature, signature + 8, head.begin()),
                        path << " lacks the PNG signature");
  BOOST_REQUIRE(std::string(head.begin() + 12, head.begin() + 16) == "IHDR");
  auto be32 = [&](int at) {
    return (std::uint32_t{head[at]} << 24) | (std::uint32_t{head[at + 1]} << 16) |
           (std::uint32_t{head[at + 2]} << 8) | std::uint32_t{head[at + 3]};
  };
  return {be32(16), be32(20)};
}

bool need_gnuplot() {
  if (ag::nn::gnuplot_available()) return true;
  BOOST_TEST_MESSAGE("skipped: gnuplot is not installed (apt-get install gnuplot-nox)");
  return false;
}

// Sets an environment variable for the lifetime of the guard.
struct EnvGuard {
  std::string name;
  std::string old;
  bool had;
  EnvGuard(const char* n, const char* value) : name(n) {
    const char* v = std::getenv(n);
    had = v != nullptr;
    if (had) old = v;
    setenv(n, value, 1);
  }
  ~EnvGuard() {
    if (had)
      setenv(name.c_str(), old.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(confusion_matrix_counts) {
  const std::vector<std::int64_t> truth = {0, 0, 1, 2, 2, 2};
  const std::vector<std::int64_t> predicted = {0, 1, 1, 2, 0, 2};
  const auto counts = ag::nn::confusion_matrix(truth, predicted, 3);
  // Rows are true classes, columns predictions.
  const std::vector<std::int64_t> expected = {1, 1, 0,  //
                                              0, 1, 0,  //
                                              1, 0, 2};
  BOOST_TEST(counts == expected, boost::test_tools::per_element());
  expect_error([&] { ag::nn::confusion_matrix(truth, std::vector<std::int64_t>{0}, 3); },
               {"confusion_matrix", "6 true labels but 1 predictions"});
  expect_error([&] { ag::nn::confusion_matrix(truth, predicted, 2); },
               {"label 2 at index 3", "[0, 2)"});
}

BOOST_AUTO_TEST_CASE(training_curves_png) {
  if (!need_gnuplot()) return;
  TempDir dir;
  ag::nn::TrainingHistory history;
  history.train_loss = {0.9, 0.5, 0.4};
  history.test_loss = {0.6, 0.45, 0.42};
  history.train_accuracy = {0.7, 0.82, 0.86};
  history.test_accuracy = {0.78, 0.83, 0.85};
  const auto png = dir.path / "curves.png";
  ag::nn::plot_training_curves(png, history, "test \"curves\"");
  const auto size = check_png(png);
  BOOST_TEST(size.width == 1200u);
  BOOST_TEST(size.height == 480u);
  // Replacing an existing picture leaves exactly that one file (no temporaries).
  history.test_accuracy.push_back(0.86);
  ag::nn::plot_training_curves(png, history);
  check_png(png);
  BOOST_TEST(dir.entries() == 1u);
  expect_error([&] { ag::nn::plot_training_curves(dir.path / "e.png", {}); },
               {"e.png", "history is empty"});
  history.train_loss[1] = std::nan("");
  expect_error([&] { ag::nn::plot_training_curves(dir.path / "n.png", history); },
               {"n.png", "train loss of epoch 2", "not a finite number"});
  BOOST_TEST(dir.entries() == 1u);
}

BOOST_AUTO_TEST_CASE(confusion_matrix_png) {
  if (!need_gnuplot()) return;
  TempDir dir;
  const std::vector<std::int64_t> counts = {50, 3, 0, 7, 40, 1, 0, 2, 60};
  const auto png = dir.path / "cm.png";
  ag::nn::plot_confusion_matrix(png, counts, {"cat", "dog", "bird"});
  const auto size = check_png(png);
  BOOST_TEST(size.width == 900u);
  BOOST_TEST(size.height == 820u);
  expect_error(
      [&] {
        ag::nn::plot_confusion_matrix(dir.path / "x.png", std::vector<std::int64_t>{1, 2, 3});
      },
      {"x.png", "num_classes^2 counts, got 3"});
  expect_error(
      [&] {
        ag::nn::plot_confusion_matrix(dir.path / "y.png", counts, {"a", "b"});
      },
      {"2 class names for 3 classes"});
}

BOOST_AUTO_TEST_CASE(decision_regions_png) {
  if (!need_gnuplot()) return;
  TempDir dir;
  const auto points =
      ag::tensor({-1.0, -1.0, 1.0, 1.0, -0.5, 0.8, 0.7, -0.2}, ag::float32).reshape({4, 2});
  const std::vector<std::int64_t> labels = {0, 1, 0, 1};
  std::int64_t grid_points = 0;
  // Class 1 right of x = 0.
  auto classify = [&](const ag::Tensor& grid) {
    const auto xy = grid.to_vector();
    grid_points = grid.size(0);
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < xy.size(); i += 2) out.push_back(xy[i] > 0 ? 1 : 0);
    return out;
  };
  const auto png = dir.path / "regions.png";
  ag::nn::plot_decision_regions(png, points, labels, 2, classify, "halves", 50);
  BOOST_TEST(grid_points == 2500);
  const auto size = check_png(png);
  BOOST_TEST(size.width == 800u);
  BOOST_TEST(size.height == 800u);
  auto bad_classifier = [](const ag::Tensor&) { return std::vector<std::int64_t>{0}; };
  expect_error(
      [&] { ag::nn::plot_decision_regions(dir.path / "b.png", points, labels, 2, bad_classifier); },
      {"b.png", "returned 1 classes for 40000 grid points"});
  expect_error(
      [&] {
        ag::nn::plot_decision_regions(dir.path / "c.png", points, std::vector<std::int64_t>{}, 2,
                                      classify);
      },
      {"4 points but 0 labels"});
  BOOST_TEST(dir.entries() == 1u);
}

BOOST_AUTO_TEST_CASE(missing_gnuplot_is_a_clear_error) {
  TempDir dir;
  const EnvGuard path("PATH", dir.path.c_str());  // an empty directory: no gnuplot on it
  BOOST_TEST(!ag::nn::gnuplot_available());
  ag::nn::TrainingHistory history;
  history.train_loss = {1.0, 0.5};
  expect_error([&] { ag::nn::plot_training_curves(dir.path / "c.png", history); },
               {"c.png", "gnuplot not found", "apt-get install gnuplot-nox"});
  BOOST_TEST(dir.entries() == 0u);
}
