#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Make the Hyperledger Fabric v2.5.16 binaries (peer, orderer, configtxgen,
# osnadmin) available, idempotently, in a cache outside the checkout:
#   ${RESO_CACHE:-$HOME/.cache/reso-ledger}/fabric-v2.5.16/bin
# They are built with `go install` from the Go module proxy at the pinned
# commit (Fabric's module path has no /v2 suffix, so a tag cannot be used as a
# version: the commit resolves to a v1.4.0-rc1 pseudo-version).
#
# FABRIC_BIN_DIR=<dir> uses binaries you already have instead (they must
# report version 2.5.x). Prints the directory on stdout's last line.
# Exit codes: 0 ready, 3 binaries could not be obtained (reason on stderr).
set -euo pipefail

FABRIC_VERSION=2.5.16
FABRIC_COMMIT=f871cf92a026aba7b12e6f06d71ded3e6e659d71
BINARIES=(peer orderer configtxgen osnadmin)

cache=${RESO_CACHE:-$HOME/.cache/reso-ledger}
bindir=${FABRIC_BIN_DIR:-$cache/fabric-v$FABRIC_VERSION/bin}

say() { printf '[fabric] %s\n' "$*" >&2; }

have_all() {
  for b in "${BINARIES[@]}"; do
    [ -x "$1/$b" ] || return 1
  done
  "$1/peer" version 2>/dev/null | grep -q "Version: v\?2\.5\." || return 1
}

if have_all "$bindir"; then
  say "Fabric $FABRIC_VERSION binaries present in $bindir"
  [ -f "$bindir/../PROVENANCE" ] && say "provenance: $(cat "$bindir/../PROVENANCE")"
  echo "$bindir"
  exit 0
fi
if [ -n "${FABRIC_BIN_DIR:-}" ]; then
  say "FABRIC_BIN_DIR=$FABRIC_BIN_DIR does not hold Fabric 2.5 ${BINARIES[*]}"
  exit 3
fi
if ! command -v go >/dev/null 2>&1; then
  say "Go is not installed; it is needed to build Fabric (apt-get install golang-go, Go >= 1.26.4)"
  exit 3
fi

mkdir -p "$bindir"
log="$cache/fabric-install.log"
: > "$log"
say "building Fabric $FABRIC_VERSION (commit ${FABRIC_COMMIT:0:12}) with go install; this takes several minutes on a fresh machine; log: $log"
for b in "${BINARIES[@]}"; do
  say "go install .../cmd/$b"
  if ! GOBIN="$bindir" GOFLAGS=-trimpath CGO_ENABLED=0 go install \
        -ldflags "-X github.com/hyperledger/fabric/common/metadata.Version=$FABRIC_VERSION -X github.com/hyperledger/fabric/common/metadata.CommitSHA=${FABRIC_COMMIT:0:7}" \
        "github.com/hyperledger/fabric/cmd/$b@$FABRIC_COMMIT" >>"$log" 2>&1; then
    say "go install of $b failed:"
    sed 's/^/[fabric]   /' "$log" | tail -n 5 >&2
    say "To use Fabric binaries you already have: FABRIC_BIN_DIR=/path/to/bin"
    exit 3
  fi
done
have_all "$bindir" || { say "built binaries do not report version $FABRIC_VERSION"; exit 3; }
say "Fabric $FABRIC_VERSION ready in $bindir"
echo "$bindir"
