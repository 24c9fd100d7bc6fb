# The installed package works for another project: find_package(autograd) + link + run.
add_test(NAME consumer_find_package
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
# bias gradient of sum(x W + b) over 4 rows is 4
set_tests_properties(consumer_find_package PROPERTIES PASS_REGULAR_EXPRESSION "y=-20 dx=46 bias_grad=4" TIMEOUT 300)

# The same program with the sources added by add_subdirectory (tests, examples, tools stay off).
add_test(NAME consumer_add_subdirectory
  COMMAND ${CMAKE_COMMAND} -DAUTOGRAD_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DSOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_subdir -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
set_tests_properties(consumer_add_subdirectory PROPERTIES PASS_REGULAR_EXPRESSION "y=-20 dx=46 bias_grad=4" TIMEOUT 600)
