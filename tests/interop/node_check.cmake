# SPDX-License-Identifier: Apache-2.0
# `node --check SCRIPT` for ctest (cmake -P), with a clear message when node
# is missing. Variables: NODE, SCRIPT.
if(NOT NODE OR NODE MATCHES "NOTFOUND$" OR NOT EXISTS "${NODE}")
  message(FATAL_ERROR "node was not found when CMake configured this build; "
                      "run scripts/setup.sh, then re-run cmake")
endif()
execute_process(COMMAND "${NODE}" --check "${SCRIPT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "node --check ${SCRIPT} failed (exit ${rc})")
endif()
