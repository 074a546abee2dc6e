#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Interop on the real network: tests/interop/network-smoke.js drives the
# fixture network with the official Node client (@hyperledger/fabric-gateway)
# only, then crosses it with the C client (resoctl) both ways: what Node
# recorded is read by C and what C recorded is read by Node, field for field.
. "$(dirname "$0")/lib.sh"
need_fixture

node=$(command -v node) || fail "node is not installed (run scripts/setup.sh)"
interop=$RESO_SOURCE_DIR/tests/interop
[ -d "$interop/node_modules/@hyperledger/fabric-gateway" ] ||
    fail "npm packages missing in $interop (run scripts/setup.sh)"
env_json=$NET_RUN_DIR/interop-env.json
"$RESOCTL" network env --json --run-dir "$NET_RUN_DIR" >"$env_json" ||
    fail "resoctl network env failed"
run_cmd "$node" "$interop/network-smoke.js" --env "$env_json" --resoctl "$RESOCTL"
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "network-smoke.js exit code"
assert_contains "$OUT" "ok 8 - c_client_reads_what_node_recorded" "C reads Node's event"
assert_contains "$OUT" "ok 9 - node_reads_what_c_client_recorded" "Node reads C's event"
assert_contains "$OUT" "ok 6 - another_orgs_recorder_is_a_403_and_writes_nothing" \
    "another org's Recorder refused"
assert_contains "$OUT" "9 passed, 0 failed" "all interop checks"
