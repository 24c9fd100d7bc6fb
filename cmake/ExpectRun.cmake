# cmake -DPROGRAM=<exe> -DARGS=<a|b|c> -DEXIT=<code or "nonzero"> -DREGEX=<regex> [-DFORBID=<regex>]
#   -P ExpectRun.cmake
# Runs PROGRAM with ARGS ("|"-separated) and requires its exit status and that its output
# (stdout and stderr together) matches REGEX and, if given, does not match FORBID.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(EXIT STREQUAL "nonzero")
  if(NOT rc MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "expected a non-zero exit status, got '${rc}'")
  endif()
elseif(NOT rc STREQUAL EXIT)
  message(FATAL_ERROR "expected exit status ${EXIT}, got '${rc}'")
endif()
if(NOT out MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match '${REGEX}'")
endif()
if(DEFINED FORBID AND out MATCHES "${FORBID}")
  message(FATAL_ERROR "output matches '${FORBID}'")
endif()
