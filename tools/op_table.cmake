# ag_op_table: the op registry as text, for tools/make_torch_refs.py.
add_executable(ag_op_table ${CMAKE_CURRENT_SOURCE_DIR}/op_table.cpp)
target_link_libraries(ag_op_table PRIVATE autograd::autograd fmt::fmt)
