"""The state processes share in Redis, against the real Redis (a key prefix per run)."""

from __future__ import annotations

import pytest
from plenary.live.presence import Here
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


def here(table: str, who: str, name: str | None = None) -> Here:
    return Here("ev", table, who, name)


async def test_presence_counts_a_participant_once_across_processes(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: list[list[tuple[str, str]]] = []

    async def changed(tables: list[tuple[str, str]]) -> None:
        told.append(tables)

    a, b = (RedisPresence(redis, prefix, host, changed) for host in ("A", "B"))
    await a.beat()
    await b.beat()
    await a.arrive("s1", here("t1", "ada", "Ada"))
    await b.arrive("s2", here("t1", "ada", "Ada"))  # her second device
    await b.arrive("s3", here("t1", "bo"))
    await a.arrive("s4", here("t2", "cy"))
    assert await b.at("t1") == {"table": "t1", "count": 2, "names": ["Ada"], "anonymous": 1}
    assert await a.counts(["t1", "t2", "t3"]) == {"t1": 2, "t2": 1, "t3": 0}
    assert (await a.leave("s1")).participant_id == "ada"
    assert (await b.at("t1"))["count"] == 2  # still on B
    await b.leave("s2")
    assert (await a.at("t1"))["count"] == 1


async def test_a_dead_process_is_reaped_once_and_staff_are_told(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: dict[str, list[list[tuple[str, str]]]] = {"B": [], "C": []}

    def teller(host: str):
        async def changed(tables: list[tuple[str, str]]) -> None:
            told[host].append(tables)
        return changed

    a = RedisPresence(redis, prefix, "A", teller("A"))
    b, c = RedisPresence(redis, prefix, "B", teller("B")), RedisPresence(redis, prefix, "C",
                                                                         teller("C"))
    for p in (a, b, c):
        await p.beat()
    await a.arrive("s1", here("t1", "ada"))
    await b.arrive("s2", here("t1", "bo"))
    assert (await b.at("t1"))["count"] == 2
    await redis.delete(f"{prefix}:alive:A")  # A's heartbeat expired: it died
    assert (await b.at("t1"))["count"] == 1  # not counted from that instant
    await b.beat()
    await c.beat()
    assert told["B"] + told["C"] == [[("ev", "t1")]]  # one of them told, once
    assert await redis.hkeys(f"{prefix}:presence:t1") == [b"B|s2"]


async def test_presence_is_written_back_when_redis_comes_back_empty(redis_and_prefix):
    redis, prefix = redis_and_prefix
    told: list[list[tuple[str, str]]] = []

    async def changed(tables: list[tuple[str, str]]) -> None:
        told.append(tables)

    a = RedisPresence(redis, prefix, "A", changed)
    await a.beat()
    await a.arrive("s1", here("t1", "ada"))
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
    await redis.delete(*keys)  # as after a Redis restart without persistence
    await a.beat()
    assert told == [[("ev", "t1")]]
    other = RedisPresence(redis, prefix, "B", changed)
    assert (await other.at("t1"))["count"] == 1


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

    async def changed(tables: list[tuple[str, str]]) -> None:
        pass

    a = RedisPresence(redis, prefix, "A", changed)
    await a.beat()
    await a.arrive("s1", here("t1", "ada"))
    await a.arrive("s2", here("t1", "bo"))
    from redis import asyncio as aioredis

    reachable, a.redis = a.redis, aioredis.Redis(port=free_port(), **redis_options())
    await a.leave("s2")  # Redis unreachable: forgotten in memory only
    await a.redis.aclose()
    a.redis = reachable
    await a.beat()  # back: what Redis holds for A is replaced by what A knows
    assert await redis.hkeys(f"{prefix}:presence:t1") == [b"A|s1"]
    assert (await RedisPresence(redis, prefix, "B", changed).at("t1"))["count"] == 1
