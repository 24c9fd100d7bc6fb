# Higher-order gradients: ag::grad, create_graph, gradgradcheck over every op, Hessians
# against stored PyTorch references; and the engine's refusals (released graph, in-place).
ag_add_test(test_higher_order test_higher_order.cpp)
ag_add_test(test_engine_refusals test_engine_refusals.cpp)
