# SPDX-License-Identifier: Apache-2.0
#
# Process management for network/network.sh. Every process runs detached in
# its own session with a controlled environment, logs to <run>/logs/<name>.log
# and is recorded in <run>/pids/<name>.pid (the PID) and <name>.exe (the
# executable it was started as). A PID is only trusted, and only ever
# signalled, when /proc/<pid>/cmdline still names that executable and the
# process environment carries the marker RESO_NET_PROC=<name>@<run dir>, so a
# recycled PID or a process of another network is never touched.
# Sourced, never executed.

# PIDs started by this invocation (our children), by process name.
declare -A STARTED=()

proc_marker() { printf 'RESO_NET_PROC=%s@%s' "$1" "$RUN"; }

# Succeeds when PID $1 is alive and is process $2 of this run directory.
pid_matches() {
    local pid=$1 name=$2 exe args
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    exe=$(cat "$PIDS/$name.exe" 2>/dev/null) || return 1
    # argv[0] is the executable; for a script started through its #! line
    # (a wrapper around the chaincode, say) argv[1] is. A zombie (exited,
    # not yet reaped) has an empty cmdline and never matches.
    args=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n 2)
    grep -Fxq -- "$exe" <<<"$args" || return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
        grep -Fxq "$(proc_marker "$name")"
}

# One-letter state of PID $1 from /proc/<pid>/stat (R, S, Z, ...), empty if
# there is no such process. The command name in parentheses may contain
# spaces, so the state is taken after its closing parenthesis.
proc_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    printf '%s' "${stat%% *}"
}

# Prints the recorded PID of process $1 (may be stale).
proc_pid() {
    local pid
    [ -f "$PIDS/$1.pid" ] || return 1
    read -r pid <"$PIDS/$1.pid" || return 1
    case "$pid" in
        '' | *[!0-9]*) return 1 ;;
    esac
    echo "$pid"
}

# Succeeds when process $1 is running; prints its PID.
proc_alive() {
    local pid
    pid=$(proc_pid "$1") || return 1
    pid_matches "$pid" "$1" || return 1
    echo "$pid"
}

proc_log() { printf '%s/%s.log' "$LOGS" "$1"; }

# Prints the last lines of a process log, indented, on stderr.
log_tail() {
    local log
    log=$(proc_log "$1")
    if [ -s "$log" ]; then
        printf '[network] last %d lines of %s:\n' "${2:-20}" "$log" >&2
        tail -n "${2:-20}" "$log" | sed 's/^/    /' >&2
    else
        printf '[network] %s is empty or missing\n' "$log" >&2
    fi
}

# Reports a failed process (its state and log tail) and exits.
fail_proc() {
    local name=$1
    shift
    local pid rc=0
    printf '[network] error: %s: %s\n' "$name" "$*" >&2
    if ! proc_alive "$name" >/dev/null; then
        pid=${STARTED[$name]:-}
        if [ -n "$pid" ] && [ "$(proc_state "$pid")" = Z ]; then
            # Started by this very run, so it is our child: wait returns at
            # once for an exited one and gives its exit status.
            wait "$pid" 2>/dev/null || rc=$?
            if [ "$rc" -gt 128 ]; then
                printf '[network] %s (pid %s) was killed by signal %d\n' \
                    "$name" "$pid" $((rc - 128)) >&2
            else
                printf '[network] %s (pid %s) exited with status %d\n' \
                    "$name" "$pid" "$rc" >&2
            fi
        else
            printf '[network] %s is not running\n' "$name" >&2
        fi
    fi
    log_tail "$name" 25
    # A failure seen from one process (e.g. a chaincode server the peer
    # cannot dial) is often explained in another one's log.
    [ -n "${ALSO_LOG:-}" ] && log_tail "$ALSO_LOG" 15
    printf '[network] processes that did start are left running for inspection;' >&2
    printf ' stop them with: resoctl network down --run-dir %s\n' "$RUN" >&2
    exit "$EXIT_FAIL"
}

# Environment every process starts from: nothing of the caller's shell except
# what programs need to run (CORE_*/ORDERER_* variables in the caller's shell
# would otherwise silently override the generated configuration).
base_env() {
    local v
    BASE_ENV=(PATH="$PATH" HOME="${HOME:-/}" LANG=C.UTF-8
        FABRIC_LOGGING_FORMAT="$NET_LOG_FORMAT")
    for v in TMPDIR LD_LIBRARY_PATH ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [ -n "${!v:-}" ] && BASE_ENV+=("$v=${!v}")
    done
    return 0
}

# proc_start NAME EXE [ARG...] with extra environment in PROC_ENV (array of
# NAME=value). Leaves a running process in its own session, or exits through
# fail_proc.
proc_start() {
    local name=$1 exe=$2 pid log i
    shift 2
    log=$(proc_log "$name")
    mkdir -p "$LOGS" "$PIDS"
    base_env
    printf '%s\n' "$exe" >"$PIDS/$name.exe"
    printf '\n===== %s: starting %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        "$name" >>"$log"
    # setsid is not a group leader here (no job control), so it execs in
    # place: $! is the PID of env, which execs the program in turn.
    setsid env -i "${BASE_ENV[@]}" "$(proc_marker "$name")" "${PROC_ENV[@]}" \
        "$exe" "$@" >>"$log" 2>&1 </dev/null 9>&- &
    pid=$!
    STARTED[$name]=$pid
    printf '%s\n' "$pid" >"$PIDS/$name.pid"
    # Wait until the exec chain has reached the program itself.
    for ((i = 0; i < 50; i++)); do
        pid_matches "$pid" "$name" && return 0
        [ -d "/proc/$pid" ] || break
        sleep 0.1
    done
    if [ -d "/proc/$pid" ] && [ "$(proc_state "$pid")" != Z ]; then
        # Our own child, still running as something else (e.g. a wrapper
        # that exec'd another program): it could never be matched, and so
        # never be stopped, later. Stop it now.
        local seen
        seen=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        fail_proc "$name" "pid $pid runs '$seen', not $exe (give the program itself, not a wrapper that execs another one); killed it"
    fi
    fail_proc "$name" "exited right after start (pid $pid)"
}

# Sends SIGTERM to the listed running processes, waits up to $STOP_GRACE
# seconds for each to exit, then SIGKILLs what is left. Only PIDs that still
# match their process are signalled. Removes the PID files of stopped ones.
procs_stop() {
    local name pid i
    declare -A pids=()
    for name in "$@"; do
        if pid=$(proc_alive "$name"); then
            pids[$name]=$pid
            say "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
        else
            [ -f "$PIDS/$name.pid" ] && say "$name is not running"
            rm -f "$PIDS/$name.pid"
        fi
    done
    for ((i = 0; i < STOP_GRACE * 10; i++)); do
        local left=0
        for name in "${!pids[@]}"; do
            pid_matches "${pids[$name]}" "$name" && left=1
        done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for name in "${!pids[@]}"; do
        if pid_matches "${pids[$name]}" "$name"; then
            warn "$name (pid ${pids[$name]}) ignored SIGTERM for ${STOP_GRACE}s; sending SIGKILL"
            kill -KILL "${pids[$name]}" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                [ -d "/proc/${pids[$name]}" ] || break
                pid_matches "${pids[$name]}" "$name" || break
                sleep 0.1
            done
        fi
        rm -f "$PIDS/$name.pid"
    done
}
