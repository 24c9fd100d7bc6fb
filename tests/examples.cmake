# The seed-004 demo: its printed numbers are the seed's.
if(AG_BUILD_EXAMPLES)
  add_test(NAME example_seed_004 COMMAND seed_004_relu_net --graph ${CMAKE_CURRENT_BINARY_DIR}/seed_004_graph.svg)
  set_tests_properties(example_seed_004 PROPERTIES
    PASS_REGULAR_EXPRESSION "loss = 0.25.*w1 +1 +1 +1.*w2 +1 +1 +1.*w5 +1.5 +1.5 +1.5.*w6 +0.5 +0.5 +0.5.*bias3 +1 +1 +1.*SGD step matches the seed: yes.*node 2 [-+0-9.]+ \\(inactive\\).*w2 +[-0-9.]+ +0 +[-0-9.e]+ +<-- seed's formula disagrees.*w4.*bias2 +[-0-9.]+ +0.*<-- seed's formula disagrees.*Graph of the loss written"
    LABELS examples TIMEOUT 60)
endif()
