# Higher-order gradients: ag::grad, create_graph, gradgradcheck over every op, Hessians
# against stored PyTorch references; and the engine's refusals (released graph, in-place).
ag_add_test(test_higher_order test_higher_order.cpp)
ag_add_test(test_higher_order_refs test_higher_order_refs.cpp)
ag_add_test(test_engine_refusals test_engine_refusals.cpp)

# The page's code block is examples/higher_order_basics.cpp, verbatim; the program runs.
add_test(NAME docs_higher_order_snippet
         COMMAND ${CMAKE_COMMAND} -DDOC=${PROJECT_SOURCE_DIR}/docs/higher_order.md
                 -DSNIPPET=${PROJECT_SOURCE_DIR}/examples/higher_order_basics.cpp
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/check_doc_snippet.cmake)
if(AG_BUILD_EXAMPLES)
  # Values the comments of the snippet state: 3x^2, 6x, diag(6x), 6x * 1.
  add_test(NAME example_higher_order_basics COMMAND higher_order_basics)
  set_tests_properties(example_higher_order_basics PROPERTIES
    PASS_REGULAR_EXPRESSION "g = tensor\\(\\[3, 12\\].*h = tensor\\(\\[6, 12\\].*H = tensor\\(\\[\\[6, 0\\],[^]]*\\[0, 12\\]\\].*Hv = tensor\\(\\[6, 12\\]"
    LABELS examples TIMEOUT 60)
  # Step 1 by hand: 2 - f'(2)/f''(2) = 2 - 20/42; the 1-D run ends at sqrt(3/2); the
  # 2-parameter run at (1, 1); engine and closed form print the same digits.
  add_test(NAME example_newton COMMAND newton)
  set_tests_properties(example_newton PROPERTIES
    PASS_REGULAR_EXPRESSION "step 1: f'' = 42.0000000000  x = 1.5238095238  \\(closed form 1.5238095238\\).*step 6: f'' = 12.0000000412  x = 1.2247448714  \\(closed form 1.2247448714\\).*minimum sqrt\\(3/2\\) = 1.2247448714.*step 1: H = \\[\\[42.0000, 40.0000\\], \\[40.0000, 20.0000\\]\\]  \\(a, b\\) = \\(-1.1052631579, 1.2105263158\\)  \\(closed form \\(-1.1052631579, 1.2105263158\\)\\).*step 6: H = [^(]*\\(a, b\\) = \\(1.0000000000, 0.9999999509\\)  \\(closed form \\(1.0000000000, 0.9999999509\\)\\)"
    LABELS examples TIMEOUT 60)
  # At w = 0 every p is 1/2: the loss is log 2. Newton converges quadratically (the gradient
  # norm falls below 1e-5 in six steps) and the engine's Hessian equals the closed form.
  add_test(NAME example_logistic_newton COMMAND logistic_newton)
  set_tests_properties(example_logistic_newton PROPERTIES
    PASS_REGULAR_EXPRESSION "step 0: loss 0.693147180560 .*step 6: loss [0-9.]+  \\|grad\\| [0-9.]+e-0[6-9].*closed form at every step \\(to 1e-12\\): yes"
    LABELS examples TIMEOUT 60)
endif()
