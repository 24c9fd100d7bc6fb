// No user string reaches an interpreter: titles and class names full of gnuplot and shell
// syntax (command substitution, a closing quote, a newline then a shell escape, a macro) are
// drawn as text, and nothing they spell is run.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/plot.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

// Strings that each try to create `marker` if anything interprets them.
std::vector<std::string> hostile(const fs::path& marker) {
  const std::string m = marker.string();
  return {"run `touch " + m + "1`", "x\"; system(\"touch " + m + "2\"); y = \"",
          "x\n!touch " + m + "3\n", "x' . system('touch " + m + "4') . '",
          "@GPVAL_TERM $(touch " + m + "5) \\\" ;"};
}

bool no_marker(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("PWNED", 0) == 0) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(titles_and_class_names_are_text_only) {
  if (!ag::nn::gnuplot_available()) {
    BOOST_TEST_MESSAGE("skipped: gnuplot is not installed");
    return;
  }
  ag_test::TempDir dir("ag-plot-strings");
  const fs::path marker = dir.path / "PWNED";
  const std::vector<std::string> titles = hostile(marker);
  ag::nn::TrainingHistory history;
  history.train_loss = {0.9, 0.5};
  history.test_accuracy = {0.7, 0.8};
  int k = 0;
  for (const auto& title : titles) {
    const fs::path png = dir.path / ("curves" + std::to_string(k++) + ".png");
    ag::nn::plot_training_curves(png, history, title);
    BOOST_TEST(fs::file_size(png) > 100u);
  }
  const std::vector<std::int64_t> counts(25, 1);
  ag::nn::plot_confusion_matrix(dir.path / "confusion.png", counts, titles, titles[0]);
  BOOST_TEST(no_marker(dir.path), "a plot string was run as a command");
}
