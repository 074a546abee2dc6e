# SPDX-License-Identifier: Apache-2.0
#
# The bring-up steps of `network.sh up`, in order: crypto material, configs,
# chaincode packages, orderer and channel, chaincode servers, peers and
# channel joins, chaincode lifecycle, readiness. Every step first looks at the
# real state (files, channel lists, installed and committed chaincode), so
# `up` resumes a half-finished bring-up and restarts a stopped network from its
# existing ledgers without redoing anything. Sourced, never executed.

# ---------------------------------------------------------------------------
# Running Fabric tools
# ---------------------------------------------------------------------------

# Environment of the peer CLI acting as the admin of org $1 against its peer.
peer_cli_env() {
    local org=$1
    CLI_ENV=(
        FABRIC_CFG_PATH="$CONFIG/$(peer_proc "$org")"
        FABRIC_LOGGING_SPEC=warning
        CORE_PEER_LOCALMSPID="${ORG_MSP[$org]}"
        CORE_PEER_MSPCONFIGPATH="$(user_msp "$org" Admin)"
        CORE_PEER_ADDRESS="127.0.0.1:${P_PEER[$org]}"
        CORE_PEER_TLS_ENABLED=true
        CORE_PEER_TLS_ROOTCERT_FILE="$(peer_dir "$org")/tls/ca.crt"
    )
}

# cli_run CMD... runs an operator command, keeps its combined output in
# CLI_OUT and appends both to logs/admin.log. Returns the command's status.
cli_run() {
    local rc=0 a shown=()
    CLI_OUT=$("$@" 2>&1) || rc=$?
    # Log the command without the env -i prefix that only restates PATH.
    for a in "$@"; do
        case " env -i ${BASE_ENV[*]} " in
            *" $a "*) ;;
            *) shown+=("$a") ;;
        esac
    done
    {
        printf '\n$ %s\n' "${shown[*]}"
        [ -n "$CLI_OUT" ] && printf '%s\n' "$CLI_OUT"
        printf '[exit %d]\n' "$rc"
    } >>"$LOGS/admin.log"
    return "$rc"
}

# peer_cli ORG ARGS... runs `peer ARGS` as that org's admin (see cli_run).
peer_cli() {
    local org=$1
    shift
    base_env
    peer_cli_env "$org"
    cli_run env -i "${BASE_ENV[@]}" "${CLI_ENV[@]}" "$FABRIC_BIN/peer" "$@"
}

# Orderer flags shared by approve and commit.
orderer_flags() {
    ORDERER_FLAGS=(-o "127.0.0.1:$P_ORDERER" --tls --cafile "$ORDERER_TLS_CA")
}

# curl against the orderer admin endpoint with the orderer admin's TLS client
# certificate (the endpoint requires mutual TLS).
admin_curl() {
    curl -sS --max-time 5 --cacert "$ORDERER_TLS_CA" \
        --cert "$ORDERER_ADMIN_TLS/client.crt" \
        --key "$ORDERER_ADMIN_TLS/client.key" "$@"
}

# wait_until TIMEOUT PROC WHAT CHECK... polls CHECK every half second until it
# succeeds. Fails through fail_proc, naming PROC, if PROC dies or TIMEOUT
# seconds pass. Checks leave a description of their last result in
# WAIT_DETAIL, which is shown on failure.
wait_until() {
    local timeout=$1 proc=$2 what=$3 deadline
    shift 3
    deadline=$((SECONDS + timeout))
    WAIT_DETAIL=""
    while :; do
        "$@" && return 0
        if ! proc_alive "$proc" >/dev/null; then
            [ -n "$WAIT_DETAIL" ] && say "last check: $WAIT_DETAIL"
            fail_proc "$proc" "exited while waiting for $what"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            [ -n "$WAIT_DETAIL" ] && say "last check: $WAIT_DETAIL"
            fail_proc "$proc" "timed out after ${timeout}s waiting for $what"
        fi
        sleep 0.5
    done
}

# ---------------------------------------------------------------------------
# Readiness checks (each returns 0 when ready, sets WAIT_DETAIL otherwise)
# ---------------------------------------------------------------------------

check_healthz() {
    local out
    out=$(curl -sS --max-time 2 -w ' HTTP %{http_code}' \
        "http://127.0.0.1:$1/healthz" 2>&1)
    WAIT_DETAIL="GET :$1/healthz -> $out"
    [[ "$out" == *'"status":"OK"'*' HTTP 200' ]]
}

check_listening() {
    local p
    for p in "$@"; do
        WAIT_DETAIL="nothing listens on 127.0.0.1:$p yet"
        port_listening "$p" || return 1
    done
}

# The peer answers an admin call (peer channel list, output in CLI_OUT).
check_peer_serving() {
    port_listening "${P_PEER[$1]}" || {
        WAIT_DETAIL="nothing listens on 127.0.0.1:${P_PEER[$1]} yet"
        return 1
    }
    peer_cli "$1" channel list && return 0
    WAIT_DETAIL="peer channel list: $(tail -n 1 <<<"$CLI_OUT")"
    return 1
}

check_orderer_channel() {
    local out
    out=$(admin_curl "https://127.0.0.1:$P_ORDERER_ADMIN/participation/v1/channels/$NET_CHANNEL" 2>&1)
    WAIT_DETAIL="channel status: $out"
    [[ "$out" == *'"status":"active"'* ]] &&
        [[ "$out" == *'"consensusRelation":"consenter"'* ]]
}

check_raft_leader() {
    local out
    out=$(curl -sS --max-time 2 "http://127.0.0.1:$P_ORDERER_OPS/metrics" 2>&1)
    WAIT_DETAIL="no consensus_etcdraft_is_leader{channel=\"$NET_CHANNEL\"} 1 in /metrics yet"
    grep -Fxq "consensus_etcdraft_is_leader{channel=\"$NET_CHANNEL\"} 1" <<<"$out"
}

check_peer_height() {
    local h
    peer_cli "$1" channel getinfo -c "$NET_CHANNEL"
    WAIT_DETAIL="peer channel getinfo: $(tail -n 1 <<<"$CLI_OUT")"
    h=$(grep -o '"height":[0-9]*' <<<"$CLI_OUT" | head -n 1 | cut -d: -f2)
    [ -n "$h" ] && [ "$h" -ge 1 ]
}

# The peer knows the other two member peers through gossip: without that
# the Gateway cannot collect a MAJORITY of endorsements.
check_gossip() {
    local out n want=$((${#ORG_NAMES[@]} - 1))
    out=$(curl -sS --max-time 2 "http://127.0.0.1:${P_PEER_OPS[$1]}/metrics" 2>&1)
    n=$(grep -F "gossip_membership_total_peers_known{channel=\"$NET_CHANNEL\"}" \
        <<<"$out" | awk '{ print $2 }' | head -n 1)
    WAIT_DETAIL="gossip_membership_total_peers_known=${n:-absent}, want $want"
    [ -n "$n" ] && [ "${n%.*}" -ge "$want" ]
}

check_committed() {
    peer_cli "$1" lifecycle chaincode querycommitted -C "$NET_CHANNEL" \
        -n "$NET_CHAINCODE"
    WAIT_DETAIL="querycommitted: $(tail -n 1 <<<"$CLI_OUT")"
    [[ "$CLI_OUT" == *"Sequence: $NET_CC_SEQUENCE"* ]]
}

# The probe proves the peer reaches the org's chaincode server: either the
# chaincode answers, or it rejects the call with its own error (a 4xx status
# in the response, e.g. not found for a missing event id). Errors the peer
# produces itself (launch or connection failures) are status 500 and count
# as not reachable.
probe_args() {
    printf '%s' "${RESO_NETWORK_PROBE:-{\"Args\":[\"GetEvent\",\"00000000-0000-4000-8000-000000000000\"]\}}"
}

check_cc_query() {
    local rc=0
    peer_cli "$1" chaincode query -C "$NET_CHANNEL" -n "$NET_CHAINCODE" \
        -c "$(probe_args)" || rc=$?
    WAIT_DETAIL="peer chaincode query: $(tail -n 1 <<<"$CLI_OUT")"
    [ "$rc" = 0 ] && return 0
    [[ "$CLI_OUT" =~ status:4[0-9][0-9] ]]
}

# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------

step_crypto() {
    local f missing=""
    for f in "$ORDERER_NODE_DIR/tls/server.crt" "$ORDERER_ADMIN_TLS/client.key"; do
        [ -f "$f" ] || missing=$f
    done
    for o in "${ORG_NAMES[@]}"; do
        for f in "$(peer_dir "$o")/tls/server.key" \
            "$(user_msp "$o" Admin)/keystore/priv_sk" \
            "$(user_msp "$o" User1)/keystore/priv_sk" \
            "$(ccserver_tls_dir "$o")/server.key"; do
            [ -f "$f" ] || missing=$f
        done
    done
    if [ -z "$missing" ]; then
        say "crypto: using existing material in $CRYPTO"
        return 0
    fi
    local force=()
    [ -d "$CRYPTO" ] && force=(--force)
    say "crypto: reso-certs generate --out $CRYPTO${force[*]:+ ${force[*]}}"
    cli_run "$CERTS_BIN" generate --out "$CRYPTO" "${force[@]}" ||
        die "$EXIT_FAIL" "reso-certs generate failed:"$'\n'"$CLI_OUT"
}

# render TEMPLATE OUT NAME=VALUE... writes TEMPLATE with every @NAME@
# replaced; a placeholder left over is a bug in the caller.
render() {
    local tpl=$1 out=$2 content kv left
    shift 2
    content=$(<"$tpl")
    for kv in "$@"; do
        content=${content//"@${kv%%=*}@"/${kv#*=}}
    done
    left=$(grep -oE '@[A-Z][A-Z0-9_]*@' <<<"$content" | head -n 1 || true)
    [ -z "$left" ] || die "$EXIT_FAIL" "internal: $tpl: $left not substituted"
    mkdir -p "$(dirname "$out")"
    printf '%s\n' "$content" >"$out.tmp" && mv "$out.tmp" "$out"
}

step_configs() {
    local o
    say "configs: writing orderer.yaml, core.yaml (x${#ORG_NAMES[@]}), configtx.yaml under $CONFIG"
    render "$NETDIR/templates/orderer.yaml" "$CONFIG/$ORDERER_PROC/orderer.yaml" \
        ORDERER_PORT="$P_ORDERER" ORDERER_ADMIN_PORT="$P_ORDERER_ADMIN" \
        ORDERER_OPS_PORT="$P_ORDERER_OPS" ORDERER_TLS_DIR="$ORDERER_NODE_DIR/tls" \
        ORDERER_MSP_DIR="$ORDERER_NODE_DIR/msp" ORDERER_DATA="$DATA/$ORDERER_PROC"
    for o in "${ORG_NAMES[@]}"; do
        render "$NETDIR/templates/core.yaml" "$CONFIG/$(peer_proc "$o")/core.yaml" \
            PEER_ID="peer0.$(org_domain "$o")" PEER_PORT="${P_PEER[$o]}" \
            PEER_CC_PORT="${P_PEER_CC[$o]}" PEER_OPS_PORT="${P_PEER_OPS[$o]}" \
            PEER_TLS_DIR="$(peer_dir "$o")/tls" PEER_MSP_DIR="$(peer_dir "$o")/msp" \
            MSP_ID="${ORG_MSP[$o]}" PEER_DATA="$DATA/$(peer_proc "$o")" \
            BUILDER_DIR="$NETDIR/builders/ccaas"
    done
    render "$NETDIR/templates/configtx.yaml" "$CONFIG/configtx/configtx.yaml" \
        CRYPTO="$CRYPTO" ORDERER_PORT="$P_ORDERER" \
        BROKERAGE_PEER_PORT="${P_PEER[Brokerage]}" \
        ASSOCIATION_PEER_PORT="${P_PEER[Association]}" \
        MLS_PEER_PORT="${P_PEER[MLS]}"
}

step_genesis() {
    if [ -f "$BLOCK" ]; then
        say "channel: using existing genesis block $BLOCK"
        return 0
    fi
    say "channel: configtxgen -profile ResoEvents -channelID $NET_CHANNEL"
    mkdir -p "$(dirname "$BLOCK")"
    cli_run env -i "${BASE_ENV[@]}" "$FABRIC_BIN/configtxgen" \
        -configPath "$CONFIG/configtx" -profile ResoEvents \
        -channelID "$NET_CHANNEL" -outputBlock "$BLOCK.tmp" ||
        die "$EXIT_FAIL" "configtxgen failed:"$'\n'"$CLI_OUT"
    mv "$BLOCK.tmp" "$BLOCK"
}

# tar and gzip without timestamps, owners or modes from this machine, so the
# same inputs always give the same bytes and therefore the same package ID.
det_tgz() {
    local dir=$1 out=$2
    shift 2
    (cd "$dir" && LC_ALL=C tar --format=ustar --mtime=@0 --owner=0 --group=0 \
        --numeric-owner --mode='u=rw,go=r' --sort=name -cf - "$@") |
        gzip -n -9 >"$out"
}

# Writes <run>/chaincode/<org>/reso-<org>.tgz and records its package ID.
step_package() {
    local o key dir label conn id old
    for o in "${ORG_NAMES[@]}"; do
        key=${ORG_KEY[$o]}
        dir=$CCDIR/$key
        label="${NET_CHAINCODE}_${NET_CC_VERSION}-$key"
        mkdir -p "$dir/src"
        conn="{\"address\":\"127.0.0.1:${P_CCSERVER[$o]}\",\"dial_timeout\":\"10s\""
        conn+=",\"tls_required\":true,\"client_auth_required\":false"
        conn+=",\"root_cert\":$(json_file_str "$(ccserver_tls_dir "$o")/ca.crt")}"
        printf '%s\n' "$conn" >"$dir/src/connection.json"
        printf '{"type":"ccaas","label":"%s"}\n' "$label" >"$dir/src/metadata.json"
        det_tgz "$dir/src" "$dir/src/code.tar.gz" connection.json
        det_tgz "$dir/src" "$dir/$label.tgz.tmp" metadata.json code.tar.gz
        mv "$dir/$label.tgz.tmp" "$dir/$label.tgz"
        id="$label:$(sha256sum "$dir/$label.tgz" | cut -d' ' -f1)"
        old=$(state_get "RESO_NET_PKG_$key")
        if [ -n "$old" ] && [ "$old" != "$id" ]; then
            die "$EXIT_FAIL" "the $o chaincode package changed since this network was created ($old -> $id; was the crypto regenerated?); start over with: resoctl network down --purge --run-dir $RUN"
        fi
        state_set "RESO_NET_PKG_$key" "$id"
        state_set "RESO_NET_PKGFILE_$key" "$dir/$label.tgz"
    done
    say "chaincode: packages built under $CCDIR ($(state_get RESO_NET_PKG_brokerage | cut -c1-40)..., one per org)"
}

start_orderer() {
    local pid
    if pid=$(proc_alive "$ORDERER_PROC"); then
        say "$ORDERER_PROC already running (pid $pid)"
    else
        say "starting $ORDERER_PROC on 127.0.0.1:$P_ORDERER (admin $P_ORDERER_ADMIN, operations $P_ORDERER_OPS)"
        PROC_ENV=(FABRIC_CFG_PATH="$CONFIG/$ORDERER_PROC" FABRIC_LOGGING_SPEC=info)
        proc_start "$ORDERER_PROC" "$FABRIC_BIN/orderer"
    fi
    wait_until "$TIMEOUT" "$ORDERER_PROC" "/healthz on :$P_ORDERER_OPS" \
        check_healthz "$P_ORDERER_OPS"
    # The operations endpoint comes up before the gRPC and admin listeners.
    wait_until "$TIMEOUT" "$ORDERER_PROC" "listeners on :$P_ORDERER and :$P_ORDERER_ADMIN" \
        check_listening "$P_ORDERER" "$P_ORDERER_ADMIN"
    say "$ORDERER_PROC: /healthz OK, listening"
}

join_orderer() {
    local code
    code=$(admin_curl -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$P_ORDERER_ADMIN/participation/v1/channels/$NET_CHANNEL" 2>/dev/null || true)
    if [ "$code" = 200 ]; then
        say "$ORDERER_PROC: already a member of $NET_CHANNEL"
    else
        say "$ORDERER_PROC: osnadmin channel join --channelID $NET_CHANNEL"
        cli_run env -i "${BASE_ENV[@]}" "$FABRIC_BIN/osnadmin" channel join \
            --channelID "$NET_CHANNEL" --config-block "$BLOCK" \
            -o "127.0.0.1:$P_ORDERER_ADMIN" --ca-file "$ORDERER_TLS_CA" \
            --client-cert "$ORDERER_ADMIN_TLS/client.crt" \
            --client-key "$ORDERER_ADMIN_TLS/client.key" ||
            fail_proc "$ORDERER_PROC" "osnadmin channel join failed: $CLI_OUT"
    fi
    wait_until "$TIMEOUT" "$ORDERER_PROC" "channel $NET_CHANNEL active as consenter" \
        check_orderer_channel
    wait_until "$TIMEOUT" "$ORDERER_PROC" "a Raft leader on $NET_CHANNEL" \
        check_raft_leader
    say "$ORDERER_PROC: $NET_CHANNEL active, consenter, Raft leader elected"
}

start_ccservers() {
    local o name pid tls
    for o in "${ORG_NAMES[@]}"; do
        name=$(cc_proc "$o")
        if pid=$(proc_alive "$name"); then
            say "$name already running (pid $pid)"
            continue
        fi
        tls=$(ccserver_tls_dir "$o")
        say "starting $name on 127.0.0.1:${P_CCSERVER[$o]} (TLS)"
        PROC_ENV=(
            CHAINCODE_ID="$(state_get "RESO_NET_PKG_${ORG_KEY[$o]}")"
            CHAINCODE_SERVER_ADDRESS="127.0.0.1:${P_CCSERVER[$o]}"
            CORE_PEER_LOCALMSPID="${ORG_MSP[$o]}"
            CHAINCODE_TLS_DISABLED=false
            CHAINCODE_TLS_CERT="$tls/server.crt"
            CHAINCODE_TLS_KEY="$tls/server.key"
        )
        proc_start "$name" "$CHAINCODE_BIN"
    done
    for o in "${ORG_NAMES[@]}"; do
        wait_until "$TIMEOUT" "$(cc_proc "$o")" "a listener on :${P_CCSERVER[$o]}" \
            check_listening "${P_CCSERVER[$o]}"
    done
    say "chaincode servers listening"
}

start_peers() {
    local o name pid
    for o in "${ORG_NAMES[@]}"; do
        name=$(peer_proc "$o")
        if pid=$(proc_alive "$name"); then
            say "$name already running (pid $pid)"
            continue
        fi
        say "starting $name on 127.0.0.1:${P_PEER[$o]} (chaincode ${P_PEER_CC[$o]}, operations ${P_PEER_OPS[$o]})"
        PROC_ENV=(FABRIC_CFG_PATH="$CONFIG/$name" FABRIC_LOGGING_SPEC=info)
        proc_start "$name" "$FABRIC_BIN/peer" node start
    done
    for o in "${ORG_NAMES[@]}"; do
        wait_until "$TIMEOUT" "$(peer_proc "$o")" "/healthz on :${P_PEER_OPS[$o]}" \
            check_healthz "${P_PEER_OPS[$o]}"
        # /healthz answers while the peer still opens its ledgers; the gRPC
        # server starts serving only after that (notably on a restart).
        wait_until "$TIMEOUT" "$(peer_proc "$o")" "the gRPC service on :${P_PEER[$o]}" \
            check_peer_serving "$o"
    done
    say "peers: /healthz OK, serving"
}

join_peers() {
    local o name
    for o in "${ORG_NAMES[@]}"; do
        name=$(peer_proc "$o")
        check_peer_serving "$o" ||
            fail_proc "$name" "peer channel list failed: $CLI_OUT"
        if grep -Fxq "$NET_CHANNEL" <<<"$CLI_OUT"; then
            say "$name: already joined $NET_CHANNEL"
        else
            say "$name: peer channel join -b $(basename "$BLOCK")"
            peer_cli "$o" channel join -b "$BLOCK" ||
                fail_proc "$name" "peer channel join failed: $CLI_OUT"
        fi
    done
    for o in "${ORG_NAMES[@]}"; do
        wait_until "$TIMEOUT" "$(peer_proc "$o")" "$NET_CHANNEL height >= 1" \
            check_peer_height "$o"
    done
    say "peers: joined $NET_CHANNEL, height >= 1"
}

deploy_chaincode() {
    local o name id
    orderer_flags
    for o in "${ORG_NAMES[@]}"; do
        name=$(peer_proc "$o")
        id=$(state_get "RESO_NET_PKG_${ORG_KEY[$o]}")
        peer_cli "$o" lifecycle chaincode queryinstalled ||
            fail_proc "$name" "queryinstalled failed: $CLI_OUT"
        if [[ "$CLI_OUT" == *"Package ID: $id,"* ]]; then
            say "$name: package $id already installed"
            continue
        fi
        say "$name: peer lifecycle chaincode install ($id)"
        peer_cli "$o" lifecycle chaincode install \
            "$(state_get "RESO_NET_PKGFILE_${ORG_KEY[$o]}")" ||
            fail_proc "$name" "chaincode install failed: $CLI_OUT"
    done
    if check_committed "${ORG_NAMES[0]}"; then
        say "chaincode: $NET_CHAINCODE sequence $NET_CC_SEQUENCE already committed"
    else
        local def=(--channelID "$NET_CHANNEL" --name "$NET_CHAINCODE"
            --version "$NET_CC_VERSION" --sequence "$NET_CC_SEQUENCE")
        for o in "${ORG_NAMES[@]}"; do
            name=$(peer_proc "$o")
            id=$(state_get "RESO_NET_PKG_${ORG_KEY[$o]}")
            if peer_cli "$o" lifecycle chaincode queryapproved -C "$NET_CHANNEL" \
                -n "$NET_CHAINCODE" --sequence "$NET_CC_SEQUENCE" &&
                [[ "$CLI_OUT" == *"$id"* ]]; then
                say "$name: ${ORG_MSP[$o]} already approved"
                continue
            fi
            say "$name: approveformyorg for ${ORG_MSP[$o]}"
            peer_cli "$o" lifecycle chaincode approveformyorg "${ORDERER_FLAGS[@]}" \
                "${def[@]}" --package-id "$id" ||
                fail_proc "$name" "approveformyorg failed: $CLI_OUT"
        done
        local peers=()
        for o in "${ORG_NAMES[@]}"; do
            peers+=(--peerAddresses "127.0.0.1:${P_PEER[$o]}"
                --tlsRootCertFiles "$(peer_dir "$o")/tls/ca.crt")
        done
        say "chaincode: commit $NET_CHAINCODE $NET_CC_VERSION sequence $NET_CC_SEQUENCE (policy: MAJORITY Endorsement)"
        peer_cli "${ORG_NAMES[0]}" lifecycle chaincode commit "${ORDERER_FLAGS[@]}" \
            "${def[@]}" "${peers[@]}" ||
            fail_proc "$(peer_proc "${ORG_NAMES[0]}")" "chaincode commit failed: $CLI_OUT"
    fi
    for o in "${ORG_NAMES[@]}"; do
        wait_until "$TIMEOUT" "$(peer_proc "$o")" "querycommitted $NET_CHAINCODE" \
            check_committed "$o"
    done
    say "chaincode: committed on every peer"
}

step_readiness() {
    local o
    for o in "${ORG_NAMES[@]}"; do
        wait_until "$TIMEOUT" "$(peer_proc "$o")" \
            "gossip membership (the other peers of $NET_CHANNEL)" check_gossip "$o"
    done
    say "peers: every peer sees the others through gossip"
    for o in "${ORG_NAMES[@]}"; do
        ALSO_LOG=$(peer_proc "$o")
        wait_until "$TIMEOUT" "$(cc_proc "$o")" \
            "$(peer_proc "$o") to reach the chaincode server (peer chaincode query)" \
            check_cc_query "$o"
        ALSO_LOG=""
        say "$(peer_proc "$o") -> $(cc_proc "$o"): chaincode answers"
    done
}

# ---------------------------------------------------------------------------
# Demo Recorders
# ---------------------------------------------------------------------------

# Recorder binding is strict unless the consortium opens it (reso-model.md
# §13), so an event is accepted only with a Recorder registered to the
# submitting org. Every org gets one demo Recorder, registered by its admin
# right after the chaincode answers; `env` prints it per org.
demo_recorder() { printf 'urn:reso:recorder:%s:1' "${ORG_KEY[$1]}"; }

# GetRecorder of org $1's demo Recorder as that org's admin. Sets REC_STATE:
# "registered" (any registration, also a revoked one: an operator's revoke
# is not undone), "missing" (RECORDER_NOT_FOUND) or "error".
recorder_state() {
    local args
    args="{\"Args\":[\"GetRecorder\",\"$(demo_recorder "$1")\"]}"
    if peer_cli "$1" chaincode query -C "$NET_CHANNEL" -n "$NET_CHAINCODE" \
        -c "$args"; then
        REC_STATE=registered
    elif [[ "$CLI_OUT" == *RECORDER_NOT_FOUND* ]]; then
        REC_STATE=missing
    else
        REC_STATE=error
    fi
    WAIT_DETAIL="GetRecorder: $(tail -n 1 <<<"$CLI_OUT")"
}

check_recorder_registered() {
    recorder_state "$1"
    [ "$REC_STATE" = registered ]
}

step_recorders() {
    local o next pending=() args
    orderer_flags
    for o in "${ORG_NAMES[@]}"; do
        recorder_state "$o"
        case "$REC_STATE" in
            registered) continue ;;
            error) fail_proc "$(peer_proc "$o")" "GetRecorder failed: $CLI_OUT" ;;
        esac
        # Endorsed by the org's own peer and the next one (MAJORITY of 3);
        # submitted without waiting, the commits are awaited together below.
        next=${ORG_NAMES[$(((ORG_INDEX[$o] + 1) % ${#ORG_NAMES[@]}))]}
        args="{\"Args\":[\"RegisterRecorder\",\"{\\\"Recorder\\\":\\\"$(demo_recorder "$o")\\\"}\"]}"
        say "$(peer_proc "$o"): RegisterRecorder $(demo_recorder "$o") for ${ORG_MSP[$o]}"
        peer_cli "$o" chaincode invoke "${ORDERER_FLAGS[@]}" -C "$NET_CHANNEL" \
            -n "$NET_CHAINCODE" -c "$args" \
            --peerAddresses "127.0.0.1:${P_PEER[$o]}" \
            --tlsRootCertFiles "$(peer_dir "$o")/tls/ca.crt" \
            --peerAddresses "127.0.0.1:${P_PEER[$next]}" \
            --tlsRootCertFiles "$(peer_dir "$next")/tls/ca.crt" ||
            fail_proc "$(peer_proc "$o")" "RegisterRecorder failed: $CLI_OUT"
        pending+=("$o")
    done
    for o in "${pending[@]}"; do
        wait_until "$TIMEOUT" "$(peer_proc "$o")" \
            "the registration of $(demo_recorder "$o") to commit" \
            check_recorder_registered "$o"
    done
    local shown=()
    for o in "${ORG_NAMES[@]}"; do shown+=("$o=$(demo_recorder "$o")"); done
    say "recorders: ${shown[*]}"
}
