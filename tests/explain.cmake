# ag::explain / ag::backward_trace, and agexpr's explanations and JSON output.
ag_add_test(test_explain test_explain.cpp)
ag_add_test(test_explain_create_graph test_explain_create_graph.cpp)

if(AG_BUILD_TOOLS)
  set(AG_SEED004
    "(relu(h1*w5 + h2*w6 + b3) - y)^2"
    "--def" "h1=relu(x1*w1 + x2*w3 + b1)" "--def" "h2=relu(x1*w2 + x2*w4 + b2)"
    "--at" "x1=1,x2=0,w1=1,w2=0.5,w3=1,w4=-0.5,w5=1,w6=1,b1=0.5,b2=0,b3=0.5,y=2")
  # The seed's own (wrong) formula for w2.
  set(AG_SEED004_W2 "w2=2*w6*(h1*w5 + h2*w6 + b3 - y)*step(x1*w1 + x2*w3 + b1)*x1")
  function(ag_agexpr_case name regex)
    add_test(NAME ${name} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/exit_status.sh $<TARGET_FILE:agexpr> ${ARGN})
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}")
  endfunction()
  function(ag_agexpr_json name status checks)
    add_test(NAME ${name} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/agexpr_json.sh ${status}
      $<TARGET_FILE:agexpr> "${checks}" ${ARGN})
    set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "json ok")
  endfunction()

  # Partials with respect to the definitions (hand: dL/dh1 = 2 err w5 = 1, dL/dh2 = 2 err w6 = 1),
  # and a hand-derived one checked: dL/dh2 = 2 (out - y) step(pre3) w6.
  ag_agexpr_case(agexpr_definition_partials "df/dy = -1\ndf/dh1 = 1\ndf/dh2 = 1\n.*OK: df/dh2 formula agrees with the engine at all 1001 points\nexit=0"
    ${AG_SEED004} --check "h2=2*(relu(h1*w5 + h2*w6 + b3) - y)*step(h1*w5 + h2*w6 + b3)*w6")
  # --explain at the seed's point: one path, every factor 1 but the input x1 = 1.
  ag_agexpr_case(agexpr_explain_w2
    "d f/d w2 = 1   \\(w2 = 0.5; 1 path from w2 to f\\).*  h2 +relu +0.5 +1\n.*product 1( · 1)+ = 1\n\nd f/d w2 = sum of the path products = 1\nexit=0"
    ${AG_SEED004} --explain w2)
  # A counterexample says which ReLU is off and where the engine's product becomes 0.
  ag_agexpr_case(agexpr_counterexample_kinks_and_paths
    "DISAGREE at x1=-0.46,[^\n]*\\(h1=0.291, h2=0\\):\n    formula 4.232718336, engine 0, finite difference 0\n    kinks there:\n      h1: relu input 0.291, active \\(derivative 1\\)\n      h2: relu input -2.565, inactive \\(derivative 0\\)\n.*    the engine's chain rule there:\n      d f/d w2 = 0 .*zero because relu' = 0: input -2.56\n.*FAIL: df/dw2.*exit=1"
    ${AG_SEED004} --max-report 1 --check "${AG_SEED004_W2}")
  ag_agexpr_case(agexpr_trace "backward from f: 29 nodes.*\nh2 \\(relu, value 0.5\\)\n  d f/d h2 = d f/d h2\\*w6 · d h2\\*w6/d h2 = 1 · 1 = 1\n.*exit=0"
    ${AG_SEED004} --trace)
  ag_agexpr_case(agexpr_explain_unknown
    "agexpr: --explain zz: 'zz' is neither a variable \\(x1, w1, x2, w3, b1, w2, w4, b2, w5, w6, b3, y\\) nor a definition \\(h1, h2\\)\n.*exit=2"
    ${AG_SEED004} --explain zz)

  # JSON: one object, every number there, an "error" field and exit 2 on bad input.
  ag_agexpr_json(agexpr_json_seed004 1
    "d['value'] == 0.25;;d['partials']['w2'] == 1;;d['partials']['h1'] == 1;;d['definitions']['h2'] == 0.5;;d['explain'][0]['wrt'] == 'w2';;d['explain'][0]['total'] == 1;;d['explain'][0]['paths'][0]['nodes'][0] == 'w2';;d['explain'][0]['paths'][0]['nodes'][-1] == 'f';;len(d['explain'][0]['paths'][0]['local']) == len(d['explain'][0]['paths'][0]['nodes']) - 1;;d['trace']['steps'][0]['name'] == 'f';;len(d['trace']['steps']) == 29;;d['checks'][0]['ok'] == False;;d['checks'][0]['points'] == 1001;;d['checks'][0]['disagreements'][0]['engine'] == 0;;d['checks'][0]['disagreements'][0]['kinks'][1]['state'].startswith('inactive');;d['checks'][0]['disagreements'][0]['explain']['paths'][0]['product'] == 0"
    ${AG_SEED004} --json --explain w2 --trace --max-report 1 --check "${AG_SEED004_W2}")
  ag_agexpr_json(agexpr_json_error_unknown_explain 2 "'zz' in d['error'];;d['value'] == 0.25"
    ${AG_SEED004} --json --explain zz)
  ag_agexpr_json(agexpr_json_error_parse 2 "d['error'].startswith('error in the expression, column 4')" "1 +" --json)
  ag_agexpr_json(agexpr_json_error_option 2 "'--bogus' in d['error']" x --at x=1 --json --bogus)
  ag_agexpr_json(agexpr_json_error_number 2 "'not a finite number' in d['error']" x --at x=nan --json)

  # Functions a learner types. At x = 1: max(0,x) = 1, MIN(x,2) = 1, pow(x,2) = 1, e^x = e, e:
  # f = 3 + 2e; df/dx = 1 + 1 + 2 + e.
  ag_agexpr_case(agexpr_functions "f = 8.43656365692\ndf/dx = 6.71828182846\nexit=0"
    "max(0, x) + MIN(x, 2) + pow(x, 2) + e^x + e" --at x=1)
  # max(0, x) is relu(x): derivative 0 at the tie x = 0; min's tie goes to its first argument.
  ag_agexpr_case(agexpr_max_tie "f = 0\ndf/dx = 0\nexit=0" "max(0, x)" --at x=0)
  ag_agexpr_case(agexpr_min_tie "f = 2\ndf/dx = 1\ndf/dy = 0\nexit=0" "min(x, y)" --at x=2,y=2)
  ag_agexpr_case(agexpr_two_arguments "function 'max' takes two arguments, separated by ','.*exit=2" "max(x)" --at x=1)
  ag_agexpr_case(agexpr_e_is_reserved "definition name 'e' is Euler's number.*exit=2" "e*x" --def e=2 --at x=1)
  ag_agexpr_case(agexpr_help_lists_functions "max\\(a, b\\): the larger.*pow\\(a, b\\)" --help)
  # An expression that starts with '-' is an expression, not an option.
  ag_agexpr_case(agexpr_leading_minus "f = -9\ndf/dx = -6\nexit=0" "-x^2" --at x=3)
  ag_agexpr_case(agexpr_at_with_spaces "f = 2\ndf/dx = 2\ndf/dw = 1\nexit=0" "x*w" --at "x=1, w=2")
  ag_agexpr_case(agexpr_at_twice "agexpr: --at x: 'x' is given twice\nexit=2" "x*w" --at x=1,x=2,w=1)
  ag_agexpr_case(agexpr_at_nan "agexpr: --at x: 'nan' is not a finite number\nexit=2" "x" --at x=nan)
  ag_agexpr_case(agexpr_at_definition "'h' is a definition, computed from the variables\nexit=2" "h" --def h=x+1 --at x=1,h=2)
  # Unsigned options refuse negatives (no wrap-around), --range refuses NaN.
  ag_agexpr_case(agexpr_samples_negative "--samples: must be a whole number >= 0, got '-1'.*exit=2" x --at x=1 --samples -1)
  ag_agexpr_case(agexpr_seed_negative "--seed: must be a whole number >= 0, got '-1'.*exit=2" x --at x=1 --seed -1)
  ag_agexpr_case(agexpr_range_nan "--range: must be a finite number above 0, got 'nan'.*exit=2" x --at x=1 --range nan)
  ag_agexpr_case(agexpr_samples_too_many "--samples.*exit=2" x --at x=1 --samples 100000000)
  # A formula that is NaN everywhere compares nothing: a failure, not "agrees at all 0 points".
  ag_agexpr_case(agexpr_check_nothing_compared
    "FAIL: df/dx: no point where f, the formula and the engine are all finite \\(all 11 skipped\\): nothing was compared\nexit=1"
    "x*2" --at x=1 --samples 10 --check "x=log(-1)")
  # A graph too large to lay out in seconds is refused with the limit named.
  string(REPEAT "x*x+" 1100 AG_LONG_SUM)
  ag_agexpr_case(agexpr_render_too_large
    "agexpr: ag::render: the graph has [0-9]+ nodes, more than DotOptions::max_render_nodes = 2000.*exit=2"
    "${AG_LONG_SUM}x" --at x=1 --render ${CMAKE_CURRENT_BINARY_DIR}/too_large.svg)
  # Pictures from agexpr: edge derivatives and the explained path.
  ag_agexpr_case(agexpr_dot_highlight "wrote [^\n]*seed004_w2.dot\nexit=0"
    ${AG_SEED004} --explain w2 --edge-derivatives --dot ${CMAKE_CURRENT_BINARY_DIR}/seed004_w2.dot)
  # Second partials of f = x^2 y + sin(x) at (0.7, -1.3), by hand: d2f/dx2 = 2y - sin x =
  # -3.24421768724, d2f/dxdy = 2x = 1.4, d2f/dy2 = 0.
  set(AG_SECOND "x^2*y + sin(x)" --at x=0.7,y=-1.3)
  ag_agexpr_case(agexpr_hessian "d2f/dadb \\(rows a, columns b: x, y\\):\n  x: -3.24421768724 1.4\n  y: 1.4 0\nexit=0"
    ${AG_SECOND} --hessian)
  ag_agexpr_case(agexpr_check_second_partials
    "OK: d2f/dx2 formula agrees with the engine at all 1001 points.*OK: d2f/dxdy formula agrees with the engine at all 1001 points.*OK: d2f/dy2 formula agrees.*exit=0"
    ${AG_SECOND} --check "x,x=2*y - sin(x)" --check "x,y=2*x" --check "y,y=0")
  # A wrong one (2y for d2f/dxdy) fails, explained as d(df/dx)/dy: one path, product 2x.
  ag_agexpr_case(agexpr_check_second_partial_wrong
    "DISAGREE at the --at point x=0.7,y=-1.3:\n    formula -2.6, engine 1.4, finite difference 1.39999.*product 1 · 2 · 0.7 · 1 = 1.4.*FAIL: d2f/dxdy formula disagrees with the engine at 1001 of 1001 points\nexit=1"
    ${AG_SECOND} --max-report 1 --check "x,y=2*y")
  ag_agexpr_case(agexpr_check_second_unknown
    "agexpr: --check x,zz: 'zz' is not a variable of the expression \\(variables: x, y\\)\n.*exit=2"
    ${AG_SECOND} --check "x,zz=1")
  ag_agexpr_case(agexpr_check_second_definition
    "agexpr: --check h,x: 'h' is a definition; second partials are with respect to the variables \\(x, y\\)\nexit=2"
    "h*y" --def h=x^2 --at x=1,y=1 --check "h,x=1")
  ag_agexpr_json(agexpr_json_hessian 0
    "d['hessian']['variables'] == ['x', 'y'];;abs(d['hessian']['matrix'][0][0] - (2 * -1.3 - 0.644217687237691)) < 1e-12;;d['hessian']['matrix'][0][1] == 1.4;;d['hessian']['matrix'][1][0] == 1.4;;d['hessian']['matrix'][1][1] == 0;;d['checks'][0]['order'] == 2;;d['checks'][0]['variable'] == 'x,y';;d['checks'][0]['ok'] == True;;d['checks'][0]['points'] == 1001;;d['checks'][1]['order'] == 1"
    ${AG_SECOND} --json --hessian --check "x,y=2*x" --check "y=x^2")
  # --layout wrapped: 6 ops from x, in rows of 8 ranks (4 ops); the edge into row 2 is free.
  ag_agexpr_case(agexpr_layout_wrapped
    "rankdir=LR.*\\{ rank=same; v0; v[0-9]+; \\}.*o[0-9]+ -> v[0-9]+ \\[constraint=false\\].*exit=0"
    "tanh(tanh(tanh(tanh(tanh(tanh(x))))))" --at x=0.5 --layout wrapped --dot /dev/stdout)
  ag_agexpr_case(agexpr_layout_unknown "--layout: .*wrapped.*exit=2" x --at x=1 --layout zigzag)
endif()

if(AG_BUILD_EXAMPLES)
  # Seed 004 explains its failing point: the dead ReLU on w2's one path, w5's product, the trace.
  add_test(NAME example_seed_004_explains COMMAND seed_004_relu_net --graph ${CMAKE_CURRENT_BINARY_DIR}/seed_004_explained.svg)
  set_tests_properties(example_seed_004_explains PROPERTIES
    PASS_REGULAR_EXPRESSION "Why backward\\(\\) gives w2 a zero gradient.*  node_2_output +relu +0 +0   \\(relu' = 0: input -0.688\\).*product 0.75 · 1 · 1 · 0 · 0.75 · 1 · 1 · 1 · 1 · -3.375 = 0   zero because relu' = 0: input -0.688.*d loss/d w5 = -7.17188 .*backward from loss: 26 nodes.*Graph of the loss written to [^\n]*seed_004_explained.svg \\(w2's path in red\\)")
  add_test(NAME example_seed_004_bad_option COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/exit_status.sh $<TARGET_FILE:seed_004_relu_net> --bogus)
  set_tests_properties(example_seed_004_bad_option PROPERTIES PASS_REGULAR_EXPRESSION "--bogus.*exit=[1-9]")
  add_test(NAME example_seed_004_bad_number COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/exit_status.sh $<TARGET_FILE:seed_004_relu_net> --search-seed -1)
  set_tests_properties(example_seed_004_bad_number PROPERTIES PASS_REGULAR_EXPRESSION "must be a whole number >= 0, got '-1'.*exit=[1-9]")
endif()

# The docs pages' code and console blocks are the programs' own (tests/doc_check.py).
if(AG_BUILD_TOOLS AND AG_BUILD_EXAMPLES)
  foreach(page explain agexpr)
    add_test(NAME doc_${page}_md COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/doc_check.py
      ${PROJECT_SOURCE_DIR}/docs/${page}.md ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    set_tests_properties(doc_${page}_md PROPERTIES PASS_REGULAR_EXPRESSION "[1-9][0-9]* blocks checked, 0 failures")
  endforeach()
endif()
