# Installs the built project into a fresh prefix, then configures, builds and runs the
# consumer against it; or, with AUTOGRAD_SOURCE_DIR, builds the consumer with the sources added
# by add_subdirectory. Invoked by CTest with BUILD_DIR, SOURCE_DIR and WORK_DIR.
file(REMOVE_RECURSE ${WORK_DIR})
# Each step is one command with its arguments separated by "|".
if(AUTOGRAD_SOURCE_DIR)
  set(steps
    "${CMAKE_COMMAND}|-S|${SOURCE_DIR}|-B|${WORK_DIR}/build|-DAUTOGRAD_SOURCE_DIR=${AUTOGRAD_SOURCE_DIR}|-DCMAKE_BUILD_TYPE=Release"
    "${CMAKE_COMMAND}|--build|${WORK_DIR}/build|-j2"
    "${WORK_DIR}/build/consumer")
else()
  set(steps
    "${CMAKE_COMMAND}|--install|${BUILD_DIR}|--prefix|${WORK_DIR}/prefix"
    "${CMAKE_COMMAND}|-S|${SOURCE_DIR}|-B|${WORK_DIR}/build|-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix|-DCMAKE_BUILD_TYPE=Release"
    "${CMAKE_COMMAND}|--build|${WORK_DIR}/build"
    "${WORK_DIR}/build/consumer")
endif()
foreach(step IN LISTS steps)
  string(REPLACE "|" ";" command "${step}")
  execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer step failed (${rc}): ${step}\n${out}\n${err}")
  endif()
endforeach()
message("${out}")
