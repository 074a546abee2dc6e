#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `resoctl network env --json` prints the schema of docs/network.md exactly:
# every field, nothing extra, every path existing, 11 distinct ports inside
# the base port block, and values that agree with the network's state.
. "$(dirname "$0")/lib.sh"
need_fixture
: "${ENVJSON:?set by CMake}"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$RESOCTL" network env --json --run-dir "$NET_RUN_DIR" >"$out" || rc=$?
assert_eq "$rc" 0 "env --json exit code"
"$ENVJSON" check "$out" "$NET_BASE_PORT" || fail "env --json does not match the schema"

get() { "$ENVJSON" get "$out" "$1"; }
assert_eq "$(get run_dir)" "$NET_RUN_DIR" "run_dir"
assert_eq "$(get orderer.address)" "127.0.0.1:$NET_BASE_PORT" "orderer.address"
assert_eq "$(get orderer.admin_address)" "127.0.0.1:$((NET_BASE_PORT + 1))" "orderer.admin_address"
assert_eq "$(get orgs.Brokerage.peer.address)" "127.0.0.1:$((NET_BASE_PORT + 10))" "Brokerage peer"
assert_eq "$(get orgs.MLS.peer.operations)" "127.0.0.1:$((NET_BASE_PORT + 32))" "MLS operations"
assert_eq "$(get orgs.Association.chaincode_server.address)" "127.0.0.1:$((NET_BASE_PORT + 23))" "Association chaincode server"
for org in Brokerage Association MLS; do
    key=$(tr '[:upper:]' '[:lower:]' <<<"$org")
    pkg=$(get "orgs.$org.chaincode_server.package_id")
    file=$NET_RUN_DIR/chaincode/$key/reso_1.0-$key.tgz
    # The package ID is the label plus the SHA-256 of the installed file.
    assert_eq "$pkg" "reso_1.0-$key:$(sha256sum "$file" | cut -d' ' -f1)" "$org package id"
    assert_eq "$(get "orgs.$org.chaincode_server.pid_file")" \
        "$NET_RUN_DIR/pids/ccserver.$key.pid" "$org pid file"
    # The chaincode server runs with exactly that package ID.
    pid=$(recorded_pid "$NET_RUN_DIR" "ccserver.$key")
    ccid=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^CHAINCODE_ID=//p')
    assert_eq "$ccid" "$pkg" "$org CHAINCODE_ID of the running server"
done
ids=$(for o in Brokerage Association MLS; do get "orgs.$o.chaincode_server.package_id"; done | sort -u | wc -l)
assert_eq "$ids" 3 "distinct package IDs"

# Plain `env` prints shell assignments naming the same endpoints.
run_cmd "$RESOCTL" network env --run-dir "$NET_RUN_DIR"
assert_eq "$RC" 0 "env exit code"
assert_contains "$OUT" "RESO_ORDERER_ADDRESS=127.0.0.1:$NET_BASE_PORT" "env output"
