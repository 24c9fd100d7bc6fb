# Trust: sizes and limits, size-0 dims, handles outliving the thread caches, weight tying,
# file writes, plots fed hostile strings, memory returned to the system, the tensor-API fuzzer.
find_package(ZLIB REQUIRED)

ag_add_test(test_limits ${CMAKE_CURRENT_SOURCE_DIR}/test_limits.cpp)
target_link_libraries(test_limits PRIVATE ZLIB::ZLIB)
# The allocation-failure cases ask for 4 TiB: under ASan that must return null, not abort.
set_tests_properties(test_limits PROPERTIES LABELS trust TIMEOUT 120
  ENVIRONMENT "ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1")

ag_add_test(test_empty_dims ${CMAKE_CURRENT_SOURCE_DIR}/test_empty_dims.cpp)
set_tests_properties(test_empty_dims PROPERTIES LABELS trust TIMEOUT 60)

# Writes to FIFOs, /dev/full, a file-size limit and (as root) a tiny tmpfs.
ag_add_test(test_file_writes ${CMAKE_CURRENT_SOURCE_DIR}/test_file_writes.cpp)
find_package(Threads REQUIRED)
target_link_libraries(test_file_writes PRIVATE Threads::Threads)
ag_add_test(test_plot_strings ${CMAKE_CURRENT_SOURCE_DIR}/test_plot_strings.cpp)
set_tests_properties(test_file_writes test_plot_strings PROPERTIES LABELS trust TIMEOUT 120)

# Globals destroyed after the thread-local caches (meaningful under ASan: tools/ci/sanitize.sh).
add_executable(global_handles ${CMAKE_CURRENT_SOURCE_DIR}/global_handles.cpp)
target_link_libraries(global_handles PRIVATE autograd::autograd Threads::Threads)
target_compile_options(global_handles PRIVATE ${AG_TEST_COMPILE_OPTIONS})
add_test(NAME global_handles COMMAND global_handles)
set_tests_properties(global_handles PROPERTIES LABELS trust TIMEOUT 60
  ENVIRONMENT "MALLOC_CHECK_=3;MALLOC_PERTURB_=165")

ag_add_test(test_weight_tying ${CMAKE_CURRENT_SOURCE_DIR}/test_weight_tying.cpp)
set_tests_properties(test_weight_tying PROPERTIES LABELS trust TIMEOUT 60)

# Resident memory (meaningless under ASan: tools/ci/sanitize.sh leaves it out).
ag_add_test(test_memory_return ${CMAKE_CURRENT_SOURCE_DIR}/test_memory_return.cpp)
set_tests_properties(test_memory_return PROPERTIES LABELS trust TIMEOUT 120)

# The tensor-API fuzz target (libFuzzer in tools/ci/fuzz.sh), replayed over its seed corpus.
add_executable(fuzz_tensor_ops_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_tensor_ops.cpp
                                      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_replay_main.cpp)
target_link_libraries(fuzz_tensor_ops_replay PRIVATE autograd::autograd)
target_compile_options(fuzz_tensor_ops_replay PRIVATE ${AG_TEST_COMPILE_OPTIONS})
add_test(NAME fuzz_tensor_ops_replay
  COMMAND fuzz_tensor_ops_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_tensor_ops)
set_tests_properties(fuzz_tensor_ops_replay PROPERTIES LABELS trust TIMEOUT 120)

include(${CMAKE_CURRENT_SOURCE_DIR}/random_graph/random_graph.cmake)
ag_add_test(test_random_graphs_extended ${CMAKE_CURRENT_SOURCE_DIR}/test_random_graphs_extended.cpp)
target_link_libraries(test_random_graphs_extended PRIVATE ag_random_graph)
set_tests_properties(test_random_graphs_extended PROPERTIES LABELS trust TIMEOUT 300)
