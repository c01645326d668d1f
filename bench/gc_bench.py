"""How long the garbage collector stalls a process that holds 5,000 connections' objects.

Builds the shape the server has at a conference (5,000 "connections" of ~200 tracked
objects each: dicts, lists, small objects, a few reference cycles), then churns
for a while as a busy server does (short-lived dicts and lists, some cyclic
garbage), and records every collection's CPU time under each policy:

- defaults: CPython's thresholds, nothing frozen;
- startup: gc.collect() + gc.freeze() once, after start-up (before connections);
- freeze: startup, plus gc.freeze() every 2 s (plenary.gcpolicy.keep_frozen does it
  every 10 s), so that collections never scan what has already survived.

Connections arrive over the first ~10 s (a join storm), as the churn goes on.

    .venv/bin/python bench/gc_bench.py

CPU time (time.thread_time) is what a collection costs the loop; on a shared machine
its wall time can be longer. Prints, per policy, collections per generation and
their p50/p99/max, and the ratio of each max to the target of a few ms.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

TARGET_MS = 5.0


class Conn:
    """Stands for one connection's state: a session, queues, tasks, buffers."""

    def __init__(self, n: int) -> None:
        self.session = {"id": n, "rooms": [f"r{n}", f"t{n % 500}"], "name": None}
        self.buffers = [[i, str(i)] for i in range(40)]
        self.meta = [{"k": i} for i in range(40)]
        self.parts = [Part(self) for _ in range(30)]


class Part:
    def __init__(self, owner: Conn) -> None:
        self.owner = owner  # a cycle back to the connection, as tasks and callbacks make
        self.data = {"x": 1}


def held(connections: int) -> list[Conn]:
    return [Conn(n) for n in range(connections)]


def churn(seconds: float, pauses: dict[int, list[float]]) -> None:
    """Allocate like a busy server: mostly short-lived, some cyclic garbage."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(1000):
            msg = {"type": "note.added", "data": {"note": {"id": "x", "text": "y" * 20}}}
            _ = [msg, dict(msg)]
        a: list[Any] = []
        b = [a]
        a.append(b)  # cyclic garbage, for the collector to find


def run(policy: str, connections: int, seconds: float) -> dict[int, list[float]]:
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            pauses[info["generation"]].append((time.thread_time() - started[0]) * 1000)

    gc.unfreeze()
    gc.collect()
    if policy != "defaults":
        gc.freeze()
    gc.callbacks.append(callback)
    try:
        conns: list[Conn] = []
        last_freeze = time.perf_counter()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if len(conns) < connections:  # the join storm: everyone in within ~10 s
                conns += held(min(connections // 50, connections - len(conns)))
            churn(0.2, pauses)
            if policy == "freeze" and time.perf_counter() - last_freeze > 2:
                gc.freeze()
                last_freeze = time.perf_counter()
        del conns
    finally:
        gc.callbacks.remove(callback)
        gc.unfreeze()
        gc.collect()
    return pauses


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.connections} connections, {args.seconds:.0f} s of churn, "
          f"median of {args.runs} runs (CPU ms per collection)")
    for policy in ("defaults", "startup", "freeze"):
        results = [run(policy, args.connections, args.seconds) for _ in range(args.runs)]
        for gen in (0, 1, 2):
            counts = [len(r[gen]) for r in results]
            p99 = statistics.median(pct(r[gen], 0.99) for r in results)
            worst = statistics.median(max(r[gen], default=0.0) for r in results)
            print(f"  {policy:9} gen{gen}: {statistics.median(counts):6.0f} collections  "
                  f"p50 {statistics.median(pct(r[gen], 0.5) for r in results):7.2f}  "
                  f"p99 {p99:7.2f}  max {worst:7.1f}  (max / {TARGET_MS:.0f} ms target "
                  f"= {worst / TARGET_MS:.1f})")


if __name__ == "__main__":
    main()
