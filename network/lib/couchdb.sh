# SPDX-License-Identifier: Apache-2.0
#
# pouchdb-server as the network's local CouchDB (docs/index.md): the
# CouchDB-API server reso-gateway's indexer writes the off-chain event
# index to. It listens on loopback at base + 41, keeps its LevelDB data
# under <run>/couchdb (so the index survives `down`/`up`), runs under the
# same process rules as every other process (procs.sh) and starts before
# the gateway, which imports its URL from the env JSON. Sourced, never
# executed.

# The database the gateway's indexer uses (the gateway's default).
COUCH_DB=reso-events

couch_url() { printf 'http://127.0.0.1:%s' "$P_COUCH"; }

# Decides whether this `up` runs pouchdb-server (WANT_COUCHDB) and finds
# it (COUCH_BIN). Not installed is not an error: the network runs without
# the index (the gateway then reports it disabled), and says so.
find_couchdb() {
    WANT_COUCHDB=0
    COUCH_BIN=${RESO_POUCHDB_SERVER:-$NETDIR/couchdb/node_modules/.bin/pouchdb-server}
    if [ ! -x "$COUCH_BIN" ] || ! command -v node >/dev/null 2>&1; then
        warn "pouchdb-server not found at $COUCH_BIN (or no node); the network runs without the CouchDB index (run scripts/setup.sh, or set RESO_POUCHDB_SERVER)"
        COUCH_BIN=""
        return 0
    fi
    # The absolute path, not resolved through the .bin symlink: node's
    # argv[1] is this path, which is how procs.sh recognises the process.
    COUCH_BIN=$(cd "$(dirname "$COUCH_BIN")" && pwd -P)/$(basename "$COUCH_BIN")
    WANT_COUCHDB=1
}

# GET / answers 200 with the server's welcome.
check_couchdb() {
    local out
    out=$(curl -sS --max-time 5 -w ' HTTP %{http_code}' "$(couch_url)/" 2>&1)
    WAIT_DETAIL="GET :$P_COUCH/ -> $out"
    [[ "$out" == *' HTTP 200' ]]
}

start_couchdb() {
    local pid
    couchdb_enabled || return 0
    mkdir -p "$COUCH_DIR/data" && chmod 700 "$COUCH_DIR" ||
        die "$EXIT_FAIL" "cannot create $COUCH_DIR"
    if pid=$(proc_alive "$COUCH_PROC"); then
        say "$COUCH_PROC already running (pid $pid)"
    else
        say "starting $COUCH_PROC (pouchdb-server) on 127.0.0.1:$P_COUCH, data in $COUCH_DIR"
        # Its log file defaults to ./log.txt in the current directory (the
        # checkout, under make run): keep it in the run dir instead.
        [ -f "$COUCH_DIR/config.json" ] ||
            printf '{"log": {"file": %s}}\n' \
                "$(json_str "$COUCH_DIR/log.txt")" >"$COUCH_DIR/config.json"
        PROC_ENV=()
        proc_start "$COUCH_PROC" "$COUCH_BIN" --host 127.0.0.1 \
            --port "$P_COUCH" --dir "$COUCH_DIR/data" \
            --config "$COUCH_DIR/config.json" --no-stdout-logs
    fi
    wait_until "$TIMEOUT" "$COUCH_PROC" "GET / 200 on :$P_COUCH" check_couchdb
    say "$COUCH_PROC: ready at $(couch_url)"
}

# The "couchdb" member of the env JSON (no leading comma), or nothing.
env_json_couchdb() {
    couchdb_enabled || return 0
    printf '  "couchdb": {"url": %s, "db": %s, "pid_file": %s}' \
        "$(json_str "$(couch_url)")" "$(json_str "$COUCH_DB")" \
        "$(json_str "$PIDS/$COUCH_PROC.pid")"
}

# Shell assignments for plain `env`.
env_sh_couchdb() {
    couchdb_enabled || return 0
    printf 'RESO_COUCHDB_URL=%q\nRESO_COUCHDB_DB=%q\n' "$(couch_url)" "$COUCH_DB"
}
