#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Side-by-side submit benchmark: the C client (bench_submit, libhlf) and the
# official Node client (@hyperledger/fabric-gateway, tests/interop/
# gateway-client.js bench-submit) record the same kind of RESO events on the
# same network at the same concurrency, in alternating rounds. Also reports
# the resident memory of one chaincode server (reso-chaincode) and of each
# client process. Prints a Markdown report on stdout; `make bench` writes it
# into docs/benchmarks.md.
#
# usage: bench/run.sh [--build DIR] [--run-dir DIR] [--count N]
#                     [--concurrency "16 64"] [--rounds R]
# Without --run-dir a network is started on a free base port in a temp dir
# and stopped (by PID) at the end, also on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
run_dir=""
count=500
concs="16 64"
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --concurrency) concs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
resoctl=$build/cli/resoctl
bench_c=$build/bench/bench_submit
node_client=$here/tests/interop/gateway-client.js
for f in "$resoctl" "$bench_c"; do
  [ -x "$f" ] || { echo "bench/run.sh: $f missing: run make build" >&2; exit 4; }
done
[ -d "$here/tests/interop/node_modules/@hyperledger/fabric-gateway" ] ||
  { echo "bench/run.sh: npm packages missing: run scripts/setup.sh" >&2; exit 4; }

say() { printf '[bench] %s\n' "$*" >&2; }
started=""
cleanup() {
  if [ -n "$started" ]; then
    say "stopping the benchmark network"
    "$resoctl" network down --run-dir "$run_dir" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [ -z "$run_dir" ]; then
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/reso-bench.XXXXXX")
  started=1
  say "starting a network in $run_dir"
  "$resoctl" network up --run-dir "$run_dir" --base-port auto >&2
fi
env_json=$run_dir/bench-env.json
"$resoctl" network env --json --run-dir "$run_dir" > "$env_json"
cc_pid_file=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["orgs"]["Brokerage"]["chaincode_server"]["pid_file"])' "$env_json")
cc_pid=$(cat "$cc_pid_file")

rss_of() { awk '/^VmRSS:/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_of() { awk '/^VmHWM:/{printf "%.1f", $2/1024}' "/proc/$1/status"; }

# Warm up both clients (connections, chaincode streams, JIT).
"$bench_c" --env "$env_json" --count 50 --concurrency 8 >/dev/null
node "$node_client" --env "$env_json" bench-submit Brokerage --count 50 --concurrency 8 >/dev/null
cc_rss_idle=$(rss_of "$cc_pid")

results=$(mktemp)
for c in $concs; do
  for r in $(seq 1 "$rounds"); do
    say "concurrency $c round $r: C client"
    "$bench_c" --env "$env_json" --count "$count" --concurrency "$c" |
      sed "s/^{/{\"round\":$r,\"client_name\":\"C (libhlf)\",/" >> "$results"
    say "concurrency $c round $r: Node client"
    node "$node_client" --env "$env_json" bench-submit Brokerage --count "$count" --concurrency "$c" |
      sed "s/^{/{\"round\":$r,\"concurrency\":$c,\"client_name\":\"Node (@hyperledger\/fabric-gateway)\",/" >> "$results"
  done
done
cc_rss_after=$(rss_of "$cc_pid")
cc_hwm=$(hwm_of "$cc_pid")

python3 - "$results" "$count" "$rounds" "$cc_rss_idle" "$cc_rss_after" "$cc_hwm" <<'PY'
import json, sys, statistics, platform, os, datetime
path, count, rounds, idle, after, hwm = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {}
for r in rows:
    by.setdefault((int(r["concurrency"]), r["client_name"]), []).append(r)
print("## Submit throughput and commit latency (issue 2)\n")
print(f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on `{platform.node()}` "
      f"({os.cpu_count()} cores); every figure is the median of {rounds} alternating rounds "
      f"of {count} RecordEvent transactions, each timed from endorsement to VALID commit status, "
      "on one network (1 Raft orderer, 3 peers, MAJORITY endorsement, BatchTimeout 500 ms, "
      "MaxMessageCount 10), both clients submitting through the Brokerage peer's Gateway.\n")
print("| concurrency | client | TPS | p50 ms | p99 ms | errors | client peak RSS MB |")
print("|---:|---|---:|---:|---:|---:|---:|")
for (c, name), rs in sorted(by.items()):
    med = lambda k: statistics.median(float(x[k]) for x in rs)
    errs = sum(int(x.get("errors", 0)) for x in rs)
    print(f"| {c} | {name} | {med('tps'):.1f} | {med('p50_ms'):.1f} | {med('p99_ms'):.1f} | {errs} | {med('rss_mb'):.1f} |")
print(f"\nChaincode server (reso-chaincode, Brokerage): resident {idle} MB after warm-up, "
      f"{after} MB after the runs, peak {hwm} MB.\n")
PY
rm -f "$results"
