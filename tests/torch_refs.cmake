# PyTorch reference values: tests/data/torch_refs.txt, written by tools/make_torch_refs.py.
ag_add_test(test_torch_refs ${CMAKE_CURRENT_SOURCE_DIR}/test_torch_refs.cpp)
