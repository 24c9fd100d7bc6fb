# The autograd core's suites.
ag_add_test(test_value test_value.cpp)
ag_add_test(test_tensor_ops test_tensor_ops.cpp)
ag_add_test(test_engine test_engine.cpp)
ag_add_test(test_gemm test_gemm.cpp)
ag_add_test(test_gemm_small test_gemm_small.cpp)
# The same kernels compiled for narrower CPUs (each runs where this CPU has its instructions).
foreach(isa x86-64 avx2)
  add_test(NAME test_gemm_small_${isa} COMMAND test_gemm_small --log_level=test_suite --report_level=short)
  set_tests_properties(test_gemm_small_${isa} PROPERTIES ENVIRONMENT AG_SMALL_GEMM_ISA=${isa})
endforeach()
