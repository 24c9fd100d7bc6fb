#pragma once
// The threads that share a large matrix product (gemm.cpp). The caller claims chunks like the
// helpers do, so it never waits for a helper that has not started: on a busy machine, where a
// helper may get a core late, a product takes at worst about its one-thread time, where a
// static split (an OpenMP team) waits for every thread at the barrier.
namespace ag::detail {

// Runs chunk(context, i) once for every i in [0, chunks), on this thread and up to `helpers`
// pool threads. Another thread's job in flight: everything runs here. A chunk that throws: the
// first exception is rethrown here once every chunk has run.
void run_chunks(int helpers, int chunks, void (*chunk)(void*, int), void* context);

}  // namespace ag::detail
