# The op table and registry: finite differences for every registered op, coverage by the
# random-graph generator and the PyTorch references, hand values.
include(${CMAKE_CURRENT_SOURCE_DIR}/random_graph/random_graph.cmake)
ag_add_test(test_op_table ${CMAKE_CURRENT_SOURCE_DIR}/test_op_table.cpp)
target_link_libraries(test_op_table PRIVATE ag_random_graph)

# User-defined ops: the documented example runs, and its gradcheck passes. Where the examples
# are built, that is examples/custom_op itself; otherwise this area builds its own copy.
if(AG_BUILD_EXAMPLES)
  add_test(NAME example_custom_op COMMAND custom_op)
else()
  add_executable(example_custom_op ${PROJECT_SOURCE_DIR}/examples/custom_op.cpp)
  target_link_libraries(example_custom_op PRIVATE autograd::autograd)
  add_test(NAME example_custom_op COMMAND example_custom_op)
endif()
set_tests_properties(example_custom_op PROPERTIES
  PASS_REGULAR_EXPRESSION "swish gradcheck: ok.*clipped gradient: 0.5 0.5 0.5")
ag_add_test(test_user_function ${CMAKE_CURRENT_SOURCE_DIR}/test_user_function.cpp)
ag_add_test(test_op_create_graph ${CMAKE_CURRENT_SOURCE_DIR}/test_op_create_graph.cpp)
