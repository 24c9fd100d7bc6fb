# ag::explain / ag::backward_trace, and agexpr's explanations and JSON output.
ag_add_test(test_explain test_explain.cpp)
