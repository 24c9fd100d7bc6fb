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
