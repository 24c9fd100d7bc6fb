#pragma once
// Helpers shared by the test suites: a scratch directory, whole-file reads, and error checks.
#include <stdlib.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/error.hpp"

namespace ag_test {

namespace fs = std::filesystem;

// A fresh directory (mkdtemp) for one test, removed with everything in it afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag = "ag-test") {
    std::string pattern = (fs::temp_directory_path() / (tag + "-XXXXXX")).string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // File names in the directory, sorted (to see that no temporary file was left behind).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t entries() const { return names().size(); }
};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `action` and requires an ag::Error whose message contains every fragment.
template <class F>
void expect_error(F&& action, const std::vector<std::string>& fragments) {
  try {
    action();
    BOOST_ERROR("no error thrown; expected one mentioning '" + fragments.front() + "'");
  } catch (const ag::Error& e) {
    const std::string message = e.what();
    for (const auto& part : fragments) {
      BOOST_CHECK_MESSAGE(message.find(part) != std::string::npos,
                          "message '" << message << "' lacks '" << part << "'");
    }
  }
}

}  // namespace ag_test
