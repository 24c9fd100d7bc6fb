# ag_doc_snippets(TARGET_PREFIX <prefix> FILES <file.md>...)
#
# Every ```cpp block of the given Markdown files is compiled and run, so that no snippet shown
# to a user goes stale. A block is a fragment: its #include lines are moved to the top of the
# generated file and the rest becomes the body of a function of its own, so every name a block
# uses must be declared in that block. A block that defines `int main(` is compiled as a whole
# program instead. `#line` directives make compiler errors point at the Markdown file and line.
# One executable per Markdown file runs its blocks in order; its test is <prefix>_<stem>.
# Editing a Markdown file re-runs CMake (CMAKE_CONFIGURE_DEPENDS).

include(${CMAKE_CURRENT_LIST_DIR}/MarkdownLines.cmake)

function(ag_doc_snippets_extract md out_dir stem out_sources)
  ag_markdown_lines(${md} lines)
  set(line_no 0)
  set(in_block FALSE)
  set(block_count 0)
  set(includes "")
  set(functions "")
  set(calls "")
  set(sources "")
  set(checks "")
  set(expect_for "")    # the fragment whose ```text block may follow
  set(in_expect FALSE)
  foreach(line IN LISTS lines)
    math(EXPR line_no "${line_no} + 1")
    if(in_expect)
      if(line MATCHES "^``` *$")
        set(in_expect FALSE)
        string(APPEND checks "list(APPEND checks check_${line_no})\n"
               "set(check_${line_no} [==[snippet ${expect_for}\n${expected}]==])\n")
        set(expect_for "")
      else()
        string(APPEND expected "${line}\n")
      endif()
      continue()
    endif()
    if(NOT in_block AND NOT expect_for STREQUAL "")
      if(line MATCHES "^```text *$")
        set(in_expect TRUE)
        set(expected "")
        continue()
      elseif(NOT line STREQUAL "")
        set(expect_for "")
      endif()
    endif()
    if(NOT in_block)
      if(line MATCHES "^```cpp *$")
        set(in_block TRUE)
        set(body "")
        set(block_includes "")
        math(EXPR block_count "${block_count} + 1")
        math(EXPR body_line "${line_no} + 1")
        set(block_line ${line_no})
      endif()
      continue()
    endif()
    if(line MATCHES "^``` *$")
      set(in_block FALSE)
      if(body MATCHES "int main\\(")
        set(program "${out_dir}/${stem}_${block_count}.cpp")
        string(CONCAT content "${block_includes}" "#line ${body_line} \"${md}\"\n" "${body}")
        ag_doc_snippets_write(${program} "${content}")
        list(APPEND sources "${program}")
      else()
        string(APPEND includes "${block_includes}")
        string(APPEND functions "// ${md}:${block_line}\nstatic void snippet_${block_count}() {\n"
               "#line ${body_line} \"${md}\"\n${body}}\n\n")
        string(APPEND calls "  run(\"${md}:${block_line}\", snippet_${block_count})@AG_SEMI@\n")
        set(expect_for "${md}:${block_line}")
      endif()
      continue()
    endif()
    if(line MATCHES "^#include")
      string(APPEND block_includes "${line}\n")
      string(APPEND body "\n")  # keep the line numbers
    else()
      string(APPEND body "${line}\n")
    endif()
  endforeach()
  if(in_block)
    message(FATAL_ERROR "${md}: the ```cpp block opened at line ${block_line} is never closed")
  endif()
  if(NOT functions STREQUAL "")
    set(main "${out_dir}/${stem}.cpp")
    # The includes of all blocks, once each, then every fragment, then a main running them.
    string(REPLACE "\n" ";" include_list "${includes}")
    list(REMOVE_DUPLICATES include_list)
    list(JOIN include_list "\n" includes)
    string(CONCAT content
      "// Generated from ${md} by cmake/DocSnippets.cmake: every ```cpp block, in order.\n"
      "#include <cstdio>\n#include <exception>\n${includes}\n\n${functions}"
      "static void run(const char* where, void (*snippet)()) {\n"
      "  std::printf(\"snippet %s@AG_BS@n\", where)@AG_SEMI@\n"
      "  std::fflush(stdout)@AG_SEMI@\n"
      "  snippet()@AG_SEMI@\n}\n\n"
      "int main() {\n  try {\n${calls}  } catch (const std::exception& e) {\n"
      "    std::fprintf(stderr, \"snippet failed: %s@AG_BS@n\", e.what())@AG_SEMI@\n"
      "    return 1@AG_SEMI@\n  }\n  std::printf(\"all snippets ran@AG_BS@n\")@AG_SEMI@\n"
      "  return 0@AG_SEMI@\n}\n")
    ag_doc_snippets_write(${main} "${content}")
    list(PREPEND sources "${main}")
    # A ```text block right after a fragment is its exact output, checked by the test.
    ag_doc_snippets_write(${out_dir}/${stem}.checks.cmake "${checks}")
  endif()
  set(${out_sources} "${sources}" PARENT_SCOPE)
endfunction()

# Writes decoded text, touching the file only when it changes (no needless rebuilds).
function(ag_doc_snippets_write path content)
  ag_markdown_decode(content "${content}")
  file(CONFIGURE OUTPUT ${path} CONTENT "${content}" @ONLY)
endfunction()

function(ag_doc_snippets)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "TARGET_PREFIX" "FILES")
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets)
  foreach(relative IN LISTS ARG_FILES)
    set(md ${PROJECT_SOURCE_DIR}/${relative})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${md})
    string(MAKE_C_IDENTIFIER "${relative}" stem)
    string(REGEX REPLACE "_md$" "" stem "${stem}")
    ag_doc_snippets_extract(${md} ${out_dir} ${stem} sources)
    set(index 0)
    foreach(source IN LISTS sources)
      get_filename_component(name ${source} NAME_WE)
      set(target ${ARG_TARGET_PREFIX}_${name})
      add_executable(${target} ${source})
      # ag_command_line: a page may quote an example, which reads its options with it.
      target_link_libraries(${target} PRIVATE autograd::autograd autograd::nn ag_command_line)
      # Snippets write their pictures and checkpoints into a scratch directory of their own.
      set(work ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets/run_${name})
      file(MAKE_DIRECTORY ${work})
      if(EXISTS ${out_dir}/${name}.checks.cmake)
        add_test(NAME ${target} COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}>
                 -DCHECKS=${out_dir}/${name}.checks.cmake -DWORK_DIR=${work}
                 -P ${PROJECT_SOURCE_DIR}/cmake/RunDocSnippets.cmake)
      else()
        add_test(NAME ${target} COMMAND ${target} WORKING_DIRECTORY ${work})
      endif()
      set_tests_properties(${target} PROPERTIES LABELS docs TIMEOUT 120
                           ENVIRONMENT "${AG_DOCUMENTED_OUTPUT_ENV}")
    endforeach()
  endforeach()
endfunction()
