"""Join benchmark: what a phone's join costs the store, without sockets.

Runs the join path itself (``Actions.authenticate`` for a new participant, then the
``sync`` snapshot its page asks for) for many phones at once, in this process, on
SQLite and on PostgreSQL, so that the store's share of a join is measured apart from
the live channel's. Prints joins per second (median of the runs), the CPU this process
spent per join, and the ratio to issue 11's 500 joins a second.

    .venv/bin/python bench/join_bench.py [--joins 2000] [--at-once 200] [--runs 3]
                                          [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from _tables import replace_tables  # noqa: E402
from plenary.actions import Actions  # noqa: E402
from plenary.actions.setup import create_event  # noqa: E402
from plenary.domain.payloads import ParticipantAuth, SyncRequest  # noqa: E402
from plenary.domain.topics_csv import TopicSpec  # noqa: E402
from plenary.setup import load_template  # noqa: E402
from plenary.store import Database  # noqa: E402

#: Issue 11: 5,000 phones in 10 s.
TARGET_PER_S = 500.0


async def one_run(url: str, joins: int, at_once: int, tables: int) -> tuple[float, float]:
    """Joins per second and CPU ms per join for ``joins`` new phones, ``at_once`` at a time."""
    db = Database(url)
    await db.migrate()
    actions = Actions(db, os.urandom(32))
    template = load_template(ROOT / "board_templates", "alchemy")
    event_id = await create_event(db, template, title="Join bench",
                                  topics=[TopicSpec(t.title) for t in template.topics],
                                  tables=1)
    async with db.write() as conn:
        rows = await replace_tables(conn, event_id, tables)
        await conn.execute(sa.text("UPDATE events SET status = 'live' WHERE id = :e"),
                           {"e": event_id})
    codes = [r["join_code"] for r in rows]
    gate = asyncio.Semaphore(at_once)

    async def join(i: int) -> None:
        async with gate:
            auth = ParticipantAuth(join_code=codes[i % len(codes)],
                                   participant_key=os.urandom(16), name=f"Phone {i}")
            session = await actions.authenticate(auth)
            await actions.sync(session, SyncRequest())

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(join(i) for i in range(joins)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await db.close()
    return joins / wall, cpu / joins * 1000


async def postgres_url() -> tuple[str, object]:
    from tests.integration.services import postgres_database

    cm = postgres_database()
    return await cm.__aenter__(), cm


async def main(args: argparse.Namespace) -> None:
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    for store in stores:
        rates, cpus = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                if store == "sqlite":
                    rate, cpu = await one_run(f"sqlite:///{tmp}/join.db", args.joins,
                                              args.at_once, args.tables)
                else:
                    url, cm = await postgres_url()
                    try:
                        rate, cpu = await one_run(url, args.joins, args.at_once, args.tables)
                    finally:
                        await cm.__aexit__(None, None, None)  # type: ignore[attr-defined]
            rates.append(rate)
            cpus.append(cpu)
            print(f"{store}: {rate:7.0f} joins/s, {cpu:5.2f} ms CPU per join", flush=True)
        rate = statistics.median(rates)
        print(f"{store} median of {args.runs}: {rate:.0f} joins/s "
              f"(target {TARGET_PER_S:.0f}, ratio {rate / TARGET_PER_S:.2f}), "
              f"{statistics.median(cpus):.2f} ms CPU per join\n", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=2000)
    parser.add_argument("--at-once", type=int, default=200)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    asyncio.run(main(parser.parse_args()))
