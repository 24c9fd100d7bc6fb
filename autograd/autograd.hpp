#pragma once
// Umbrella header: everything a user of the autograd engine needs.
#include "autograd/dtype.hpp"
#include "autograd/error.hpp"
#include "autograd/format.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/graph.hpp"
#include "autograd/shape.hpp"
#include "autograd/tensor.hpp"
#include "autograd/threads.hpp"
#include "autograd/value.hpp"
