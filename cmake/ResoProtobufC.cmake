# SPDX-License-Identifier: Apache-2.0
#
# reso_protobuf_c(OUT_SRCS OUT_HDRS PROTO_ROOT <dir> PROTOS <rel paths...>)
# Generates <rel>.pb-c.c/.h into the build tree with protoc-c. Generated code
# is never committed: proto/ is the single source of truth.
function(reso_protobuf_c out_srcs out_hdrs)
  cmake_parse_arguments(P "" "PROTO_ROOT" "PROTOS;INCLUDES" ${ARGN})
  set(srcs)
  set(hdrs)
  set(incs -I${P_PROTO_ROOT})
  foreach(i ${P_INCLUDES})
    list(APPEND incs -I${i})
  endforeach()
  foreach(rel ${P_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    set(c "${CMAKE_CURRENT_BINARY_DIR}/${base}.pb-c.c")
    set(h "${CMAKE_CURRENT_BINARY_DIR}/${base}.pb-c.h")
    add_custom_command(
      OUTPUT "${c}" "${h}"
      COMMAND ${PROTOC_C} ${incs} --c_out=${CMAKE_CURRENT_BINARY_DIR}
              "${P_PROTO_ROOT}/${rel}"
      DEPENDS "${P_PROTO_ROOT}/${rel}"
      COMMENT "protoc-c ${rel}"
      VERBATIM)
    list(APPEND srcs "${c}")
    list(APPEND hdrs "${h}")
  endforeach()
  set(${out_srcs} ${srcs} PARENT_SCOPE)
  set(${out_hdrs} ${hdrs} PARENT_SCOPE)
endfunction()
