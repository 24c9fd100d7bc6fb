# The autograd core's suites.
ag_add_test(test_value test_value.cpp)
ag_add_test(test_tensor_ops test_tensor_ops.cpp)
ag_add_test(test_linear_backward test_linear_backward.cpp)
ag_add_test(test_engine test_engine.cpp)
# Its reference products (triple loops in the test) are most of its run time: at -O0 they take
# 4x as long under TSan as at -O2, more than the compile saves.
ag_add_test(test_gemm OPTIMIZED test_gemm.cpp)
ag_add_test(test_gemm_small test_gemm_small.cpp)
ag_add_test(test_vector_math test_vector_math.cpp)
# The small GEMM, the vector exp and linear's element kernels compiled for narrower CPUs (each runs where this
# CPU has the instructions): the same suites in each variant.
foreach(isa x86-64 avx2)
  foreach(suite test_gemm_small test_vector_math test_tensor_ops test_linear_backward)
    add_test(NAME ${suite}_${isa} COMMAND ${suite} --log_level=test_suite --report_level=short)
    set_tests_properties(${suite}_${isa} PROPERTIES ENVIRONMENT AG_SMALL_GEMM_ISA=${isa})
  endforeach()
endforeach()
