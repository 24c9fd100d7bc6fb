# The autograd core's suites.
ag_add_test(test_value test_value.cpp)
ag_add_test(test_tensor_ops test_tensor_ops.cpp)
ag_add_test(test_engine test_engine.cpp)
# Its reference products (triple loops in the test) are most of its run time: at -O0 they take
# 4x as long under TSan as at -O2, more than the compile saves.
ag_add_test(test_gemm OPTIMIZED test_gemm.cpp)
