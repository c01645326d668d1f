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

log = logging.getLogger(__name__)

#: Each process renews its liveness this often ...
HEARTBEAT_S = 5.0
#: ... and is counted dead (its phones no longer present) this long after the last.
HOST_TTL_S = 12.0

#: Called with the tables whose presence changed elsewhere (a process died, Redis came back).
Changed = Callable[[list[str]], Awaitable[None]]


class RedisPresence:
    """Presence shared by every process through Redis (the :class:`~.presence.Presence`
    interface), rebuilt from each process's own count of its connections.

    Keys (under ``prefix``): ``presence:<table>`` is a hash from ``<host>|<participant>``
    to the name given, one field per participant connected to that host;
    ``alive:<host>`` expires :data:`HOST_TTL_S` after the host's last heartbeat;
    ``hosts`` lists hosts; ``tables:<host>`` the tables a host has counted people at
    (for the reaper). When Redis is unreachable each process answers from its own
    count, and writes it back when Redis returns.
    """

    def __init__(self, redis: Any, prefix: str, host: str, on_changed: Changed) -> None:
        self.redis = redis
        self.prefix = prefix
        self.host = host
        self.on_changed = on_changed
        # (table, participant) -> [name, connections on this process]
        self._here: dict[tuple[str, str], list[Any]] = {}
        self._tables: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def _guard(self, op: Awaitable[Any]) -> Any:
        try:
            result = await op
        except Exception as exc:  # any Redis failure: keep serving from memory
            if not self._failing:
                log.error("presence: Redis unreachable (%s); counting this process only", exc)
            self._failing = True
            return None
        return result

    def _write(self, pipe: Any, table_id: str, participant_id: str, name: str | None) -> None:
        pipe.hset(self._key("presence", table_id), f"{self.host}|{participant_id}",
                  json.dumps(name))
        pipe.sadd(self._key("tables", self.host), table_id)

    async def arrive(self, table_id: str, participant_id: str, name: str | None) -> None:
        """One more connection of this participant at this table, here and in Redis."""
        entry = self._here.get((table_id, participant_id))
        if entry is None:
            entry = self._here[(table_id, participant_id)] = [name, 0]
            self._tables.setdefault(table_id, set()).add(participant_id)
        entry[0] = name  # rejoined under another name: the latest counts
        entry[1] += 1
        pipe = self.redis.pipeline(transaction=False)
        self._write(pipe, table_id, participant_id, name)
        await self._guard(pipe.execute())

    async def leave(self, table_id: str, participant_id: str) -> None:
        """One connection closed; the participant leaves Redis with their last one here."""
        entry = self._here.get((table_id, participant_id))
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del self._here[(table_id, participant_id)]
        people = self._tables.get(table_id)
        if people is not None:
            people.discard(participant_id)
            if not people:
                del self._tables[table_id]
        await self._guard(self.redis.hdel(self._key("presence", table_id),
                                          f"{self.host}|{participant_id}"))

    def _local(self, table_id: str) -> dict[str, str | None]:
        return {p: self._here[(table_id, p)][0] for p in self._tables.get(table_id, ())}

    async def _people(self, table_ids: list[str]) -> list[dict[str, str | None]]:
        pipe = self.redis.pipeline(transaction=False)
        for t in table_ids:
            pipe.hgetall(self._key("presence", t))
        rows = await self._guard(pipe.execute())
        if rows is None:
            return [self._local(t) for t in table_ids]
        hosts = sorted({f.decode().split("|", 1)[0] for row in rows for f in row} - {self.host})
        flags = await self._guard(self.redis.mget(
            [self._key("alive", h) for h in hosts])) if hosts else []
        if flags is None:
            return [self._local(t) for t in table_ids]
        alive = {h for h, flag in zip(hosts, flags, strict=True) if flag is not None}
        alive.add(self.host)
        out = []
        for row in rows:
            people: dict[str, str | None] = {}
            for f, v in row.items():
                host, participant = f.decode().split("|", 1)
                if host in alive:
                    people[participant] = json.loads(v)
            out.append(people)
        return out

    async def of(self, table_id: str) -> dict[str, Any]:
        """``{"table", "count", "names", "anonymous"}``, counted on every live process."""
        people = (await self._people([table_id]))[0]
        names = sorted(n for n in people.values() if n)
        return {"table": table_id, "count": len(people), "names": names,
                "anonymous": len(people) - len(names)}

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """Participants present per table, on every live process."""
        ids = list(table_ids)
        return {t: len(p) for t, p in zip(ids, await self._people(ids), strict=True)}

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
        if was_failing or (self._here and not result[2]):
            # Redis restarted empty, or missed arrivals and departures while it
            # was away: replace what it holds for us with what we know.
            stale = await self._forget(self.host)
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(self._key("alive", self.host), "1", px=int(HOST_TTL_S * 1000))
            pipe.sadd(self._key("hosts"), self.host)
            for (table_id, participant_id), (name, _n) in self._here.items():
                self._write(pipe, table_id, participant_id, name)
            await self._guard(pipe.execute())
            tables = sorted(set(stale) | set(self._tables))
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

    async def _forget(self, host: str) -> list[str]:
        tables = sorted(m.decode() for m in await self.redis.smembers(self._key("tables", host)))
        prefix = f"{host}|".encode()
        for table in tables:
            key = self._key("presence", table)
            fields = [f for f in await self.redis.hkeys(key) if f.startswith(prefix)]
            if fields:
                await self.redis.hdel(key, *fields)
        await self.redis.delete(self._key("tables", host), self._key("alive", host))
        await self.redis.srem(self._key("hosts"), host)
        return tables


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
