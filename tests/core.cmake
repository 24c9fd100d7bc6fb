# The autograd core's suites.
ag_add_test(test_value test_value.cpp)
ag_add_test(test_tensor_ops test_tensor_ops.cpp)
ag_add_test(test_engine test_engine.cpp)
ag_add_test(test_gemm test_gemm.cpp)
