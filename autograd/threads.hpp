#pragma once
// The thread budget of the library's kernels (OpenBLAS included). One budget for everything:
// two pools of threads at once oversubscribe a small machine.
namespace ag {
void set_num_threads(int n);  // n >= 1
int num_threads() noexcept;
}  // namespace ag
