# The long random-graph run: tools/fuzz_graphs --graphs N --seed S.
include(${PROJECT_SOURCE_DIR}/tests/random_graph/random_graph.cmake)
add_executable(fuzz_graphs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_graphs.cpp)
target_link_libraries(fuzz_graphs PRIVATE ag_random_graph fmt::fmt ag_command_line)
target_compile_options(fuzz_graphs PRIVATE -Wall -Wextra)
