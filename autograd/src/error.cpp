// The one error type.
#include "autograd/error.hpp"

#include <fmt/format.h>

namespace ag {

Error::Error(std::string_view op, std::string_view message)
    : std::runtime_error(fmt::format("ag::{}: {}", op, message)), op_(op) {}

}  // namespace ag
