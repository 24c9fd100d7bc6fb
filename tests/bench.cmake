# Benchmarks: every workload runs at a tiny size and its numbers must match the PyTorch values
# stored in tests/data/bench_refs.txt (made by tools/bench/make_bench_refs.py). No timing.
if(AG_BUILD_TOOLS)
  add_test(NAME bench_smoke COMMAND ag_bench --threads 1 smoke ${CMAKE_CURRENT_SOURCE_DIR}/data/bench_refs.txt)
  set_tests_properties(bench_smoke PROPERTIES TIMEOUT 120 LABELS bench)
  add_test(NAME bench_smoke_two_threads COMMAND ag_bench --threads 2 smoke ${CMAKE_CURRENT_SOURCE_DIR}/data/bench_refs.txt)
  set_tests_properties(bench_smoke_two_threads PROPERTIES TIMEOUT 120 LABELS bench)
  # The peak kernel runs and reports a positive rate.
  add_test(NAME bench_peak_smoke COMMAND ag_bench_peak --threads 1 --seconds 0.01)
  set_tests_properties(bench_peak_smoke PROPERTIES TIMEOUT 60 LABELS bench
    PASS_REGULAR_EXPRESSION "\"gflops\": [1-9][0-9]*\\.")
endif()
