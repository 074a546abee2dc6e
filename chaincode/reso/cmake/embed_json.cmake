# SPDX-License-Identifier: Apache-2.0
# Build-time step: turns the built-in catalog data files (lookup profiles
# and the default consortium member list) into a C source, so the
# chaincode carries them without reading files at run time and the data
# stays reviewable as plain JSON in the source tree.
# Inputs: OUT (the .c to write), PROFILES (;-list of profile files),
# MEMBERS (the member list file).
function(_reso_hex_array file var out_var)
  file(READ "${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
         "\\1\n    " hex "${hex}")
  set(${out_var} "static const char ${var}[] = {\n    ${hex}0x00};\n" PARENT_SCOPE)
endfunction()

string(CONCAT body
       "/* Generated from chaincode/reso/profiles and catalog/members.json\n"
       " * by embed_json.cmake; do not edit. */\n#include <stddef.h>\n\n")
set(list "")
set(i 0)
foreach(f IN LISTS PROFILES)
  _reso_hex_array("${f}" "profile_${i}" arr)
  string(APPEND body "${arr}\n")
  string(APPEND list "    profile_${i},\n")
  math(EXPR i "${i} + 1")
endforeach()
_reso_hex_array("${MEMBERS}" "members" arr)
string(APPEND body "${arr}\n")
string(APPEND body "extern const char *const evl_builtin_profile_texts[];\n"
       "extern const char *const evl_builtin_members_text;\n\n"
       "const char *const evl_builtin_profile_texts[] = {\n${list}    NULL,\n};\n"
       "const char *const evl_builtin_members_text = members;\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
