"""Engines, connections and transactions; SQLite tuned for durability, PostgreSQL as is.

:meth:`Database.run_write` and :meth:`Database.run_read` run a synchronous
function in one transaction in the driver's thread: on SQLite a thread of our
own with a plain ``sqlite3`` connection (one hop per transaction, not one per
statement), on PostgreSQL the event loop itself (asyncpg, through
``run_sync``). :meth:`write` and :meth:`read` remain for migrations, the export
reader and tests, as async connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

# A writer waiting for another process's write lock gives up after this long.
# Five seconds is far above a normal write (a millisecond or two) yet short
# enough that a stuck writer surfaces as an error instead of a hung phone.
SQLITE_BUSY_TIMEOUT_MS = 5000

#: The PostgreSQL advisory lock every process takes around its migrations (any
#: fixed 64-bit number; this one is "plenary" in ASCII). Several processes
#: starting at once then migrate one after another: the first upgrades, the
#: others find the schema at head and do nothing.
MIGRATION_LOCK = 0x706C656E617279
#: The first half of every named lock's key (:meth:`Database.try_lock`; "pl").
NAMED_LOCKS = 0x706C


def normalise_url(url: str) -> str:
    """Map the plain ``sqlite:///`` and ``postgresql://`` forms to their async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Stop the driver from issuing its own BEGIN: we issue ours (see _begin_*),
    # because a deferred BEGIN that later writes fails with "database is locked"
    # when another connection got the write lock first.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and the dashboard reads a lot.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit is fsynced before it returns, so a note we acknowledged
    # survives not only a crash of this process (NORMAL would) but also the
    # laptop losing power or its lid being shut mid-event. The cost is one fsync
    # per transaction, which a laptop SSD does in well under a millisecond.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn: sa.Connection) -> None:
    # Take the write lock up front: a read-then-write (the per-table sequence
    # counter) can then never interleave with another writer's.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")


T = TypeVar("T")

#: Threads that read SQLite at once (WAL lets readers run beside the writer).
SQLITE_READ_THREADS = 4


class _Threaded:
    """A synchronous SQLite engine driven from threads of its own: a whole
    transaction runs in one hop from the event loop."""

    def __init__(self, url: str, threads: int, begin: Callable[[sa.Connection], None],
                 name: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        self.engine = sa.create_engine(sync_url, pool_size=threads, max_overflow=0,
                                       connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "begin", begin)
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix=name)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._transaction, fn, args)

    def _transaction(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    async def close(self) -> None:
        await asyncio.to_thread(self.executor.shutdown, wait=True)
        self.engine.dispose()


class Database:
    """The application's database: a write path, a read path, and migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        # Here, not at import: the themes process uses this module's SQLite helpers
        # and never the async engine (its import, with greenlet's, is ~8 MB).
        from sqlalchemy.ext.asyncio import create_async_engine

        self.url = normalise_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            path = make_url(self.url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # One writer connection: in-process writers queue on the pool (cheap,
            # fair) instead of spinning on SQLite's busy handler.
            self._writer = create_async_engine(
                self.url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60
            )
            self._reader = create_async_engine(self.url, echo=echo, pool_size=4, max_overflow=4)
            for engine, begin in ((self._writer, _begin_immediate),
                                  (self._reader, _begin_deferred)):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(engine.sync_engine, "begin", begin)
            self._threaded_writer: _Threaded | None = _Threaded(
                self.url, 1, _begin_immediate, "plenary-write")
            self._threaded_reader: _Threaded | None = _Threaded(
                self.url, SQLITE_READ_THREADS, _begin_deferred, "plenary-read")
        else:
            self._writer = create_async_engine(self.url, echo=echo, pool_size=20, max_overflow=10,
                                               pool_pre_ping=True)
            # Reads that build an answer (snapshot, replay, console glance) run
            # several statements; REPEATABLE READ makes them all see one instant,
            # as SQLite's WAL read transaction does.
            self._reader = self._writer.execution_options(isolation_level="REPEATABLE READ")
            self._threaded_writer = self._threaded_reader = None
        self._migrated = asyncio.Lock()

    @property
    def path(self) -> str | None:
        """The SQLite file, if this is one."""
        return make_url(self.url).database if self.is_sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction; commits on leaving the block, rolls back on error."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only view that is consistent for the whole block."""
        async with self._reader.begin() as conn:
            yield conn

    async def run_write(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` in one write transaction, in the driver's thread; committed
        (and on SQLite fsynced) before this returns, rolled back if ``fn`` raises."""
        if self._threaded_writer is not None:
            return await self._threaded_writer.run(fn, *args)
        async with self._writer.begin() as conn:
            return await conn.run_sync(fn, *args)

    async def run_read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` in one read transaction that sees a single instant."""
        if self._threaded_reader is not None:
            return await self._threaded_reader.run(fn, *args)
        async with self._reader.begin() as conn:
            return await conn.run_sync(fn, *args)

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    @asynccontextmanager
    async def try_lock(self, name: str) -> AsyncIterator[bool]:
        """Hold the lock called ``name`` for the block if no other process holds it
        (yields True), else yield False at once. For work that several processes
        would otherwise do at the same time and contradict (a themes refresh).
        SQLite: True (one process serves a SQLite file)."""
        if self.is_sqlite:
            yield True
            return
        key = {"ns": NAMED_LOCKS, "name": name}
        async with self._writer.connect() as conn:
            # A session lock: it outlives the statement's transaction, and ends
            # with the connection if this process dies holding it.
            got = bool(await conn.scalar(
                sa.text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"), key))
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"), key)
                    await conn.commit()

    async def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``); safe to call repeatedly."""
        from .migrate import upgrade_to_head

        async with self._migrated, self.write() as conn:
            if not self.is_sqlite:
                # Held until this transaction ends. SQLite needs nothing: its
                # BEGIN IMMEDIATE already lets one process migrate at a time.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self._writer.dispose()
        if self.is_sqlite:
            await self._reader.dispose()
        for threaded in (self._threaded_writer, self._threaded_reader):
            if threaded is not None:
                await threaded.close()
