# The op table and registry: finite differences for every registered op, coverage by the
# random-graph generator and the PyTorch references, hand values.
ag_add_test(test_op_table ${CMAKE_CURRENT_SOURCE_DIR}/test_op_table.cpp
                          ${CMAKE_CURRENT_SOURCE_DIR}/random_graph.cpp)
target_link_libraries(test_op_table PRIVATE fmt::fmt)
