# Turns every schemas/NAME.avsc into a C string in one generated file, with a
# table indexed by schema slot (the five input records in the order of docs/rules.md section 2, then
# ReputationEvent), and the output schemas that are not slots of the codec
# (AccountState, written by its own codec in src/codec/acctstate.c) as
# plain named strings. The file is included by src/codec/schemas.c, the one
# place that sees the tables (they are static). Run with -DSCHEMA_DIR=...
# -DOUT=...
set(slots Delivery Bounce Complaint Report Action ReputationEvent)
set(body "/* Generated from schemas/NAME.avsc by cmake/embed_schemas.cmake;\n * included by src/codec/schemas.c. */\n\n")
set(table "")
set(names "")
foreach(name IN LISTS slots)
  set(path ${SCHEMA_DIR}/${name}.avsc)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "missing schema ${path}")
  endif()
  file(READ ${path} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char schema_${name}[] = {${hex} 0x00};\n")
  string(APPEND table "    schema_${name},\n")
  string(APPEND names "    \"${name}.avsc\",\n")
endforeach()
# Output schemas outside the slot table, each its own static string.
foreach(name AccountState)
  set(path ${SCHEMA_DIR}/${name}.avsc)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "missing schema ${path}")
  endif()
  file(READ ${path} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char schema_${name}[] = {${hex} 0x00};\n")
endforeach()
string(APPEND body "\nstatic const char *const schema_texts[] = {\n${table}};\n")
string(APPEND body "static const char *const schema_files[] = {\n${names}};\n")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
