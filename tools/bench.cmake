# Benchmarks side by side with PyTorch (tools/bench/run.sh drives them; see the README).
add_executable(ag_bench
  ${CMAKE_CURRENT_SOURCE_DIR}/bench/ag_bench.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/bench/workloads.cpp)
target_link_libraries(ag_bench PRIVATE autograd::autograd autograd::nn)
target_compile_options(ag_bench PRIVATE -Wall -Wextra)

# The float32 FMA peak kernel: the only target built for this CPU (-march=native), so that it
# measures what the hardware can do; the library and ag_bench stay portable.
add_executable(ag_bench_peak ${CMAKE_CURRENT_SOURCE_DIR}/bench/peak_flops.cpp)
target_compile_options(ag_bench_peak PRIVATE -Wall -Wextra -O2 -march=native)
find_package(Threads REQUIRED)
target_link_libraries(ag_bench_peak PRIVATE Threads::Threads)

# Hessian-vector product cost relative to a gradient (docs/higher_order.md quotes it).
add_executable(ag_hvp_cost ${CMAKE_CURRENT_SOURCE_DIR}/bench/hvp_cost.cpp)
target_link_libraries(ag_hvp_cost PRIVATE autograd::autograd)
target_compile_options(ag_hvp_cost PRIVATE -Wall -Wextra)
