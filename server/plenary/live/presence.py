"""Who is connected at each table: in this process's memory, or shared through Redis.

Presence is a cache of live sockets, never state: the store does not know it and
nothing is lost with it. One process keeps it in memory (:class:`MemoryPresence`);
several share it in Redis (``redis_state.RedisPresence``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Here:
    """One participant's socket at a table."""

    event_id: str
    table_id: str
    participant_id: str
    name: str | None


def summary(table_id: str, people: dict[str, str | None]) -> dict[str, Any]:
    """The ``presence`` message for a table, from participant id -> name given."""
    names = sorted(n for n in people.values() if n)
    return {"table": table_id, "count": len(people), "names": names,
            "anonymous": sum(1 for n in people.values() if not n)}


class Presence(Protocol):
    """Where the channel records arrivals and departures and reads who is at a table."""

    async def arrive(self, sid: str, here: Here) -> None:
        """Count ``sid`` at its table."""

    async def leave(self, sid: str) -> Here | None:
        """Forget ``sid``; what it was, if it was counted."""

    async def at(self, table_id: str) -> dict[str, Any]:
        """The ``presence`` message for a table: every device of one participant counts once."""

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """Participants present per table."""


class MemoryPresence:
    """This process's sockets, indexed by table (counted, never scanned)."""

    def __init__(self) -> None:
        self.sids: dict[str, Here] = {}
        self._tables: dict[str, set[str]] = {}

    async def arrive(self, sid: str, here: Here) -> None:
        """Count ``sid`` at its table."""
        self.sids[sid] = here
        self._tables.setdefault(here.table_id, set()).add(sid)

    async def leave(self, sid: str) -> Here | None:
        """Forget ``sid``."""
        here = self.sids.pop(sid, None)
        if here is not None:
            members = self._tables.get(here.table_id)
            if members is not None:
                members.discard(sid)
                if not members:
                    del self._tables[here.table_id]
        return here

    def people(self, table_id: str) -> dict[str, str | None]:
        """Participant id -> name, for this process's sockets at a table."""
        return {self.sids[s].participant_id: self.sids[s].name
                for s in self._tables.get(table_id, ())}

    async def at(self, table_id: str) -> dict[str, Any]:
        """Who is at a table, as far as this process knows."""
        return summary(table_id, self.people(table_id))

    async def counts(self, table_ids: Iterable[str]) -> dict[str, int]:
        """Participants present per table."""
        return {t: len(self.people(t)) for t in table_ids}

    def tables(self) -> set[tuple[str, str]]:
        """Every (event id, table id) with someone here."""
        return {(h.event_id, h.table_id) for h in self.sids.values()}
