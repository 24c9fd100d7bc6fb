#pragma once
// Umbrella header of autograd::nn: modules, losses, optimizers, metrics and data helpers,
// built only on autograd's public API.
#include "nn/data.hpp"
#include "nn/init.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"
