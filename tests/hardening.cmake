# Hardening (issue 7): random graphs vs finite differences, threads, extremes, bad inputs.
ag_add_test(test_random_graphs ${CMAKE_CURRENT_SOURCE_DIR}/test_random_graphs.cpp
                               ${CMAKE_CURRENT_SOURCE_DIR}/random_graph.cpp)
target_link_libraries(test_random_graphs PRIVATE fmt::fmt)

# Threads: concurrent graphs must match one thread bitwise (also run under TSan, tools/ci/tsan.sh).
find_package(Threads REQUIRED)
ag_add_test(test_threads ${CMAKE_CURRENT_SOURCE_DIR}/test_threads.cpp ${CMAKE_CURRENT_SOURCE_DIR}/random_graph.cpp)
target_link_libraries(test_threads PRIVATE fmt::fmt Threads::Threads)

# Extremes: 10M-node chains, 1M-way fan-ins; memory returns to baseline (VmRSS).
ag_add_test(test_extremes ${CMAKE_CURRENT_SOURCE_DIR}/test_extremes.cpp)

# Bad inputs: each row of the table in docs/readme/hardening.md.
ag_add_test(test_bad_inputs ${CMAKE_CURRENT_SOURCE_DIR}/test_bad_inputs.cpp)
find_package(ZLIB REQUIRED)  # nn's IDX reader; io.cmake links it too, but areas build alone
target_link_libraries(test_bad_inputs PRIVATE ZLIB::ZLIB)
