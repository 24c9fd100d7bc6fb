#pragma once
// Memory reuse. Tensor buffers freed by a thread are kept for reuse by the next tensors of the
// same size class (a training step allocates the same sizes every time): at most 16 blocks
// per class and 256 MiB per thread. Scalar nodes come from a per-thread pool that returns its
// memory when the thread's last Value dies.
namespace ag {
// Gives this thread's cached tensor buffers back to the system (e.g. after training).
void release_cached_memory() noexcept;
}  // namespace ag
