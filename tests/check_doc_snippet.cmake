# cmake -DDOC=page.md -DSNIPPET=file.cpp -P check_doc_snippet.cmake
# Fails unless the page quotes the file verbatim (so the page's code is the code that is
# compiled and run).
file(READ "${DOC}" doc)
file(READ "${SNIPPET}" snippet)
string(FIND "${doc}" "${snippet}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${DOC} does not quote ${SNIPPET} verbatim")
endif()
