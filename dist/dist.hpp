#pragma once
// Umbrella header of autograd::dist (built when MPI is found, AG_WITH_MPI): data-parallel
// training over MPI. See docs/distributed.md.
#include "dist/checkpoint.hpp"
#include "dist/comm.hpp"
#include "dist/ddp.hpp"
#include "dist/metrics.hpp"
#include "dist/sampler.hpp"
