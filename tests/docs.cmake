# The user documentation stays true: every ```cpp block compiles and runs (and prints the
# ```text block shown under it, if any), every ```console session prints what the page shows,
# and no shown command holds a literal "...". See cmake/DocSnippets.cmake, CheckDocCommands.cmake.
include(${PROJECT_SOURCE_DIR}/cmake/DocSnippets.cmake)
set(AG_CHECKED_DOCS
  README.md CONTRIBUTING.md docs/install.md docs/semantics.md docs/graphs.md docs/nn.md
  docs/data_checkpoints.md docs/benchmarks.md docs/testing.md docs/examples.md docs/agexpr.md
  docs/explain.md docs/tape.md)
file(GLOB AG_EXAMPLE_DOCS RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/docs/examples/*.md)
if(NOT AG_WITH_MPI)  # these pages run programs built only with autograd::dist
  list(REMOVE_ITEM AG_EXAMPLE_DOCS docs/examples/ddp_quickstart.md docs/examples/fashion_mnist_ddp.md)
endif()
list(APPEND AG_CHECKED_DOCS ${AG_EXAMPLE_DOCS})
ag_doc_snippets(TARGET_PREFIX doc_snippets FILES ${AG_CHECKED_DOCS})

if(AG_BUILD_TOOLS AND AG_BUILD_EXAMPLES)
  foreach(doc IN LISTS AG_CHECKED_DOCS)
    string(MAKE_C_IDENTIFIER "${doc}" stem)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/doc_commands/${stem})
    file(MAKE_DIRECTORY ${work})
    add_test(NAME doc_commands_${stem}
      COMMAND ${CMAKE_COMMAND} -DDOC=${PROJECT_SOURCE_DIR}/${doc} -DAGEXPR=$<TARGET_FILE:agexpr>
              -DEXAMPLES=${PROJECT_BINARY_DIR}/examples -DWORK_DIR=${work}
              -P ${PROJECT_SOURCE_DIR}/cmake/CheckDocCommands.cmake)
    set_tests_properties(doc_commands_${stem} PROPERTIES LABELS docs TIMEOUT 300
                         ENVIRONMENT "${AG_DOCUMENTED_OUTPUT_ENV}")
  endforeach()
endif()
