#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A second network (base port auto, own run dir, --no-gateway) runs next to
# the fixture network: both report all their processes up (8 without the
# gateway, whose env JSON has no gateway section), their ports do not
# overlap; a later `up` without --no-gateway adds just the gateway, and
# `up --no-gateway` stops it again; taking the second network down (with
# --purge) leaves the first untouched.
. "$(dirname "$0")/lib.sh"
need_fixture

run2=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/reso-net-test2.XXXXXX")" && pwd -P)
cleanup() {
    "$RESOCTL" network down --run-dir "$run2" --purge >/dev/null 2>&1 || true
    local left
    left=$(marked_pids "$run2")
    # shellcheck disable=SC2086
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    rm -rf -- "$run2"
}
trap cleanup EXIT

run_cmd "$RESOCTL" network up --run-dir "$run2" --base-port auto --timeout 180 --no-gateway
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "second network up exit code"
base2=$(sed -n 's/^RESO_NET_BASE_PORT=//p' "$run2/network.env")
note "second network: base port $base2"
[ "$base2" -ge $((NET_BASE_PORT + 50)) ] || [ "$base2" -le $((NET_BASE_PORT - 50)) ] ||
    fail "port blocks overlap: $NET_BASE_PORT and $base2"

[[ "$OUT" != *"gateway"* ]] || fail "up --no-gateway mentions a gateway"
assert_all_up "$run2" "$base2" no-gateway
assert_all_up "$NET_RUN_DIR" "$NET_BASE_PORT"
for org in Brokerage Association MLS; do
    cc_query "$run2" "$org"
    cc_answered || fail "$org chaincode of the second network not answering: $OUT"
done
env2=$run2/env-test.json
"$RESOCTL" network env --json --run-dir "$run2" >"$env2" || fail "env --json of the second network"
"$ENVJSON" check "$env2" "$base2" no-gateway || fail "env --json of a network without the gateway"
[ ! -e "$run2/gateway/demo-keys.json" ] || fail "--no-gateway wrote demo keys"

# The gateway joins the running network; nothing else is restarted.
declare -A before
for p in "${NET_PROCS[@]}"; do before[$p]=$(recorded_pid "$run2" "$p"); done
run_cmd "$RESOCTL" network up --run-dir "$run2" --timeout 180
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "up adding the gateway exit code"
assert_contains "$OUT" "starting gateway on 127.0.0.1:$((base2 + 40))" "up adds the gateway"
for p in "${NET_PROCS[@]}"; do
    [ "$p" = gateway ] && continue
    assert_eq "$(recorded_pid "$run2" "$p")" "${before[$p]}" "$p pid after adding the gateway"
done
assert_all_up "$run2" "$base2"
"$RESOCTL" network env --json --run-dir "$run2" >"$env2" || fail "env --json of the second network"
"$ENVJSON" check "$env2" "$base2" gateway || fail "env --json with the gateway added"
gw2=$(recorded_pid "$run2" gateway)
run_cmd "$RESOCTL" network up --run-dir "$run2" --no-gateway
assert_eq "$RC" 0 "up --no-gateway on a running network exit code"
assert_contains "$OUT" "stopping gateway (pid $gw2)" "up --no-gateway stops the gateway"
! pid_live "$gw2" || fail "gateway (pid $gw2) alive after up --no-gateway"
assert_all_up "$run2" "$base2" no-gateway

run_cmd "$RESOCTL" network down --run-dir "$run2" --purge
assert_eq "$RC" 0 "second network down exit code"
[ ! -e "$run2" ] || fail "--purge left $run2"
assert_eq "$(marked_pids "$run2" | wc -l)" 0 "second network processes left"
assert_all_up "$NET_RUN_DIR" "$NET_BASE_PORT"
