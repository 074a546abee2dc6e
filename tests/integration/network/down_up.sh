#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `down` stops every process of the network, the gateway and CouchDB
# included, by PID
# (no PID left alive) and keeps the state; `up` afterwards restarts the same
# network from that state (same ports, same package IDs, ledgers kept, same
# gateway config and demo keys, which still work); a second `up` while
# running starts nothing and exits 0.
. "$(dirname "$0")/lib.sh"
need_fixture
run=$NET_RUN_DIR

envfile=$(mktemp)
trap 'rm -f "$envfile"' EXIT
"$RESOCTL" network env --json --run-dir "$run" >"$envfile"
pkg_before=$("$ENVJSON" get "$envfile" orgs.Brokerage.chaincode_server.package_id)
pids=$(marked_pids "$run" | sort | tr '\n' ' ')
assert_eq "$(wc -w <<<"$pids")" 9 "live processes before down"
keys_before=$(sha256sum <"$run/gateway/demo-keys.json")
conf_before=$(sha256sum <"$run/gateway/reso-gateway.conf")
key_before=$("$ENVJSON" get "$envfile" gateway.api_keys.MLS)
gw_pid=$(recorded_pid "$run" gateway)

run_cmd "$RESOCTL" network down --run-dir "$run"
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "down exit code"
# The gateway goes first, so it never sees its peers vanish under it.
assert_eq "$(grep -m1 'stopping ' <<<"$OUT")" "[network] stopping gateway (pid $gw_pid)" "first process stopped"
for pid in $pids; do
    ! pid_live "$pid" || fail "pid $pid still alive after down"
done
assert_eq "$(marked_pids "$run" | wc -l)" 0 "processes with the marker after down"
for p in "${NET_PROCS[@]}"; do
    [ ! -e "$run/pids/$p.pid" ] || fail "$p.pid not removed by down"
    [ -s "$run/logs/$p.log" ] || fail "$p.log removed by down"
done
[ -d "$run/data/peer0.mls" ] || fail "peer ledger removed by down"
[ -f "$run/network.env" ] || fail "state file removed by down"

status_of "$run"
assert_eq "$STATUS_RC" 3 "status exit code after down"
assert_eq "$(grep -c ' down$' <<<"$STATUS_OUT")" 9 "processes down after down"
assert_eq "$(sha256sum <"$run/gateway/demo-keys.json")" "$keys_before" "demo keys after down"

run_cmd "$RESOCTL" network down --run-dir "$run"
assert_eq "$RC" 0 "second down exit code"

run_cmd "$RESOCTL" network up --run-dir "$run" --timeout 180
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "up after down exit code"
assert_contains "$OUT" "resuming the network in $run (base port $NET_BASE_PORT)" "up after down"
assert_contains "$OUT" "peer0.mls: already joined reso-events" "ledger kept"
assert_contains "$OUT" "chaincode: reso sequence 1 already committed" "chaincode kept"
assert_contains "$OUT" "gateway: using existing config $run/gateway/reso-gateway.conf" "gateway config kept"
assert_contains "$OUT" "[network] gateway: /healthz OK at http://127.0.0.1:$((NET_BASE_PORT + 40))" "gateway ready"
assert_all_up "$run" "$NET_BASE_PORT"
new_pids=$(marked_pids "$run" | sort | tr '\n' ' ')
for pid in $new_pids; do
    [[ " $pids " != *" $pid "* ]] || fail "pid $pid survived down"
done
"$RESOCTL" network env --json --run-dir "$run" >"$envfile"
assert_eq "$("$ENVJSON" get "$envfile" orgs.Brokerage.chaincode_server.package_id)" \
    "$pkg_before" "package ID after restart (deterministic package)"
for org in Brokerage Association MLS; do
    cc_query "$run" "$org"
    cc_answered || fail "$org chaincode not answering after restart: $OUT"
done
# The gateway is back with the same config and keys, and they work.
assert_eq "$(sha256sum <"$run/gateway/demo-keys.json")" "$keys_before" "demo keys after up"
assert_eq "$(sha256sum <"$run/gateway/reso-gateway.conf")" "$conf_before" "gateway config after up"
assert_eq "$(stat -c %a "$run/gateway/demo-keys.json")" 600 "mode of demo-keys.json after up"
assert_eq "$("$ENVJSON" get "$envfile" gateway.api_keys.MLS)" "$key_before" "MLS key in env --json after up"
gw_record_ok "$("$ENVJSON" get "$envfile" gateway.url)" "$key_before" "US-42049-NETGW-$$-downup-R-N" \
    "$("$ENVJSON" get "$envfile" orgs.MLS.recorder)"

# Already running: says so, starts nothing.
run_cmd "$RESOCTL" network up --run-dir "$run"
assert_eq "$RC" 0 "up while running exit code"
assert_contains "$OUT" "is already running; nothing started" "up while running"
assert_eq "$(marked_pids "$run" | sort | tr '\n' ' ')" "$new_pids" "pids after a second up"

# A different base port for an existing run dir is refused.
run_cmd "$RESOCTL" network up --run-dir "$run" --base-port $((NET_BASE_PORT + 50))
assert_eq "$RC" 2 "up with another base port exit code"
assert_contains "$OUT" "holds a network with base port $NET_BASE_PORT" "base port mismatch message"
