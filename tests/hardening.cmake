# Hardening: random graphs vs finite differences, threads, extremes, bad inputs.
include(${CMAKE_CURRENT_SOURCE_DIR}/random_graph/random_graph.cmake)
ag_add_test(test_random_graphs ${CMAKE_CURRENT_SOURCE_DIR}/test_random_graphs.cpp)
target_link_libraries(test_random_graphs PRIVATE ag_random_graph)

# Threads: concurrent graphs must match one thread bitwise (also run under TSan, tools/ci/tsan.sh).
find_package(Threads REQUIRED)
ag_add_test(test_threads ${CMAKE_CURRENT_SOURCE_DIR}/test_threads.cpp)
target_link_libraries(test_threads PRIVATE ag_random_graph Threads::Threads)

# Extremes: 10M-node chains, 1M-way fan-ins; memory returns to baseline (VmRSS).
ag_add_test(test_extremes ${CMAKE_CURRENT_SOURCE_DIR}/test_extremes.cpp)

# Bad inputs: each row of the table in the README (Hardening, Bad inputs).
ag_add_test(test_bad_inputs ${CMAKE_CURRENT_SOURCE_DIR}/test_bad_inputs.cpp)
find_package(ZLIB REQUIRED)  # nn's IDX reader; io.cmake links it too, but areas build alone
target_link_libraries(test_bad_inputs PRIVATE ZLIB::ZLIB)

set_tests_properties(test_random_graphs test_threads test_extremes test_bad_inputs PROPERTIES LABELS hardening)
# The long run, on demand: -DAG_FUZZ_LONG=ON adds a million-graph CTest (several minutes).
option(AG_FUZZ_LONG "Register the long random-graph run (1,000,000 graphs) with CTest" OFF)
if(AG_FUZZ_LONG)
  add_test(NAME random_graphs_long COMMAND test_random_graphs --run_test=random_graphs_match_finite_differences)
  set_tests_properties(random_graphs_long PROPERTIES LABELS hardening TIMEOUT 3600
    ENVIRONMENT "AG_FUZZ_GRAPHS=1000000;AG_FUZZ_SEED=1000000;AG_FUZZ_MAX_OPS=16")
endif()
