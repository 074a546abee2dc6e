#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A second network (base port auto, own run dir) runs next to the fixture
# network: both report all processes up, their ports do not overlap, and
# taking the second one down (with --purge) leaves the first untouched.
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

run_cmd "$RESOCTL" network up --run-dir "$run2" --base-port auto --timeout 180
printf '%s\n' "$OUT"
assert_eq "$RC" 0 "second network up exit code"
base2=$(sed -n 's/^RESO_NET_BASE_PORT=//p' "$run2/network.env")
note "second network: base port $base2"
[ "$base2" -ge $((NET_BASE_PORT + 50)) ] || [ "$base2" -le $((NET_BASE_PORT - 50)) ] ||
    fail "port blocks overlap: $NET_BASE_PORT and $base2"

assert_all_up "$run2" "$base2"
assert_all_up "$NET_RUN_DIR" "$NET_BASE_PORT"
for org in Brokerage Association MLS; do
    cc_query "$run2" "$org"
    cc_answered || fail "$org chaincode of the second network not answering: $OUT"
done

run_cmd "$RESOCTL" network down --run-dir "$run2" --purge
assert_eq "$RC" 0 "second network down exit code"
[ ! -e "$run2" ] || fail "--purge left $run2"
assert_eq "$(marked_pids "$run2" | wc -l)" 0 "second network processes left"
assert_all_up "$NET_RUN_DIR" "$NET_BASE_PORT"
