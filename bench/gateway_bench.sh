#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# reso-gateway benchmarks, on one network in one run (issue 3):
#
#  submit  REST submit throughput and latency: rest_submit (C, keep-alive
#          HTTP to reso-gateway's POST /v1/events) against the official
#          Node client (tests/interop/gateway-client.js bench-submit, Fabric
#          Gateway gRPC) and, to show what part of the REST figure is the
#          gateway's, the C client straight on libhlf (bench_submit), in
#          alternating rounds at each concurrency. Also the gateway's RSS,
#          its CPU time per event and its own time per request (from
#          /metrics: HTTP duration minus its Fabric calls).
#  sse     SSE fan-out: sse_fanout holds N subscribers (epoll, one thread)
#          on a fresh gateway, records K paced events, and reports
#          commit-to-delivery latency, exactly-once/in-order delivery and
#          gateway memory per subscriber; one point per N.
#  pages   EntityEvent pages per second: ee_pages, a few clients paging
#          $top=100 through >= 1000 ledger events by @odata.nextLink, on a
#          gateway whose ring holds every event and on one whose ring holds
#          16 (every page replayed from the ledger by the peer's Deliver).
#
# Every gateway is our own: its own config, API key (0600 file) and state
# dir under a temp dir, on 127.0.0.1 port 0, stopped by PID at the end of
# its section and on any failure. Prints a Markdown report on stdout; the
# raw JSON lines are kept in --out DIR (default: the temp dir, removed).
#
# usage: bench/gateway_bench.sh [--build DIR] [--run-dir DIR] [--out DIR]
#          [--sections "submit sse pages"] [--count N] [--concurrency "16 64"]
#          [--rounds R] [--subscribers "1000 10000"] [--events K]
#          [--pace-ms P] [--page-seconds S] [--page-clients T]
#          [--submit-alt "KEY VALUE[;KEY VALUE...]"]
# --submit-alt adds a second gateway with those config lines to the submit
# rounds (e.g. "workers 64"), as one more REST row; both gateways then run
# during all submit rounds.
# Without --run-dir a network is started on a free base port in a temp dir
# and stopped (by PID, through resoctl network down) at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
run_dir=""
out=""
sections="submit sse pages"
count=300
concs="16 64"
rounds=3
subs_list="1000 10000"
events=50
pace_ms=100
page_seconds=20
page_clients=4
submit_alt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --run-dir) run_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --sections) sections=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --concurrency) concs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --subscribers) subs_list=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --pace-ms) pace_ms=$2; shift 2 ;;
    --page-seconds) page_seconds=$2; shift 2 ;;
    --page-clients) page_clients=$2; shift 2 ;;
    --submit-alt) submit_alt=$2; shift 2 ;;
    *) echo "gateway_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
resoctl=$build/cli/resoctl
gateway=${RESO_GATEWAY_BIN:-$build/gateway/reso-gateway}
b=$build/bench
node_client=$here/tests/interop/gateway-client.js
for f in "$resoctl" "$gateway" "$b/rest_submit" "$b/sse_fanout" \
         "$b/ee_pages" "$b/bench_submit"; do
  [ -x "$f" ] || { echo "gateway_bench.sh: $f missing: run make build" >&2; exit 4; }
done
[ -d "$here/tests/interop/node_modules/@hyperledger/fabric-gateway" ] ||
  { echo "gateway_bench.sh: npm packages missing: run scripts/setup.sh" >&2; exit 4; }

say() { printf '[gwbench] %s\n' "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/reso-gwbench.XXXXXX")
[ -n "$out" ] || out=$work/results
mkdir -p "$out"
net_started=""
gw_pid=""
gw_all=""   # every gateway started and not yet stopped

# stop_gateway [PID]: SIGTERM, up to 30 s, then SIGKILL; default $gw_pid.
stop_gateway() {
  local pid=${1:-$gw_pid}
  [ -n "$pid" ] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  gw_all=$(echo " $gw_all " | sed "s/ $pid / /g")
  [ "$pid" != "$gw_pid" ] || gw_pid=""
}
cleanup() {
  for p in $gw_all; do stop_gateway "$p"; done
  if [ -n "$net_started" ]; then
    say "stopping the benchmark network"
    "$resoctl" network down --run-dir "$run_dir" >/dev/null 2>&1 || true
  fi
  case "$out" in "$work"/*) ;; *) cp "$work"/gw*.log "$out"/ 2>/dev/null || true ;; esac
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$run_dir" ]; then
  run_dir=$work/network
  net_started=1
  say "starting a network in $run_dir"
  "$resoctl" network up --run-dir "$run_dir" --base-port auto >&2
fi
env_json=$work/env.json
"$resoctl" network env --json --run-dir "$run_dir" > "$env_json"

# One API key for the Brokerage identity; only its SHA-256 goes in the
# config, the key itself in a 0600 file the clients read.
key_file=$work/api.key
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key_file")
key_hex=$(tr -d '\n' < "$key_file" | sha256sum | cut -d' ' -f1)
# Recorder binding is strict: the REST clients record as Brokerage, so with
# the Recorder `network up` registered to Brokerage.
recorder=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["orgs"]["Brokerage"]["recorder"])' "$env_json")

# start_gateway NAME [config lines...]: a fresh gateway (new state dir)
# with the given extra config; sets gw_pid and gw_addr.
start_gateway() {
  local name=$1; shift
  local dir=$work/$name
  rm -rf "$dir"; mkdir -p "$dir"
  {
    echo "listen 127.0.0.1:0"
    echo "state_dir $dir/state"
    echo "network_env $env_json"
    echo "apikey bench Brokerage $key_hex"
    echo "rate_limit_per_key 0"
    for l in "$@"; do echo "$l"; done
  } > "$dir/gateway.conf"
  cp "$dir/gateway.conf" "$out/$name.conf"
  "$gateway" --config "$dir/gateway.conf" > "$work/gw-$name.log" 2>&1 &
  gw_pid=$!
  gw_all="$gw_all $gw_pid"
  for _ in $(seq 1 300); do
    if [ -s "$dir/state/gateway.addr" ]; then
      gw_addr=$(cat "$dir/state/gateway.addr")
      say "gateway $name: pid $gw_pid on $gw_addr"
      return 0
    fi
    kill -0 "$gw_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$work/gw-$name.log" >&2
  echo "gateway_bench.sh: gateway $name did not start" >&2
  exit 1
}

metric() { # metric NAME [ADDR]: the sum of a metric's samples from /metrics
  curl -sf "http://${2:-$gw_addr}/metrics" |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%s", s + 0 }'
}
# Wait until the follower has published the whole ledger: lag 0 and the
# checkpoint block unchanged for 2 s (subscribers start "from now").
wait_follower() {
  local last=-1 same=0
  for _ in $(seq 1 600); do
    local lag blk
    lag=$(metric follower_lag_blocks); blk=$(metric follower_checkpoint_block)
    if [ "$lag" = 0 ] && [ "$blk" = "$last" ] && [ "$blk" != 0 ]; then
      same=$((same + 1)); [ $same -ge 4 ] && return 0
    else
      same=0
    fi
    last=$blk
    sleep 0.5
  done
  echo "gateway_bench.sh: the follower did not catch up" >&2
  exit 1
}
rss() { awk '/^VmRSS:/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM:/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
cpu() { awk -v t="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / t}' "/proc/$1/stat"; }
# Gateway-side sums over a round, from /metrics (gw_times ADDR).
gw_times() {
  curl -sf "http://$1/metrics" | awk '
    index($1, "http_request_duration_seconds_sum{") == 1 && $1 ~ /route="\/v1\/events"/ && $1 ~ /method="POST"/ { hs += $2 }
    index($1, "http_request_duration_seconds_count{") == 1 && $1 ~ /route="\/v1\/events"/ && $1 ~ /method="POST"/ { hc += $2 }
    $1 ~ /^ledger_submit_duration_seconds_sum/ { ss += $2 }
    $1 ~ /^ledger_commit_duration_seconds_sum/ { cs += $2 }
    END { printf "%s %s %s %s", hs + 0, hc + 0, ss + 0, cs + 0 }'
}

# The machine is shared: the load average before and after goes in the
# report.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
machine_json() {
  echo "{\"machine\":\"$(uname -n)\",\"cores\":$(nproc),\"date\":\"$(date -u '+%Y-%m-%d %H:%M')\",\"load_start\":\"$load_start\",\"load_end\":\"$1\"}" > "$out/machine.json"
}
machine_json ""

# rest_round LABEL PID ADDR CONCURRENCY ROUND: one rest_submit round
# against a gateway, with the gateway's RSS, CPU per event and mean
# request/Fabric-call times over the round appended to the JSON line.
rest_round() {
  local label=$1 pid=$2 addr=$3 c=$4 r=$5 line hs0 hc0 ss0 cs0 hs1 hc1 ss1 cs1 cpu0 cpu1
  read -r hs0 hc0 ss0 cs0 <<< "$(gw_times "$addr")"
  cpu0=$(cpu "$pid")
  line=$("$b/rest_submit" --addr "$addr" --key-file "$key_file" --recorder "$recorder" \
           --count "$count" --concurrency "$c" || true)
  cpu1=$(cpu "$pid")
  read -r hs1 hc1 ss1 cs1 <<< "$(gw_times "$addr")"
  [ -n "$line" ] || { echo "gateway_bench.sh: rest_submit failed" >&2; exit 1; }
  echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
a = sys.argv[1:]
hs, hc, ss, cs = (float(a[i + 4]) - float(a[i]) for i in range(4))
r.update(round=int(a[8]), client_name=a[12], gw_rss_mb=float(a[9]),
         gw_cpu_ms_per_event=1000 * (float(a[11]) - float(a[10])) / r["count"],
         gw_http_ms=1000 * hs / hc if hc else 0,
         gw_fabric_ms=1000 * (ss + cs) / hc if hc else 0)
print(json.dumps(r))' "$hs0" "$hc0" "$ss0" "$cs0" "$hs1" "$hc1" "$ss1" "$cs1" "$r" \
    "$(rss "$pid")" "$cpu0" "$cpu1" "$label" >> "$out/submit.jsonl"
}

if [[ " $sections " == *" submit "* ]]; then
  alt_pid=""
  if [ -n "$submit_alt" ]; then
    IFS=';' read -r -a alt_lines <<< "$submit_alt"
    start_gateway submit-alt "${alt_lines[@]}"
    wait_follower
    alt_pid=$gw_pid alt_addr=$gw_addr
    "$b/rest_submit" --addr "$alt_addr" --key-file "$key_file" --recorder "$recorder" --count 50 --concurrency 8 >/dev/null
  fi
  start_gateway submit
  wait_follower
  say "warming up the three clients"
  "$b/rest_submit" --addr "$gw_addr" --key-file "$key_file" --recorder "$recorder" --count 50 --concurrency 8 >/dev/null
  "$b/bench_submit" --env "$env_json" --count 50 --concurrency 8 >/dev/null
  node "$node_client" --env "$env_json" bench-submit Brokerage --count 50 --concurrency 8 >/dev/null
  rss_idle=$(rss "$gw_pid")
  : > "$out/submit.jsonl"
  for c in $concs; do
    for r in $(seq 1 "$rounds"); do
      say "concurrency $c round $r: REST (C load generator -> reso-gateway)"
      rest_round "REST: C load generator -> reso-gateway" "$gw_pid" "$gw_addr" "$c" "$r"
      if [ -n "$alt_pid" ]; then
        say "concurrency $c round $r: REST, gateway with: $submit_alt"
        rest_round "REST -> reso-gateway with: $submit_alt" "$alt_pid" "$alt_addr" "$c" "$r"
      fi
      say "concurrency $c round $r: Node (@hyperledger/fabric-gateway)"
      node "$node_client" --env "$env_json" bench-submit Brokerage --count "$count" --concurrency "$c" |
        sed "s/^{/{\"round\":$r,\"concurrency\":$c,\"errors\":0,\"client_name\":\"Node (@hyperledger\/fabric-gateway)\",/" >> "$out/submit.jsonl" ||
        say "the Node client failed in this round (see above)"
      say "concurrency $c round $r: C (libhlf) direct"
      "$b/bench_submit" --env "$env_json" --count "$count" --concurrency "$c" |
        sed "s/^{/{\"round\":$r,\"client_name\":\"C (libhlf) direct, no gateway\",/" >> "$out/submit.jsonl" ||
        say "bench_submit reported errors in this round"
    done
  done
  echo "{\"gw_rss_idle_mb\":$rss_idle,\"gw_rss_end_mb\":$(rss "$gw_pid"),\"gw_hwm_mb\":$(hwm "$gw_pid")}" > "$out/submit-gw.json"
  stop_gateway
  [ -z "$alt_pid" ] || stop_gateway "$alt_pid"
fi

# ---------------------------------------------------------------------------
if [[ " $sections " == *" sse "* ]]; then
  : > "$out/sse.jsonl"
  for n in $subs_list; do
    start_gateway "sse$n" "max_connections 12000" "sse_max_clients 10000"
    wait_follower
    say "SSE fan-out: $n subscribers, $events events paced ${pace_ms} ms"
    line=$("$b/sse_fanout" --addr "$gw_addr" --key-file "$key_file" --recorder "$recorder" \
             --gateway-pid "$gw_pid" --subscribers "$n" --events "$events" \
             --pace-ms "$pace_ms" --idle-s 5 --settle-s 20 || true)
    if kill -0 "$gw_pid" 2>/dev/null; then alive=true; else alive=false; fi
    [ -n "$line" ] || { echo "gateway_bench.sh: sse_fanout failed" >&2; exit 1; }
    echo "$line" | sed "s/^{/{\"gw_alive\":$alive,\"gw_hwm_mb\":$(hwm "$gw_pid" 2>/dev/null || echo 0),/" >> "$out/sse.jsonl"
    # A reconnect wave: as many new subscribers right after the first ones
    # closed (what a client fleet does after a network blip).
    say "SSE reconnect: $n new subscribers right after the first $n closed"
    rline=$("$b/sse_fanout" --addr "$gw_addr" --key-file "$key_file" --recorder "$recorder" \
              --gateway-pid "$gw_pid" --subscribers "$n" --events 1 \
              --pace-ms 0 --idle-s 0 --settle-s 5 || true)
    [ -z "$rline" ] || echo "$rline" >> "$out/sse-reconnect.jsonl"
    # sse_fanout has closed every stream: how long does the gateway still
    # count them (sse_clients) and hold their sockets?
    t0=$(date +%s.%N) left=$(metric sse_clients)
    while [ "${left%.*}" -gt 0 ] && awk -v t="$t0" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - t < 40) }'; do
      sleep 0.2; left=$(metric sse_clients)
    done
    release_s=$(awk -v t="$t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }')
    echo "{\"subscribers\":$n,\"sse_clients_left\":${left%.*},\"release_s\":$release_s,\"sse_drops_total\":$(metric sse_drops_total),\"hub_subscribers_dropped_total\":$(metric hub_subscribers_dropped_total)}" >> "$out/sse-metrics.jsonl"
    stop_gateway
  done
fi

# ---------------------------------------------------------------------------
if [[ " $sections " == *" pages "* ]]; then
  : > "$out/pages.jsonl"
  for ring in default 16; do
    if [ "$ring" = default ]; then
      start_gateway "pages-ring"
    else
      start_gateway "pages-replay" "hub_ring_events $ring"
    fi
    wait_follower
    have=$(metric follower_events_total)
    if [ "${have%.*}" -lt 1000 ]; then
      say "only $have events on the ledger: recording $((1000 - ${have%.*})) more"
      "$b/rest_submit" --addr "$gw_addr" --key-file "$key_file" --recorder "$recorder" \
        --count $((1000 - ${have%.*})) --concurrency 32 >/dev/null
      wait_follower
      have=$(metric follower_events_total)
    fi
    say "EntityEvent pages: $page_clients clients for $page_seconds s, ring $ring, $have events"
    # The follower and the replays read from the first configured peer,
    # Brokerage's: its CPU is the network's share of a replayed page.
    peer_pid=$(cat "$run_dir/pids/peer0.brokerage.pid" 2>/dev/null || echo "")
    pcpu0=$( [ -n "$peer_pid" ] && cpu "$peer_pid" || echo 0)
    line=$("$b/ee_pages" --addr "$gw_addr" --key-file "$key_file" \
             --gateway-pid "$gw_pid" --clients "$page_clients" \
             --seconds "$page_seconds" --top 100 || true)
    pcpu1=$( [ -n "$peer_pid" ] && cpu "$peer_pid" || echo 0)
    [ -n "$line" ] || { echo "gateway_bench.sh: ee_pages failed" >&2; exit 1; }
    echo "$line" | sed "s/^{/{\"ring\":\"$ring\",\"peer_cpu_s\":$(awk -v a="$pcpu0" -v b="$pcpu1" 'BEGIN { printf "%.2f", b - a }'),\"ledger_events\":${have%.*},\"gw_rss_mb\":$(rss "$gw_pid"),/" >> "$out/pages.jsonl"
    stop_gateway
  done
fi

machine_json "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/bench/gateway_report.py" "$out"
