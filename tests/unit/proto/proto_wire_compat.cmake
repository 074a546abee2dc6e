# SPDX-License-Identifier: Apache-2.0
#
# Driver of ctest proto_wire_compat (cmake -P). Both directions of the wire
# check between reso-ledger's protobuf-c code and Fabric's official Node
# classes (@hyperledger/fabric-protos):
#   1. proto_vectors generate    C encodes every message type
#   2. proto-wire.js decode      Node decodes and compares every field
#   3. proto-wire.js encode      Node encodes the core messages
#   4. proto_vectors verify      C decodes and compares every field
# Variables: NODE, VECTORS (proto_vectors), INTEROP_DIR (tests/interop),
# PROTO_DIR (proto/), WORK_DIR (scratch, recreated on every run).
foreach(var NODE VECTORS INTEROP_DIR PROTO_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "proto_wire_compat: -D${var}=... is required")
  endif()
endforeach()

if(NOT NODE OR NODE MATCHES "NOTFOUND$" OR NOT EXISTS "${NODE}")
  message(FATAL_ERROR
    "proto_wire_compat: node was not found when CMake configured this "
    "build; run scripts/setup.sh, then re-run cmake")
endif()
if(NOT EXISTS "${INTEROP_DIR}/node_modules/@hyperledger/fabric-protos/package.json")
  message(FATAL_ERROR
    "proto_wire_compat: ${INTEROP_DIR}/node_modules lacks "
    "@hyperledger/fabric-protos; run scripts/setup.sh (npm ci in tests/interop)")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(c2node "${WORK_DIR}/c-to-node")
set(node2c "${WORK_DIR}/node-to-c")
set(script "${INTEROP_DIR}/proto-wire.js")

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "proto_wire_compat: ${what} failed (exit ${rc})")
  endif()
endfunction()

step("C encode (proto_vectors generate)" "${VECTORS}" generate "${c2node}")
step("Node decode (proto-wire.js decode)"
     "${NODE}" "${script}" decode "${c2node}" --proto-dir "${PROTO_DIR}")
step("Node encode (proto-wire.js encode)" "${NODE}" "${script}" encode "${node2c}")
step("C decode (proto_vectors verify)" "${VECTORS}" verify "${node2c}")
message(STATUS "proto_wire_compat: both directions match")
