#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# resoctl's command line without a network: usage errors and their exit
# codes, how `resoctl network` passes its options to network.sh (checked with
# a stand-in script that prints its arguments), and the real network.sh's
# answers for a run directory that holds no network.
set -euo pipefail
: "${RESOCTL:?set by CMake}" "${RESO_SOURCE_DIR:?set by CMake}"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
# check WANT_RC WANT_TEXT ARGS...: runs resoctl, compares the exit status and
# looks for WANT_TEXT in stdout+stderr.
check() {
    local want_rc=$1 want_text=$2 rc=0 out
    shift 2
    out=$("$RESOCTL" "$@" 2>&1) || rc=$?
    [ "$rc" = "$want_rc" ] || fail "resoctl $*: exit $rc, expected $want_rc: $out"
    [[ "$out" == *"$want_text"* ]] || fail "resoctl $*: '$want_text' not in: $out"
}

check 2 "usage: resoctl <command>"
check 0 "network    start, stop and inspect" --help
check 2 "resoctl: unknown command 'bogus'" bogus
check 2 "resoctl network: missing subcommand" network
check 0 "usage: resoctl network up" network --help
check 0 "--base-port N" network up --help
check 2 "unknown subcommand 'frob'" network frob
check 2 "--base-port must be auto or a number from 1024 to 65486, not '1023'" network up --base-port 1023
check 2 "not '65487'" network up --base-port 65487
check 2 "not '7050x'" network up --base-port 7050x
check 2 "not '-7050'" network up --base-port=-7050
check 2 "--timeout must be a number of seconds from 1 to 99999, not '0'" network up --timeout 0
check 2 "--timeout needs a value" network up --timeout
check 2 "unknown option '--json' for 'down'" network down --json
check 2 "unknown option '--base-port' for 'status'" network status --base-port 7050
check 2 "unknown option '--purge' for 'env'" network env --purge
check 2 "--purge takes no value" network down --purge=yes
check 2 "--run-dir must not be empty" network status --run-dir=

# Pass-through, with a stand-in network.sh that prints what it got.
mkdir "$t/fake"
cat >"$t/fake/network.sh" <<'FAKE'
printf 'args:'
printf ' [%s]' "$@"
printf '\ncerts=%s\n' "${RESO_CERTS_BIN:-}"
exit "${FAKE_RC:-0}"
FAKE
export RESO_NETWORK_DIR=$t/fake
out=$("$RESOCTL" network up --timeout 5 --base-port=auto --run-dir rel)
[ "$(head -n 1 <<<"$out")" = "args: [up] [--run-dir] [rel] [--base-port] [auto] [--timeout] [5]" ] ||
    fail "pass-through of up options: $out"
out=$("$RESOCTL" network status)
[ "$(head -n 1 <<<"$out")" = "args: [status] [--run-dir] [$RESO_SOURCE_DIR/run/network]" ] ||
    fail "default run dir: $out"
out=$("$RESOCTL" network down --purge --run-dir /x)
[ "$(head -n 1 <<<"$out")" = "args: [down] [--run-dir] [/x] [--purge]" ] ||
    fail "pass-through of down options: $out"
out=$(RESO_CERTS_BIN=/opt/certs "$RESOCTL" network env --json --run-dir /x)
[ "$out" = "args: [env] [--run-dir] [/x] [--json]"$'\n'"certs=/opt/certs" ] ||
    fail "caller's RESO_CERTS_BIN must win: $out"
rc=0
FAKE_RC=42 "$RESOCTL" network status >/dev/null || rc=$?
[ "$rc" = 42 ] || fail "exit status of network.sh not passed through: $rc"
RESO_NETWORK_DIR=$t/missing check 4 "cannot read $t/missing/network.sh" network status
unset RESO_NETWORK_DIR

# The real network.sh on directories without a network.
mkdir "$t/empty"
check 3 "no network in $t/empty" network status --run-dir "$t/empty"
check 3 "no network in $t/empty" network env --json --run-dir "$t/empty"
check 0 "no network in $t/nothing" network down --run-dir "$t/nothing"
[ ! -e "$t/nothing" ] || fail "down created the run dir"
check 0 "no network in $t/empty" network down --purge --run-dir "$t/empty"
[ -d "$t/empty" ] || fail "down --purge deleted a directory that holds no network"
echo "resoctl_cli: all checks passed"
