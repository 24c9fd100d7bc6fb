# The long random-graph run (issue 7): tools/fuzz_graphs --graphs N --seed S.
find_package(CLI11 CONFIG REQUIRED)
add_executable(fuzz_graphs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_graphs.cpp ${PROJECT_SOURCE_DIR}/tests/random_graph.cpp)
target_include_directories(fuzz_graphs PRIVATE ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(fuzz_graphs PRIVATE autograd::autograd fmt::fmt CLI11::CLI11)
target_compile_options(fuzz_graphs PRIVATE -Wall -Wextra)
