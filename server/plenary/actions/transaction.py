"""The write path: every change to the store runs through :class:`WritePath`.

An action's body is a plain synchronous function over a synchronous
connection. The write path runs it in one transaction, in the driver's thread
(``AsyncConnection.run_sync``), and returns what it returned only after the
commit: nothing is acknowledged or broadcast before it is durable.

Reads that build an answer (snapshot, replay, console glance) go through
:func:`read`, one read transaction that sees a single instant.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..store import Database

T = TypeVar("T")

#: A transaction's body: runs with a synchronous connection, never commits.
Body = Callable[..., T]


class WritePath:
    """The one way a change reaches the store: one body, one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        #: Told of every committed result (an Outcome for actions), in this process:
        #: the themes feature embeds posted and edited notes from here.
        self.observers: list[Callable[[Any], None]] = []

    async def run(self, body: Callable[..., T], *args: Any) -> T:
        """Run ``body(conn, *args)`` in one write transaction; its result once committed."""
        async with self.db.write() as conn:
            result = await conn.run_sync(body, *args)
        for observe in self.observers:
            observe(result)
        return result


_paths: weakref.WeakKeyDictionary[Database, WritePath] = weakref.WeakKeyDictionary()


def write_path(db: Database) -> WritePath:
    """The write path of ``db``: one per database object, so one writer per process."""
    path = _paths.get(db)
    if path is None:
        path = _paths[db] = WritePath(db)
    return path


async def read(db: Database, body: Callable[..., T], *args: Any) -> T:
    """Run ``body(conn, *args)`` in one read transaction (one consistent instant)."""
    async with db.read() as conn:
        return await conn.run_sync(body, *args)


__all__ = ["Body", "Connection", "WritePath", "read", "write_path"]
