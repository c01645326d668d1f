"""Live channel benchmark: phones posting at once, acknowledgement and fan-out latency.

Starts the real server (`plenary serve`, a fresh SQLite file) as its own process,
as on the day, and connects real socket.io clients over msgpack from this one.
Prints figures from several runs and the median, with the ratio to the target.

    .venv/bin/python bench/live_bench.py [--tables 20] [--per-table 9] [--notes 3] [--runs 3]

Baseline (the target this compares with): at the seed event's size and beyond,
the 95th percentile of "post -> acknowledged (committed)" stays under 250 ms and
every phone at the table sees the note within 500 ms (p95), on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.server import connect, free_port

ACK_TARGET_MS = 250.0
FANOUT_TARGET_MS = 500.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Server:
    """`plenary serve` in a subprocess on a free port, with its own database."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
                                 "PLENARY_PUBLIC_URL": self.url, "PLENARY_LOG_LEVEL": "warning"}
        self.proc = subprocess.Popen([sys.executable, "-m", "plenary", "serve", "--port",
                                      str(self.port)], env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def create_event(self, tables: int) -> dict:
        out = subprocess.run([sys.executable, "-m", "plenary", "event", "create", "--template",
                              "world-cafe", "--title", "Bench", "--tables", str(tables),
                              "--json"], env=self.env, capture_output=True, text=True,
                             check=True)
        info = json.loads(out.stdout)
        org = info["organiser_url"].split("#")[1]
        info["organiser_token"] = org
        info["dashboard_token"] = info["dashboard_url"].split("#")[1]
        return info

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)


async def start(server: Server, info: dict) -> None:
    org = await connect(server.url, {"token": info["organiser_token"]})
    assert (await org.call("event.status", {"action": "start"}))["ok"]
    await org.close()


async def one_run(server: Server, tables: int, per_table: int, notes: int) -> dict[str, float]:
    ev = server.create_event(tables)
    await start(server, ev)
    clients, seen = [], {}
    for t in ev["tables"]:
        for _ in range(per_table):
            clients.append(await connect(server.url, {
                "join_code": t["join_code"], "participant_key": secrets.token_bytes(16)}))
    dashboards = [await connect(server.url, {"token": ev["dashboard_token"]}) for _ in range(2)]
    expected = tables * per_table * notes
    done = asyncio.Event()
    posted_at: dict[str, float] = {}

    def watcher(change: dict) -> None:
        note = change.get("data", {}).get("note")
        if note:
            seen.setdefault(note["id"], []).append(time.perf_counter())
            if sum(len(v) for v in seen.values()) >= expected * per_table:
                done.set()

    for c in clients:
        c.sio.on("change", watcher)
    acks: list[float] = []

    async def phone(c) -> None:
        for i in range(notes):
            nid = uuid.uuid4().hex
            posted_at[nid] = start = time.perf_counter()
            ack = await c.call("note.post", {"id": nid, "text": f"bench note {i}"})
            assert ack["ok"], ack
            acks.append((time.perf_counter() - start) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*[phone(c) for c in clients])
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - t0
    fanout = [(t - posted_at[nid]) * 1000 for nid, times in seen.items() for t in times]
    for c in clients + dashboards:
        await c.close()
    return {"notes": expected, "notes_per_s": expected / elapsed,
            "ack_p50": pct(acks, 0.5), "ack_p95": pct(acks, 0.95),
            "fanout_p50": pct(fanout, 0.5), "fanout_p95": pct(fanout, 0.95)}


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            runs = []
            for n in range(args.runs):
                result = await one_run(server, args.tables, args.per_table, args.notes)
                runs.append(result)
                print(f"run {n + 1}: " + "  ".join(f"{k}={v:,.1f}" for k, v in result.items()),
                      flush=True)
        finally:
            server.stop()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\n{args.tables} tables x {args.per_table} phones x {args.notes} notes, "
          f"{args.runs} runs, medians:")
    print(f"  throughput            {med['notes_per_s']:8.0f} notes/s")
    print(f"  post -> ack      p50  {med['ack_p50']:8.1f} ms   p95 {med['ack_p95']:7.1f} ms"
          f"   (p95 / target {ACK_TARGET_MS:.0f} ms = {med['ack_p95'] / ACK_TARGET_MS:.2f})")
    print(f"  post -> peers    p50  {med['fanout_p50']:8.1f} ms   p95 {med['fanout_p95']:7.1f} ms"
          f"   (p95 / target {FANOUT_TARGET_MS:.0f} ms = "
          f"{med['fanout_p95'] / FANOUT_TARGET_MS:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--per-table", type=int, default=9)
    parser.add_argument("--notes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
