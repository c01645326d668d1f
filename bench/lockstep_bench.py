"""Lockstep benchmark: how long the organiser's "next stage" takes for every table at once.

    .venv/bin/python bench/lockstep_bench.py [--tables 500] [--runs 3]

Starts `plenary serve` in its own process with a fresh SQLite file, creates an event with
N tables, and times start and each stage move from the organiser's click (the emit) to
its acknowledgement (committed). Baseline: the target that every screen shows the new
stage within a second, so the commit should take well under that.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.live_bench import Server
from tests.integration.server import connect

TARGET_MS = 1000.0


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            moves: list[float] = []
            for run in range(args.runs):
                info = server.create_event(args.tables)
                org = await connect(server.url, {"token": info["organiser_token"]})
                t0 = time.perf_counter()
                assert (await org.call("event.status", {"action": "start"}))["ok"]
                start_ms = (time.perf_counter() - t0) * 1000
                times = []
                for stage in range(3):  # the world-café template has four stages
                    t0 = time.perf_counter()
                    ack = await org.call("stage.next", {"from": stage})
                    assert ack["ok"], ack
                    times.append((time.perf_counter() - t0) * 1000)
                await org.close()
                moves += times
                print(f"run {run + 1}: start {start_ms:.0f} ms; stage moves "
                      + ", ".join(f"{t:.0f}" for t in times) + " ms", flush=True)
        finally:
            server.stop()
    med = statistics.median(moves)
    print(f"\n{args.tables} tables: stage move (commit + ack) median {med:.0f} ms, "
          f"max {max(moves):.0f} ms  (median / target {TARGET_MS:.0f} ms = {med / TARGET_MS:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
