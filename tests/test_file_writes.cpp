// Output files: one writer (ag::write_file_atomically) behind DOT, rendered pictures, plots and
// checkpoints. A regular file is replaced atomically or not at all (a full disk leaves the old
// file intact and no temporary behind); a symlink is followed; a FIFO or device node is
// written through, never replaced by a regular file.
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "autograd/autograd.hpp"
#include "autograd/write_file.hpp"
#include "nn/nn.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using ag_test::expect_error;
using ag_test::read_file;
using ag_test::TempDir;

void put(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

// A tmpfs of `kib` KiB mounted on a fresh directory, when this process may mount (root in a
// container); unmounted afterwards. mounted is false elsewhere.
struct TinyFs {
  TempDir dir{"ag-tinyfs"};
  bool mounted = false;
  explicit TinyFs(int kib) {
    const std::string options = "size=" + std::to_string(kib) + "k";
    mounted = ::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~TinyFs() {
    if (mounted) ::umount(dir.path.c_str());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_regular_file_is_replaced_keeping_its_permissions) {
  TempDir dir;
  const fs::path file = dir.path / "out.dot";
  put(file, "old");
  ::chmod(file.c_str(), 0600);
  ag::write_file_atomically(file, "new contents", "test");
  BOOST_TEST(read_file(file) == "new contents");
  BOOST_TEST((mode_of(file) & 07777) == 0600u);
  BOOST_TEST(dir.names() == std::vector<std::string>{"out.dot"});  // no temporary left
  ag::write_file_atomically(dir.path / "fresh.txt", "x", "test");
  BOOST_TEST((mode_of(dir.path / "fresh.txt") & 07777) == 0644u);
}

BOOST_AUTO_TEST_CASE(a_symlink_is_followed_and_stays_a_link) {
  TempDir dir;
  put(dir.path / "real.dot", "old");
  fs::create_symlink("real.dot", dir.path / "link.dot");
  ag::write_file_atomically(dir.path / "link.dot", "through the link", "test");
  BOOST_TEST(fs::is_symlink(fs::symlink_status(dir.path / "link.dot")));
  BOOST_TEST(read_file(dir.path / "real.dot") == "through the link");
  fs::create_symlink("missing.dot", dir.path / "dangling.dot");
  expect_error([&] { ag::write_file_atomically(dir.path / "dangling.dot", "x", "test"); },
               {"ag::test", "dangling.dot", "symlink to a missing file"});
  BOOST_TEST(fs::is_symlink(fs::symlink_status(dir.path / "dangling.dot")));
  expect_error([&] { ag::write_file_atomically(dir.path, "x", "test"); }, {"ag::test"});
}

BOOST_AUTO_TEST_CASE(a_fifo_is_written_through_not_replaced) {
  TempDir dir;
  const fs::path fifo = dir.path / "graph.fifo";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No reader: refused at once rather than blocking.
  expect_error([&] { ag::write_file_atomically(fifo, "x", "write_dot"); },
               {"ag::write_dot", "graph.fifo", "cannot open"});
  std::string received;
  std::thread reader([&] { received = read_file(fifo); });
  const ag::Tensor x = ag::ones({2}).requires_grad_();
  const ag::Tensor y = (x * 2.0).sum();
  const std::string dot = ag::to_dot({y});
  // Retried until the reader has the FIFO open.
  for (int attempt = 0;; ++attempt) {
    try {
      ag::write_dot(fifo, {y});
      break;
    } catch (const ag::Error&) {
      BOOST_REQUIRE(attempt < 2000);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  reader.join();
  BOOST_TEST(received == dot);
  BOOST_TEST(S_ISFIFO(mode_of(fifo)));
}

BOOST_AUTO_TEST_CASE(a_full_device_is_an_error_and_stays_a_device) {
  BOOST_REQUIRE(S_ISCHR(mode_of("/dev/full")));
  expect_error([] { ag::write_file_atomically("/dev/full", std::string(100, 'x'), "write_dot"); },
               {"ag::write_dot", "/dev/full", "100 bytes", "No space left on device"});
  const ag::Tensor w = ag::ones({3});
  expect_error(
      [&] {
        ag::nn::save_safetensors("/dev/full", {{"w", w}});
      },
      {"ag::safetensors", "/dev/full", "No space left on device"});
  BOOST_TEST(S_ISCHR(mode_of("/dev/full")));
  // /dev/stdout leads to a descriptor through a symlink: written through, never replaced.
  ag::write_file_atomically("/dev/stdout", "", "test");
  BOOST_TEST(fs::is_symlink(fs::symlink_status("/dev/stdout")));
}

BOOST_AUTO_TEST_CASE(a_short_write_leaves_the_old_file_and_no_temporary) {
  // A file-size limit makes write() stop short and then fail (EFBIG), as a full disk does;
  // unlike a full disk it needs no privileges.
  TempDir dir;
  const fs::path file = dir.path / "weights.safetensors";
  put(file, "old checkpoint");
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 4096;
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const ag::Tensor big = ag::zeros({10000});  // 40 kB of data
  try {
    ag::nn::save_safetensors(file, {{"w", big}});
    BOOST_ERROR("no error from a write past the file-size limit");
  } catch (const ag::Error& e) {
    BOOST_TEST(std::string(e.what()).find("File too large") != std::string::npos, e.what());
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  BOOST_TEST(read_file(file) == "old checkpoint");
  BOOST_TEST(dir.names() == std::vector<std::string>{"weights.safetensors"});
}

BOOST_AUTO_TEST_CASE(a_full_filesystem_leaves_the_old_file_intact) {
  TinyFs fs_small(64);
  if (!fs_small.mounted) {
    BOOST_TEST_MESSAGE("skipped: cannot mount a tmpfs here (needs root); see the test above");
    return;
  }
  const fs::path file = fs_small.dir.path / "graph.dot";
  put(file, "old graph");
  expect_error([&] { ag::write_file_atomically(file, std::string(1 << 20, 'x'), "write_dot"); },
               {"ag::write_dot", "graph.dot", "1048576 bytes", "No space left on device"});
  BOOST_TEST(read_file(file) == "old graph");
  BOOST_TEST(fs_small.dir.names() == std::vector<std::string>{"graph.dot"});
}

BOOST_AUTO_TEST_CASE(a_plot_rendered_into_a_full_temporary_directory_is_refused) {
  if (!ag::nn::gnuplot_available()) {
    BOOST_TEST_MESSAGE("skipped: gnuplot is not installed");
    return;
  }
  TinyFs tmp(8);  // room for gnuplot's script, not for its picture
  if (!tmp.mounted) {
    BOOST_TEST_MESSAGE("skipped: cannot mount a tmpfs here (needs root)");
    return;
  }
  TempDir out;
  const fs::path png = out.path / "curves.png";
  put(png, "old picture");
  ag::nn::TrainingHistory history;
  history.train_loss = {0.9, 0.5, 0.4};
  history.test_accuracy = {0.7, 0.8, 0.85};
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.dir.path.c_str(), 1);
  try {
    ag::nn::plot_training_curves(png, history, "curves");
    BOOST_ERROR("a truncated picture was delivered");
  } catch (const ag::Error& e) {
    BOOST_TEST(e.op() == "plot", e.what());
    BOOST_TEST_MESSAGE(e.what());
  }
  if (old_tmpdir) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  BOOST_TEST(read_file(png) == "old picture");
}
