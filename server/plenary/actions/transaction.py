"""The write path: every change to the store runs through :class:`WritePath`.

An action's body is a plain synchronous function over a synchronous
connection. One writer task per process (per database object) takes the bodies
waiting for it and runs them as one transaction (group commit), each inside
its own SAVEPOINT: a body that raises rolls back alone and its caller gets its
own error, while the rest commit together, with one fsync for the batch. The
whole batch runs in the driver's thread in one hop (``Database.run_write``).

Only after the commit are the results handed back, in commit order: first to
the commit listeners (the live channel, which broadcasts), then to the callers
(who acknowledge). Nothing is acknowledged or broadcast before it is durable.

Reads that build an answer (snapshot, replay, console glance) go through
:func:`read`, one read transaction that sees a single instant.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..store import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

#: A transaction's body: runs with a synchronous connection, never commits.
Body = Callable[..., Any]

#: Most bodies in one transaction. A batch this size commits in a few tens of
#: milliseconds on SQLite; a bigger one would only make its first caller wait.
MAX_BATCH = 256

#: A write transaction that holds the writer this long is logged (a warning: every
#: table's next note waited for it); the load benchmark reads a stage move's from it.
SLOW_COMMIT_MS = 100.0

#: Write transactions one process keeps open at once on PostgreSQL, each on
#: tables no other one holds. SQLite has one writer whatever we do; PostgreSQL
#: locks rows, so batches of different tables commit side by side instead of
#: queueing behind each other's round trips and fsyncs. Below the pool's size.
PG_WRITERS = 12


@dataclass(slots=True)
class _Pending:
    body: Body
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    #: The one table the body locks, if it is a table action (see _take).
    table: str | None


@dataclass(slots=True)
class Stats:
    """How the write path has batched so far (for the benchmark and tests)."""

    transactions: int = 0
    bodies: int = 0
    largest: int = 0
    retried_alone: int = 0
    sizes: list[int] = field(default_factory=list, repr=False)


class WritePath:
    """The one way a change reaches the store: bodies queued, committed in batches."""

    def __init__(self, db: Database, *, writers: int = PG_WRITERS) -> None:
        self.db = db
        self.stats = Stats()
        self._waiting: deque[_Pending] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[Any], None]] = []
        # PostgreSQL: batches in flight, the tables they hold, and whether one of
        # them is event-wide (it runs alone).
        self._writers = 1 if db.is_sqlite else max(1, writers)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._busy: set[str] = set()
        self._alone = False

    def on_commit(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(result)`` for every committed body, in commit order.

        It runs on the event loop before the caller is answered, and must not block.
        """
        self._listeners.append(listener)

    async def run(self, body: Body, *args: Any, table: str | None = None) -> Any:
        """Run ``body(conn, *args)`` in a write transaction; its result once committed.

        ``table``: the one table a table action locks; None for anything else
        (event-wide moves, set-up), which then commits in a batch of its own on
        PostgreSQL.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(body, args, future, table))
        if self.db.is_sqlite:
            if self._writer is None:
                # The writer lives while there is work and ends when the queue is
                # empty, so it is always on the loop of whoever is writing.
                self._writer = asyncio.get_running_loop().create_task(self._write())
        else:
            self._dispatch()
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                await self._commit(self._take())
        finally:
            self._writer = None

    def _take(self) -> list[_Pending]:
        """SQLite's next batch: whatever is waiting (the transaction holds the whole
        file)."""
        waiting = self._waiting
        return [waiting.popleft() for _ in range(min(len(waiting), MAX_BATCH))]

    def _dispatch(self) -> None:
        """PostgreSQL: start batches while writers are free. Row locks: two batches
        each locking tables in their own order could deadlock, so a batch is one
        table's actions, and no two batches in flight share a table (which also
        keeps each table's changes in commit order). An event-wide change or a
        set-up edit waits for the batches in flight and runs alone; nothing queued
        after it overtakes it."""
        loop = asyncio.get_running_loop()
        while self._waiting and not self._alone and len(self._in_flight) < self._writers:
            batch = self._take_table_batch()
            if batch is None:
                return
            task = loop.create_task(self._commit(batch))
            self._in_flight.add(task)
            task.add_done_callback(partial(self._finished, batch))

    def _take_table_batch(self) -> list[_Pending] | None:
        waiting = self._waiting
        for i, first in enumerate(waiting):
            if first.table is None:  # a barrier: alone, once everything before it is done
                if i > 0 or self._in_flight:
                    return None
                waiting.popleft()
                self._alone = True
                return [first]
            if first.table in self._busy:
                continue
            batch: list[_Pending] = []
            kept: list[_Pending] = []
            for _ in range(i):
                kept.append(waiting.popleft())
            while waiting and len(batch) < MAX_BATCH:
                pending = waiting[0]
                if pending.table is None:
                    break
                waiting.popleft()
                (batch if pending.table == first.table else kept).append(pending)
            waiting.extendleft(reversed(kept))
            self._busy.add(first.table)
            return batch
        return None

    def _finished(self, batch: list[_Pending], task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._busy.discard(batch[0].table)  # type: ignore[arg-type]
        if batch[0].table is None:
            self._alone = False
        if not task.cancelled() and task.exception() is not None:
            log.error("write batch failed", exc_info=task.exception())
        self._dispatch()

    async def _commit(self, batch: list[_Pending]) -> None:
        items = [(p.body, p.args) for p in batch]
        started = time.perf_counter()
        try:
            results, cpu_ms = await self.db.run_write(_run_batch, items)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].future, False, exc)
                return
            # The batch as a whole failed (a deadlock between two processes'
            # batches on PostgreSQL, a busy database): nothing of it was written,
            # so each body gets a transaction of its own and its own outcome.
            if "full" not in str(exc).lower():  # a full disk: the channel says so once
                log.warning("batch of %d failed (%s); retrying each alone", len(batch), exc)
            self.stats.retried_alone += len(batch)
            for pending in batch:
                await self._commit([pending])
            return
        ms = (time.perf_counter() - started) * 1000
        if ms >= SLOW_COMMIT_MS:
            # CPU apart: on SQLite the rest is the fsync and waiting for the GIL
            # while the event loop holds it. (On PostgreSQL the bodies run on the
            # loop's thread, so its other work between statements counts too.)
            log.warning("write: a transaction of %d action(s) took %.0f ms to commit "
                        "(%.0f ms CPU)", len(batch), ms, cpu_ms)
        self._count(len(batch))
        for pending, (ok, value) in zip(batch, results, strict=True):
            if ok:
                for listener in self._listeners:
                    try:
                        listener(value)
                    except Exception:
                        log.exception("commit listener failed")
            _settle(pending.future, ok, value)

    def _count(self, size: int) -> None:
        s = self.stats
        s.transactions += 1
        s.bodies += size
        s.largest = max(s.largest, size)
        if len(s.sizes) < 10_000:
            s.sizes.append(size)


def _run_batch(conn: Connection, items: list[tuple[Body, tuple[Any, ...]]]
               ) -> tuple[list[tuple[bool, Any]], float]:
    """Each body in its own SAVEPOINT; a failure is rolled back and returned, not raised.
    Also the thread's CPU milliseconds for the bodies."""
    started = time.thread_time()
    if len(items) == 1:  # alone: the transaction is its savepoint
        body, args = items[0]
        value = body(conn, *args)
        return [(True, value)], (time.thread_time() - started) * 1000
    # The savepoints go straight to the driver's cursor: through SQLAlchemy's
    # begin_nested they cost as much CPU as the post inside them. The connection's
    # own transaction is untouched (a savepoint rolled back leaves it as it was).
    cursor = conn.connection.cursor()
    out: list[tuple[bool, Any]] = []
    try:
        for body, args in items:
            cursor.execute("SAVEPOINT body")
            try:
                value = body(conn, *args)
            except Exception as exc:
                cursor.execute("ROLLBACK TO SAVEPOINT body")
                cursor.execute("RELEASE SAVEPOINT body")
                out.append((False, exc))
            else:
                cursor.execute("RELEASE SAVEPOINT body")
                out.append((True, value))
    finally:
        cursor.close()
    return out, (time.thread_time() - started) * 1000


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the caller gave up (cancelled); the change stands
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


_paths: weakref.WeakKeyDictionary[Database, WritePath] = weakref.WeakKeyDictionary()


def write_path(db: Database) -> WritePath:
    """The write path of ``db``: one per database object, so one writer per process."""
    path = _paths.get(db)
    if path is None:
        path = _paths[db] = WritePath(db)
    return path


async def read(db: Database, body: Callable[..., T], *args: Any) -> T:
    """Run ``body(conn, *args)`` in one read transaction (one consistent instant)."""
    return await db.run_read(body, *args)


__all__ = ["Body", "WritePath", "read", "write_path"]
