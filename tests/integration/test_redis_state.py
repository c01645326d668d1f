"""The state processes share in Redis, against the real Redis (a key prefix per run)."""

from __future__ import annotations

import pytest
from plenary.live.pubsub import redis_options
from plenary.live.redis_state import RedisPresence, RedisWindowStore

from .server import free_port
from .services import REDIS, redis_prefix

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis_and_prefix():
    from redis import asyncio as aioredis

    async with redis_prefix() as prefix:
        client = aioredis.Redis.from_url(REDIS)
        try:
            yield client, prefix
        finally:
            await client.aclose()


async def test_presence_counts_a_participant_once_across_processes(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: list[list[str]] = []

    async def changed(tables: list[str]) -> None:
        told.append(tables)

    a, b = (RedisPresence(redis, prefix, host, changed) for host in ("A", "B"))
    await a.beat()
    await b.beat()
    await a.arrive("t1", "ada", "Ada")
    await b.arrive("t1", "ada", "Ada")  # her second device, on the other process
    await b.arrive("t1", "ada", "Ada")  # and a third
    await b.arrive("t1", "bo", None)
    await a.arrive("t2", "cy", None)
    assert await b.of("t1") == {"table": "t1", "count": 2, "names": ["Ada"], "anonymous": 1}
    assert await a.counts(["t1", "t2", "t3"]) == {"t1": 2, "t2": 1, "t3": 0}
    await a.leave("t1", "ada")
    assert (await b.of("t1"))["count"] == 2  # still on B
    await b.leave("t1", "ada")
    assert (await a.of("t1"))["count"] == 2  # one device left on B
    await b.leave("t1", "ada")
    assert (await a.of("t1"))["count"] == 1
    assert told == []


async def test_a_dead_process_is_reaped_once_and_staff_are_told(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: dict[str, list[list[str]]] = {"A": [], "B": [], "C": []}

    def teller(host: str):
        async def changed(tables: list[str]) -> None:
            told[host].append(tables)
        return changed

    a = RedisPresence(redis, prefix, "A", teller("A"))
    b, c = RedisPresence(redis, prefix, "B", teller("B")), RedisPresence(redis, prefix, "C",
                                                                         teller("C"))
    for p in (a, b, c):
        await p.beat()
    await a.arrive("t1", "ada", None)
    await b.arrive("t1", "bo", None)
    assert (await b.of("t1"))["count"] == 2
    await redis.delete(f"{prefix}:alive:A")  # A's heartbeat expired: it died
    assert (await b.of("t1"))["count"] == 1  # not counted from that instant
    await b.beat()
    await c.beat()
    assert told["B"] + told["C"] == [["t1"]]  # one of them told, once
    assert await redis.hkeys(f"{prefix}:presence:t1") == [b"B|bo"]


async def test_presence_is_written_back_when_redis_comes_back_empty(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: list[list[str]] = []

    async def changed(tables: list[str]) -> None:
        told.append(tables)

    a = RedisPresence(redis, prefix, "A", changed)
    await a.beat()
    await a.arrive("t1", "ada", None)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
    await redis.delete(*keys)  # as after a Redis restart without persistence
    await a.beat()
    assert told == [["t1"]]
    other = RedisPresence(redis, prefix, "B", changed)
    assert (await other.of("t1"))["count"] == 1


async def test_join_windows_are_shared_and_expire(redis_and_prefix):
    redis, prefix = redis_and_prefix
    now = [1000.0]
    a = RedisWindowStore(redis, prefix, clock=lambda: now[0])
    b = RedisWindowStore(redis, prefix, clock=lambda: now[0])
    await a.add("wrong:1.2.3.4", "ABC", 60)
    now[0] += 10
    await b.add("wrong:1.2.3.4", "DEF", 60)
    assert await a.ages("wrong:1.2.3.4", 60) == [10.0, 0.0]  # oldest first
    await b.add("wrong:1.2.3.4", "ABC", 60)  # seen again: still one member, seen now
    assert await a.ages("wrong:1.2.3.4", 60) == [0.0, 0.0]
    now[0] += 55
    assert await b.ages("wrong:1.2.3.4", 60) == [55.0, 55.0]
    now[0] += 6
    assert await a.ages("wrong:1.2.3.4", 60) == []
    await a.add("wrong:5.6.7.8", "XYZ", 60)
    assert 0 < await redis.pttl(f"{prefix}:limit:wrong:5.6.7.8") <= 60_000  # Redis expires it


async def test_departures_missed_while_redis_was_away_leave_no_ghost(redis_and_prefix):
    redis, prefix = redis_and_prefix

    async def changed(tables: list[str]) -> None:
        pass

    a = RedisPresence(redis, prefix, "A", changed)
    await a.beat()
    await a.arrive("t1", "ada", None)
    await a.arrive("t1", "bo", None)
    from redis import asyncio as aioredis

    reachable, a.redis = a.redis, aioredis.Redis(port=free_port(), **redis_options())
    await a.leave("t1", "bo")  # Redis unreachable: forgotten in memory only
    await a.redis.aclose()
    a.redis = reachable
    await a.beat()  # back: what Redis holds for A is replaced by what A knows
    assert await redis.hkeys(f"{prefix}:presence:t1") == [b"A|ada"]
    assert (await RedisPresence(redis, prefix, "B", changed).of("t1"))["count"] == 1
