#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ctest fixture setup (FIXTURES_SETUP fabric): starts a network on a free base
# port under a fresh temporary run directory and records both in the fixture
# file, which the other network tests and down.sh read. Skips (77) when the
# Fabric binaries cannot be obtained, and records the reason so that every
# test of the fixture skips with it.
. "$(dirname "$0")/lib.sh"

rm -f "$RESO_TEST_ENV_FILE"
rc=0
"$RESO_NETWORK_SRC/install-fabric.sh" >/dev/null || rc=$?
if [ "$rc" = 3 ]; then
    reason="Fabric 2.5 binaries are not available (network/install-fabric.sh exit 3)"
    printf 'NET_SKIP=%q\n' "$reason" >"$RESO_TEST_ENV_FILE"
    skip "$reason"
fi
[ "$rc" = 0 ] || fail "network/install-fabric.sh failed with exit $rc"

base=$(probe_base_port) || fail "no free block of 50 ports found on 127.0.0.1"
run=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/reso-net-test.XXXXXX")" && pwd -P)
# Written before `up`, so that down.sh cleans up even a half-started network.
printf 'NET_RUN_DIR=%q\nNET_BASE_PORT=%q\n' "$run" "$base" >"$RESO_TEST_ENV_FILE"
note "network up: run dir $run, base port $base"

run_cmd "$RESOCTL" network up --run-dir "$run" --base-port "$base" --timeout 180
printf '%s\n' "$OUT"
up_out=$OUT
assert_eq "$RC" 0 "resoctl network up exit code"
assert_contains "$OUT" "[network] network is up" "up output"
assert_contains "$OUT" "peer chaincode query" "up output (example command)"
assert_contains "$OUT" "reso-ledger network in $run (base port $base," "up summary"
assert_all_up "$run" "$base"

# The summary shows the gateway and two commands that work as pasted: the
# record example answers 201 with the stored event, its txid and block.
url="http://127.0.0.1:$((base + 40))"
assert_contains "$up_out" "gateway: $url (config $run/gateway/reso-gateway.conf;" "up summary (gateway)"
bkey=$(env_get "$run" gateway.api_keys.Brokerage) || fail "no Brokerage key in env --json"
mkey=$(env_get "$run" gateway.api_keys.MLS) || fail "no MLS key in env --json"
record=$(sed -n 's/^  record: //p' <<<"$up_out")
assert_contains "$record" "curl -sS -X POST -H \"Authorization: Bearer $bkey\" -H 'Content-Type: application/json' --data '{\"EventSubject\":" "record example"
assert_contains "$record" "}' $url/v1/events" "record example"
stream=$(sed -n 's/^  stream: //p' <<<"$up_out")
assert_eq "$stream" "curl -sSN -H \"Authorization: Bearer $mkey\" $url/v1/stream" "stream example"
run_cmd bash -c "$record"
assert_eq "$RC" 0 "the printed record command: $OUT"
assert_contains "$OUT" '"EventSubject":"US-42049-49888-1213666-R-N"' "answer of the record command"
assert_contains "$OUT" '"txid":"' "answer of the record command"
assert_contains "$OUT" '"block":' "answer of the record command"
