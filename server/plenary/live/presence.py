"""Who is connected at each table: counted as people arrive and leave, never scanned.

:class:`Presence` is the interface the live channel uses; :class:`LocalPresence`
keeps it in this process's memory (one process sees all its connections). A
store shared by several processes (Redis) implements the same four methods.
:class:`PresenceBatcher` turns a storm of joins (everyone scanning the QR code in
the same minute) into one broadcast per table per interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Presence(Protocol):
    """Who is at each table, by participant (a participant on two devices counts once)."""

    async def arrive(self, table_id: str, participant_id: str, name: str | None) -> None:
        """One more connection of this participant at this table."""

    async def leave(self, table_id: str, participant_id: str) -> None:
        """One connection of this participant at this table closed."""

    async def of(self, table_id: str) -> dict[str, Any]:
        """``{"table", "count", "names", "anonymous"}`` for one table."""

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """How many participants are at each of these tables."""


@dataclass(slots=True)
class _Person:
    name: str | None
    connections: int = 0


@dataclass(slots=True)
class _Table:
    people: dict[str, _Person] = field(default_factory=dict)
    named: int = 0  # how many of them gave a name


class LocalPresence:
    """Presence in this process's memory: O(1) per arrival and departure."""

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}

    async def arrive(self, table_id: str, participant_id: str, name: str | None) -> None:
        """One more connection of this participant at this table."""
        table = self._tables.setdefault(table_id, _Table())
        person = table.people.get(participant_id)
        if person is None:
            person = table.people[participant_id] = _Person(name)
            table.named += bool(name)
        elif person.name != name:  # rejoined under another name: the latest counts
            table.named += bool(name) - bool(person.name)
            person.name = name
        person.connections += 1

    async def leave(self, table_id: str, participant_id: str) -> None:
        """One connection of this participant at this table closed."""
        table = self._tables.get(table_id)
        person = table.people.get(participant_id) if table else None
        if table is None or person is None:
            return
        person.connections -= 1
        if person.connections <= 0:
            del table.people[participant_id]
            table.named -= bool(person.name)
            if not table.people:
                del self._tables[table_id]

    async def of(self, table_id: str) -> dict[str, Any]:
        """``{"table", "count", "names", "anonymous"}`` for one table."""
        table = self._tables.get(table_id)
        people = table.people.values() if table else ()
        names = sorted(p.name for p in people if p.name)
        count = len(table.people) if table else 0
        return {"table": table_id, "count": count, "names": names,
                "anonymous": count - len(names)}

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """How many participants are at each of these tables."""
        tables = self._tables
        return {t: len(tables[t].people) if t in tables else 0 for t in table_ids}


#: Sends one event's changed tables: (event id, table ids).
Flush = Callable[[str, set[str]], Awaitable[None]]


class PresenceBatcher:
    """Marks tables whose presence changed and flushes each event's at most every
    ``interval`` seconds, so a thousand joins make a few broadcasts, not thousands."""

    def __init__(self, flush: Flush, interval: float) -> None:
        self._flush = flush
        self.interval = interval
        self._dirty: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def changed(self, event_id: str, table_id: str) -> None:
        """The table's presence changed; it will be sent with the next flush."""
        self._dirty.setdefault(event_id, set()).add(table_id)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        try:
            while self._dirty:
                await asyncio.sleep(self.interval)
                dirty, self._dirty = self._dirty, {}
                for event_id, tables in dirty.items():
                    try:
                        await self._flush(event_id, tables)
                    except Exception:
                        log.exception("presence broadcast failed")
        finally:
            self._task = None
