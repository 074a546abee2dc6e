#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The CCaaS external builder (network/builders/ccaas/bin) against the peer's
# contract, without a peer: detect claims exactly ccaas packages that carry a
# connection.json, build copies connection.json (and META-INF) and rejects
# one without an address, release leaves chaincode/server/connection.json
# (and statedb indexes), and every program rejects a wrong argument count.
set -euo pipefail
: "${RESO_NETWORK_SRC:?set by CMake}"
bin=$RESO_NETWORK_SRC/builders/ccaas/bin
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
expect_rc() { # expect_rc WANT WHAT CMD...
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$t/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$t/out")"
}

for p in detect build release; do
    [ -x "$bin/$p" ] || fail "$bin/$p is not executable"
    head -n 1 "$bin/$p" | grep -qx '#!/bin/sh' || fail "$p is not a POSIX sh script"
done

mkdir -p "$t/src/META-INF/statedb/couchdb/indexes" "$t/meta" "$t/bld" "$t/rel"
conn='{"address":"127.0.0.1:9999","dial_timeout":"10s","tls_required":false}'
printf '%s\n' "$conn" >"$t/src/connection.json"
printf '{}\n' >"$t/src/META-INF/statedb/couchdb/indexes/i.json"

printf '{"type":"ccaas","label":"x_1"}\n' >"$t/meta/metadata.json"
expect_rc 0 "detect ccaas" "$bin/detect" "$t/src" "$t/meta"
printf '{ "label": "x_1", "type" :  "ccaas" }\n' >"$t/meta/metadata.json"
expect_rc 0 "detect ccaas with spaces" "$bin/detect" "$t/src" "$t/meta"
printf '{"type":"golang","label":"x_1"}\n' >"$t/meta/metadata.json"
expect_rc 1 "detect golang" "$bin/detect" "$t/src" "$t/meta"
printf '{"type":"ccaas-other","label":"x_1"}\n' >"$t/meta/metadata.json"
expect_rc 1 "detect ccaas-other" "$bin/detect" "$t/src" "$t/meta"
rm "$t/meta/metadata.json"
expect_rc 1 "detect without metadata.json" "$bin/detect" "$t/src" "$t/meta"
printf '{"type":"ccaas","label":"x_1"}\n' >"$t/meta/metadata.json"
mkdir "$t/empty"
expect_rc 1 "detect without connection.json" "$bin/detect" "$t/empty" "$t/meta"
expect_rc 2 "detect with one argument" "$bin/detect" "$t/src"

expect_rc 0 "build" "$bin/build" "$t/src" "$t/meta" "$t/bld"
cmp -s "$t/src/connection.json" "$t/bld/connection.json" || fail "build did not copy connection.json"
[ -f "$t/bld/META-INF/statedb/couchdb/indexes/i.json" ] || fail "build did not copy META-INF"
printf '{"dial_timeout":"10s"}\n' >"$t/empty/connection.json"
expect_rc 1 "build without address" "$bin/build" "$t/empty" "$t/meta" "$t/bld2"
[ ! -e "$t/bld2/connection.json" ] || fail "build without address produced output"
expect_rc 2 "build with two arguments" "$bin/build" "$t/src" "$t/meta"

expect_rc 0 "release" "$bin/release" "$t/bld" "$t/rel"
cmp -s "$t/src/connection.json" "$t/rel/chaincode/server/connection.json" ||
    fail "release did not leave chaincode/server/connection.json"
[ -f "$t/rel/statedb/couchdb/indexes/i.json" ] || fail "release did not copy statedb"
expect_rc 1 "release without build output" "$bin/release" "$t/empty/nothing" "$t/rel2"
expect_rc 2 "release with one argument" "$bin/release" "$t/bld"
echo "builder: all checks passed"
