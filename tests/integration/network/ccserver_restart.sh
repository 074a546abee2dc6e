#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A chaincode server killed mid-run: status reports exactly it as down, the
# org's peer can no longer launch the chaincode, and after `resoctl network
# up` restarts it (and only it) the peer re-dials on the next invocation and
# the chaincode answers queries again.
. "$(dirname "$0")/lib.sh"
need_fixture
run=$NET_RUN_DIR

cc_query "$run" MLS
cc_answered || fail "chaincode not answering before the test: $OUT"

declare -A before
for p in "${NET_PROCS[@]}"; do before[$p]=$(recorded_pid "$run" "$p"); done
victim=${before[ccserver.mls]}
note "killing ccserver.mls (pid $victim)"
kill -TERM "$victim"
for ((i = 0; i < 100; i++)); do
    pid_live "$victim" || break
    sleep 0.1
done
! pid_live "$victim" || fail "ccserver.mls (pid $victim) survived SIGTERM for 10s"

status_of "$run"
assert_eq "$STATUS_RC" 3 "status exit code with one process down"
down=$(awk 'NR > 1 && $4 == "down" { print $1 }' <<<"$STATUS_OUT" | tr '\n' ' ')
assert_eq "$down" "ccserver.mls " "processes reported down"

cc_query "$run" MLS
assert_ne "$RC" 0 "query exit code with the chaincode server down"
assert_contains "$OUT" "could not launch chaincode reso_1.0-mls:" "query error with the server down"
# Other orgs are unaffected.
cc_query "$run" Brokerage
cc_answered || fail "Brokerage chaincode stopped answering: $OUT"

run_cmd "$RESOCTL" network up --run-dir "$run" --timeout 120
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "up exit code (restart)"
assert_contains "$OUT" "starting ccserver.mls" "up restarts the killed server"
for p in "${NET_PROCS[@]}"; do
    [ "$p" = ccserver.mls ] && continue
    assert_contains "$OUT" "$p already running (pid ${before[$p]})" "up leaves $p alone"
    assert_eq "$(recorded_pid "$run" "$p")" "${before[$p]}" "$p pid after up"
done
assert_ne "$(recorded_pid "$run" ccserver.mls)" "$victim" "new ccserver.mls pid"
assert_all_up "$run" "$NET_BASE_PORT"

cc_query "$run" MLS
cc_answered || fail "chaincode not answering after the restart: $OUT"
