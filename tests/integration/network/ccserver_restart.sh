#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A chaincode server killed mid-run: status reports exactly it as down, the
# org's peer can no longer launch the chaincode, and after `resoctl network
# up` restarts it (and only it) the peer re-dials on the next invocation and
# the chaincode answers queries again. Then the same for the gateway killed
# with SIGKILL: reported down, restarted alone by `up`, and serving the
# same demo keys again.
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

# The gateway, killed without a chance to clean up.
url=$(env_get "$run" gateway.url) || fail "no gateway.url"
key=$(env_get "$run" gateway.api_keys.Association) || fail "no Association key"
for p in "${NET_PROCS[@]}"; do before[$p]=$(recorded_pid "$run" "$p"); done
victim=${before[gateway]}
note "kill -9 gateway (pid $victim)"
kill -KILL "$victim"
for ((i = 0; i < 100; i++)); do
    pid_live "$victim" || break
    sleep 0.1
done
! pid_live "$victim" || fail "gateway (pid $victim) survived SIGKILL"
status_of "$run"
assert_eq "$STATUS_RC" 3 "status exit code with the gateway down"
down=$(awk 'NR > 1 && $4 == "down" { print $1 }' <<<"$STATUS_OUT" | tr '\n' ' ')
assert_eq "$down" "gateway " "processes reported down"
gw_request "$url" "$key" GET /v1/catalog
assert_eq "$HTTP_STATUS" 000 "no answer while the gateway is down"

run_cmd "$RESOCTL" network up --run-dir "$run" --timeout 120
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "up exit code (gateway restart)"
assert_contains "$OUT" "starting gateway on 127.0.0.1:$((NET_BASE_PORT + 40))" "up restarts the killed gateway"
assert_contains "$OUT" "gateway: using existing config" "config kept"
for p in "${NET_PROCS[@]}"; do
    [ "$p" = gateway ] && continue
    assert_contains "$OUT" "$p already running (pid ${before[$p]})" "up leaves $p alone"
    assert_eq "$(recorded_pid "$run" "$p")" "${before[$p]}" "$p pid after up"
done
assert_ne "$(recorded_pid "$run" gateway)" "$victim" "new gateway pid"
assert_all_up "$run" "$NET_BASE_PORT"
assert_eq "$(env_get "$run" gateway.api_keys.Association)" "$key" "Association key after the restart"
gw_record_ok "$url" "$key" "US-42049-NETGW-$$-restart-R-N" \
    "$(env_get "$run" orgs.Association.recorder)"
