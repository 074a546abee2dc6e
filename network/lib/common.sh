# SPDX-License-Identifier: Apache-2.0
#
# Shared definitions for network/network.sh: the fixed topology (orderer org
# and the three member orgs of architecture.md decision 2, plus the optional
# reso-gateway), the port plan relative to the base port, the state file
# <run>/network.env, messages and small helpers (JSON escaping, port
# probing). Sourced, never executed.

NET_CHANNEL=reso-events
NET_CHAINCODE=reso
NET_CC_VERSION=1.0
NET_CC_SEQUENCE=1
NET_PORT_SPAN=50
NET_DEFAULT_BASE_PORT=7050
NET_DEFAULT_TIMEOUT=120
NET_STATE_VERSION=1
# Fabric's default log format has colour escapes; logs here are for grep.
NET_LOG_FORMAT='%{time:2006-01-02 15:04:05.000 MST} [%{module}] %{shortfunc} -> %{level:.4s} %{id:03x} %{message}'

ORDERER_DOMAIN=orderer.reso.example
ORDERER_HOST=orderer0.$ORDERER_DOMAIN
ORDERER_PROC=orderer0
GATEWAY_PROC=gateway
COUCH_PROC=couchdb

# Member orgs in port-plan order. The key is the lower-case short name used in
# process names, chaincode labels and directory names.
ORG_NAMES=(Brokerage Association MLS)
declare -A ORG_KEY=([Brokerage]=brokerage [Association]=association [MLS]=mls)
declare -A ORG_MSP=([Brokerage]=BrokerageMSP [Association]=AssociationMSP [MLS]=MLSMSP)
declare -A ORG_INDEX=([Brokerage]=0 [Association]=1 [MLS]=2)

# Exit codes shared with cli/cmd_network.c and documented in docs/network.md.
EXIT_FAIL=1
EXIT_USAGE=2
EXIT_DOWN=3
EXIT_PREREQ=4

say() { printf '[network] %s\n' "$*" >&2; }
warn() { printf '[network] warning: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    printf '[network] error: %s\n' "$*" >&2
    exit "$code"
}

org_domain() { printf '%s.reso.example' "${ORG_KEY[$1]}"; }
peer_proc() { printf 'peer0.%s' "${ORG_KEY[$1]}"; }
cc_proc() { printf 'ccserver.%s' "${ORG_KEY[$1]}"; }

# Whether this network runs reso-gateway as its last process (recorded by
# `up` in the state file; `up --no-gateway` turns it off).
gateway_enabled() { [ "${RESO_NET_GATEWAY:-0}" = 1 ]; }

# Whether this network runs pouchdb-server, the local CouchDB of the
# off-chain index (recorded by `up`; off when it is not installed).
couchdb_enabled() { [ "${RESO_NET_COUCHDB:-0}" = 1 ]; }

# All processes in start order; `down` walks the list backwards.
all_procs() {
    local o
    printf '%s\n' "$ORDERER_PROC"
    for o in "${ORG_NAMES[@]}"; do cc_proc "$o"; echo; done
    for o in "${ORG_NAMES[@]}"; do peer_proc "$o"; echo; done
    if couchdb_enabled; then printf '%s\n' "$COUCH_PROC"; fi
    if gateway_enabled; then printf '%s\n' "$GATEWAY_PROC"; fi
    return 0
}

# ---------------------------------------------------------------------------
# Port plan: every port is base + a fixed offset below NET_PORT_SPAN, so that
# two networks with base ports at least NET_PORT_SPAN apart never collide.
#   +0 orderer gRPC (Broadcast/Deliver/cluster)  +1 orderer admin (participation)
#   +2 orderer operations
#   +10*(i+1)+0 peer gRPC  +1 peer chaincode listener  +2 peer operations
#   +3 the org's chaincode server          (i = 0 Brokerage, 1 Association, 2 MLS)
#   +40 reso-gateway HTTP  +41 pouchdb-server (CouchDB API) HTTP
# ---------------------------------------------------------------------------
set_ports() {
    local base=$1 o i
    P_ORDERER=$((base + 0))
    P_ORDERER_ADMIN=$((base + 1))
    P_ORDERER_OPS=$((base + 2))
    for o in "${ORG_NAMES[@]}"; do
        i=${ORG_INDEX[$o]}
        P_PEER[$o]=$((base + 10 * (i + 1)))
        P_PEER_CC[$o]=$((base + 10 * (i + 1) + 1))
        P_PEER_OPS[$o]=$((base + 10 * (i + 1) + 2))
        P_CCSERVER[$o]=$((base + 10 * (i + 1) + 3))
    done
    P_GATEWAY=$((base + 40))
    P_COUCH=$((base + 41))
}
declare -A P_PEER P_PEER_CC P_PEER_OPS P_CCSERVER

# The ports a process listens on, main port first.
proc_ports() {
    local p=$1 o
    if [ "$p" = "$ORDERER_PROC" ]; then
        echo "$P_ORDERER $P_ORDERER_ADMIN $P_ORDERER_OPS"
        return
    fi
    if [ "$p" = "$GATEWAY_PROC" ]; then
        echo "$P_GATEWAY"
        return
    fi
    if [ "$p" = "$COUCH_PROC" ]; then
        echo "$P_COUCH"
        return
    fi
    for o in "${ORG_NAMES[@]}"; do
        [ "$p" = "$(peer_proc "$o")" ] &&
            echo "${P_PEER[$o]} ${P_PEER_CC[$o]} ${P_PEER_OPS[$o]}"
        [ "$p" = "$(cc_proc "$o")" ] && echo "${P_CCSERVER[$o]}"
    done
    return 0
}

# Prints "port state" for every TCP socket on this host (any state, IPv4 and
# IPv6), read from /proc so that no extra tool is needed; state 0A is LISTEN.
# A port that shows up here is busy or lingering and is not handed out.
tcp_sockets() {
    local f sl local_addr rem st rest
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] || continue
        while read -r sl local_addr rem st rest; do
            [ "$sl" = "sl" ] && continue
            echo "$((16#${local_addr##*:})) $st"
        done <"$f"
    done
}

# Succeeds when some socket is in LISTEN state on the given port.
port_listening() {
    local port=$1 p st
    while read -r p st; do
        [ "$p" = "$port" ] && [ "$st" = "0A" ] && return 0
    done < <(tcp_sockets)
    return 1
}

# Prints the first port of the given list that a live socket holds: a
# listener or an open connection. Sockets that are only closing (FIN_WAIT,
# TIME_WAIT, LAST_ACK, CLOSING, e.g. left by a network just stopped) do not
# count, because Fabric's listeners bind with SO_REUSEADDR.
first_busy_port() {
    local p st want
    declare -A busy=()
    while read -r p st; do
        case "$st" in
            04 | 05 | 06 | 07 | 09 | 0B) ;;
            *) busy[$p]=1 ;;
        esac
    done < <(tcp_sockets)
    for want in "$@"; do
        if [ -n "${busy[$want]:-}" ]; then
            echo "$want"
            return 0
        fi
    done
    return 1
}

# Succeeds when none of base..base+NET_PORT_SPAN-1 is in use.
port_block_free() {
    local base=$1 p st
    while read -r p st; do
        [ "$p" -ge "$base" ] && [ "$p" -lt $((base + NET_PORT_SPAN)) ] &&
            return 1
    done < <(tcp_sockets)
    return 0
}

# Picks a free block for --base-port auto. Candidates lie below the Linux
# ephemeral range (32768+) so outgoing connections do not grab them later;
# the start is randomised so that parallel test runs rarely race.
pick_base_port() {
    local n=$(((32000 - 20000) / NET_PORT_SPAN)) start i base
    start=$((RANDOM % n))
    for ((i = 0; i < n; i++)); do
        base=$((20000 + ((start + i) % n) * NET_PORT_SPAN))
        if port_block_free "$base"; then
            echo "$base"
            return 0
        fi
    done
    return 1
}

# JSON string literal for $1 (quotes, backslashes and control characters
# escaped), so paths with unusual characters still give valid JSON.
json_str() {
    local s=$1 out="" c i code
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case "$c" in
            '"') out+='\"' ;;
            '\') out+='\\' ;;
            $'\n') out+='\n' ;;
            $'\t') out+='\t' ;;
            $'\r') out+='\r' ;;
            *)
                printf -v code '%d' "'$c"
                if [ "$code" -lt 32 ] && [ "$code" -ge 0 ]; then
                    printf -v c '\\u%04x' "$code"
                fi
                out+=$c
                ;;
        esac
    done
    printf '"%s"' "$out"
}

# JSON string of a whole file (used for PEM text in connection.json).
json_file_str() {
    local content
    content=$(cat "$1") || return 1
    json_str "$content"$'\n'
}

# ---------------------------------------------------------------------------
# Paths inside the run directory (RUN must be absolute).
# ---------------------------------------------------------------------------
set_paths() {
    CRYPTO=$RUN/crypto
    CONFIG=$RUN/config
    DATA=$RUN/data
    LOGS=$RUN/logs
    PIDS=$RUN/pids
    CCDIR=$RUN/chaincode
    STATE_FILE=$RUN/network.env
    BLOCK=$RUN/channel/$NET_CHANNEL.block
    ORDERER_ORG_DIR=$CRYPTO/ordererOrganizations/$ORDERER_DOMAIN
    ORDERER_NODE_DIR=$ORDERER_ORG_DIR/orderers/$ORDERER_HOST
    ORDERER_TLS_CA=$ORDERER_NODE_DIR/tls/ca.crt
    ORDERER_ADMIN_TLS=$ORDERER_ORG_DIR/users/Admin@$ORDERER_DOMAIN/tls
    GW_DIR=$RUN/gateway
    GW_CONF=$GW_DIR/reso-gateway.conf
    GW_KEYS=$GW_DIR/demo-keys.json
    NET_ENV_JSON=$RUN/network-env.json
    COUCH_DIR=$RUN/couchdb
}

org_dir() { printf '%s/peerOrganizations/%s' "$CRYPTO" "$(org_domain "$1")"; }
peer_dir() { printf '%s/peers/peer0.%s' "$(org_dir "$1")" "$(org_domain "$1")"; }
user_msp() { printf '%s/users/%s@%s/msp' "$(org_dir "$1")" "$2" "$(org_domain "$1")"; }
ccserver_tls_dir() {
    printf '%s/chaincode/ccserver.%s/tls' "$(org_dir "$1")" "$(org_domain "$1")"
}

# ---------------------------------------------------------------------------
# State file: plain NAME=value lines (values shell-quoted with %q) describing
# what `up` created. Everything else (status, env, down) reads it back.
# ---------------------------------------------------------------------------
state_set() {
    local key=$1 val=$2 tmp
    tmp=$STATE_FILE.tmp.$$
    {
        [ -f "$STATE_FILE" ] && grep -v "^$key=" "$STATE_FILE"
        printf '%s=%q\n' "$key" "$val"
    } >"$tmp" && mv "$tmp" "$STATE_FILE"
    printf -v "$key" '%s' "$val"
}

state_get() { printf '%s' "${!1:-}"; }

state_load() {
    [ -f "$STATE_FILE" ] || return 1
    local line key val
    while IFS= read -r line; do
        case "$line" in
            RESO_NET_[A-Za-z0-9_]*=*) ;;
            *) continue ;;
        esac
        key=${line%%=*}
        # Values were written with printf %q; eval of a single quoted word of
        # our own file is how they are read back.
        eval "val=${line#*=}"
        printf -v "$key" '%s' "$val"
    done <"$STATE_FILE"
    return 0
}
