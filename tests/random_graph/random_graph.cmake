# The random-graph generator, checker and shrinker (random_graph.hpp), built once for every
# suite and tool that uses it: link ag_random_graph. Included by each user's area file, so
# that any subset of test areas (and tools/ without tests) configures on its own.
include_guard(GLOBAL)
add_library(ag_random_graph STATIC
  ${CMAKE_CURRENT_LIST_DIR}/check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/domains.cpp
  ${CMAKE_CURRENT_LIST_DIR}/evaluate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/generate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/shapes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/shrink.cpp
  ${CMAKE_CURRENT_LIST_DIR}/text.cpp)
target_include_directories(ag_random_graph PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(ag_random_graph PUBLIC autograd::autograd fmt::fmt)
target_compile_options(ag_random_graph PRIVATE -Wall -Wextra)
