#!/usr/bin/env python3
"""Allocation events of a JFR recording that the measured code made.

Reads `jfr print --events jdk.ObjectAllocationSample,... --stack-depth 64` output on stdin and
prints the events whose stack passes through a JMH measurement stub (`_jmhStub`): allocations by
the measured loop, not by setup, class loading or JMH itself. Grouped by stack, with weight.
"""
import re
import sys
from collections import defaultdict

text = sys.stdin.read()
blocks = re.split(r"\n(?=jdk\.ObjectAllocation)", text)
total = 0
groups = defaultdict(lambda: [0, 0])
for b in blocks:
    if not b.startswith("jdk.ObjectAllocation"):
        continue
    total += 1
    if "_jmhStub" not in b:
        continue
    cls = re.search(r"objectClass = (\S+)", b)
    w = re.search(r"(?:weight|allocationSize) = ([\d.]+) (bytes|kB|MB)", b)
    weight = 0
    if w:
        weight = float(w.group(1)) * {"bytes": 1, "kB": 1024, "MB": 1 << 20}[w.group(2)]
    frames = []
    st = re.search(r"startTime = (\S+)", b)
    in_stack = False
    for line in b.splitlines():
        line = line.strip()
        if line.startswith("stackTrace = ["):
            in_stack = True
            continue
        if in_stack and line.startswith("]"):
            break
        if in_stack:
            if "_jmhStub" in line:
                break
            if "(" in line:
                frames.append(line.split("(")[0] + (":" + line.split("line:")[1].strip() if "line:" in line else ""))
    key = (cls.group(1) if cls else "?") + " <- " + " <- ".join(frames)
    g = groups[key]
    g[0] += 1
    g[1] += weight
    if st and len(g) == 2:
        g.append(st.group(1))
print(f"allocation events in recording: {total}; under a measured JMH stub: {sum(g[0] for g in groups.values())}")
for k, g in sorted(groups.items(), key=lambda kv: -kv[1][1])[:8]:
    first = f", first at {g[2]}" if len(g) > 2 else ""
    print(f"  {g[0]} events, {g[1]:.0f} bytes (sample weight){first}: {k}")
