#!/usr/bin/env python3
"""Tables for the echo / RESP / HTTP comparisons of one perf/servers run (stdout, Markdown).

usage: servers_report.py OUTDIR HAVE_SAMPLES(0|1)
"""
import csv
import os
import sys

out, have = sys.argv[1], sys.argv[2] == "1"


def rows(name):
    p = os.path.join(out, name)
    if not os.path.exists(p):
        return []
    return list(csv.reader(open(p), delimiter="\t"))[1:]


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


L = []
if not have:
    L.append("**The ioatom samples (echo-server, echo-client, resp-server, http-server) were not in this tree**, so "
             "only the competitors ran: these rows are the baselines the ioatom samples will be compared with. "
             "The ioatom columns appear once `main` (with the samples) is merged into `perf` and `perf/run` is rerun.")
    L.append("")
L.append("### Echo (perf/c/echo_load: pipelined fixed-size messages, depth 8 per connection)")
L.append("")
L.append("Server CPU per message = (utime + stime of the server process from /proc/PID/stat over the measured "
         "window) ÷ messages echoed; /proc ticks are 10 ms, so short runs carry ±10 ms of CPU. "
         "The load generator runs on the same 2 cores as the server (and as other engineers' builds), "
         "so msgs/s is bounded by both; CPU per message is the fairer comparison. GC pauses: `-Xlog:gc` "
         "lines with \"Pause\" over the server's whole life (including warm-up).")
L.append("")
L.append("| connections | size | server | msgs/s | p50 µs | p99 µs | server CPU ns/msg | CPU/msg ÷ C | GC pauses |")
L.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
echo = rows("echo.tsv")
base = {}
for r in echo:
    if r[0] == "c-epoll" and len(r) >= 11 and num(r[10]):
        base[(r[1], r[2])] = num(r[10])
for r in sorted(echo, key=lambda r: (int(r[1]), int(r[2]), r[0])):
    if len(r) < 11:
        L.append(f"| {r[1]} | {r[2]} | {r[0]} | " + (r[4] if len(r) > 4 else "failed") + " | | | | | |")
        continue
    cpu = num(r[10])
    b = base.get((r[1], r[2]))
    ratio = f"{cpu / b:.2f}×" if cpu and b and cpu > 0 else "–"
    gc = r[11] if len(r) > 11 else "–"
    L.append(f"| {r[1]} | {r[2]} | {r[0]} | {num(r[6]):,.0f} | {r[7]} | {r[8]} | {r[10]} | {ratio} | {gc} |")
L.append("")
ec = os.path.join(out, "echo-client.txt")
if os.path.exists(ec):
    L.append("### Echo with the ioatom echo-client sample as load generator (50 connections, 64 B, pipeline 8)")
    L.append("")
    L.append("```")
    L.extend(open(ec).read().rstrip().splitlines()[:80])
    L.append("```")
    L.append("")
L.append("### RESP (`redis-benchmark -t ping,set,get -c 50 -P 1|16`)")
L.append("")
L.append("| -P | test | server | requests/s | p50 ms | server CPU ns/req (all tests) |")
L.append("|---:|---|---|---:|---:|---:|")
for r in rows("resp.tsv"):
    if len(r) >= 6:
        L.append(f"| {r[1]} | {r[2]} | {r[0]} | {r[3]} | {r[4]} | {r[5]} |")
L.append("")
L.append("### HTTP (`wrk -t1 -c50 --latency`, fixed 14-byte body; nginx: 1 worker, config generated into perf/out)")
L.append("")
L.append("| server | requests/s | latency avg | p50 | p99 | server CPU ns/req |")
L.append("|---|---:|---:|---:|---:|---:|")
for r in rows("http.tsv"):
    if len(r) >= 6:
        L.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |")
print("\n".join(L))
