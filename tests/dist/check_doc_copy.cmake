# cmake -DDOC=<page.md> -DSOURCE=<file> -P check_doc_copy.cmake
# Fails unless the page holds the file's text verbatim (the page shows a program that CTest
# builds and runs, so the copy must not drift from it).
file(READ ${DOC} doc)
file(READ ${SOURCE} source)
string(FIND "${doc}" "${source}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${DOC} does not hold ${SOURCE} verbatim: copy the file into the page again")
endif()
message(STATUS "${DOC} shows ${SOURCE} verbatim")
