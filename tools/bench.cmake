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
target_link_libraries(ag_bench_peak PRIVATE Threads::Threads ag_command_line)

# The memory traffic of recording and sweeping a scalar chain with no engine around it: the floor
# under the tape's per-op figure (docs/benchmarks.md).
add_executable(ag_bench_node_floor ${CMAKE_CURRENT_SOURCE_DIR}/bench/node_floor.cpp)
target_compile_options(ag_bench_node_floor PRIVATE -Wall -Wextra)
target_link_libraries(ag_bench_node_floor PRIVATE ag_command_line)

# How far apart two CPUs are (a cache line's round trip between threads pinned to each): on a VM
# it moves with the host's placement of the virtual CPUs (docs/benchmarks.md).
add_executable(ag_bench_core_latency ${CMAKE_CURRENT_SOURCE_DIR}/bench/core_latency.cpp)
target_compile_options(ag_bench_core_latency PRIVATE -Wall -Wextra)
target_link_libraries(ag_bench_core_latency PRIVATE Threads::Threads ag_command_line)

# Hessian-vector product cost relative to a gradient (docs/higher_order.md quotes it).
add_executable(ag_hvp_cost ${CMAKE_CURRENT_SOURCE_DIR}/bench/hvp_cost.cpp)
target_link_libraries(ag_hvp_cost PRIVATE autograd::autograd)
target_compile_options(ag_hvp_cost PRIVATE -Wall -Wextra)

# The matrix-product libraries side by side on the MLP's shapes (docs/benchmarks.md). OpenBLAS
# always; oneDNN, BLIS (OpenMP build) and libxsmm where installed (tools/install-deps.sh --test).
add_executable(ag_gemm_compare ${CMAKE_CURRENT_SOURCE_DIR}/bench/gemm_compare.cpp)
# The engine's small-product kernels are one of the libraries (an internal header).
target_include_directories(ag_gemm_compare PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(ag_gemm_compare PRIVATE autograd BLAS::BLAS)
target_compile_options(ag_gemm_compare PRIVATE -Wall -Wextra)
# oneDNN as found by CMakeLists.txt (AG_GEMM), or looked up here when the engine is built without.
find_path(AG_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(AG_DNNL_LIBRARY dnnl)
find_package(OpenMP QUIET COMPONENTS CXX)
if(AG_DNNL_INCLUDE_DIR AND AG_DNNL_LIBRARY AND OpenMP_CXX_FOUND)
  target_include_directories(ag_gemm_compare PRIVATE ${AG_DNNL_INCLUDE_DIR})
  target_link_libraries(ag_gemm_compare PRIVATE ${AG_DNNL_LIBRARY} OpenMP::OpenMP_CXX)
  target_compile_definitions(ag_gemm_compare PRIVATE AG_HAVE_DNNL)
endif()
find_path(AG_BLIS_INCLUDE_DIR blis.h PATH_SUFFIXES x86_64-linux-gnu/blis-openmp blis)
find_library(AG_BLIS_LIBRARY blis PATH_SUFFIXES blis-openmp)
if(AG_BLIS_INCLUDE_DIR AND AG_BLIS_LIBRARY)
  target_include_directories(ag_gemm_compare PRIVATE ${AG_BLIS_INCLUDE_DIR})
  # After BLAS::BLAS: BLIS also exports cblas_sgemm; OpenBLAS's must win for that row.
  target_link_libraries(ag_gemm_compare PRIVATE ${AG_BLIS_LIBRARY})
  target_compile_definitions(ag_gemm_compare PRIVATE AG_HAVE_BLIS)
endif()
pkg_check_modules(AG_XSMM QUIET IMPORTED_TARGET libxsmm)
if(AG_XSMM_FOUND)
  target_link_libraries(ag_gemm_compare PRIVATE PkgConfig::AG_XSMM BLAS::BLAS)
  target_compile_definitions(ag_gemm_compare PRIVATE AG_HAVE_XSMM)
endif()
