#!/usr/bin/env python3
"""Tables for the echo / RESP / HTTP comparisons of one perf/servers run (stdout, Markdown).

usage: servers_report.py OUTDIR

Also imported by report.py (targets table, chart data): load_echo, resp_summary, http_summary.
"""
import csv
import os
import statistics
import sys
from collections import defaultdict


def rows(out, name):
    p = os.path.join(out, name)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def dur_us(x):
    """wrk duration text (e.g. 345.85us, 0.87ms, 1.2s) -> microseconds."""
    if not x or x == "NA":
        return None
    for suf, mul in (("us", 1), ("ms", 1e3), ("s", 1e6), ("m", 6e7)):
        if x.endswith(suf):
            v = num(x[: -len(suf)])
            return None if v is None else v * mul
    return num(x)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fx(x, d=0):
    return "–" if x is None else f"{x:,.{d}f}"


def fr(x):
    return "–" if x is None else f"{x:.2f}×"


# ---- echo ----
def load_echo(out):
    """{(conns, size): {server: row}} with numeric fields; skipped/failed rows keep a 'note'.

    With several rounds, a server's row is its round with the lowest server CPU per message (the
    same rule for every server, C included); "rounds_cpu" keeps every round's figure and "gc" the
    pauses of every round."""
    res = defaultdict(dict)
    for r in rows(out, "echo.tsv"):
        key = (int(r["conns"]), int(r["size"]))
        prev = res[key].get(r["server"])
        if num(r.get("msgs_per_s")) is None:
            if prev is None:
                res[key][r["server"]] = {"note": r.get("msgs") or r.get("depth") or "failed"}
            continue
        d = {"msgs_per_s": num(r["msgs_per_s"]), "p50": num(r["p50_us"]), "p99": num(r["p99_us"]),
             "p999": num(r.get("p999_us")), "cpu": num(r["server_cpu_ns_per_msg"]), "gc": r.get("gc_pauses", "–")}
        if prev is None or "note" in prev:
            d["rounds_cpu"], d["gcs"] = [d["cpu"]], [d["gc"]]
            res[key][r["server"]] = d
            continue
        rounds_cpu, gcs = prev["rounds_cpu"] + [d["cpu"]], prev["gcs"] + [d["gc"]]
        best = d if d["cpu"] is not None and (prev["cpu"] is None or d["cpu"] < prev["cpu"]) else prev
        best = dict(best, rounds_cpu=rounds_cpu, gcs=gcs, gc=" / ".join(str(g) for g in gcs))
        res[key][r["server"]] = best
    return res


def load_echo_raw(out):
    """Echo rows as written (skipped rows have their note in the fields after depth)."""
    p = os.path.join(out, "echo.tsv")
    if not os.path.exists(p):
        return [], {}
    lines = [line.rstrip("\n").split("\t") for line in open(p)]
    return lines[1:], {h: i for i, h in enumerate(lines[0])}


# ---- RESP and HTTP: per-round figures, both sides summarised the same way ----
def resp_summary(out):
    """{(P, test): {server: {"rps": [per round], "p50": [...], "p99": [...], "p999": [...], "gc": [...], ...}}}"""
    res = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows(out, "resp.tsv"):
        if num(r.get("requests_per_s")) is None:
            continue
        d = res[(int(r["pipeline"]), r["test"])][r["server"]]
        d["round"].append(int(r["round"]))
        d["rps"].append(num(r["requests_per_s"]))
        for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "server_cpu_ns_per_req"):
            d[k].append(num(r.get(k)))
        d["gc_measured"].append(r.get("gc_measured", "NA"))
        d["gc_total"].append(r.get("gc_total", "NA"))
    return res


def http_summary(out):
    res = defaultdict(lambda: defaultdict(list))
    for r in rows(out, "http.tsv"):
        if num(r.get("requests_per_s")) is None:
            continue
        d = res[r["server"]]
        d["round"].append(int(r["round"]))
        d["rps"].append(num(r["requests_per_s"]))
        d["p50"].append(num(r.get("p50_us")) or dur_us(r.get("latency_p50")))
        d["p99"].append(num(r.get("p99_us")) or dur_us(r.get("latency_p99")))
        d["p999"].append(num(r.get("p999_us")))
        d["cpu"].append(num(r.get("server_cpu_ns_per_req")))
        d["gc_measured"].append(r.get("gc_measured", "NA"))
        d["gc_total"].append(r.get("gc_total", "NA"))
    return res


def per_round_ratios(a, b):
    """Ratios a/b of requests/s for the rounds both sides have."""
    ra = dict(zip(a.get("round", []), a.get("rps", [])))
    rb = dict(zip(b.get("round", []), b.get("rps", [])))
    return [ratio(ra[k], rb[k]) for k in sorted(ra) if k in rb]


def echo_rounds(out):
    """{(conns, size): {server: {round: {"cpu", "p99", "p999", "rps"}}}}: every measured round."""
    res = defaultdict(lambda: defaultdict(dict))
    for r in rows(out, "echo.tsv"):
        if num(r.get("msgs_per_s")) is None:
            continue
        res[(int(r["conns"]), int(r["size"]))][r["server"]][int(r.get("round") or 1)] = {
            "cpu": num(r["server_cpu_ns_per_msg"]), "p99": num(r["p99_us"]), "p999": num(r.get("p999_us")),
            "rps": num(r["msgs_per_s"])}
    return res


def resp_rounds(out):
    """{pipeline: {server: {round: {"cpu": ns per request over the run, "sys": its kernel part, "p99:<test>": ms, ...}}}}"""
    res = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for r in rows(out, "resp.tsv"):
        if num(r.get("requests_per_s")) is None:
            continue
        d = res[int(r["pipeline"])][r["server"]][int(r["round"])]
        d["cpu"] = num(r.get("server_cpu_ns_per_req"))
        d["sys"] = num(r.get("server_sys_ns_per_req"))
        d["p99:" + r["test"]] = num(r.get("p99_ms"))
    return res


def http_rounds(out):
    """{server: {round: {"cpu", "sys", "p99"}}}"""
    res = defaultdict(dict)
    for r in rows(out, "http.tsv"):
        if num(r.get("requests_per_s")) is None:
            continue
        res[r["server"]][int(r["round"])] = {"cpu": num(r.get("server_cpu_ns_per_req")),
                                             "sys": num(r.get("server_sys_ns_per_req")),
                                             "p99": num(r.get("p99_us")) or dur_us(r.get("latency_p99"))}
    return res


def round_ratios(a, b, key):
    """Ratios a/b of one figure for the rounds both sides have (a, b: {round: {key: value}})."""
    out = []
    for k in sorted(a):
        if k in b:
            x = ratio(a[k].get(key), b[k].get(key))
            if x is not None:
                out.append(x)
    return out


def kernel_floor(mine, theirs):
    """Where a CPU-per-request ratio can go with the same system calls: per round, the kernel
    time (stime) of one side and of the other per request, and the first side's kernel time
    alone divided by the other side's whole CPU time (the ratio even a server with no user-space
    work at all would reach). '' when the run has no stime column."""
    rounds = [k for k in sorted(mine) if k in theirs and mine[k].get("sys") is not None
              and theirs[k].get("sys") is not None and theirs[k].get("cpu")]
    if not rounds:
        return ""
    floor = [mine[k]["sys"] / theirs[k]["cpu"] for k in rounds]
    share = lambda d: med([d[k]["sys"] / d[k]["cpu"] for k in rounds if d[k].get("cpu")])
    return (f"kernel part of CPU per request: {share(mine):.0%} vs {share(theirs):.0%}; kernel time alone "
            f"÷ peer's whole CPU {spread(floor)}")


def spread(v):
    """'0.91× (0.89–0.94×, 3 rounds)': median of per-round ratios with their range."""
    v = [x for x in v if x is not None]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.2f}× (1 round)"
    return f"{med(v):.2f}× ({min(v):.2f}–{max(v):.2f}×, {len(v)} rounds)"


def syscalls(out):
    """Rows of syscalls.tsv: server, workload, requests, syscalls, per_request, top."""
    return [r for r in rows(out, "syscalls.tsv") if num(r.get("per_request")) is not None]


def gc_text(d):
    if not d or not d.get("gc_measured"):
        return "–"
    m, t = d["gc_measured"], d["gc_total"]
    if all(x == "NA" for x in m):
        return "n/a (not a JVM)"
    return " / ".join(f"{a} ({b})" for a, b in zip(m, t))


def main():
    out = sys.argv[1]
    L = []
    L.append("### Echo (perf/c/echo_load: fixed-size messages, one in flight per connection)")
    L.append("")
    L.append("Server CPU per message = (utime + stime of the server process from /proc/PID/stat over the measured "
             "window) ÷ messages echoed; /proc ticks are 10 ms, so short runs carry ±10 ms of CPU. "
             "Every server runs pinned to CPU 0 (a JVM's GC and JIT threads too) and the load generator to CPU 1 "
             "(`taskset`), so CPU per message is the server's own work. The C server follows the same short-read "
             "rule as the ioatom sample (a short read ends the round; edge-triggered epoll reports the next "
             "arrival), so the ratio measures ioatom, not an extra read. Each server runs a warm-up "
             "(echo_load's WARMUP seconds, same connections) before the measured window, so the JVM servers are "
             "JIT-compiled when measured. Full runs make 3 rounds (every configuration with every server, every "
             "other round in reverse order; quick runs 1); each server's row is its round with the lowest CPU per "
             "message, the same rule for every server, C included, and the last column but one lists every round's "
             "CPU; the targets table uses the per-round ratios instead. "
             "Latency: round trip per message, from queueing it to its last byte back (p99.9: the 99.9th "
             "percentile of all messages of the window). GC pauses: `-Xlog:gc` lines with \"Pause\" over the "
             "server's whole life (warm-up included).")
    L.append("")
    L.append("| connections | size | server | msgs/s | p50 µs | p99 µs | p99.9 µs | server CPU ns/msg | CPU/msg ÷ C | CPU ns/msg per round | GC pauses |")
    L.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    raw, h = load_echo_raw(out)
    echo = load_echo(out)
    seen = set()
    for r in sorted(raw, key=lambda r: (int(r[1]), int(r[2]), r[0])):
        key = (int(r[1]), int(r[2]))
        if (key, r[0]) in seen:
            continue
        seen.add((key, r[0]))
        d = echo[key].get(r[0], {})
        if "note" in d or not d:
            L.append(f"| {r[1]} | {r[2]} | {r[0]} | " + (r[4] if len(r) > 4 else "failed") + " | | | | | | | |")
            continue
        b = echo[key].get("c-epoll", {}).get("cpu")
        L.append(f"| {r[1]} | {r[2]} | {r[0]} | {fx(d['msgs_per_s'])} | {fx(d['p50'], 1)} | {fx(d['p99'], 1)} | "
                 f"{fx(d['p999'], 1)} | {fx(d['cpu'])} | {fr(ratio(d['cpu'], b))} | "
                 f"{', '.join(fx(x) for x in d.get('rounds_cpu', []))} | {d['gc']} |")
    L.append("")
    ec = os.path.join(out, "echo-client.txt")
    if os.path.exists(ec):
        L.append("### Echo with the ioatom echo-client sample as load generator (50 connections, 64 B, pipeline 8)")
        L.append("")
        L.append("```")
        L.extend(open(ec).read().rstrip().splitlines()[:80])
        L.append("```")
        L.append("")

    resp = resp_summary(out)
    nr = max((len(d["rps"]) for v in resp.values() for d in v.values()), default=0)
    L.append("### RESP (`redis-benchmark -t ping,set,get -c 50 -P 1|16`), redis-server vs ioatom resp-server")
    L.append("")
    L.append(f"{nr} interleaved round(s): each round runs both servers for -P 1 and -P 16, the order alternating "
             "from round to round; each server process first gets an unmeasured warm-up (a run of the same "
             "mix with half of the requests, then connection churn: `-k 0`, a new connection per request, 20 000 "
             "requests, so that accepting and closing are compiled too), then the measured one. Both sides are summarised the same way: the median and the best "
             "of the rounds' requests/s, the per-round ratio (resp-server ÷ redis, same round) and its median. "
             "Latencies (ms, median over rounds) are redis-benchmark's; its p99.9 is the first line at or above "
             "99.9 % of its percentile distribution (99.902 %), as its CSV output has no p99.9. GC pauses of "
             "the JVM server: in the measured window (over the process's life, warm-up included), per round.")
    L.append("")
    L.append("| -P | test | redis req/s median (best) | resp-server req/s median (best) | ratio per round | ratio median | "
             "redis p50 / p99 / p99.9 ms | resp-server p50 / p99 / p99.9 ms | resp-server CPU ns/req ÷ redis | resp-server GC pauses |")
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (p, test), v in sorted(resp.items(), key=lambda kv: (kv[0][0], ["PING_INLINE", "PING_MBULK", "SET", "GET"].index(kv[0][1])
                                                         if kv[0][1] in ["PING_INLINE", "PING_MBULK", "SET", "GET"] else 9)):
        a, b = v.get("redis", {}), v.get("ioatom-resp", {})
        rr = per_round_ratios(b, a)
        lat = lambda d: " / ".join(fx(med(d.get(k, [])), 3) for k in ("p50_ms", "p99_ms", "p999_ms")) if d else "–"
        L.append(f"| {p} | {test} | {fx(med(a.get('rps', [])))} ({fx(max(a['rps']) if a.get('rps') else None)}) | "
                 f"{fx(med(b.get('rps', [])))} ({fx(max(b['rps']) if b.get('rps') else None)}) | "
                 f"{', '.join(fr(x) for x in rr) or '–'} | {fr(med(rr))} | {lat(a)} | {lat(b)} | "
                 f"{fr(ratio(med(b.get('server_cpu_ns_per_req', [])), med(a.get('server_cpu_ns_per_req', []))))} | {gc_text(b)} |")
    L.append("")

    variants = (("ioatom-resp", "-XX:+UseParallelGC -Xmx512m (epoll)"),
                ("ioatom-resp-io_uring", "-XX:+UseParallelGC -Xmx512m, `-Dioatom.poller=io_uring`"),
                ("ioatom-resp-jvm-defaults", "JVM defaults: G1, heap sized by the JVM (epoll)"))
    if any(v.get(name) for (pp, t), v in resp.items() for name, _ in variants[1:]):
        L.append("### resp-server variants: io_uring backend, JVM flags (GET)")
        L.append("")
        L.append("The same resp-server, interleaved in the same rounds as redis: with the flags perf runs every JVM "
                 "server with (`-XX:+UseParallelGC -Xmx512m`) on epoll and on io_uring, and on the JVM's defaults. "
                 "Medians over rounds; GC pauses over the process's life (warm-up included).")
        L.append("")
        L.append("| -P | JVM options | req/s | p50 / p99 / p99.9 ms | CPU ns/req | GC pauses (measured window, life) |")
        L.append("|---:|---|---:|---:|---:|---|")
        for (pp, t), v in sorted(resp.items()):
            if t != "GET":
                continue
            for srv, flags in variants:
                d = v.get(srv)
                if not d:
                    continue
                L.append(f"| {pp} | {flags} | {fx(med(d.get('rps', [])))} | "
                         + " / ".join(fx(med(d.get(k, [])), 3) for k in ("p50_ms", "p99_ms", "p999_ms"))
                         + f" | {fx(med(d.get('server_cpu_ns_per_req', [])))} | {gc_text(d)} |")
        L.append("")

    http = http_summary(out)
    L.append("### HTTP (`wrk -t1 -c50 --latency`, fixed 14-byte body; nginx: 1 worker, config generated into perf/out)")
    L.append("")
    L.append("Interleaved rounds as for RESP (order alternating, each server warmed up with an unmeasured wrk run "
             "and one with `Connection: close`, a new connection per request, first). Latency percentiles in µs from a wrk Lua `done()` hook (`perf/wrk-percentiles.lua`), median "
             "over rounds. GC pauses: measured window (process life), per round.")
    L.append("")
    L.append("| server | req/s per round | req/s median (best) | ratio per round (÷ nginx) | ratio median | p50 µs | p99 µs | p99.9 µs | CPU ns/req | GC pauses |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ng = http.get("nginx", {})
    for s in ["nginx", "ioatom-http"]:
        d = http.get(s)
        if not d:
            continue
        rr = per_round_ratios(d, ng) if s != "nginx" else []
        L.append(f"| {s} | {', '.join(fx(x) for x in d['rps'])} | {fx(med(d['rps']))} ({fx(max(d['rps']))}) | "
                 f"{', '.join(fr(x) for x in rr) or '–'} | {fr(med(rr)) if rr else '–'} | {fx(med(d['p50']))} | "
                 f"{fx(med(d['p99']))} | {fx(med(d['p999']))} | {fx(med(d['cpu']))} | {gc_text(d)} |")
    sc = syscalls(out)
    if sc:
        L.append("")
        L.append("### System calls per request (`strace -c -f` on the server, fixed amount of work)")
        L.append("")
        L.append("One extra run per server after an unmeasured warm-up; strace follows every thread of the server "
                 "(nginx: its worker) while the pinned load generator sends a fixed number of requests (echo: "
                 "1000 connections x 64 B, one in flight; RESP: `redis-benchmark -t ping,set,get -c 50` with "
                 "-P 1 and -P 16; HTTP: `wrk -t1 -c50 -d3s`, its request count divides). Counts only: strace slows "
                 "the server. A JVM's count includes its GC, JIT and timer threads (mostly `futex`).")
        L.append("")
        L.append("| server | workload | requests | system calls | per request | most frequent, per request |")
        L.append("|---|---|---:|---:|---:|---|")
        for r in sc:
            top = ", ".join(f"{k} {float(v):.2f}" for k, v in (x.split(":") for x in r["top"].split(",") if ":" in x))
            L.append(f"| {r['server']} | {r['workload']} | {fx(num(r['requests']))} | {fx(num(r['syscalls']))} | "
                     f"{fx(num(r['per_request']), 2)} | {top} |")
    print("\n".join(L))


if __name__ == "__main__":
    main()
