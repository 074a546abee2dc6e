#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `resoctl network env --json` prints the schema of docs/network.md exactly:
# every field, nothing extra, every path existing, 12 distinct ports inside
# the base port block, and values that agree with the network's state. The
# gateway section's demo keys work (201 on POST /v1/events, each bound to
# its own org) while a wrong key gets 401; the keys file is 0600 and the
# keys appear neither in the gateway's config nor in its log.
. "$(dirname "$0")/lib.sh"
need_fixture
: "${ENVJSON:?set by CMake}"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$RESOCTL" network env --json --run-dir "$NET_RUN_DIR" >"$out" || rc=$?
assert_eq "$rc" 0 "env --json exit code"
"$ENVJSON" check "$out" "$NET_BASE_PORT" gateway || fail "env --json does not match the schema"

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


# The gateway section.
run=$NET_RUN_DIR
url=http://127.0.0.1:$((NET_BASE_PORT + 40))
assert_eq "$(get gateway.url)" "$url" "gateway.url"
assert_eq "$(get gateway.pid_file)" "$run/pids/gateway.pid" "gateway.pid_file"
assert_eq "$(stat -c %a "$run/gateway/demo-keys.json")" 600 "mode of demo-keys.json"
assert_eq "$(stat -c %a "$run/gateway")" 700 "mode of the gateway state dir"
conf=$run/gateway/reso-gateway.conf
grep -Fxq "listen 127.0.0.1:$((NET_BASE_PORT + 40))" "$conf" || fail "listen line in $conf"
grep -Fxq "network_env $run/network-env.json" "$conf" || fail "network_env line in $conf"
grep -Fxq "webhook_allow_private_targets yes" "$conf" || fail "webhook line in $conf"
# The imported description is the env JSON without the gateway section.
"$ENVJSON" check "$run/network-env.json" "$NET_BASE_PORT" no-gateway ||
    fail "network-env.json is not the env JSON without the gateway"
declare -A keys
for org in "${NET_ORGS[@]}"; do
    keys[$org]=$(get "gateway.api_keys.$org")
    key=$(tr '[:upper:]' '[:lower:]' <<<"$org")
    # The config holds the key's SHA-256, never the key.
    hash=$(printf '%s' "${keys[$org]}" | sha256sum | cut -d' ' -f1)
    grep -Fxq "apikey demo-$key $org $hash" "$conf" || fail "apikey line of $org in $conf"
    ! grep -Fq "${keys[$org]}" "$conf" "$run/network-env.json" ||
        fail "the $org key itself is in the config or network-env.json"
    # Each org records with the demo Recorder `network up` registered to it.
    recorder=$(get "orgs.$org.recorder")
    assert_eq "$recorder" "urn:reso:recorder:$key:1" "orgs.$org.recorder"
    gw_record_ok "$url" "${keys[$org]}" "US-42049-NETGW-$$-$key-R-N" "$recorder"
done
# Each key acts for its own org only.
gw_request "$url" "${keys[MLS]}" GET /v1/catalog "" "X-Reso-Identity: MLS"
assert_eq "$HTTP_STATUS" 200 "MLS key acting as MLS ($HTTP_BODY)"
gw_request "$url" "${keys[MLS]}" GET /v1/catalog "" "X-Reso-Identity: Brokerage"
assert_eq "$HTTP_STATUS" 403 "MLS key acting as Brokerage ($HTTP_BODY)"
gw_request "$url" "${keys[Brokerage]}" GET /v1/catalog "" "X-Reso-Identity: Association"
assert_eq "$HTTP_STATUS" 403 "Brokerage key acting as Association ($HTTP_BODY)"
# A wrong key (same shape as a demo key) is refused.
wrong=$(printf '%s' "${keys[Brokerage]}" | sha256sum | cut -d' ' -f1)
gw_request "$url" "$wrong" POST /v1/events \
    "$(net_test_event "US-42049-NETGW-$$-x-R-N" "$(get orgs.Brokerage.recorder)")"
assert_eq "$HTTP_STATUS" 401 "POST /v1/events with a wrong key ($HTTP_BODY)"
assert_contains "$HTTP_BODY" '"code":"UNAUTHORIZED"' "401 body"
# Secrets never logged.
[ -s "$run/logs/gateway.log" ] || fail "gateway log missing or empty"
for org in "${NET_ORGS[@]}"; do
    ! grep -Fq "${keys[$org]}" "$run/logs/gateway.log" || fail "the $org key is in the gateway log"
done

# Plain `env` prints shell assignments naming the same endpoints.
run_cmd "$RESOCTL" network env --run-dir "$NET_RUN_DIR"
assert_eq "$RC" 0 "env exit code"
assert_contains "$OUT" "RESO_ORDERER_ADDRESS=127.0.0.1:$NET_BASE_PORT" "env output"
assert_contains "$OUT"$'\n' "RESO_GATEWAY_URL=$url"$'\n' "env output"
assert_contains "$OUT"$'\n' "RESO_MLS_API_KEY=${keys[MLS]}"$'\n' "env output"
assert_contains "$OUT"$'\n' "RESO_MLS_RECORDER=urn:reso:recorder:mls:1"$'\n' "env output"
