# SPDX-License-Identifier: Apache-2.0
#
# Shared helpers for the network tests (sourced). Every test of the ctest
# fixture "fabric" reads the fixture file written by up.sh:
#   NET_SKIP=<reason>      the fixture was skipped (no Fabric binaries)
#   NET_RUN_DIR=<dir>      run directory of the fixture network
#   NET_BASE_PORT=<port>   its base port
# Environment from CMake: RESOCTL (resoctl binary), RESO_TEST_ENV_FILE (the
# fixture file), ENVJSON (the env JSON checker), RESO_NETWORK_SRC (network/).
set -euo pipefail

: "${RESOCTL:?set by CMake}" "${RESO_TEST_ENV_FILE:?set by CMake}"

T_NAME=$(basename "$0" .sh)
NET_PROCS=(orderer0 ccserver.brokerage ccserver.association ccserver.mls
    peer0.brokerage peer0.association peer0.mls couchdb gateway)
NET_ORGS=(Brokerage Association MLS)
# A RESO event the chaincode accepts; callers put in a subject and the
# Recorder of the org that submits it (binding is strict: `network up`
# registers one per org, orgs.<Org>.recorder in the env JSON).
NET_TEST_EVENT='{"EventSubject":"@SUBJECT@","System":"Property Listing Service","SubjectType":"Property","Entity":"Broker","Event":"Listing","State":"Recorded","Recorder":"@RECORDER@","Application":"network-test"}'

# net_test_event SUBJECT RECORDER prints NET_TEST_EVENT filled in.
net_test_event() {
    local e=${NET_TEST_EVENT/@SUBJECT@/$1}
    printf '%s' "${e/@RECORDER@/$2}"
}

note() { printf '[%s] %s\n' "$T_NAME" "$*" >&2; }
skip() {
    printf 'SKIP: %s\n' "$*"
    exit 77
}
fail() {
    printf '[%s] FAIL: %s\n' "$T_NAME" "$*" >&2
    exit 1
}
assert_eq() {
    [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}
assert_ne() {
    [ "$1" != "$2" ] || fail "$3: did not expect '$2'"
}
assert_contains() {
    [[ "$1" == *"$2"* ]] || fail "$3: '$2' not in output:"$'\n'"$1"
}

# Loads the fixture file; skips when the fixture skipped, fails when the
# fixture never wrote it (network_up did not run).
need_fixture() {
    [ -f "$RESO_TEST_ENV_FILE" ] ||
        fail "$RESO_TEST_ENV_FILE missing: the network_up fixture did not run"
    # shellcheck disable=SC1090
    . "$RESO_TEST_ENV_FILE"
    [ -z "${NET_SKIP:-}" ] || skip "$NET_SKIP"
    [ -n "${NET_RUN_DIR:-}" ] || fail "fixture file has no NET_RUN_DIR"
}

# run_cmd CMD... runs a command capturing stdout+stderr in OUT and the exit
# status in RC, without tripping set -e.
run_cmd() {
    RC=0
    OUT=$("$@" 2>&1) || RC=$?
}

# PID recorded for process $2 of run dir $1 (empty if none).
recorded_pid() {
    cat "$1/pids/$2.pid" 2>/dev/null || true
}

# Succeeds when PID $1 is a live process; a zombie (exited, not reaped yet)
# counts as gone.
pid_live() {
    local st
    # The state letter after "(comm)" in /proc/PID/stat; the greedy match
    # copes with parentheses in comm. Not /proc/PID/cmdline: it reads empty
    # while the process is in execve (valgrind execs its tool), which made
    # a starting process look dead.
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Lists the PIDs of live processes that carry the network's marker for run
# dir $1, whatever their PID files say: the ground truth for "no duplicates"
# and "nothing left running".
marked_pids() {
    local run=$1 d line
    for d in /proc/[0-9]*; do
        [ -r "$d/environ" ] || continue
        pid_live "${d#/proc/}" || continue
        # Some environ files are unreadable despite -r (e.g. PID 1 in a
        # sandbox); a failed redirection must not end the script (set -e).
        {
            while IFS= read -r -d '' line; do
                if [[ "$line" == RESO_NET_PROC=*"@$run" ]]; then
                    echo "${d#/proc/}"
                    break
                fi
            done <"$d/environ"
        } 2>/dev/null || true
    done
    return 0
}

# Status table of run dir $1 as "name pid port state" lines, exit status in
# STATUS_RC.
status_of() {
    run_cmd "$RESOCTL" network status --run-dir "$1"
    STATUS_RC=$RC
    STATUS_OUT=$OUT
}

# peer chaincode query as org $2's User1 on run dir $1; output in OUT, status
# in RC.
cc_query() {
    local run=$1 org=$2 key
    key=$(tr '[:upper:]' '[:lower:]' <<<"$org")
    local fabric_bin
    fabric_bin=$(sed -n 's/^RESO_NET_FABRIC_BIN=//p' "$run/network.env")
    local port
    port=$(sed -n "s/^RESO_NET_PORT_PEER_$key=//p" "$run/network.env")
    local org_dir=$run/crypto/peerOrganizations/$key.reso.example
    run_cmd env -i PATH="$PATH" HOME="${HOME:-/}" \
        FABRIC_CFG_PATH="$run/config/peer0.$key" \
        CORE_PEER_LOCALMSPID="${org}MSP" \
        CORE_PEER_MSPCONFIGPATH="$org_dir/users/User1@$key.reso.example/msp" \
        CORE_PEER_ADDRESS="127.0.0.1:$port" CORE_PEER_TLS_ENABLED=true \
        CORE_PEER_TLS_ROOTCERT_FILE="$org_dir/peers/peer0.$key.reso.example/tls/ca.crt" \
        "$fabric_bin/peer" chaincode query -C reso-events -n reso \
        -c '{"Args":["GetEvent","00000000-0000-4000-8000-000000000000"]}'
}

# The chaincode itself answered the query of cc_query: GetEvent of an id
# never recorded is rejected by reso-chaincode with status 404 and code
# EVENT_NOT_FOUND. Anything else (in particular the peer's status 500 when
# it cannot reach the chaincode server) fails.
cc_answered() {
    [ "$RC" = 1 ] &&
        [[ "$OUT" == *'response: status:404 message:"{\"error\":{\"code\":\"EVENT_NOT_FOUND\"'* ]]
}

# Fails unless the status of run dir $1 shows every process up, with the PID
# of its PID file and the port of the plan relative to base port $2: all 9,
# or the 8 without the gateway when $3 is "no-gateway".
assert_all_up() {
    local run=$1 base=$2 name pid port state n=0 line want=9
    declare -A want_port=([orderer0]=0 [ccserver.brokerage]=13
        [ccserver.association]=23 [ccserver.mls]=33 [peer0.brokerage]=10
        [peer0.association]=20 [peer0.mls]=30 [couchdb]=41 [gateway]=40)
    if [ "${3:-}" = no-gateway ]; then
        unset 'want_port[gateway]'
        want=8
    fi
    status_of "$run"
    assert_eq "$STATUS_RC" 0 "status exit code ($STATUS_OUT)"
    while read -r name pid port state; do
        [ "$name" = PROCESS ] && continue
        n=$((n + 1))
        [ -n "${want_port[$name]:-}" ] || fail "unexpected process $name"
        assert_eq "$state" up "$name state"
        assert_eq "$pid" "$(recorded_pid "$run" "$name")" "$name pid"
        assert_eq "$port" $((base + want_port[$name])) "$name port"
        pid_live "$pid" || fail "$name pid $pid is not alive"
    done <<<"$STATUS_OUT"
    assert_eq "$n" "$want" "number of processes in status"
    line=$(marked_pids "$run" | wc -l)
    assert_eq "$line" "$want" "live processes carrying the network's marker"
}

# env_get RUN DOTTED.PATH prints one string of `resoctl network env --json`
# for run dir RUN (what a client of the network reads), e.g. gateway.url.
env_get() {
    local f rc=0
    f=$(mktemp)
    { "$RESOCTL" network env --json --run-dir "$1" >"$f" &&
        "$ENVJSON" get "$f" "$2"; } || rc=$?
    rm -f "$f"
    return "$rc"
}

# gw_request URL KEY METHOD PATH [BODY] [HEADER]: one HTTP request to a
# gateway; the status code in HTTP_STATUS, the body in HTTP_BODY.
gw_request() {
    local url=$1 key=$2 method=$3 path=$4 body=${5:-} header=${6:-} out
    local args=(-sS --max-time 60 -X "$method" -H "Authorization: Bearer $key"
        -w '\n%{http_code}')
    if [ -n "$body" ]; then
        args+=(-H 'Content-Type: application/json' --data "$body")
    fi
    if [ -n "$header" ]; then
        args+=(-H "$header")
    fi
    out=$(curl "${args[@]}" "$url$path" 2>&1) || true
    HTTP_STATUS=${out##*$'\n'}
    HTTP_BODY=${out%$'\n'*}
}

# gw_record_ok URL KEY SUBJECT RECORDER records one event through the
# gateway with RECORDER (the Recorder of KEY's org) and fails unless it
# answers 201 with that event and a Fabric txid.
gw_record_ok() {
    [ -n "${4:-}" ] || fail "gw_record_ok: no Recorder for $3"
    gw_request "$1" "$2" POST /v1/events "$(net_test_event "$3" "$4")"
    assert_eq "$HTTP_STATUS" 201 "POST /v1/events for $3 ($HTTP_BODY)"
    assert_contains "$HTTP_BODY" "\"EventSubject\":\"$3\"" "201 body"
    assert_contains "$HTTP_BODY" "\"Recorder\":\"$4\"" "201 body"
    assert_contains "$HTTP_BODY" '"txid":"' "201 body"
}

# Picks a base port whose 50 ports all refuse connections on 127.0.0.1,
# probing with bash's /dev/tcp (independently of network.sh's own picker).
probe_base_port() {
    local tries base p free
    for ((tries = 0; tries < 40; tries++)); do
        base=$((20000 + (RANDOM % 240) * 50))
        free=1
        for ((p = base; p < base + 50; p++)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                free=0
                break
            fi
        done
        if [ "$free" = 1 ]; then
            echo "$base"
            return 0
        fi
    done
    return 1
}
