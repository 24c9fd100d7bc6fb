# Reading Markdown pages line by line in CMake, shared by DocSnippets.cmake and
# CheckDocCommands.cmake. CMake lists split on ';' and treat '\', '[' and ']' specially, so
# those characters are encoded as @AG_SEMI@, @AG_BS@, @AG_LB@ and @AG_RB@ before the text is
# split into lines, and decoded when a line (or text built from lines) is used again.

# ag_markdown_lines(<file> <out>): the file's lines, encoded, as a list.
function(ag_markdown_lines file out)
  file(READ ${file} text)
  string(REPLACE "\\" "@AG_BS@" text "${text}")
  string(REPLACE ";" "@AG_SEMI@" text "${text}")
  string(REPLACE "[" "@AG_LB@" text "${text}")
  string(REPLACE "]" "@AG_RB@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

# ag_markdown_decode(<out> <value>): the encoded characters of <value> restored.
function(ag_markdown_decode out value)
  string(REPLACE "@AG_SEMI@" ";" value "${value}")
  string(REPLACE "@AG_BS@" "\\" value "${value}")
  string(REPLACE "@AG_LB@" "[" value "${value}")
  string(REPLACE "@AG_RB@" "]" value "${value}")
  set(${out} "${value}" PARENT_SCOPE)
endfunction()
