#pragma once
// Checkpoints of a data-parallel run. The replicas are equal, so one file holds the model and
// the optimizer state whatever the number of ranks: written by rank 0 alone (atomically, by
// nn::save_checkpoint), read by rank 0 and broadcast, so a run saved with N ranks resumes
// with any number (or in one process with nn::load_checkpoint). No shared file system needed
// for loading; the other ranks never touch the file.
#include <filesystem>

#include "nn/io.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace ag::dist {

// Collective. Rank 0 writes; every rank returns once the file is in place, or throws the same
// ag::Error if rank 0 could not write it.
void save_checkpoint(const std::filesystem::path& path, const nn::Module& module,
                     const nn::Optimizer* optimizer = nullptr, const nn::Metadata& metadata = {});

// Collective. Rank 0 reads and checks the file (nn::load_checkpoint); every rank then holds
// its parameters, optimizer state and metadata. On a bad file every rank throws the same
// ag::Error and no rank's module or optimizer changes.
nn::Metadata load_checkpoint(const std::filesystem::path& path, nn::Module& module,
                             nn::Optimizer* optimizer = nullptr);

}  // namespace ag::dist
