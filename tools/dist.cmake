# Data-parallel scaling benchmark (autograd::dist), when built with MPI.
if(AG_WITH_MPI)
  add_executable(ag_bench_ddp ${CMAKE_CURRENT_SOURCE_DIR}/bench/ddp_scaling.cpp)
  target_link_libraries(ag_bench_ddp PRIVATE autograd::dist ag_command_line)
  target_compile_options(ag_bench_ddp PRIVATE -Wall -Wextra)
endif()
