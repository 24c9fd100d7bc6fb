# Runs a program built from a Markdown file's snippets (cmake/DocSnippets.cmake) and requires
# each documented output (CHECKS: `checks` names variables holding "snippet <file:line>\n<output>") to appear
# verbatim right after its snippet's marker line.
execute_process(COMMAND ${PROGRAM} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}")
endif()
set(checks "")
include(${CHECKS})
foreach(check IN LISTS checks)
  string(FIND "${out}" "${${check}}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "documented output not printed:\n${${check}}")
  endif()
endforeach()
list(LENGTH checks n)
message("documented outputs: ${n} of ${n} match")
