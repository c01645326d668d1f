"""Scale-out benchmark: one process against two (PostgreSQL, Redis, nginx in front).

The same load through the same nginx config (deploy/nginx/plenary.conf), on a fresh
PostgreSQL database each run: 1 process without Redis, then 2 processes with Redis
between them. Phones are real python-socketio clients (msgpack, websocket) in this
process; nginx spreads them over the processes, so most tables have phones on both
and every note crosses Redis to reach some of its peers.

    .venv/bin/python bench/scaleout_bench.py [--tables 40] [--per-table 5] \\
        [--rate 100] [--seconds 20] [--runs 3]

Prints, per configuration, medians of the runs: post->ack p50/p99, post->every phone at the table
p50/p99, delivered/expected, notes/s acknowledged, server CPU (s, all processes),
and the ratio of two processes to one. This is the "smaller multi-process
measurement" of issue 12; bench/load_bench.py (issue 11) holds 10,000 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.cluster import run_cluster
from tests.integration.server import connect
from tests.integration.services import (
    REDIS,
    nginx_binary,
    postgres_database,
    redis_prefix,
)

TICKS = os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN if empty."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def load(url: str, info: dict[str, Any], per_table: int, rate: float,
               seconds: float) -> dict[str, float]:
    """Connect the phones, post at ``rate`` for ``seconds``, return the figures."""
    posted: dict[str, tuple[float, str]] = {}  # note id -> (sent at, table id)
    acks: list[float] = []
    seen: dict[str, list[float]] = {}  # note id -> each peer's arrival
    phones = []
    expected = int(rate * seconds) * per_table  # every phone at the table, author included
    arrivals = [0]
    all_in = asyncio.Event()
    for t in info["tables"]:
        for _ in range(per_table):
            c = await connect(url, {"join_code": t["join_code"],
                                    "participant_key": secrets.token_bytes(16)})

            def watch(change: dict[str, Any]) -> None:
                if change.get("type") == "note.added":
                    seen.setdefault(change["data"]["note"]["id"], []).append(time.perf_counter())
                    arrivals[0] += 1
                    if arrivals[0] >= expected:
                        all_in.set()

            c.sio.on("change", watch)
            phones.append((c, t["id"]))
    for c, _ in phones:
        await c.call("sync", {"since": None})

    async def post(c: Any, table_id: str, i: int) -> None:
        note_id = uuid.uuid4().hex
        sent = time.perf_counter()
        posted[note_id] = (sent, table_id)
        ack = await c.sio.call("note.post", {"id": note_id, "text": f"note {i}"}, timeout=30)
        if ack.get("ok"):
            acks.append(time.perf_counter() - sent)

    tasks = []
    start = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        c, table_id = phones[i % len(phones)]
        tasks.append(asyncio.create_task(post(c, table_id, i)))
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.perf_counter() - start
    with contextlib.suppress(TimeoutError):  # the last broadcasts' stragglers, bounded
        await asyncio.wait_for(all_in.wait(), 5)
    peers = [arr - posted[nid][0] for nid, arrivals in seen.items() if nid in posted
             for arr in arrivals]
    for c, _ in phones:
        await c.close()
    return {"ack_p50_ms": pct(acks, 0.5) * 1000, "ack_p99_ms": pct(acks, 0.99) * 1000,
            "peer_p50_ms": pct(peers, 0.5) * 1000, "peer_p99_ms": pct(peers, 0.99) * 1000,
            "delivered": len(peers) / expected if expected else 1.0,
            "acked_per_s": len(acks) / elapsed}


async def one_run(processes: int, args: argparse.Namespace) -> dict[str, float]:
    async with postgres_database() as db_url, redis_prefix() as prefix:
        with tempfile.TemporaryDirectory() as tmp, run_cluster(
                Path(tmp), nginx=nginx_binary(), database_url=db_url,
                redis_url=REDIS if processes > 1 else None, redis_prefix=prefix,
                processes=processes) as cluster:
            info = await cluster.as_server().create_event(tables=args.tables,
                                                          template="world-cafe")
            pids = [p.popen.pid for p in cluster.processes if p.popen is not None]
            before = sum(cpu_seconds(p) for p in pids)
            figures = await load(cluster.url, info, args.per_table, args.rate, args.seconds)
            figures["server_cpu_s"] = sum(cpu_seconds(p) for p in pids) - before
            return figures


async def main(args: argparse.Namespace) -> None:
    results: dict[int, dict[str, float]] = {}
    for processes in (1, 2):
        runs = [await one_run(processes, args) for _ in range(args.runs)]
        results[processes] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{processes} process(es), {args.tables} tables x {args.per_table} phones, "
              f"{args.rate:g} notes/s for {args.seconds:g} s, medians of {args.runs}:")
        for k, v in results[processes].items():
            print(f"  {k:<14} {v:9.2f}   runs: " + ", ".join(f"{r[k]:.2f}" for r in runs))
    print("ratio, 2 processes / 1:")
    for k in results[1]:
        one, two = results[1][k], results[2][k]
        print(f"  {k:<14} {two / one if one else float('nan'):6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=40)
    parser.add_argument("--per-table", type=int, default=5)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
