"""State several server processes share through Redis, each entry with an expiry.

Everything here is a cache the processes rebuild: presence from each process's
own sockets (rewritten after Redis restarts empty), join limits from the
attempts that follow. While Redis is unreachable each process carries on from
its own memory and says so once in the log.

Keys all start with the deployment's prefix (``PLENARY_REDIS_PREFIX``), so that
several deployments or test runs can share one Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .presence import Here, MemoryPresence, summary

log = logging.getLogger(__name__)

#: Each process renews its liveness this often ...
HEARTBEAT_S = 5.0
#: ... and is counted dead (its phones no longer present) this long after the last.
HOST_TTL_S = 12.0

#: Called with the (event id, table id) pairs whose presence changed elsewhere.
Changed = Callable[[list[tuple[str, str]]], Awaitable[None]]


class RedisPresence:
    """Presence shared by every process through Redis, rebuilt from each process's memory.

    Keys (under ``prefix``): ``presence:<table>`` is a hash from ``<host>|<sid>``
    to ``[participant, name]``; ``alive:<host>`` expires :data:`HOST_TTL_S` after
    the host's last heartbeat; ``hosts`` lists hosts; ``tables:<host>`` the
    "event|table" pairs a host has counted people at (for the reaper).
    When Redis is unreachable each process answers from its own memory, and
    writes everything back when it returns.
    """

    def __init__(self, redis: Any, prefix: str, host: str, on_changed: Changed) -> None:
        self.redis = redis
        self.prefix = prefix
        self.host = host
        self.local = MemoryPresence()
        self.on_changed = on_changed
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _field(self, sid: str) -> str:
        return f"{self.host}|{sid}"

    async def _guard(self, op: Awaitable[Any]) -> Any:
        try:
            result = await op
        except Exception as exc:  # any Redis failure: keep serving from memory
            if not self._failing:
                log.error("presence: Redis unreachable (%s); counting this process only", exc)
            self._failing = True
            return None
        return result

    async def arrive(self, sid: str, here: Here) -> None:
        """Count ``sid`` here and in Redis."""
        await self.local.arrive(sid, here)
        pipe = self.redis.pipeline(transaction=False)
        self._write(pipe, sid, here)
        await self._guard(pipe.execute())

    def _write(self, pipe: Any, sid: str, here: Here) -> None:
        pipe.hset(self._key("presence", here.table_id), self._field(sid),
                  json.dumps([here.participant_id, here.name]))
        pipe.sadd(self._key("tables", self.host), f"{here.event_id}|{here.table_id}")

    async def leave(self, sid: str) -> Here | None:
        """Forget ``sid`` here and in Redis."""
        here = await self.local.leave(sid)
        if here is not None:
            await self._guard(self.redis.hdel(self._key("presence", here.table_id),
                                              self._field(sid)))
        return here

    async def _people(self, table_ids: list[str]) -> dict[str, dict[str, str | None]] | None:
        pipe = self.redis.pipeline(transaction=False)
        for t in table_ids:
            pipe.hgetall(self._key("presence", t))
        rows = await self._guard(pipe.execute())
        if rows is None:
            return None
        hosts = sorted({f.decode().split("|", 1)[0] for row in rows for f in row})
        alive_flags = await self._guard(self.redis.mget(
            [self._key("alive", h) for h in hosts])) if hosts else []
        if alive_flags is None:
            return None
        alive = {h for h, flag in zip(hosts, alive_flags, strict=True) if flag is not None}
        alive.add(self.host)
        out: dict[str, dict[str, str | None]] = {}
        for t, row in zip(table_ids, rows, strict=True):
            people: dict[str, str | None] = {}
            for f, v in row.items():
                if f.decode().split("|", 1)[0] in alive:
                    participant, name = json.loads(v)
                    people[participant] = name
            out[t] = people
        return out

    async def at(self, table_id: str) -> dict[str, Any]:
        """Who is at a table, on every live process."""
        people = await self._people([table_id])
        if people is None:
            return await self.local.at(table_id)
        return summary(table_id, people[table_id])

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """Participants present per table, on every live process."""
        ids = list(table_ids)
        people = await self._people(ids)
        if people is None:
            return await self.local.counts(ids)
        return {t: len(p) for t, p in people.items()}

    # --- liveness --------------------------------------------------------------

    def start(self) -> None:
        """Begin heartbeats (and reaping dead processes' entries)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._beat_forever())

    async def stop(self) -> None:
        """Stop heartbeats and remove this process's entries (a clean shutdown)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._guard(self._forget(self.host))

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:  # a heartbeat must never end the loop
                log.exception("presence heartbeat failed")
            await asyncio.sleep(HEARTBEAT_S)

    async def beat(self) -> None:
        """Renew this process's liveness; rewrite its entries if Redis lost them; reap."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._key("alive", self.host), "1", px=int(HOST_TTL_S * 1000))
        pipe.sadd(self._key("hosts"), self.host)
        pipe.exists(self._key("tables", self.host))
        result = await self._guard(pipe.execute())
        if result is None:
            return
        was_failing, self._failing = self._failing, False
        if was_failing:
            log.warning("presence: Redis reachable again")
        if was_failing or (self.local.sids and not result[2]):
            # Redis restarted empty, or missed arrivals and departures while it
            # was away: replace what it holds for us with what we know.
            stale = await self._forget(self.host)
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(self._key("alive", self.host), "1", px=int(HOST_TTL_S * 1000))
            pipe.sadd(self._key("hosts"), self.host)
            for sid, here in self.local.sids.items():
                self._write(pipe, sid, here)
            await self._guard(pipe.execute())
            tables = sorted(set(stale) | self.local.tables())
            if tables:
                await self.on_changed(tables)
        await self._reap()

    async def _reap(self) -> None:
        hosts = [h.decode() for h in await self.redis.smembers(self._key("hosts"))]
        others = [h for h in hosts if h != self.host]
        if not others:
            return
        flags = await self.redis.mget([self._key("alive", h) for h in others])
        for host, flag in zip(others, flags, strict=True):
            # SREM answers 1 to one process only: that one cleans up and tells.
            if flag is None and await self.redis.srem(self._key("hosts"), host):
                log.warning("presence: process %s stopped beating; forgetting its sockets",
                            host)
                tables = await self._forget(host)
                if tables:
                    await self.on_changed(tables)

    async def _forget(self, host: str) -> list[tuple[str, str]]:
        members = await self.redis.smembers(self._key("tables", host))
        pairs = sorted(tuple(m.decode().split("|", 1)) for m in members)
        prefix = f"{host}|".encode()
        for _event, table in pairs:
            key = self._key("presence", table)
            fields = [f for f in await self.redis.hkeys(key) if f.startswith(prefix)]
            if fields:
                await self.redis.hdel(key, *fields)
        await self.redis.delete(self._key("tables", host), self._key("alive", host))
        await self.redis.srem(self._key("hosts"), host)
        return pairs  # type: ignore[return-value]


class RedisWindowStore:
    """The join limiter's sliding windows in Redis, so N processes allow 1× the guesses, not N×.

    A key is a sorted set of members scored by the time (ms) each was last seen;
    it expires a window after its last use. Clocks: each host's wall clock (keep
    them in NTP). Redis unreachable: attempts are not counted (the limiter fails
    open rather than locking a venue out) and the log says so once.
    """

    def __init__(self, redis: Any, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self._failing = False

    def _key(self, key: str) -> str:
        return f"{self.prefix}:limit:{key}"

    async def _run(self, pipe: Any) -> list[Any] | None:
        try:
            result = await pipe.execute()
        except Exception as exc:  # any Redis failure: fail open, once in the log
            if not self._failing:
                log.error("join limits: Redis unreachable (%s); not counting attempts", exc)
            self._failing = True
            return None
        self._failing = False
        return list(result)

    async def add(self, key: str, member: str, window: float) -> None:
        """Record ``member`` under ``key`` now."""
        now_ms = int(self.clock() * 1000)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(self._key(key), "-inf", now_ms - int(window * 1000))
        pipe.zadd(self._key(key), {member: now_ms})
        pipe.pexpire(self._key(key), int(window * 1000))
        await self._run(pipe)

    async def ages(self, key: str, window: float) -> list[float]:
        """Seconds since each member of ``key`` was seen, within ``window``, oldest first."""
        now_ms = int(self.clock() * 1000)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(self._key(key), "-inf", now_ms - int(window * 1000))
        pipe.zrange(self._key(key), 0, -1, withscores=True)
        result = await self._run(pipe)
        if result is None:
            return []
        return [(now_ms - score) / 1000 for _member, score in result[1]]
