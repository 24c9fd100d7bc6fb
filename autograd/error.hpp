#pragma once
// The one error type of the library. Every failure names the op at fault and what was wrong
// (shapes, dtypes or values), e.g. "ag::add: shapes [2, 3] and [4] do not broadcast".
#include <stdexcept>
#include <string>
#include <string_view>

namespace ag {

class Error : public std::runtime_error {
 public:
  Error(std::string_view op, std::string_view message);
  // The op (or component) that raised the error, e.g. "matmul" or "backward".
  const std::string& op() const noexcept { return op_; }

 private:
  std::string op_;
};

}  // namespace ag
