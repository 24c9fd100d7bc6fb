#pragma once
// Helpers shared by the test suites: a scratch directory, whole-file reads, error checks,
// random float64 inputs for gradient checks, and which library the float32 products ran on.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/error.hpp"
#include "autograd/gemm_backend.hpp"
#include "autograd/tensor.hpp"

// 1 under AddressSanitizer, whose shadow memory and quarantine make resident memory say nothing
// about the engine's. GCC defines __SANITIZE_ADDRESS__; clang 14 answers __has_feature only.
#if defined(__SANITIZE_ADDRESS__)
#define AG_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AG_TEST_ASAN 1
#endif
#endif
#ifndef AG_TEST_ASAN
#define AG_TEST_ASAN 0
#endif

namespace ag_test {

// Whether large float32 products run on oneDNN, cut into pieces for the library's pool (what
// the pool's piece counts assume), rather than on OpenBLAS, which threads them itself (a build
// with AG_GEMM=openblas, or without libgomp).
inline bool products_use_the_pool() {
  return ag::gemm_backend().find("(built for oneDNN") != std::string::npos;
}

namespace fs = std::filesystem;

// The process's resident memory, in bytes (/proc/self/statm).
inline std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

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

// A file of tests/data (the stored references) or of the source tree, joined as paths: string
// concatenation here set off GCC 12's -Warray-bounds false positive in inlined std::string code.
inline fs::path data_file(const fs::path& relative) {
  return fs::path(AG_TEST_DATA_DIR) / relative;
}
inline fs::path source_file(const fs::path& relative) { return fs::path(AG_SOURCE_DIR) / relative; }

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

// Random float64 inputs of the given shapes in [lo, hi), kept at least 0.1 away from 0 (the
// kinks of relu/abs), for finite-difference checks.
inline std::vector<ag::Tensor> inputs(std::vector<ag::Shape> shapes, std::uint64_t seed,
                                      double lo = -1.5, double hi = 1.5) {
  ag::Generator gen(seed);
  std::vector<ag::Tensor> xs;
  for (auto& s : shapes) {
    std::vector<double> v = ag::rand(s, gen, ag::float64).to_vector();
    for (double& e : v) {
      e = lo + (hi - lo) * e;
      if (std::abs(e) < 0.1) e += e < 0 ? -0.2 : 0.2;
    }
    xs.push_back(ag::tensor(v, s, ag::float64));
  }
  return xs;
}

}  // namespace ag_test
