# Benchmarks: every workload runs at a tiny size and its numbers must match the PyTorch values
# stored in tests/data/bench_refs.txt (made by tools/bench/make_bench_refs.py). No timing.
if(AG_BUILD_TOOLS)
  add_test(NAME bench_smoke COMMAND ag_bench --threads 1 smoke ${CMAKE_CURRENT_SOURCE_DIR}/data/bench_refs.txt)
  set_tests_properties(bench_smoke PROPERTIES TIMEOUT 120 LABELS bench)
  add_test(NAME bench_smoke_two_threads COMMAND ag_bench --threads 2 smoke ${CMAKE_CURRENT_SOURCE_DIR}/data/bench_refs.txt)
  set_tests_properties(bench_smoke_two_threads PROPERTIES TIMEOUT 120 LABELS bench)
  # A malformed parameter is refused with its name and value (and a nonzero exit).
  add_test(NAME bench_refuses_bad_parameter COMMAND ag_bench run spiral epochs=abc)
  set_tests_properties(bench_refuses_bad_parameter PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "parameter epochs=abc is not an integer")
  add_test(NAME bench_refuses_out_of_range_parameter COMMAND ag_bench run spiral epochs=99999999999999999999)
  set_tests_properties(bench_refuses_out_of_range_parameter PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "epochs=99999999999999999999 is out of the 64-bit integer range")
  # The peak kernel runs and reports a positive rate.
  add_test(NAME bench_peak_smoke COMMAND ag_bench_peak --threads 1 --seconds 0.01)
  set_tests_properties(bench_peak_smoke PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "\"gflops\": [1-9][0-9]*\\.")
  # The peak and node-floor programs refuse what they cannot measure, naming the option.
  add_test(NAME bench_peak_refuses_no_threads COMMAND ag_bench_peak --threads 0)
  set_tests_properties(bench_peak_refuses_no_threads PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "--threads: Value 0 not in range 1 to 1024")
  add_test(NAME bench_node_floor_refuses_record_size COMMAND ag_bench_node_floor --bytes 40)
  set_tests_properties(bench_node_floor_refuses_record_size PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "--bytes: 40 not in \\{48,32\\}")
  # The core-to-core latency probe reports a round trip, and refuses one CPU for both threads.
  cmake_host_system_information(RESULT ag_cpus QUERY NUMBER_OF_LOGICAL_CORES)
  if(ag_cpus GREATER 1)
    add_test(NAME bench_core_latency_smoke COMMAND ag_bench_core_latency --cpu-a 0 --cpu-b 1 --trips 1000)
    set_tests_properties(bench_core_latency_smoke PROPERTIES TIMEOUT 60 LABELS bench
      PASS_REGULAR_EXPRESSION "\"round_trip_ns\": [0-9]")
  endif()
  add_test(NAME bench_core_latency_refuses_one_cpu COMMAND ag_bench_core_latency --cpu-a 0 --cpu-b 0)
  set_tests_properties(bench_core_latency_refuses_one_cpu PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "--cpu-a and --cpu-b must differ \\(both 0\\)")
  add_test(NAME bench_gemm_compare_peak
    COMMAND ${CMAKE_COMMAND} -DCOMPARE=$<TARGET_FILE:ag_gemm_compare> -DPEAK=$<TARGET_FILE:ag_bench_peak>
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/gemm_compare_peak
            -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/gemm_compare_peak.cmake)
  set_tests_properties(bench_gemm_compare_peak PROPERTIES TIMEOUT 120 LABELS bench
    PASS_REGULAR_EXPRESSION "measured from an odd path; refused without the peak program")
endif()
