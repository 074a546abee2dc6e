#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# resoctl's identity commands without a network: `resoctl upi` builds,
# converts, hashes and parses UPIs offline with exact output (the hashed
# form is reso-model.md 5.3's vector), and every usage or input error
# has its exit status (2 usage, 5 rejected input) and a message.
# `recorder` and `did` are checked up to the point where they would need
# a network (their ledger paths run in the identity_registry network test).
set -euo pipefail
: "${RESOCTL:?set by CMake}"
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
# check WANT_RC WANT_TEXT ARGS...: exit status and a text in stdout+stderr.
check() {
    local want_rc=$1 want_text=$2 rc=0 out
    shift 2
    out=$("$RESOCTL" "$@" 2>&1) || rc=$?
    [ "$rc" = "$want_rc" ] || fail "resoctl $*: exit $rc, expected $want_rc: $out"
    [[ "$out" == *"$want_text"* ]] || fail "resoctl $*: '$want_text' not in: $out"
}
# exact WANT_STDOUT ARGS...: exit 0 and exactly this standard output.
exact() {
    local want=$1 out
    shift
    out=$("$RESOCTL" "$@") || fail "resoctl $*: exit $?"
    [ "$out" = "$want" ] || fail "resoctl $*: got"$'\n'"$out"$'\n'"want"$'\n'"$want"
}

V=urn:reso:upi:2.0:US:48201:R000022230
H=urn:reso:upi:2.0:sha3-256:dc7a33c65e3aef98ea21501841f9240cdf3e7ff5441c98d824f44ddee362f1d2

exact '{
  "upi": "'$V'",
  "hashed": "'$H'"
}' upi build --country US --subdivision 48201 --parcel R000022230 --hashed
exact '{
  "upi": "'$V':sub:7B"
}' upi build --country US --subdivision 48201 --parcel R000022230 --sub 7B
exact '{
  "upi": "'$V'",
  "hashed": "'$H'"
}' upi hash "$V"
exact '{
  "upi": "urn:reso:upi:2.0:US:42049:1213666"
}' upi convert US-42049-49888-1213666-R-N
exact '{
  "form": "dash",
  "country": "US",
  "subCountry": "42049",
  "subCounty": "49888",
  "parcelId": "1213666",
  "propertyCode": "R",
  "subProperty": "N"
}' upi parse US-42049-49888-1213666-R-N
exact '{
  "form": "urn-hashed",
  "version": "2.0",
  "sha3-256": "dc7a33c65e3aef98ea21501841f9240cdf3e7ff5441c98d824f44ddee362f1d2"
}' upi parse "$H"

check 0 "recorder  " --help
check 0 "upi       " --help
check 0 "usage: resoctl recorder register" recorder --help
check 0 "resoctl did resolve DID" did -h
check 0 "resoctl upi convert DASH-UPI" upi --help
check 2 "upi build needs --country" upi build --country US
check 2 "expected build, convert, hash or parse" upi bogus x
check 2 "a UPI is required" upi parse
check 2 "unknown option --nope" upi parse x --nope
check 5 "the Country must be two upper-case letters" upi build \
    --country us --subdivision 1 --parcel 2
check 5 "only an unhashed URN UPI can be hashed" upi hash "$H"
check 5 "the PropertyCode 'X' must be R, R<n>, S, T or B" upi convert \
    US-42049-49888-1-X-N
check 5 "not a UPI" upi parse 'urn:reso:upi:2.0:US:48201:'
check 2 "a Recorder id is required" recorder show
check 2 "expected register, show or revoke" recorder bogus x
check 2 "--user \"root\": expected client or admin" recorder show x --user root
check 2 "a DID is required" did resolve
check 2 "expected create, resolve, update or deactivate" did bogus x
check 1 "nope.json" did create "$(mktemp -d)/nope.json"
echo "resoctl identity commands: ok"
