#pragma once
// The headers most suites include, parsed once per build tree (target_precompile_headers on
// ag_test_main, reused by every suite but the OPTIMIZED ones): they were about 2 of a suite's
// 3 to 8 compile seconds (docs/testing.md). Each suite still includes what it uses itself, so it
// also compiles without them (CMAKE_DISABLE_PRECOMPILE_HEADERS=ON).
#include <algorithm>
#include <array>
#include <autograd/autograd.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nn/nn.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
