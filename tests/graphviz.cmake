# Graph pictures (DOT export, Graphviz rendering) and the agexpr tool.
set(AG_EXPR_SOURCES ${PROJECT_SOURCE_DIR}/tools/expr/parser.cpp ${PROJECT_SOURCE_DIR}/tools/expr/program.cpp
  ${PROJECT_SOURCE_DIR}/tools/expr/second_order.cpp)
ag_add_test(test_dot test_dot.cpp)
ag_add_test(test_render test_render.cpp)
ag_add_test(test_expr test_expr.cpp ${AG_EXPR_SOURCES})

# The parser must never crash: its fuzz corpus replayed with any compiler (libFuzzer runs it
# in tools/ci/fuzz.sh, tests/fuzz.cmake).
add_executable(fuzz_expr_replay fuzz/fuzz_expr_parser.cpp fuzz/fuzz_replay_main.cpp
  ${PROJECT_SOURCE_DIR}/tools/expr/parser.cpp)
target_include_directories(fuzz_expr_replay PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(fuzz_expr_replay PRIVATE autograd::autograd)  # the op registry's names
target_compile_options(fuzz_expr_replay PRIVATE -Wall -Wextra)
add_test(NAME fuzz_expr_replay COMMAND fuzz_expr_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
set_tests_properties(fuzz_expr_replay PROPERTIES PASS_REGULAR_EXPRESSION "replayed [1-9][0-9]* inputs")

# agexpr's output and error messages (the tool is built with the tools).
if(AG_BUILD_TOOLS)
  set(AG_SEED004_NET
    "(relu(h1*w5 + h2*w6 + b3) - y)^2"
    "--def" "h1=relu(x1*w1 + x2*w3 + b1)" "--def" "h2=relu(x1*w2 + x2*w4 + b2)"
    "--at" "x1=1,x2=0,w1=1,w2=0.5,w3=1,w4=-0.5,w5=1,w6=1,b1=0.5,b2=0,b3=0.5,y=2")
  function(ag_expr_test name regex)
    add_test(NAME ${name} COMMAND agexpr ${ARGN})
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}")
  endfunction()
  # Values and partials at seed 004's point, hand-computed: out = 2.5, dL/dout = 2 * 0.5 = 1.
  ag_expr_test(agexpr_seed004_values
    "f = 0.25\nh1 = 1.5\nh2 = 0.5\ndf/dx1 = 1.5\ndf/dx2 = 0.5\ndf/dw1 = 1\ndf/dw2 = 1\ndf/dw3 = 0\ndf/dw4 = 0\ndf/dw5 = 1.5\ndf/dw6 = 0.5\ndf/db1 = 1\ndf/db2 = 1\ndf/db3 = 1\ndf/dy = -1\n"
    ${AG_SEED004_NET})
  # The seed's own formula for w2 uses node 1's ReLU derivative: a point with node 2 off and
  # node 1 on (h1 > 0, h2 = 0) must show it.
  ag_expr_test(agexpr_seed004_wrong_w2
    "DISAGREE at x1=[^\n]* \\(h1=[0-9.]*[1-9][0-9.]*, h2=0\\):\n    formula -?[0-9.]+, engine 0, finite difference 0\n.*FAIL: df/dw2 formula disagrees with the engine at [0-9]+ of 1001 points \\(it agrees at the --at point\\)"
    ${AG_SEED004_NET} --check "w2=2*w6*(h1*w5 + h2*w6 + b3 - y)*step(x1*w1 + x2*w3 + b1)*x1")
  ag_expr_test(agexpr_seed004_right_w2
    "OK: df/dw2 formula agrees with the engine at all 1001 points"
    ${AG_SEED004_NET} --check "w2=2*(f0 - y)*step(h1*w5 + h2*w6 + b3)*w6*step(x1*w2 + x2*w4 + b2)*x1"
    --def "f0=relu(h1*w5 + h2*w6 + b3)")
  ag_expr_test(agexpr_error_caret
    "agexpr: error in the expression, column 14: expected a number, a name or '\\(' but the expression ended\n  relu\\(x1\\*w1 \\+ \n               \\^"
    "relu(x1*w1 + " --at x1=1,w1=2)
  ag_expr_test(agexpr_error_unknown_function
    "column 5: unknown function 'foo' \\(known: exp log sqrt tanh sigmoid relu abs sin cos log1p expm1 softplus gelu minimum maximum step max min pow\\)\n  1 \\+ foo\\(x\\)\n      \\^"
    "1 + foo(x)" --at x=1)
  ag_expr_test(agexpr_error_in_def
    "agexpr: error in --def h, column 2: unexpected 'x' right after a number \\(write 2\\*x, not 2x\\)\n  2x\n   \\^"
    "h + 1" --def "h=2x")
  string(REPEAT "(" 1000 open)
  string(REPEAT ")" 1000 close)
  ag_expr_test(agexpr_error_deep_nesting "expression nested deeper than 200 levels" "${open}x${close}" --at x=1)
  ag_expr_test(agexpr_error_missing_value "agexpr: no value for b, c \\(give every variable with --at NAME=VALUE\\)"
    "a*b + c" --at a=1)
  ag_expr_test(agexpr_error_cycle "definitions use each other in a cycle: p, q" "p" --def p=q+1 --def q=p*2)
  ag_expr_test(agexpr_error_render_format "cannot tell the image format of 'graph.gif' from its extension '.gif'"
    "x*x" --at x=3 --render graph.gif)
endif()
