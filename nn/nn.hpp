#pragma once
// Umbrella header of autograd::nn: modules, losses, optimizers, metrics, data helpers, file
// I/O (IDX, safetensors) and training plots, built only on autograd's public API.
#include "nn/data.hpp"
#include "nn/init.hpp"
#include "nn/io.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"
#include "nn/plot.hpp"
