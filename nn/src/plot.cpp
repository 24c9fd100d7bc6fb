// PNG plots through gnuplot. The data goes into the script as inline data blocks, so one script
// file is all gnuplot reads; the picture is rendered into a temporary file and then moved into
// place with ag::write_file_atomically.
#include "nn/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "autograd/error.hpp"
#include "autograd/write_file.hpp"
#include "nn/io.hpp"

extern char** environ;

namespace ag::nn {
namespace {

[[noreturn]] void throw_plot_error(const std::filesystem::path& png, const std::string& what) {
  throw Error("plot", "'" + png.string() + "': " + what);
}

// tab10, the matplotlib default cycle: distinct and colour-blind friendlier than primaries.
constexpr const char* kClassColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kNumColors = 10;

std::string class_color(int k) { return kClassColors[k % kNumColors]; }

// The colour mixed with white: `keep` of the colour, the rest white.
std::string lighten(const std::string& hex, double keep) {
  const long rgb = std::strtol(hex.c_str() + 1, nullptr, 16);
  char out[8];
  auto mix = [&](int shift) {
    const double c = static_cast<double>((rgb >> shift) & 0xFF);
    return static_cast<int>(std::lround(255.0 - (255.0 - c) * keep));
  };
  std::snprintf(out, sizeof out, "#%02x%02x%02x", mix(16), mix(8), mix(0));
  return out;
}

// A string literal for gnuplot in which no byte of `s` appears as itself unless it is a letter,
// a digit, a space or one of # . , - (colours are "#rrggbb", and gnuplot reads those
// unescaped): every other byte is an octal escape (\140 for a backquote). gnuplot
// substitutes `command` and @macro anywhere in a line, quoted or not, before it parses strings;
// escaped, those characters reach the picture as text and never the interpreter.
std::string gp_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == ' ' || c == '#' || c == '.' || c == ',' || c == '-') {
      out += c;
    } else {
      char escape[5];
      std::snprintf(escape, sizeof escape, "\\%03o", byte);
      out += escape;
    }
  }
  return out + "\"";
}

// Creates an empty temporary file from a mkstemp pattern and returns its path.
std::string make_temp(std::filesystem::path dir, const std::string& pattern,
                      const std::filesystem::path& png) {
  std::string path = (dir / pattern).string();
  const int fd =
      mkstemps(path.data(), static_cast<int>(pattern.size() - pattern.find("XXXXXX") - 6));
  if (fd < 0)
    throw_plot_error(
        png, "cannot create a temporary file in '" + dir.string() + "': " + std::strerror(errno));
  ::close(fd);
  return path;
}

struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

std::string read_text(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > limit) text = "..." + text.substr(text.size() - limit);
  return text;
}

// Runs gnuplot on `body` (everything after the terminal and output settings), rendering
// `width` x `height` pixels into `png`.
void render(const std::filesystem::path& png, int width, int height, const std::string& body) {
  const std::filesystem::path tmp_dir = std::filesystem::temp_directory_path();
  TempFile script{make_temp(tmp_dir, "ag-plot-XXXXXX.gp", png)};
  TempFile image{make_temp(tmp_dir, "ag-plot-XXXXXX.png", png)};
  TempFile log{make_temp(tmp_dir, "ag-plot-XXXXXX.log", png)};

  std::ostringstream gp;
  gp << "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
     << "  set terminal pngcairo enhanced size " << width << "," << height
     << " font \"sans,11\" linewidth 1.5\n"
     << "} else {\n"
     << "  set terminal png size " << width << "," << height << "\n"
     << "}\n"
     << "set output " << gp_string(image.path) << "\n"
     << body << "\nunset output\n";
  {
    std::ofstream out(script.path, std::ios::binary);
    out << gp.str();
    out.close();  // a full disk shows when the buffer is flushed
    if (!out) throw_plot_error(png, "cannot write the gnuplot script '" + script.path + "'");
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.path.c_str(), O_WRONLY | O_TRUNC,
                                   0);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::string program = "gnuplot";
  std::vector<char*> argv = {program.data(), script.path.data(), nullptr};
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error == ENOENT)
    throw_plot_error(png,
                     "gnuplot not found on the PATH; install it (Debian/Ubuntu: apt-get install "
                     "gnuplot-nox)");
  if (spawn_error != 0)
    throw_plot_error(png, std::string("cannot run gnuplot: ") + std::strerror(spawn_error));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw_plot_error(png, std::string("waitpid on gnuplot failed: ") + std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw_plot_error(
        png, "gnuplot failed (" +
                 (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                    : "killed by signal " + std::to_string(WTERMSIG(status))) +
                 "): " + read_text(log.path, 2000));

  std::ifstream in(image.path, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  if (bytes.size() < 8)
    throw_plot_error(png, "gnuplot wrote no picture: " + read_text(log.path, 2000));
  // gnuplot exits 0 when its output is cut short (a full temporary directory): a PNG ends in
  // its IEND chunk, or it is not delivered.
  static constexpr std::uint8_t kIend[12] = {0,   0,   0,    0,    'I',  'E',
                                             'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  if (bytes.size() < 8 + sizeof kIend ||
      !std::equal(std::end(kIend) - 12, std::end(kIend), bytes.end() - 12))
    throw_plot_error(png, "gnuplot's picture is truncated (" + std::to_string(bytes.size()) +
                              " bytes, no PNG end chunk; is the temporary directory '" +
                              tmp_dir.string() + "' full?): " + read_text(log.path, 2000));
  write_file_atomically(
      png, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "plot");
}

// An inline data block "$name << EOD ... EOD" of (x, y) rows; x is the epoch.
void epoch_block(std::ostringstream& gp, const std::string& name, const std::vector<double>& ys) {
  gp << "$" << name << " << EOD\n";
  for (std::size_t i = 0; i < ys.size(); ++i) gp << (i + 1) << " " << ys[i] << "\n";
  gp << "EOD\n";
}

void check_finite(const std::filesystem::path& png, const char* what,
                  const std::vector<double>& ys) {
  for (std::size_t i = 0; i < ys.size(); ++i)
    if (!std::isfinite(ys[i]))
      throw_plot_error(png, std::string(what) + " of epoch " + std::to_string(i + 1) + " is " +
                                std::to_string(ys[i]) + ", not a finite number");
}

}  // namespace

bool gnuplot_available() {
  const char* path_env = std::getenv("PATH");
  std::string_view rest = path_env ? path_env : "/usr/bin:/bin";
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate.append("/gnuplot");
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

void plot_training_curves(const std::filesystem::path& png, const TrainingHistory& history,
                          const std::string& title) {
  const std::size_t epochs =
      std::max({history.train_loss.size(), history.test_loss.size(), history.train_accuracy.size(),
                history.test_accuracy.size()});
  if (epochs == 0) throw_plot_error(png, "the training history is empty: nothing to plot");
  check_finite(png, "train loss", history.train_loss);
  check_finite(png, "test loss", history.test_loss);
  check_finite(png, "train accuracy", history.train_accuracy);
  check_finite(png, "test accuracy", history.test_accuracy);

  std::ostringstream gp;
  gp.precision(9);
  epoch_block(gp, "train_loss", history.train_loss);
  epoch_block(gp, "test_loss", history.test_loss);
  epoch_block(gp, "train_acc", history.train_accuracy);
  epoch_block(gp, "test_acc", history.test_accuracy);
  const std::string train_style = "with linespoints pt 7 ps 0.9 lw 2 lc rgb \"#1f77b4\"";
  const std::string test_style = "with linespoints pt 5 ps 0.9 lw 2 lc rgb \"#d62728\"";
  // Integer epoch ticks when there are few epochs; gnuplot's own choice otherwise.
  const std::string xtics = epochs <= 20 ? "set xtics 1\n" : "";
  gp << "set multiplot layout 1,2 title " << gp_string(title) << " font \",13\"\n"
     << "set grid xtics ytics lt 1 lw 1 lc rgb \"#e4e4e4\"\n"
     << "set key top right\n"
     << "set xlabel \"epoch\"\n"
     << xtics << "set xrange [" << (epochs == 1 ? 0.5 : 1.0) << ":"
     << (epochs == 1 ? 1.5 : static_cast<double>(epochs)) << "]\n"
     << "set title \"loss\"\nset ylabel \"cross-entropy\"\n";
  auto plot_pair = [&](const std::string& train_block, const std::string& test_block,
                       bool has_train, bool has_test) {
    std::string cmd = "plot ";
    if (has_train) cmd += "$" + train_block + " using 1:2 " + train_style + " title \"train\"";
    if (has_test)
      cmd += std::string(has_train ? ", " : "") + "$" + test_block + " using 1:2 " + test_style +
             " title \"test\"";
    if (!has_train && !has_test) cmd += "NaN notitle";
    gp << cmd << "\n";
  };
  plot_pair("train_loss", "test_loss", !history.train_loss.empty(), !history.test_loss.empty());
  gp << "set title \"accuracy\"\nset ylabel \"accuracy\"\nset key bottom right\n"
     << "set format y \"%g%%\"\n";
  // Accuracies are stored as fractions and shown in percent.
  TrainingHistory pct = history;
  for (auto* v : {&pct.train_accuracy, &pct.test_accuracy})
    for (double& a : *v) a *= 100.0;
  epoch_block(gp, "train_pct", pct.train_accuracy);
  epoch_block(gp, "test_pct", pct.test_accuracy);
  plot_pair("train_pct", "test_pct", !history.train_accuracy.empty(),
            !history.test_accuracy.empty());
  gp << "unset multiplot\n";
  render(png, 1200, 480, gp.str());
}

std::vector<std::int64_t> confusion_matrix(std::span<const std::int64_t> truth,
                                           std::span<const std::int64_t> predicted,
                                           int num_classes) {
  if (num_classes <= 0)
    throw Error("confusion_matrix",
                "num_classes must be positive, got " + std::to_string(num_classes));
  if (truth.size() != predicted.size())
    throw Error("confusion_matrix", std::to_string(truth.size()) + " true labels but " +
                                        std::to_string(predicted.size()) + " predictions");
  const auto n = static_cast<std::size_t>(num_classes);
  std::vector<std::int64_t> counts(n * n, 0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    for (const auto label : {truth[i], predicted[i]})
      if (label < 0 || label >= num_classes)
        throw Error("confusion_matrix", "label " + std::to_string(label) + " at index " +
                                            std::to_string(i) + " is outside [0, " +
                                            std::to_string(num_classes) + ")");
    ++counts[static_cast<std::size_t>(truth[i]) * n + static_cast<std::size_t>(predicted[i])];
  }
  return counts;
}

void plot_confusion_matrix(const std::filesystem::path& png, std::span<const std::int64_t> counts,
                           const std::vector<std::string>& class_names, const std::string& title) {
  const auto n =
      static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(counts.size()))));
  if (n == 0 || n * n != counts.size())
    throw_plot_error(
        png, "a confusion matrix needs num_classes^2 counts, got " + std::to_string(counts.size()));
  if (!class_names.empty() && class_names.size() != n)
    throw_plot_error(png, std::to_string(class_names.size()) + " class names for " +
                              std::to_string(n) + " classes");
  for (const auto c : counts)
    if (c < 0)
      throw_plot_error(png, "negative count " + std::to_string(c) + " in the confusion matrix");

  std::ostringstream gp;
  gp.precision(6);
  // Row fractions colour the cells (a class's share of its true samples), so that classes of
  // different sizes compare; the counts are written on the cells.
  gp << "$fraction << EOD\n";
  std::vector<double> fraction(n * n, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    std::int64_t row_total = 0;
    for (std::size_t c = 0; c < n; ++c) row_total += counts[r * n + c];
    for (std::size_t c = 0; c < n; ++c) {
      fraction[r * n + c] =
          row_total > 0 ? static_cast<double>(counts[r * n + c]) / static_cast<double>(row_total)
                        : 0.0;
      gp << (c ? " " : "") << fraction[r * n + c];
    }
    gp << "\n";
  }
  gp << "EOD\n";
  // Dark text on light cells, light text on dark cells.
  for (const bool dark_cell : {false, true}) {
    gp << (dark_cell ? "$light_text" : "$dark_text") << " << EOD\n";
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < n; ++c)
        if ((fraction[r * n + c] > 0.5) == dark_cell && counts[r * n + c] > 0)
          gp << c << " " << r << " " << counts[r * n + c] << "\n";
    gp << "EOD\n";
  }
  auto tics = [&](const char* axis, const char* extra) {
    gp << "set " << axis << " (";
    for (std::size_t k = 0; k < n; ++k)
      gp << (k ? ", " : "") << gp_string(class_names.empty() ? std::to_string(k) : class_names[k])
         << " " << k;
    gp << ") " << extra << "\n";
  };
  const int label_font = n <= 12 ? 10 : 7;
  gp << "set title " << gp_string(title) << " font \",13\"\n"
     << "set xrange [-0.5:" << n - 0.5 << "]\n"
     << "set yrange [" << n - 0.5 << ":-0.5]\n"  // row 0 at the top, as matrices are read
     << "set xlabel \"predicted class\"\nset ylabel \"true class\"\n"
     << "set size ratio -1\n"
     << "set tics scale 0\n"
     << "set cbrange [0:1]\nset cblabel \"fraction of the true class\"\n"
     << "set palette defined (0 \"#ffffff\", 0.15 \"#c6dbef\", 0.5 \"#4292c6\", 1 \"#08306b\")\n";
  tics("xtics", "rotate by 35 right");
  tics("ytics", "");
  gp << "plot $fraction matrix with image notitle, "
     << "$dark_text using 1:2:(sprintf(\"%d\", $3)) with labels font \"," << label_font
     << "\" tc rgb \"#222222\" notitle, "
     << "$light_text using 1:2:(sprintf(\"%d\", $3)) with labels font \"," << label_font
     << "\" tc rgb \"#ffffff\" notitle\n";
  render(png, 900, 820, gp.str());
}

void plot_decision_regions(const std::filesystem::path& png, const Tensor& points,
                           std::span<const std::int64_t> labels, int num_classes,
                           const Classifier& classify, const std::string& title, int resolution) {
  if (!points.defined() || points.dim() != 2 || points.size(1) != 2)
    throw_plot_error(png,
                     "points must be an [N, 2] tensor, got " +
                         (points.defined() ? to_string(points.shape()) : std::string("undefined")));
  const auto count = static_cast<std::size_t>(points.size(0));
  if (labels.size() != count)
    throw_plot_error(
        png, std::to_string(count) + " points but " + std::to_string(labels.size()) + " labels");
  if (count == 0) throw_plot_error(png, "no points to plot");
  if (num_classes <= 0 || num_classes > kNumColors)
    throw_plot_error(png, "num_classes must be in [1, " + std::to_string(kNumColors) + "], got " +
                              std::to_string(num_classes));
  if (resolution < 2 || resolution > 2000)
    throw_plot_error(png, "resolution must be in [2, 2000], got " + std::to_string(resolution));
  for (std::size_t i = 0; i < count; ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      throw_plot_error(png, "label " + std::to_string(labels[i]) + " of point " +
                                std::to_string(i) + " is outside [0, " +
                                std::to_string(num_classes) + ")");

  const std::vector<double> xy = points.to_vector();
  double x_min = xy[0], x_max = xy[0], y_min = xy[1], y_max = xy[1];
  for (std::size_t i = 0; i < count; ++i) {
    x_min = std::min(x_min, xy[2 * i]);
    x_max = std::max(x_max, xy[2 * i]);
    y_min = std::min(y_min, xy[2 * i + 1]);
    y_max = std::max(y_max, xy[2 * i + 1]);
  }
  if (!std::isfinite(x_min) || !std::isfinite(x_max) || !std::isfinite(y_min) ||
      !std::isfinite(y_max))
    throw_plot_error(png, "the points hold non-finite coordinates");
  const double margin = 0.1 * std::max({x_max - x_min, y_max - y_min, 1e-6});
  x_min -= margin;
  x_max += margin;
  y_min -= margin;
  y_max += margin;

  // Cell centres, row-major with x fastest.
  const auto res = static_cast<std::size_t>(resolution);
  std::vector<double> grid(res * res * 2);
  const double dx = (x_max - x_min) / static_cast<double>(res);
  const double dy = (y_max - y_min) / static_cast<double>(res);
  for (std::size_t j = 0; j < res; ++j)
    for (std::size_t i = 0; i < res; ++i) {
      grid[2 * (j * res + i)] = x_min + (static_cast<double>(i) + 0.5) * dx;
      grid[2 * (j * res + i) + 1] = y_min + (static_cast<double>(j) + 0.5) * dy;
    }
  const Tensor grid_tensor = tensor(grid, {static_cast<std::int64_t>(res * res), 2}, float32);
  const std::vector<std::int64_t> regions = classify(grid_tensor);
  if (regions.size() != res * res)
    throw_plot_error(png, "the classifier returned " + std::to_string(regions.size()) +
                              " classes for " + std::to_string(res * res) + " grid points");
  for (const auto k : regions)
    if (k < 0 || k >= num_classes)
      throw_plot_error(png, "the classifier returned class " + std::to_string(k) +
                                ", outside [0, " + std::to_string(num_classes) + ")");

  std::ostringstream gp;
  gp.precision(7);
  gp << "$regions << EOD\n";
  for (std::size_t j = 0; j < res; ++j) {
    for (std::size_t i = 0; i < res; ++i)
      gp << grid[2 * (j * res + i)] << " " << grid[2 * (j * res + i) + 1] << " "
         << regions[j * res + i] << "\n";
    gp << "\n";  // blank line between scan lines: the grid layout `with image` expects
  }
  gp << "EOD\n$points << EOD\n";
  for (std::size_t i = 0; i < count; ++i)
    gp << xy[2 * i] << " " << xy[2 * i + 1] << " " << labels[i] << "\n";
  gp << "EOD\n";
  // Regions in light tints of the class colours, points in the full colours.
  gp << "set palette maxcolors " << num_classes << "\nset palette defined (";
  for (int k = 0; k < num_classes; ++k)
    gp << (k ? ", " : "") << k << " " << gp_string(lighten(class_color(k), 0.35));
  gp << ")\n";
  if (num_classes == 1)
    gp << "set palette defined (0 " << gp_string(lighten(class_color(0), 0.35)) << ", 1 "
       << gp_string(lighten(class_color(0), 0.35)) << ")\n";
  for (int k = 0; k < num_classes; ++k)
    gp << "set linetype " << (k + 1) << " lc rgb " << gp_string(class_color(k)) << "\n";
  gp << "set cbrange [-0.5:" << (num_classes - 0.5) << "]\nunset colorbox\n"
     << "set title " << gp_string(title) << " font \",13\"\n"
     << "set xrange [" << x_min << ":" << x_max << "]\nset yrange [" << y_min << ":" << y_max
     << "]\nset size ratio -1\nset xlabel \"x_1\"\nset ylabel \"x_2\"\nset key off\n"
     << "plot $regions using 1:2:3 with image, "
     << "$points using 1:2:($3 + 1) with points pt 7 ps 0.9 lc variable, "
     << "$points using 1:2 with points pt 6 ps 0.9 lc rgb \"#333333\" lw 0.5\n";
  render(png, 800, 800, gp.str());
}

}  // namespace ag::nn
