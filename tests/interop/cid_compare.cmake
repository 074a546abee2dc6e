# SPDX-License-Identifier: Apache-2.0
# cid_vs_ipfs (cmake -P): the CIDs reso-gateway computes (CID_PRINT) must
# equal the ones IPFS's own importer computes (ipfs-cid.mjs in
# INTEROP_DIR, run by NODE) for the same files. Variables: NODE, CID_PRINT,
# INTEROP_DIR, SIZES (a ;-list of file sizes).
if(NOT NODE OR NODE MATCHES "NOTFOUND$" OR NOT EXISTS "${NODE}")
  message(FATAL_ERROR "node was not found when CMake configured this build; "
                      "run scripts/setup.sh, then re-run cmake")
endif()
if(NOT EXISTS "${INTEROP_DIR}/node_modules/ipfs-unixfs-importer")
  message(FATAL_ERROR "ipfs-unixfs-importer is not installed; run "
                      "scripts/setup.sh (npm ci in tests/interop)")
endif()
execute_process(COMMAND "${NODE}" "${INTEROP_DIR}/ipfs-cid.mjs" ${SIZES}
                WORKING_DIRECTORY "${INTEROP_DIR}"
                OUTPUT_VARIABLE ipfs RESULT_VARIABLE rc_ipfs)
if(NOT rc_ipfs EQUAL 0)
  message(FATAL_ERROR "ipfs-cid.mjs failed (exit ${rc_ipfs})")
endif()
execute_process(COMMAND "${CID_PRINT}" ${SIZES}
                OUTPUT_VARIABLE ours RESULT_VARIABLE rc_ours)
if(NOT rc_ours EQUAL 0)
  message(FATAL_ERROR "cid_print failed (exit ${rc_ours})")
endif()
list(LENGTH SIZES nsizes)
string(REGEX MATCHALL "\n" lines "${ipfs}")
list(LENGTH lines nlines)
if(NOT nlines EQUAL nsizes)
  message(FATAL_ERROR "ipfs-cid.mjs printed ${nlines} lines for ${nsizes} "
                      "sizes:\n${ipfs}")
endif()
if(NOT ours STREQUAL ipfs)
  message(FATAL_ERROR "CIDs differ.\nIPFS:\n${ipfs}\nreso-gateway:\n${ours}")
endif()
message(STATUS "CIDs equal IPFS's for ${nsizes} files:\n${ours}")
