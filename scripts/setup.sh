#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Install whatever is missing on this machine for reso-ledger, idempotently:
#   1. Debian packages (compiler toolchain, gRPC C core, protobuf-c, OpenSSL,
#      libcurl, jansson, libmicrohttpd, ...),
#   2. the Fabric 2.5.16 binaries (network/install-fabric.sh),
#   3. the npm packages the interop tests use (tests/interop),
#   4. pouchdb-server, the local CouchDB-API server (network/couchdb).
# Usage: scripts/setup.sh [--no-fabric] [--no-npm]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_fabric=1
want_npm=1
for a in "$@"; do
  case "$a" in
    --no-fabric) want_fabric=0 ;;
    --no-npm) want_npm=0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }

pkgs=(build-essential cmake ninja-build pkg-config git curl ca-certificates
      libgrpc-dev protobuf-c-compiler libprotobuf-c-dev protobuf-compiler
      libprotobuf-dev libssl-dev openssl libcurl4-openssl-dev libjansson-dev
      libmicrohttpd-dev libgnutls28-dev valgrind clang golang-go nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  # Go and Node may come from outside Debian (e.g. /usr/local/go): accept them.
  case "$p" in
    golang-go) command -v go >/dev/null 2>&1 && continue ;;
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all present"
fi

if [ "$want_fabric" = 1 ]; then
  "$here/network/install-fabric.sh" || {
    rc=$?
    say "Fabric binaries are not available (exit $rc); see the message above."
    say "Everything that needs a real Fabric network will be skipped."
  }
fi

if [ "$want_npm" = 1 ] && [ -f "$here/tests/interop/package.json" ]; then
  if [ ! -d "$here/tests/interop/node_modules/@hyperledger/fabric-gateway" ] ||
     [ "$here/tests/interop/package-lock.json" -nt "$here/tests/interop/node_modules/.package-lock.json" ]; then
    say "installing npm packages for tests/interop"
    (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
  else
    say "npm packages: present"
  fi
fi

# pouchdb-server for the off-chain index. --ignore-scripts: its LevelDB
# binding (leveldown) loads the prebuilt binary shipped in its npm tarball,
# and the optional sqlite3 backend (which would compile for minutes) is
# never used.
couch="$here/network/couchdb"
if [ "$want_npm" = 1 ] && [ -f "$couch/package.json" ]; then
  if [ ! -x "$couch/node_modules/.bin/pouchdb-server" ] ||
     [ "$couch/package-lock.json" -nt "$couch/node_modules/.package-lock.json" ]; then
    say "installing pouchdb-server (network/couchdb)"
    (cd "$couch" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  else
    say "pouchdb-server: present"
  fi
fi
