# agexpr: differentiate expressions, explain and draw their graphs, check hand-derived derivatives.
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
add_executable(agexpr
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/main.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/check_report.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/cli.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/parser.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/program.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/report.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/expr/second_order.cpp)
target_include_directories(agexpr PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(agexpr PRIVATE autograd::autograd CLI11::CLI11 nlohmann_json::nlohmann_json)
target_compile_options(agexpr PRIVATE -Wall -Wextra)
