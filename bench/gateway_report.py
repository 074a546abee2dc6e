#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Markdown report of bench/gateway_bench.sh from the JSON lines it kept in
# its results directory (submit.jsonl, sse.jsonl, pages.jsonl, ...): the
# median of the alternating rounds per client and concurrency, one row per
# SSE fan-out point and per EntityEvent configuration. Sections whose
# files are missing are left out.
#
# usage: bench/gateway_report.py RESULTS_DIR
import json
import os
import statistics
import sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def med(rs, key):
    vals = [float(r[key]) for r in rs if key in r]
    return statistics.median(vals) if vals else float("nan")


def submit(d):
    rs = rows(os.path.join(d, "submit.jsonl"))
    if not rs:
        return
    gw = rows(os.path.join(d, "submit-gw.json"))
    by = {}
    for r in rs:
        by.setdefault((int(r["concurrency"]), r["client_name"]), []).append(r)
    n_rounds = max(len(v) for v in by.values())
    count = rs[0]["count"]
    print("### REST submit throughput and commit latency\n")
    print(f"Median of {n_rounds} alternating rounds of {count} RecordEvent "
          "transactions per client and concurrency; latency from sending the "
          "request (REST) or starting endorsement (gRPC clients) to the "
          "VALID commit.\n")
    print("| concurrency | client | TPS | p50 ms | p99 ms | errors "
          "| client peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    order = {"REST": 0, "Node": 1, "C (l": 2}
    for (c, name), g in sorted(by.items(),
                               key=lambda kv: (kv[0][0],
                                               order.get(kv[0][1][:4], 9))):
        errs = sum(int(x.get("errors", 0)) for x in g)
        print(f"| {c} | {name} | {med(g, 'tps'):.1f} | {med(g, 'p50_ms'):.1f} "
              f"| {med(g, 'p99_ms'):.1f} | {errs} | {med(g, 'rss_mb'):.1f} |")
    print("\nThe gateway during the REST rounds (medians per concurrency):\n")
    print("| concurrency | gateway | RSS MB after round | CPU ms/event "
          "| mean ms/request | of which Fabric calls | gateway's own ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for (c, name), g in sorted(by.items(),
                               key=lambda kv: (kv[0][0], "with: " in kv[0][1])):
        if not name.startswith("REST"):
            continue
        http, fab = med(g, "gw_http_ms"), med(g, "gw_fabric_ms")
        cfg = name.split("with: ", 1)[1] if "with: " in name else "defaults"
        print(f"| {c} | {cfg} | {med(g, 'gw_rss_mb'):.1f} "
              f"| {med(g, 'gw_cpu_ms_per_event'):.2f} | {http:.1f} "
              f"| {fab:.1f} | {http - fab:.1f} |")
    if gw:
        g = gw[0]
        print(f"\nGateway resident memory: {g['gw_rss_idle_mb']} MB after "
              f"warm-up, {g['gw_rss_end_mb']} MB after all rounds, peak "
              f"{g['gw_hwm_mb']} MB.\n")


def sse(d):
    rs = rows(os.path.join(d, "sse.jsonl"))
    if not rs:
        return
    print("### SSE fan-out\n")
    print("One row per point, each on a fresh gateway. Latency per delivery "
          "(every subscriber x every event): *from 201* = delivery time "
          "minus the time the recording POST got its 201 (the gateway "
          "answers 201 once the peer reported the transaction VALID, i.e. "
          "committed); *from POST* = minus the time the POST was sent "
          "(includes endorsement, ordering and the 500 ms block cut); "
          "*spread* = minus the first delivery of the same event to any "
          "subscriber (the fan-out's own cost).\n")
    print("| subscribers | held | refused | connect s | gw RSS before MB "
          "| gw RSS idle MB | KiB/subscriber | gw CPU idle s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        print(f"| {r['subscribers']} | {r['established']} | {r['failed']} "
              f"| {r['connect_seconds']:.1f} | {r['gw_rss_before_mb']:.1f} "
              f"| {r['gw_rss_idle_mb']:.1f} | {r['kib_per_subscriber']:.1f} "
              f"| {r['gw_cpu_idle_s']:.2f} / {r['idle_s']} |")
    print()
    print("| subscribers | events | deliveries / expected | exactly once, "
          "in order | from 201 p50 / p99 ms | from POST p50 / p99 ms "
          "| spread p50 / p99 / max ms | gw CPU s (events) | dropped |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        print(f"| {r['subscribers']} | {r['events_seen']} "
              f"| {r['deliveries']} / {r['expected_deliveries']} "
              f"| {r['subs_exact_in_order']} of {r['established']} "
              f"| {r['from_201_p50_ms']:.1f} / {r['from_201_p99_ms']:.1f} "
              f"| {r['from_post_p50_ms']:.1f} / {r['from_post_p99_ms']:.1f} "
              f"| {r['spread_p50_ms']:.1f} / {r['spread_p99_ms']:.1f} / "
              f"{r['spread_max_ms']:.1f} | {r['gw_cpu_events_s']:.2f} "
              f"| {r['dropped']} |")
    for m in rows(os.path.join(d, "sse-metrics.jsonl")):
        if "release_s" in m:
            gone = (f"reached 0 only {m['release_s']} s later"
                    if m["sse_clients_left"] == 0 else
                    f"still showed {m['sse_clients_left']} after "
                    f"{m['release_s']} s")
            print(f"{m['subscribers']} subscribers: once the last streams "
                  f"had closed (those of the reconnect wave below, if "
                  f"any), the gateway's `sse_clients` gauge {gone}.\n")
    for r in rows(os.path.join(d, "sse-reconnect.jsonl")):
        print(f"Reconnect wave: {r['subscribers']} new subscribers right "
              f"after the previous {r['subscribers']} closed: "
              f"{r['established']} held, {r['failed']} refused"
              + (f" ({r['first_error']})" if r["failed"] else "")
              + f"; the held ones got {r['deliveries']} of "
              f"{r['expected_deliveries']} deliveries of one more event.\n")
    odd = [r for r in rs if r["missing"] or r["duplicates"] or
           r["out_of_order"] or r["foreign"] or r["failed"] or
           r["submit_errors"] or not r.get("gw_alive", True)]
    for r in odd:
        print(f"\n{r['subscribers']} subscribers: missing {r['missing']}, "
              f"duplicates {r['duplicates']}, out of order "
              f"{r['out_of_order']}, foreign {r['foreign']}, refused "
              f"{r['failed']} (first error: {r['first_error']}), submit "
              f"errors {r['submit_errors']}, gateway alive "
              f"{r.get('gw_alive', True)}.")
    print()


def pages(d):
    rs = rows(os.path.join(d, "pages.jsonl"))
    if not rs:
        return
    print("### EntityEvent pages\n")
    print("| gateway ring | events on ledger | clients | pages/s | events/s "
          "| p50 ms | p99 ms | errors | gw CPU s | peer CPU s | run s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        ring = ("every event in memory" if r["ring"] == "default"
                else f"{r['ring']} events (pages replayed from the peer)")
        print(f"| {ring} | {r['ledger_events']} | {r['clients']} "
              f"| {r['pages_per_s']:.1f} | {r['events_per_s']:.0f} "
              f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} "
              f"| {r['gw_cpu_s']:.1f} | {r.get('peer_cpu_s', 0):.1f} "
              f"| {r['seconds']:.0f} |")
    print()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gateway_report.py RESULTS_DIR\n")
        return 2
    d = sys.argv[1]
    m = rows(os.path.join(d, "machine.json"))
    print("## reso-gateway: REST submit, SSE fan-out, EntityEvent pages "
          "(issue 3)\n")
    if m:
        print(f"Measured {m[0]['date']} UTC on `{m[0]['machine']}` "
              f"({m[0]['cores']} cores; load average "
              f"{m[0].get('load_start', '?')} at the start, "
              f"{m[0].get('load_end', '?')} at the end).\n")
    submit(d)
    sse(d)
    pages(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
