#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ctest fixture cleanup (FIXTURES_CLEANUP fabric): stops the fixture network
# with `resoctl network down`, whatever the other tests did, checks that none
# of its processes is left and deletes the run directory (kept when
# RESO_TEST_KEEP_RUN=1, for debugging). If `down` itself fails, the processes
# that carry the network's marker are killed by PID so nothing leaks.
. "$(dirname "$0")/lib.sh"

[ -f "$RESO_TEST_ENV_FILE" ] || skip "no fixture file: nothing to stop"
. "$RESO_TEST_ENV_FILE"
[ -z "${NET_SKIP:-}" ] || skip "$NET_SKIP"
[ -n "${NET_RUN_DIR:-}" ] || fail "fixture file has no NET_RUN_DIR"
run=$NET_RUN_DIR

before=$(marked_pids "$run" | tr '\n' ' ')
note "stopping the fixture network in $run (live pids: ${before:-none})"
run_cmd "$RESOCTL" network down --run-dir "$run"
printf '%s\n' "$OUT"
down_rc=$RC
left=$(marked_pids "$run" | tr '\n' ' ')
if [ -n "$left" ]; then
    note "still running after down: $left; killing them"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
fi
if [ "${RESO_TEST_KEEP_RUN:-0}" != 1 ]; then
    rm -rf -- "$run"
fi
rm -f "$RESO_TEST_ENV_FILE"
assert_eq "$down_rc" 0 "resoctl network down exit code"
assert_eq "$left" "" "processes left after down"
