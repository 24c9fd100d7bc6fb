# The engine's grad-ready hooks (a public feature; data-parallel training is built on it).
ag_add_test(test_grad_hooks test_grad_hooks.cpp)
