#pragma once
// Memory reuse. Tensor buffers freed by a thread are kept for reuse by the next tensors of the
// same size class (a training step allocates the same sizes every time): at most 16 blocks
// per class and 256 MiB per thread. Scalar nodes come from a per-thread pool of 2 MiB chunks,
// and an ag::Tape's from the thread's tape; a chunk whose last node dies (or whose scope ended)
// is kept empty for the next nodes, up to 128 MiB per thread for each of the two, since memory
// touched for the first time costs a page fault per 4 KiB: a loop that builds the same big
// graph every step reuses its memory instead.
namespace ag {
// Gives this thread's cached tensor buffers and nodes, spare scalar and tape chunks and the
// graph walker's scratch (kept up to 4M entries between backward calls) back to the system, then
// asks the C library to return its free heap pages too (malloc_trim on glibc), so that resident
// memory falls back after a big graph dies.
void release_cached_memory() noexcept;
}  // namespace ag
