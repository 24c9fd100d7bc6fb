# autograd::nn: unit tests, and the seed examples' key printed numbers.
ag_add_test(test_nn test_nn.cpp)

# ag_nn_example_test(NAME TARGET ARGS <args...> EXPECT <regex...>)
# Runs an example and requires every regex to appear in its output, in the order given (the
# regexes are joined with ".*", which in CMake also spans lines). The exit code must be 0.
function(ag_nn_example_test name target)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "ARGS;EXPECT")
  list(JOIN ARG_EXPECT ".*" pattern)
  add_test(NAME ${name} COMMAND ${target} ${ARG_ARGS})
  # PASS_REGULAR_EXPRESSION ignores the exit code; FAIL on the examples' own failure verdicts.
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${pattern}"
    FAIL_REGULAR_EXPRESSION "loss fell at every step: no|\\(< 0\\.9\\)"
    TIMEOUT 60 LABELS "nn;examples")
endfunction()

if(AG_BUILD_EXAMPLES)
  ag_nn_example_test(example_seed_000 seed_000_linear_vs_relu EXPECT
    "output = layer_1\\*w3 \\+ layer_1\\*w4 \\+ b2 +seed +70\\.10000000000001 +engine +70\\.1000"
    "final_weight [^\n]+engine +0\\.3000"
    "final_bias [^\n]+engine +10\\.1000"
    "dy/dx of the net [^\n]+engine +0\\.3000"
    "relu net at x = 200 [^\n]+engine +130\\.1000"
    "\\(130\\.1 - 420\\)\\^2 [^\n]+engine +84042\\.0100"
    "naive update 1: loss [^\n]+engine +9753\\.5376"
    "naive update 2: loss [^\n]+engine +15510\\.2116"
    "loss fell at every step: yes")

  set(seed_softmax "softmax engine \\[0\\.89528266, 0\\.02470831, 0\\.08000903\\]")
  ag_nn_example_test(example_seed_001 seed_001_activations EXPECT
    "engine \\[0, 2, 0, 3\\.3, 0, 1\\.1, 2\\.2, 0\\]"
    "${seed_softmax}"
    "sum +seed 18\\.172 +engine 18\\.172"
    "sum axis 0 [^\n]+engine \\[15\\.11, 0\\.451, 2\\.611\\]"
    "sum axis 1 [^\n]+engine \\[8\\.395, 7\\.29, 2\\.487\\]"
    "keepdim shape [^\n]+engine \\[3, 1\\]"
    "\\[0\\.00000000e\\+00, 9\\.17448014e-05, 0\\.00000000e\\+00\\]"
    "\\[0\\.00000000e\\+00, 6\\.15104009e-04, 0\\.00000000e\\+00\\]"
    "\\[0\\.33333317, 0\\.33333318, 0\\.33333364\\]"
    "\\[0\\.33333233, 0\\.33333239, 0\\.33333528\\]"
    "final: loss [0-9.]+, accuracy 0\\.9[0-9]+ \\(>= 0\\.9\\)")

  ag_nn_example_test(example_seed_003 seed_003_dense_layers EXPECT
    "engine \\[1\\.1, 0, 3\\.1\\]"
    "normalized engine \\[0\\.116114534674141, 0\\.0259086547174015, 0\\.857976810608457\\]"
    "dense1\\.weight +\\[2, 64\\]"
    "dense2\\.bias +\\[3\\]"
    "final: loss [0-9.]+, accuracy 0\\.9[0-9]+ \\(>= 0\\.9\\)")

  # One activation per run, as the seed's command line picks it; linear must fail, the
  # others must separate the parabolas completely.
  ag_nn_example_test(example_seed_002_linear seed_002_activation_functions ARGS linear EXPECT
    "accuracy linear: 0\\.[0-8][0-9]+")
  foreach(act sigmoid tanh relu)
    ag_nn_example_test(example_seed_002_${act} seed_002_activation_functions ARGS ${act} EXPECT
      "hidden kernel"
      "accuracy ${act}: 1\\.0000")
  endforeach()
endif()
