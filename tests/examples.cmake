# The seed-004 demo: its printed numbers are the seed's.
if(AG_BUILD_EXAMPLES)
  add_test(NAME example_seed_004 COMMAND seed_004_relu_net --graph ${CMAKE_CURRENT_BINARY_DIR}/seed_004_graph.svg)
  set_tests_properties(example_seed_004 PROPERTIES
    PASS_REGULAR_EXPRESSION "loss = 0.25.*w1 +1 +1 +1.*w2 +1 +1 +1.*w5 +1.5 +1.5 +1.5.*w6 +0.5 +0.5 +0.5.*bias3 +1 +1 +1.*SGD step matches the seed: yes.*node 2 [-+0-9.]+ \\(inactive\\).*w2 +[-0-9.]+ +0 +[-0-9.e]+ +<-- seed's formula disagrees.*w4.*bias2 +[-0-9.]+ +0.*<-- seed's formula disagrees.*Graph of the loss written"
    LABELS examples TIMEOUT 60)
endif()

# Every example parses its command line: --help prints the options and exits 0 without running,
# a malformed or out-of-range number or an unknown option exits non-zero with a message.
# ag_example_cli_test(NAME TARGET EXIT <code|nonzero> REGEX <regex> [FORBID <regex>] ARGS <args...>)
function(ag_example_cli_test name target)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "EXIT;REGEX;FORBID" "ARGS")
  list(JOIN ARG_ARGS "|" args)
  set(forbid "")
  if(DEFINED ARG_FORBID)
    set(forbid "-DFORBID=${ARG_FORBID}")
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=${args}"
           -DEXIT=${ARG_EXIT} "-DREGEX=${ARG_REGEX}" ${forbid} -P ${PROJECT_SOURCE_DIR}/cmake/ExpectRun.cmake)
  set_tests_properties(${name} PROPERTIES LABELS examples TIMEOUT 60)
endfunction()

if(AG_BUILD_EXAMPLES)
  foreach(example seed_000_linear_vs_relu seed_001_activations seed_002_activation_functions
                  seed_003_dense_layers spiral_regions fashion_mnist)
    ag_example_cli_test(${example}_help ${example} EXIT 0 REGEX "Usage:.*--help"
                        FORBID "epoch +[0-9]|accuracy|final" ARGS --help)
    ag_example_cli_test(${example}_unknown_option ${example} EXIT nonzero
                        REGEX "--no-such-option" ARGS --no-such-option)
  endforeach()
  ag_example_cli_test(seed_001_activations_bad_number seed_001_activations EXIT nonzero
                      REGEX "50x" FORBID "final:" ARGS 50x)
  ag_example_cli_test(seed_003_dense_layers_negative seed_003_dense_layers EXIT nonzero
                      REGEX "-5" FORBID "final:" ARGS -5)
  ag_example_cli_test(seed_003_dense_layers_zero seed_003_dense_layers EXIT nonzero
                      REGEX "not in range" FORBID "final:" ARGS --epochs 0)
  ag_example_cli_test(seed_000_linear_vs_relu_bad_steps seed_000_linear_vs_relu EXIT nonzero
                      REGEX "steps" ARGS --steps 0)
  ag_example_cli_test(seed_002_bad_activation seed_002_activation_functions EXIT nonzero
                      REGEX "softplus" ARGS softplus)
  ag_example_cli_test(spiral_regions_bad_epochs spiral_regions EXIT nonzero
                      REGEX "epochs" ARGS --epochs 1e3x)
  ag_example_cli_test(fashion_mnist_negative_lr fashion_mnist EXIT nonzero
                      REGEX "--lr" ARGS --lr -0.5)
  ag_example_cli_test(fashion_mnist_bad_seed fashion_mnist EXIT nonzero
                      REGEX "--seed: Value -3 is negative: a number >= 0 is needed" ARGS --seed -3)
  # The programs of one fixed computation take small options too; their defaults print the page's
  # output (docs/examples/*.md, checked by the docs tests).
  foreach(example custom_op newton logistic_newton explain_intro higher_order_basics)
    ag_example_cli_test(${example}_help ${example} EXIT 0 REGEX "Usage:.*--help"
                        FORBID "step [0-9]:|gradcheck:|w.grad\\(\\) =|Hv =" ARGS --help)
    ag_example_cli_test(${example}_unknown_option ${example} EXIT nonzero
                        REGEX "--no-such-option" ARGS --no-such-option)
  endforeach()
  ag_example_cli_test(newton_zero_steps newton EXIT nonzero REGEX "--steps: Value 0 not in range"
                      FORBID "step 1" ARGS --steps 0)
  ag_example_cli_test(newton_bad_x0 newton EXIT nonzero REGEX "--x0: Value 2x" FORBID "step 1"
                      ARGS --x0 2x)
  # f'' = 12x^2 - 6 vanishes at sqrt(1/2): the step is refused, not a silent inf.
  ag_example_cli_test(newton_flat_start newton EXIT nonzero REGEX "undefined" FORBID "step 1|inf|nan"
                      ARGS --x0 0.7071067811865476)
  # From x = -3: f' = -90, f'' = 102, x1 = -3 + 90/102 = -2.1176470588.
  ag_example_cli_test(newton_from_minus_3 newton EXIT 0
                      REGEX "from x = -3\n  step 1: f'' = 102\\.0000000000  x = -2\\.1176470588.*step 2:"
                      FORBID "step 3" ARGS --x0 -3 --steps 2)
  ag_example_cli_test(logistic_newton_negative_seed logistic_newton EXIT nonzero
                      REGEX "--seed: Value -3 not in range" FORBID "step 0" ARGS --seed -3)
  ag_example_cli_test(logistic_newton_too_many_steps logistic_newton EXIT nonzero
                      REGEX "--steps: Value 101 not in range" FORBID "step 0" ARGS --steps 101)
  ag_example_cli_test(logistic_newton_two_steps logistic_newton EXIT 0
                      REGEX "step 2: loss .*closed form at every step \\(to 1e-12\\): yes"
                      FORBID "step 3" ARGS --steps 2)
  ag_example_cli_test(custom_op_zero_bound custom_op EXIT nonzero REGEX "--bound: Value 0 not in range"
                      FORBID "gradcheck" ARGS --bound 0)
  # A bound above the gradient 10 leaves it as is.
  ag_example_cli_test(custom_op_wide_bound custom_op EXIT 0
                      REGEX "swish gradcheck: ok\nclipped gradient: 10 10 10\n" ARGS --bound 20 --seed 5)
  ag_example_cli_test(explain_intro_huge_w explain_intro EXIT nonzero REGEX "--w: Value 1e7 not in range"
                      FORBID "w.grad" ARGS --w 1e7)
  # w = 0.1: w x - 0.3 = -0.1, the ReLU is inactive and f = 0 * w, so df/dw = 0.
  ag_example_cli_test(explain_intro_inactive_relu explain_intro EXIT 0
                      REGEX "w.grad\\(\\) = 0\n.*relu' = 0: input -0\\.1" ARGS --w 0.1)
  # Two epochs train (and, below 0.9 accuracy, say so in the exit status).
  ag_example_cli_test(seed_001_activations_epochs seed_001_activations EXIT 1
                      REGEX "       2 +[0-9.]+ +[0-9.]+ .*final: loss [0-9.]+, accuracy 0\\.[0-9]+ \\(< 0\\.9\\)"
                      ARGS --epochs 2)
endif()

# fashion_mnist --resume refuses a checkpoint trained with other options, unless told to.
if(AG_BUILD_EXAMPLES)
  set(fm_config_dir ${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist_config)
  add_test(NAME fashion_mnist_config_first_epoch COMMAND fashion_mnist --subset 300 --epochs 1
           --no-plots --out ${fm_config_dir}/first)
  set_tests_properties(fashion_mnist_config_first_epoch PROPERTIES FIXTURES_SETUP fm_config
                       LABELS examples TIMEOUT 120)
  set(fm_checkpoint ${fm_config_dir}/first/checkpoint.safetensors)
  ag_example_cli_test(fashion_mnist_resume_refuses_other_config fashion_mnist EXIT nonzero
    REGEX "another configuration:.*--lr: checkpoint 0.001, now 0.01.*--subset: checkpoint 300, now 600.*--allow-config-change"
    FORBID "epoch 2: train"
    ARGS --subset 600 --lr 0.01 --epochs 2 --no-plots --out ${fm_config_dir}/refused --resume ${fm_checkpoint})
  ag_example_cli_test(fashion_mnist_resume_same_config fashion_mnist EXIT 0
    REGEX "resumed from .* after epoch 1.*epoch  2: train" FORBID "another configuration"
    ARGS --subset 300 --epochs 2 --no-plots --out ${fm_config_dir}/same --resume ${fm_checkpoint})
  ag_example_cli_test(fashion_mnist_resume_override fashion_mnist EXIT 0
    REGEX "note: continuing with a configuration other than the checkpoint's:.*--subset: checkpoint 300, now 600.*epoch  2: train"
    ARGS --subset 600 --epochs 2 --no-plots --allow-config-change --out ${fm_config_dir}/override
         --resume ${fm_checkpoint})
  set_tests_properties(fashion_mnist_resume_refuses_other_config fashion_mnist_resume_same_config
                       fashion_mnist_resume_override PROPERTIES FIXTURES_REQUIRED fm_config TIMEOUT 120)
endif()

# The Fashion-MNIST progress line fits the terminal (80 and 40 columns, on a pseudo-terminal)
# and becomes plain lines into a pipe.
if(AG_BUILD_EXAMPLES AND EXISTS /usr/bin/python3)
  foreach(columns 80 40)
    add_test(NAME fashion_mnist_progress_${columns}_columns
      COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/examples/progress_width.py
              $<TARGET_FILE:fashion_mnist> ${columns} --subset 6000 --epochs 1 --no-plots
              --out ${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist_progress_${columns})
    set_tests_properties(fashion_mnist_progress_${columns}_columns PROPERTIES LABELS examples TIMEOUT 120)
  endforeach()
endif()
