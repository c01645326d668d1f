"""Restoring an event from its JSON record (``plenary import``): one write, all or nothing."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict
from ..store import Database
from ..store.records import RecordRows, event_exists, insert_record
from .transaction import write_path


async def restore(db: Database, record: RecordRows) -> None:
    """Write a whole event into the database, keeping every id, in one transaction.

    Refuses (Conflict) if the event is already there, or if any of its ids or join
    codes is taken by another event; then nothing is written.
    """
    try:
        await write_path(db).run(_restore, record)
    except IntegrityError as exc:
        raise Conflict(
            "Some of this event's ids or join codes are already used in this database "
            f"({type(exc.orig).__name__}: {exc.orig}); nothing was imported. "
            "Import into an empty database.", code="ids_taken") from None


def _restore(conn: Connection, record: RecordRows) -> None:
    event_id = record.event["id"]
    if event_exists(conn, event_id):
        raise Conflict(f"Event {event_id!r} is already in this database; nothing was "
                       "imported. Import into an empty database.", code="event_exists")
    insert_record(conn, record)
