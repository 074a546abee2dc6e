# SPDX-License-Identifier: Apache-2.0
#
# reso-gateway as the last process of the network (docs/network.md,
# "The gateway"): its demo API keys, its generated configuration, the
# network description it imports, its start and readiness wait, and the
# gateway part of `env` and of the `up` summary. The gateway runs under the
# same process rules as every other process (procs.sh). Sourced, never
# executed.

# The example event of the summaries (no single quotes, so it can be quoted
# literally in a printed shell command).
NET_EXAMPLE_SUBJECT=US-42049-49888-1213666-R-N
NET_EXAMPLE_EVENT='{"EventSubject":"'$NET_EXAMPLE_SUBJECT'","System":"Property Listing Service","SubjectType":"Property","Entity":"Broker","Event":"Listing","State":"Recorded","Recorder":"urn:reso:recorder:brokerage:1","Application":"87478-a43"}'

gateway_url() { printf 'http://127.0.0.1:%s' "$P_GATEWAY"; }

# Prints the demo API key of org $1 from demo-keys.json; fails if the file
# or the org's line is missing. The file is written by gw_keys_ensure in a
# fixed layout (one "Org": "hex" pair per line), so a line match reads it.
gw_key() {
    local line
    line=$(grep -E "^  \"$1\": \"[0-9a-f]{64}\",?\$" "$GW_KEYS" 2>/dev/null) ||
        return 1
    line=${line#*: \"}
    printf '%s' "${line%%\"*}"
}

# The names demo keys exist for: every org (its client identity) and
# "<org>-admin" (its admin identity, which the gateway imports for the
# admin-only chaincode calls: catalog governance, recorders, DIDs).
gw_key_names() {
    local o
    for o in "${ORG_NAMES[@]}"; do
        printf '%s\n%s-admin\n' "$o" "$o"
    done
}

# Succeeds when demo-keys.json holds a key for every name.
gw_keys_complete() {
    local n
    for n in $(gw_key_names); do
        gw_key "$n" >/dev/null || return 1
    done
}

# 32 random bytes from the kernel, as 64 lower-case hex digits.
gw_random_key() {
    local k
    k=$(od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n') || return 1
    [[ "$k" =~ ^[0-9a-f]{64}$ ]] || return 1
    printf '%s' "$k"
}

# Keeps demo-keys.json if it has a key for every org, else writes a new one
# with one fresh key per org (umask 077, so the file is created 0600 and
# never exists with wider permissions). Sets GW_KEYS_NEW=1 when it did.
gw_keys_ensure() {
    local o k sep="" body="{"
    GW_KEYS_NEW=0
    if gw_keys_complete; then
        chmod 600 "$GW_KEYS"
        return 0
    fi
    for o in $(gw_key_names); do
        k=$(gw_random_key) || die "$EXIT_FAIL" "cannot read 32 random bytes from /dev/urandom"
        body+="$sep"$'\n'"  \"$o\": \"$k\""
        sep=","
    done
    body+=$'\n}'
    (
        umask 077
        printf '%s\n' "$body" >"$GW_KEYS.tmp" && mv "$GW_KEYS.tmp" "$GW_KEYS"
    ) || die "$EXIT_FAIL" "cannot write $GW_KEYS"
    GW_KEYS_NEW=1
    say "gateway: new demo API keys (per org and per org admin) in $GW_KEYS (mode 0600)"
}

# Writes reso-gateway.conf from the template unless it exists and the keys
# it names the hashes of are unchanged, so an operator's edits survive
# `down`/`up`. The config holds only the SHA-256 of each key.
gw_config_ensure() {
    local o k keys=""
    if [ -f "$GW_CONF" ] && [ "$GW_KEYS_NEW" = 0 ]; then
        say "gateway: using existing config $GW_CONF"
        return 0
    fi
    for o in "${ORG_NAMES[@]}"; do
        k=$(gw_key "$o") || die "$EXIT_FAIL" "no demo key for $o in $GW_KEYS"
        keys+="apikey demo-${ORG_KEY[$o]} $o $(printf '%s' "$k" | sha256sum | cut -d' ' -f1)"$'\n'
        k=$(gw_key "$o-admin") || die "$EXIT_FAIL" "no demo key for $o-admin in $GW_KEYS"
        keys+="apikey demo-${ORG_KEY[$o]}-admin $o-admin $(printf '%s' "$k" | sha256sum | cut -d' ' -f1)"$'\n'
    done
    render "$NETDIR/templates/reso-gateway.conf" "$GW_CONF" \
        RUN_DIR="$RUN" GATEWAY_PORT="$P_GATEWAY" STATE_DIR="$GW_DIR" \
        NETWORK_ENV="$NET_ENV_JSON" APIKEYS="${keys%$'\n'}"
    say "gateway: wrote $GW_CONF"
}

# GET /healthz answers 200 (the gateway is live and reaches its peers).
check_gateway_health() {
    local out
    out=$(curl -sS --max-time 5 -w ' HTTP %{http_code}' \
        "$(gateway_url)/healthz" 2>&1)
    WAIT_DETAIL="GET :$P_GATEWAY/healthz -> $out"
    [[ "$out" == *' HTTP 200' ]]
}

start_gateway() {
    local pid
    gateway_enabled || return 0
    mkdir -p "$GW_DIR" && chmod 700 "$GW_DIR" ||
        die "$EXIT_FAIL" "cannot create $GW_DIR"
    # What the gateway imports (channel, chaincode, identities, peers): the
    # env JSON without the gateway's own section, so it holds no secret.
    env_json 0 >"$NET_ENV_JSON.tmp" && mv "$NET_ENV_JSON.tmp" "$NET_ENV_JSON" ||
        die "$EXIT_FAIL" "cannot write $NET_ENV_JSON"
    gw_keys_ensure
    gw_config_ensure
    if pid=$(proc_alive "$GATEWAY_PROC"); then
        say "$GATEWAY_PROC already running (pid $pid)"
    else
        say "starting $GATEWAY_PROC on 127.0.0.1:$P_GATEWAY ($GATEWAY_BIN)"
        PROC_ENV=()
        proc_start "$GATEWAY_PROC" "$GATEWAY_BIN" --config "$GW_CONF"
    fi
    wait_until "$TIMEOUT" "$GATEWAY_PROC" "GET /healthz 200 on :$P_GATEWAY" \
        check_gateway_health
    say "$GATEWAY_PROC: /healthz OK at $(gateway_url)"
}

# The "gateway" member of the env JSON (without a leading comma), or
# nothing when the network runs without the gateway or has no keys yet.
env_json_gateway() {
    local o sep=""
    gateway_enabled && gw_keys_complete || return 0
    printf '  "gateway": {"url": %s, "api_keys": {' "$(json_str "$(gateway_url)")"
    for o in $(gw_key_names); do
        printf '%s%s: %s' "$sep" "$(json_str "$o")" "$(json_str "$(gw_key "$o")")"
        sep=", "
    done
    printf '}, "pid_file": %s}' "$(json_str "$PIDS/$GATEWAY_PROC.pid")"
}

# Shell assignments of the gateway for plain `env`.
env_sh_gateway() {
    local o
    gateway_enabled && gw_keys_complete || return 0
    printf 'RESO_GATEWAY_URL=%q\n' "$(gateway_url)"
    for o in "${ORG_NAMES[@]}"; do
        printf 'RESO_%s_API_KEY=%q\n' "${o^^}" "$(gw_key "$o")"
    done
}

# The gateway lines of the `up` summary: URL and two commands that work as
# pasted (Brokerage records an event, MLS follows the stream).
print_gateway_summary() {
    gateway_enabled && gw_keys_complete || return 0
    printf 'gateway: %s (config %s; demo API keys: %s, mode 0600, and resoctl network env --json)\n' \
        "$(gateway_url)" "$GW_CONF" "$GW_KEYS"
    printf "  record: curl -sS -X POST -H \"Authorization: Bearer %s\" -H 'Content-Type: application/json' --data '%s' %s/v1/events\\n" \
        "$(gw_key Brokerage)" "$NET_EXAMPLE_EVENT" "$(gateway_url)"
    printf '  stream: curl -sSN -H "Authorization: Bearer %s" %s/v1/stream\n' \
        "$(gw_key MLS)" "$(gateway_url)"
    print_gateway_education_example
    print_gateway_reports_example
}

# Reports from the network's CouchDB index (issue 4): the member activity
# report of the Education example's member, a search and the onboarding
# dashboard. Only when the network runs its CouchDB.
print_gateway_reports_example() {
    local key url
    couchdb_enabled || return 0
    key=$(gw_key Association)
    url=$(gateway_url)
    cat <<EOF
  reports from the CouchDB index ($(couch_url)/$COUCH_DB):
    curl -sS -H "Authorization: Bearer $key" $url/v1/reports/member-activity/MBR-104729
    curl -sS -H "Authorization: Bearer $key" '$url/v1/events?Event=Education&order=desc&limit=10'
    curl -sS -H "Authorization: Bearer $key" $url/v1/reports/onboarding
EOF
}

# An association Education event with its certificate off-chain (issue 5):
# store the certificate on the gateway, which answers its content address
# urn:ipfs:<CID>, then record the event with Context.OffchainAddress set to
# it. Needs a profile with the association values and Context (1.5-ext).
print_gateway_education_example() {
    local key url
    key=$(gw_key Association)
    url=$(gateway_url)
    # Unquoted here-document: only $ADDR and $( ) stay literal (\$).
    cat <<EOF
  education event with an off-chain certificate (profile 1.5-ext):
    ADDR=\$(printf 'Certificate of completion\ncourse ETH-101 Ethics\nyear 2026\n' | curl -sS -X POST -H "Authorization: Bearer $key" -H 'Content-Type: text/plain' --data-binary @- $url/v1/documents | sed -n 's/.*"address": *"\([^"]*\)".*/\1/p'); echo "\$ADDR"
    curl -sS -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"EventSubject":"MBR-104729","System":"Association Management System","SubjectType":"Member","Entity":"Association","Event":"Education","State":"Recorded","Recorder":"urn:reso:recorder:association:1","Application":"ams-demo","Context":{"CourseCode":"ETH-101","CompletionDate":"2026-11-21","OffchainAddress":"'"\$ADDR"'"}}' $url/v1/events
    curl -sS -H "Authorization: Bearer $(gw_key MLS)" $url/v1/documents/"\$ADDR"   # the certificate back, checked against its CID
EOF
}
