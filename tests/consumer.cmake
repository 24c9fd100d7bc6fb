# Another project uses the library the ways a user would (tests/consumer/run_consumer.cmake):
# an installed static copy through find_package and pkg-config --static, an installed shared
# copy through find_package and pkg-config, the sources through add_subdirectory; the installed
# agexpr runs from the prefix. Each prints the consumer's values: y=-20 dx=46 bias_grad=4 (the
# bias gradient of sum(x W + b) over 4 rows is 4). The shared and subdir tests compile the
# library again and are the longest of all: COST starts them first, so that a `ctest -j` run
# ends with short tests, not with one of them alone.
set(consumer_args -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
                  -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER} -DAUTOGRAD_SOURCE_DIR=${PROJECT_SOURCE_DIR})
set(consumer_script ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)

if(AG_BUILD_TOOLS)  # the static mode installs this build, agexpr included
  add_test(NAME consumer_find_package
    COMMAND ${CMAKE_COMMAND} ${consumer_args} -DMODE=static -DBUILD_DIR=${PROJECT_BINARY_DIR}
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer -P ${consumer_script})
  set_tests_properties(consumer_find_package PROPERTIES
    PASS_REGULAR_EXPRESSION "consumer \\(static\\): y=-20 dx=46 bias_grad=4" TIMEOUT 300)
endif()

add_test(NAME consumer_shared_library
  COMMAND ${CMAKE_COMMAND} ${consumer_args} -DMODE=shared
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_shared -P ${consumer_script})
set_tests_properties(consumer_shared_library PROPERTIES
  PASS_REGULAR_EXPRESSION "consumer \\(shared\\): y=-20 dx=46 bias_grad=4" TIMEOUT 900 COST 1000)

add_test(NAME consumer_add_subdirectory
  COMMAND ${CMAKE_COMMAND} ${consumer_args} -DMODE=subdir
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_subdir -P ${consumer_script})
set_tests_properties(consumer_add_subdirectory PROPERTIES
  PASS_REGULAR_EXPRESSION "consumer \\(subdir\\): y=-20 dx=46 bias_grad=4" TIMEOUT 600 COST 1000)
