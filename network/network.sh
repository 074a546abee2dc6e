#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Native (no Docker) Fabric 2.5 network for reso-ledger: one Raft orderer and
# one peer plus one chaincode-as-a-service server for each of the Brokerage,
# Association and MLS orgs, channel reso-events, chaincode reso, and the REST
# gateway reso-gateway in front of it (unless --no-gateway), with
# pouchdb-server as the local CouchDB of its off-chain index.
# Normally run through `resoctl network ...`; see docs/network.md.
#
#   network.sh up     [--run-dir DIR] [--base-port N|auto] [--timeout SECONDS]
#                     [--no-gateway]
#   network.sh down   [--run-dir DIR] [--purge]
#   network.sh status [--run-dir DIR]
#   network.sh env    [--run-dir DIR] [--json]
#
# Exit codes: 0 success; 1 failure; 2 usage; 3 `status`: not every process is
# up (also: no network in the run dir); 4 a prerequisite is missing (Fabric
# binaries, reso-certs, reso-chaincode).
set -euo pipefail

NETDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$NETDIR/.." && pwd -P)
# shellcheck source=lib/common.sh
. "$NETDIR/lib/common.sh"
# shellcheck source=lib/procs.sh
. "$NETDIR/lib/procs.sh"
# shellcheck source=lib/steps.sh
. "$NETDIR/lib/steps.sh"
# shellcheck source=lib/gateway.sh
. "$NETDIR/lib/gateway.sh"
# shellcheck source=lib/couchdb.sh
. "$NETDIR/lib/couchdb.sh"

STOP_GRACE=${RESO_NETWORK_STOP_GRACE:-10}

usage() {
    cat <<USAGE
usage: network.sh up     [--run-dir DIR] [--base-port N|auto] [--timeout SECONDS]
                         [--no-gateway]
       network.sh down   [--run-dir DIR] [--purge]
       network.sh status [--run-dir DIR]
       network.sh env    [--run-dir DIR] [--json]
USAGE
}

usage_error() {
    printf '[network] error: %s\n' "$*" >&2
    usage >&2
    exit "$EXIT_USAGE"
}

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------
CMD=${1:-}
[ -n "$CMD" ] || usage_error "missing command"
shift
case "$CMD" in
    up | down | status | env) ;;
    -h | --help | help) usage; exit 0 ;;
    *) usage_error "unknown command '$CMD'" ;;
esac

OPT_RUN_DIR=$REPO/run/network
OPT_BASE_PORT=""
OPT_TIMEOUT=$NET_DEFAULT_TIMEOUT
OPT_PURGE=0
OPT_JSON=0
OPT_NO_GATEWAY=0
while [ $# -gt 0 ]; do
    opt=$1
    val=""
    case "$opt" in
        --*=*) val=${opt#*=}; opt=${opt%%=*}; set -- "$opt" "$val" "${@:2}" ;;
    esac
    case "$CMD:$opt" in
        *:--run-dir | up:--base-port | up:--timeout)
            [ $# -ge 2 ] || usage_error "$opt needs a value"
            case "$opt" in
                --run-dir) OPT_RUN_DIR=$2 ;;
                --base-port) OPT_BASE_PORT=$2 ;;
                --timeout) OPT_TIMEOUT=$2 ;;
            esac
            shift 2
            ;;
        down:--purge) OPT_PURGE=1; shift ;;
        up:--no-gateway) OPT_NO_GATEWAY=1; shift ;;
        env:--json) OPT_JSON=1; shift ;;
        *:-h | *:--help) usage; exit 0 ;;
        *) usage_error "unknown option '$opt' for '$CMD'" ;;
    esac
done
[ -n "$OPT_RUN_DIR" ] || usage_error "--run-dir must not be empty"
if [ -n "$OPT_BASE_PORT" ] && [ "$OPT_BASE_PORT" != auto ]; then
    [[ "$OPT_BASE_PORT" =~ ^[0-9]{1,5}$ ]] &&
        [ "$OPT_BASE_PORT" -ge 1024 ] &&
        [ "$OPT_BASE_PORT" -le $((65535 - NET_PORT_SPAN + 1)) ] ||
        usage_error "--base-port must be auto or a number from 1024 to $((65535 - NET_PORT_SPAN + 1))"
fi
[[ "$OPT_TIMEOUT" =~ ^[0-9]{1,5}$ ]] && [ "$OPT_TIMEOUT" -ge 1 ] ||
    usage_error "--timeout must be a positive number of seconds"
TIMEOUT=$OPT_TIMEOUT

# The run directory as an absolute, symlink-free path (it is recorded in
# process markers and in every generated file).
abs_dir() {
    local d=$1
    [ -d "$d" ] || return 1
    (cd "$d" && pwd -P)
}

# Serialises commands on one run directory. The lock descriptor is closed for
# every started process (see proc_start) so that it dies with this script.
take_lock() {
    exec 9>>"$RUN/.lock"
    flock -n 9 || die "$EXIT_FAIL" "another 'network' command is working on $RUN"
}

have_state() {
    [ -f "$STATE_FILE" ] && state_load &&
        [ -n "${RESO_NET_BASE_PORT:-}" ] && set_ports "$RESO_NET_BASE_PORT"
}

# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------
find_prereqs() {
    local out rc=0
    out=$("$NETDIR/install-fabric.sh") || rc=$?
    if [ "$rc" != 0 ]; then
        die "$EXIT_PREREQ" "Fabric 2.5 binaries are not available (install-fabric.sh exit $rc)"
    fi
    FABRIC_BIN=$(tail -n 1 <<<"$out")
    CERTS_BIN=${RESO_CERTS_BIN:-$REPO/build/certs/reso-certs}
    CHAINCODE_BIN=${RESO_CHAINCODE_BIN:-$REPO/build/chaincode/reso/reso-chaincode}
    [ -x "$CERTS_BIN" ] ||
        die "$EXIT_PREREQ" "reso-certs not found at $CERTS_BIN (build it, or set RESO_CERTS_BIN)"
    [ -x "$CHAINCODE_BIN" ] ||
        die "$EXIT_PREREQ" "reso-chaincode not found at $CHAINCODE_BIN (build it, or set RESO_CHAINCODE_BIN)"
    CERTS_BIN=$(cd "$(dirname "$CERTS_BIN")" && pwd -P)/$(basename "$CERTS_BIN")
    CHAINCODE_BIN=$(cd "$(dirname "$CHAINCODE_BIN")" && pwd -P)/$(basename "$CHAINCODE_BIN")
}

# Decides whether this `up` runs the gateway (WANT_GATEWAY) and finds its
# binary (GATEWAY_BIN). A missing binary is not an error: the network then
# runs without the gateway, and says so.
find_gateway() {
    WANT_GATEWAY=0
    GATEWAY_BIN=""
    [ "$OPT_NO_GATEWAY" = 1 ] && return 0
    GATEWAY_BIN=${RESO_GATEWAY_BIN:-$REPO/build/gateway/reso-gateway}
    if [ ! -x "$GATEWAY_BIN" ]; then
        warn "reso-gateway not found at $GATEWAY_BIN; the network runs without the gateway (build it, or set RESO_GATEWAY_BIN)"
        GATEWAY_BIN=""
        return 0
    fi
    GATEWAY_BIN=$(cd "$(dirname "$GATEWAY_BIN")" && pwd -P)/$(basename "$GATEWAY_BIN")
    WANT_GATEWAY=1
}

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
proc_main_port() {
    local ports
    ports=$(proc_ports "$1")
    echo "${ports%% *}"
}

print_summary() {
    local p pid o state extra
    printf 'reso-ledger network in %s (base port %s, channel %s, chaincode %s)\n' \
        "$RUN" "$RESO_NET_BASE_PORT" "$NET_CHANNEL" "$NET_CHAINCODE"
    for p in $(all_procs); do
        pid=$(proc_alive "$p") && state=up || { pid=-; state=down; }
        extra=$(proc_ports "$p")
        extra=${extra#* }
        [ "$extra" = "$(proc_main_port "$p")" ] && extra="" ||
            extra=" (also ${extra// /, })"
        printf '  %-22s pid %-8s 127.0.0.1:%s %s%s\n' "$p" "$pid" \
            "$(proc_main_port "$p")" "$state" "$extra"
    done
    printf 'logs:   %s/<process>.log (operator commands: %s/admin.log)\n' "$LOGS" "$LOGS"
    printf 'env:    resoctl network env --json --run-dir %s\n' "$RUN"
    printf 'stop:   resoctl network down --run-dir %s\n' "$RUN"
    printf 'recorders (binding is strict: each org records as its own):'
    for o in "${ORG_NAMES[@]}"; do printf ' %s %s' "$o" "$(demo_recorder "$o")"; done
    printf '\n'
    o=${ORG_NAMES[0]}
    local r=${RESOCTL_BIN:-resoctl} subj=$NET_EXAMPLE_SUBJECT
    printf "try:    echo '%s' | %q event record - --run-dir %q\\n" \
        "$NET_EXAMPLE_EVENT" "$r" "$RUN"
    printf '        %q subject history %s --run-dir %q --org MLS\n' "$r" "$subj" "$RUN"
    printf '        %q events tail --from-block 0 --run-dir %q\n' "$r" "$RUN"
    printf 'peer CLI (GetEvent of an id never recorded: the chaincode answers with its not-found error):\n'
    printf '        FABRIC_CFG_PATH=%q CORE_PEER_LOCALMSPID=%s CORE_PEER_MSPCONFIGPATH=%q CORE_PEER_ADDRESS=127.0.0.1:%s CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_ROOTCERT_FILE=%q %q chaincode query -C %s -n %s -c '"'%s'"'\n' \
        "$CONFIG/$(peer_proc "$o")" "${ORG_MSP[$o]}" "$(user_msp "$o" User1)" \
        "${P_PEER[$o]}" "$(peer_dir "$o")/tls/ca.crt" "$RESO_NET_FABRIC_BIN/peer" \
        "$NET_CHANNEL" "$NET_CHAINCODE" "$(probe_args)"
    print_gateway_summary
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
cmd_up() {
    local base p port o all_up=1
    mkdir -p "$OPT_RUN_DIR" || die "$EXIT_FAIL" "cannot create $OPT_RUN_DIR"
    RUN=$(abs_dir "$OPT_RUN_DIR")
    set_paths
    mkdir -p "$LOGS" "$PIDS"
    take_lock
    find_gateway
    find_couchdb
    if have_state; then
        if [ -n "$OPT_BASE_PORT" ] && [ "$OPT_BASE_PORT" != auto ] &&
            [ "$OPT_BASE_PORT" != "$RESO_NET_BASE_PORT" ]; then
            die "$EXIT_USAGE" "$RUN holds a network with base port $RESO_NET_BASE_PORT; use that, or start over with: resoctl network down --purge --run-dir $RUN"
        fi
        # A gateway left from an earlier `up` does not outlive --no-gateway.
        if [ "$WANT_GATEWAY" = 0 ] && proc_alive "$GATEWAY_PROC" >/dev/null; then
            procs_stop "$GATEWAY_PROC"
        fi
        state_set RESO_NET_GATEWAY "$WANT_GATEWAY"
        state_set RESO_NET_COUCHDB "$WANT_COUCHDB"
        for p in $(all_procs); do
            proc_alive "$p" >/dev/null || all_up=0
        done
        if [ "$all_up" = 1 ] && [ "${RESO_NET_READY:-0}" = 1 ]; then
            say "network in $RUN is already running; nothing started"
            print_summary
            return 0
        fi
        say "resuming the network in $RUN (base port $RESO_NET_BASE_PORT)"
    else
        case "$OPT_BASE_PORT" in
            "") base=$NET_DEFAULT_BASE_PORT ;;
            auto)
                base=$(pick_base_port) ||
                    die "$EXIT_FAIL" "no free block of $NET_PORT_SPAN ports found in 20000-31999"
                ;;
            *) base=$OPT_BASE_PORT ;;
        esac
        say "creating a network in $RUN (base port $base, ports $base-$((base + NET_PORT_SPAN - 1)))"
        state_set RESO_NET_STATE_VERSION "$NET_STATE_VERSION"
        state_set RESO_NET_RUN_DIR "$RUN"
        state_set RESO_NET_BASE_PORT "$base"
        state_set RESO_NET_GATEWAY "$WANT_GATEWAY"
        state_set RESO_NET_COUCHDB "$WANT_COUCHDB"
        set_ports "$base"
    fi
    find_prereqs
    state_set RESO_NET_FABRIC_BIN "$FABRIC_BIN"
    state_set RESO_NET_CERTS_BIN "$CERTS_BIN"
    state_set RESO_NET_CHAINCODE_BIN "$CHAINCODE_BIN"
    state_set RESO_NET_GATEWAY_BIN "$GATEWAY_BIN"
    state_set RESO_NET_READY 0
    # Record the ports (derived from the base, but spelled out for tools).
    state_set RESO_NET_PORT_ORDERER "$P_ORDERER"
    state_set RESO_NET_PORT_ORDERER_ADMIN "$P_ORDERER_ADMIN"
    state_set RESO_NET_PORT_ORDERER_OPS "$P_ORDERER_OPS"
    for o in "${ORG_NAMES[@]}"; do
        state_set "RESO_NET_PORT_PEER_${ORG_KEY[$o]}" "${P_PEER[$o]}"
        state_set "RESO_NET_PORT_PEER_CC_${ORG_KEY[$o]}" "${P_PEER_CC[$o]}"
        state_set "RESO_NET_PORT_PEER_OPS_${ORG_KEY[$o]}" "${P_PEER_OPS[$o]}"
        state_set "RESO_NET_PORT_CCSERVER_${ORG_KEY[$o]}" "${P_CCSERVER[$o]}"
    done
    state_set RESO_NET_PORT_GATEWAY "$P_GATEWAY"
    state_set RESO_NET_PORT_COUCHDB "$P_COUCH"
    # Ports of processes about to start must be free, or the failure would
    # surface later as a confusing bind error in some log.
    for p in $(all_procs); do
        proc_alive "$p" >/dev/null && continue
        # shellcheck disable=SC2046
        if port=$(first_busy_port $(proc_ports "$p")); then
            die "$EXIT_FAIL" "port $port (needed by $p) is already in use on this host; pick another --base-port or stop what uses it"
        fi
    done
    base_env
    step_crypto
    step_configs
    step_package
    step_genesis
    start_orderer
    join_orderer
    start_ccservers
    start_peers
    join_peers
    deploy_chaincode
    step_readiness
    step_recorders
    start_couchdb
    start_gateway
    state_set RESO_NET_READY 1
    say "network is up (${SECONDS}s)"
    print_summary
}

cmd_down() {
    local procs=() p
    RUN=$(abs_dir "$OPT_RUN_DIR") || {
        say "no network in $OPT_RUN_DIR (directory does not exist)"
        return 0
    }
    set_paths
    if [ ! -f "$STATE_FILE" ] && [ ! -d "$PIDS" ]; then
        say "no network in $RUN"
        return 0
    fi
    take_lock
    have_state || true
    # Reverse start order: the gateway (whatever the state says: it may be
    # left from an `up` before the state file was lost), then the peers, so
    # they do not log lost chaincode streams, then the chaincode servers,
    # then the orderer.
    procs_stop "$GATEWAY_PROC"
    procs_stop "$COUCH_PROC"
    for o in "${ORG_NAMES[@]}"; do procs+=("$(peer_proc "$o")"); done
    procs_stop "${procs[@]}"
    procs=()
    for o in "${ORG_NAMES[@]}"; do procs+=("$(cc_proc "$o")"); done
    procs_stop "${procs[@]}"
    procs_stop "$ORDERER_PROC"
    for p in $(all_procs) "$COUCH_PROC" "$GATEWAY_PROC"; do
        if proc_alive "$p" >/dev/null; then
            die "$EXIT_FAIL" "$p is still running after SIGKILL; not purging"
        fi
    done
    [ -f "$STATE_FILE" ] && state_set RESO_NET_READY 0
    if [ "$OPT_PURGE" = 1 ]; then
        case "$RUN" in
            / | "$HOME" | "$REPO") die "$EXIT_FAIL" "refusing to delete $RUN" ;;
        esac
        say "purging $RUN"
        rm -rf -- "$RUN"
    else
        say "network stopped; state kept in $RUN (add --purge to delete it)"
    fi
}

cmd_status() {
    local p pid state port all=0
    RUN=$(abs_dir "$OPT_RUN_DIR") || die "$EXIT_DOWN" "no network in $OPT_RUN_DIR"
    set_paths
    have_state || die "$EXIT_DOWN" "no network in $RUN"
    printf '%-22s %-8s %-6s %s\n' PROCESS PID PORT STATE
    for p in $(all_procs); do
        if pid=$(proc_alive "$p"); then
            state=up
        else
            pid=$(proc_pid "$p" || echo -)
            state=down
            all=1
        fi
        printf '%-22s %-8s %-6s %s\n' "$p" "$pid" "$(proc_main_port "$p")" "$state"
    done
    return "$([ "$all" = 0 ] && echo 0 || echo "$EXIT_DOWN")"
}

# One JSON object per identity: msp_dir, cert, key.
json_identity() {
    local org=$1 user=$2 msp
    msp=$(user_msp "$org" "$user")
    printf '{"msp_dir": %s, "cert": %s, "key": %s}' "$(json_str "$msp")" \
        "$(json_str "$msp/signcerts/$user@$(org_domain "$org")-cert.pem")" \
        "$(json_str "$msp/keystore/priv_sk")"
}

# The env JSON of docs/network.md; with $1 = 1 it includes the gateway
# section (its URL and demo API keys) when the network runs the gateway.
env_json() {
    local with_gateway=$1 o sep="" gw="" couch=""
    printf '{\n  "channel": %s,\n  "chaincode": %s,\n' \
        "$(json_str "$NET_CHANNEL")" "$(json_str "$NET_CHAINCODE")"
    printf '  "run_dir": %s,\n  "crypto_dir": %s,\n' "$(json_str "$RUN")" \
        "$(json_str "$CRYPTO")"
    printf '  "orderer": {"address": "127.0.0.1:%s", "tls_ca": %s, "host_override": %s, "admin_address": "127.0.0.1:%s"},\n' \
        "$P_ORDERER" "$(json_str "$ORDERER_TLS_CA")" "$(json_str "$ORDERER_HOST")" \
        "$P_ORDERER_ADMIN"
    printf '  "orgs": {'
    for o in "${ORG_NAMES[@]}"; do
        printf '%s\n    %s: {\n      "msp_id": %s,\n' "$sep" "$(json_str "$o")" \
            "$(json_str "${ORG_MSP[$o]}")"
        printf '      "peer": {"address": "127.0.0.1:%s", "tls_ca": %s, "host_override": %s, "operations": "127.0.0.1:%s"},\n' \
            "${P_PEER[$o]}" "$(json_str "$(peer_dir "$o")/tls/ca.crt")" \
            "$(json_str "peer0.$(org_domain "$o")")" "${P_PEER_OPS[$o]}"
        printf '      "client": %s,\n' "$(json_identity "$o" User1)"
        printf '      "admin": %s,\n' "$(json_identity "$o" Admin)"
        printf '      "recorder": %s,\n' "$(json_str "$(demo_recorder "$o")")"
        printf '      "chaincode_server": {"address": "127.0.0.1:%s", "package_id": %s, "pid_file": %s}\n    }' \
            "${P_CCSERVER[$o]}" "$(json_str "$(state_get "RESO_NET_PKG_${ORG_KEY[$o]}")")" \
            "$(json_str "$PIDS/$(cc_proc "$o").pid")"
        sep=","
    done
    printf '\n  }'
    couch=$(env_json_couchdb)
    [ -n "$couch" ] && printf ',\n%s' "$couch"
    [ "$with_gateway" = 1 ] && gw=$(env_json_gateway)
    [ -n "$gw" ] && printf ',\n%s' "$gw"
    printf '\n}\n'
}

cmd_env() {
    local o
    RUN=$(abs_dir "$OPT_RUN_DIR") || die "$EXIT_DOWN" "no network in $OPT_RUN_DIR"
    set_paths
    have_state || die "$EXIT_DOWN" "no network in $RUN"
    if [ "$OPT_JSON" = 0 ]; then
        printf 'RESO_CHANNEL=%q\nRESO_CHAINCODE=%q\nRESO_RUN_DIR=%q\nRESO_CRYPTO_DIR=%q\n' \
            "$NET_CHANNEL" "$NET_CHAINCODE" "$RUN" "$CRYPTO"
        printf 'RESO_ORDERER_ADDRESS=127.0.0.1:%s\nRESO_ORDERER_TLS_CA=%q\n' \
            "$P_ORDERER" "$ORDERER_TLS_CA"
        for o in "${ORG_NAMES[@]}"; do
            printf 'RESO_%s_PEER_ADDRESS=127.0.0.1:%s\nRESO_%s_PEER_TLS_CA=%q\n' \
                "${o^^}" "${P_PEER[$o]}" "${o^^}" "$(peer_dir "$o")/tls/ca.crt"
            printf 'RESO_%s_CLIENT_MSP=%q\nRESO_%s_PACKAGE_ID=%q\n' \
                "${o^^}" "$(user_msp "$o" User1)" "${o^^}" \
                "$(state_get "RESO_NET_PKG_${ORG_KEY[$o]}")"
            printf 'RESO_%s_RECORDER=%q\n' "${o^^}" "$(demo_recorder "$o")"
        done
        env_sh_couchdb
        env_sh_gateway
        return 0
    fi
    env_json 1
}

"cmd_$CMD"
