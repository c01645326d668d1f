"""Bringing a client up to date: a replay of what it missed, or a snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from .. import views
from ..domain.errors import NotFound
from ..domain.payloads import SyncRequest
from ..domain.permissions import Action, authorize
from ..store import queries as q
from ..wire import event_update_out
from .common import Session


def sync(conn: Connection, session: Session, req: SyncRequest) -> dict[str, Any]:
    """The changes since ``req.since``, or a snapshot (all read at one instant)."""
    actor = session.actor
    if actor.table_id is None:
        authorize(actor, Action.VIEW_EVENT, event_id=actor.event_id)
        snapshot = views.event_snapshot(conn, actor)
        if snapshot is None:
            raise NotFound("This event no longer exists.")
        return snapshot | {"server_time": q.now_ms()}
    authorize(actor, Action.VIEW_TABLE, event_id=actor.event_id, table_id=actor.table_id)
    table = q.table_row(conn, actor.table_id)
    if table is None:
        raise NotFound("This table no longer exists.")
    viewer = views.viewer_of(actor)
    now = {"server_time": q.now_ms()}
    if req.since is not None:
        changes = views.replay(conn, viewer, table, req.since)
        if changes is not None:
            event = q.event_row(conn, actor.event_id)
            assert event is not None
            # Event-wide settings (timer, message) are not in the log: send
            # them fresh with every catch-up (the template the client has).
            return {"mode": "changes", "seq": table["seq"], "changes": changes,
                    "event": event_update_out(event), "you": views.you(actor, session.name), **now}
    snapshot = views.table_snapshot(conn, viewer, table)
    return snapshot | {"you": views.you(actor, session.name), **now}


def events_of_tables(conn: Connection, table_ids: list[str]) -> dict[str, str]:
    """Table id -> its event's id, for the tables that exist."""
    rows = (q.table_row(conn, t) for t in table_ids)
    return {row["id"]: row["event_id"] for row in rows if row is not None}
