#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The chaincode daemon under valgrind on the real network: MLS's
# reso-chaincode is replaced by the same binary run under memcheck, serves
# real transactions from its peer (records endorsed by MLS, reads through
# MLS), is stopped with SIGTERM, and must exit 0 with no memory errors and
# no definitely or indirectly lost blocks. Then `resoctl network up` puts
# the normal server back.
. "$(dirname "$0")/lib.sh"
need_fixture
run=$NET_RUN_DIR
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/setup.sh installs it)"

env_json=$run/valgrind-env.json
"$RESOCTL" network env --json --run-dir "$run" >"$env_json" || fail "network env"
field() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[k]
print(d)' "$env_json" "$@"; }
pkg=$(field orgs MLS chaincode_server package_id)
addr=$(field orgs MLS chaincode_server address)
crypto=$(field crypto_dir)
tls=$crypto/peerOrganizations/mls.reso.example/chaincode/ccserver.mls.reso.example/tls
chaincode_bin=$(cat "$run/pids/ccserver.mls.exe")
[ -x "$chaincode_bin" ] || fail "no chaincode binary recorded for ccserver.mls"

victim=$(recorded_pid "$run" ccserver.mls)
note "replacing ccserver.mls (pid $victim) with $chaincode_bin under valgrind"
kill -TERM "$victim"
for ((i = 0; i < 100; i++)); do pid_live "$victim" || break; sleep 0.1; done
! pid_live "$victim" || fail "ccserver.mls survived SIGTERM"

vlog=$run/logs/ccserver.mls.valgrind.log
env CHAINCODE_ID="$pkg" CHAINCODE_SERVER_ADDRESS="$addr" \
    CORE_PEER_LOCALMSPID=MLSMSP CHAINCODE_TLS_DISABLED=false \
    CHAINCODE_TLS_CERT="$tls/server.crt" CHAINCODE_TLS_KEY="$tls/server.key" \
    valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --error-exitcode=99 \
        --log-file="$vlog" "$chaincode_bin" >"$run/logs/ccserver.mls.vg.out" 2>&1 &
vg=$!
stop_vg() { kill -TERM "$vg" 2>/dev/null || true; }
trap stop_vg EXIT
port=${addr##*:}
for ((i = 0; i < 300; i++)); do
    ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port " && break
    pid_live "$vg" || fail "valgrind'd server exited early: $(tail -5 "$run/logs/ccserver.mls.vg.out" "$vlog" 2>&1)"
    sleep 0.1
done

# Recorded by MLS, so with MLS's own Recorder (binding is strict).
recorder=$(field orgs MLS recorder)
doc='{"EventSubject":"US-42049-VG-1-R-N","System":"Tax Assessment System","SubjectType":"Tax","Entity":"County","Event":"Assessment","State":"Completed","Recorder":"'"$recorder"'","Application":"valgrind-check"}'
ids=()
for n in 1 2 3; do
    run_cmd sh -c "printf '%s' '$doc' | '$RESOCTL' event record - --run-dir '$run' --org MLS"
    assert_eq "$RC" 0 "record $n through MLS (endorsed by the valgrind'd server): $OUT"
    ids+=("$(printf '%s\n' "$OUT" | sed -n 's/.*"TransactionId": "\([^"]*\)".*/\1/p' | head -1)")
done
for id in "${ids[@]}"; do
    run_cmd "$RESOCTL" event get "$id" --run-dir "$run" --org MLS
    assert_eq "$RC" 0 "get $id through MLS"
    assert_contains "$OUT" "\"TransactionId\": \"$id\"" "event $id read back"
done
run_cmd "$RESOCTL" subject history US-42049-VG-1-R-N --run-dir "$run" --org MLS
assert_eq "$RC" 0 "history through MLS"
printf '%s' "$doc" >"$run/bad.json"
sed -i 's/Tax Assessment System/Tax Assessment Sys/' "$run/bad.json"
run_cmd "$RESOCTL" event record "$run/bad.json" --run-dir "$run" --org MLS
assert_eq "$RC" 5 "invalid event rejected"
# The Recorder binding's refusal path under memcheck too: Brokerage's
# Recorder submitted by MLS.
printf '%s' "$doc" >"$run/other.json"
sed -i "s|$recorder|$(field orgs Brokerage recorder)|" "$run/other.json"
run_cmd "$RESOCTL" event record "$run/other.json" --run-dir "$run" --org MLS
assert_eq "$RC" 5 "another org's Recorder rejected: $OUT"
assert_contains "$OUT" RECORDER_NOT_AUTHORIZED "another org's Recorder rejected"

trap - EXIT
kill -TERM "$vg"
rc=0
wait "$vg" || rc=$?
cat "$vlog" >&2
assert_eq "$rc" 0 "exit status of reso-chaincode under valgrind (99 = memcheck errors)"
! grep -q 'definitely lost: [1-9]\|indirectly lost: [1-9]\|Invalid \(read\|write\)' "$vlog" ||
    fail "valgrind found leaks or invalid accesses (see above)"

run_cmd "$RESOCTL" network up --run-dir "$run" --timeout 120
assert_eq "$RC" 0 "up restarts the normal ccserver.mls"
assert_all_up "$run" "$NET_BASE_PORT"
note "reso-chaincode served real transactions under valgrind with no leaks"
