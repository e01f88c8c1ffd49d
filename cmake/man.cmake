# Writes one manual page, OUT (troff) and OUT.gz, from Markdown: the files
# of INPUTS are joined in order, every one after the first losing
# its "# Title" line (docs/configuration.md's own title, under the page's),
# and pandoc turns the whole into troff with docs/man/man.lua (tables that
# fit 80 columns, ragged right, no links between files). Run by the
# repute_man target of CMakeLists.txt, at build time.
#
# Inputs: PANDOC, FILTER, INPUTS ('|' between files), OUT, TITLE, SECTION,
# VERSION.
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(md "")
set(first TRUE)
foreach(in IN LISTS INPUTS)
  file(READ ${in} text)
  if(NOT first)
    string(REGEX REPLACE "^# [^\n]*\n" "" text "${text}")
  endif()
  string(APPEND md "${text}\n")
  set(first FALSE)
endforeach()
file(WRITE ${OUT}.md "${md}")
if(SECTION STREQUAL "1")
  set(header "User Commands")
else()
  set(header "File Formats")
endif()
execute_process(
  COMMAND ${PANDOC} -s -f markdown-smart -t man --lua-filter ${FILTER}
          --shift-heading-level-by=-1 -M title=${TITLE} -M section=${SECTION}
          -M "header=${header}" -M "footer=repute ${VERSION}"
          ${OUT}.md -o ${OUT}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "pandoc failed on ${OUT}.md")
endif()
file(REMOVE ${OUT}.md)
# gzip -n: no name or time stamp, so that the same page gives the same
# bytes (a reproducible package).
execute_process(COMMAND gzip -9nf -k ${OUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "gzip failed on ${OUT}")
endif()
