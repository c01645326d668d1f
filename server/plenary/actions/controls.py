"""The organiser's live controls: timer, message, spotlight, locks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from ..domain.controls import Timer, TimerState, change_timer, check_message
from ..domain.errors import IllegalMove, NotFound
from ..domain.payloads import BoardLock, MessageSet, SpotlightSet, TimerSet
from ..domain.permissions import Action, authorize
from ..store import queries as q
from ..store.themes import theme_row
from ..wire import event_update_out, note_out
from .common import Outcome, Row, Session, load_event, load_scope

#: Works out an event-wide setting's new columns from the event's row.
Change = Callable[[Connection, Row], dict[str, Any]]


def set_timer(conn: Connection, session: Session, p: TimerSet) -> Outcome:
    """Start, pause, resume, extend or stop the stage timer."""
    def change(conn: Connection, row: Row) -> dict[str, Any]:
        current = Timer(TimerState(row["timer_state"]), row["timer_ends_ms"],
                        row["timer_remaining_ms"])
        timer = change_timer(current, p.action, p.seconds, q.now_ms())
        return {"timer_state": timer.state.value, "timer_ends_ms": timer.ends_ms,
                "timer_remaining_ms": timer.remaining_ms}
    return _event_setting(conn, session, change)


def set_message(conn: Connection, session: Session, p: MessageSet) -> Outcome:
    """Show a short message on every screen (or clear it)."""
    text = check_message(p.text)
    return _event_setting(conn, session, lambda conn, row: {"message": text})


def set_spotlight(conn: Connection, session: Session, p: SpotlightSet) -> Outcome:
    """Put one table, topic or note on the dashboard's full screen (or clear it)."""
    def change(conn: Connection, row: Row) -> dict[str, Any]:
        if p.kind is None:
            return {"spotlight": None}
        spotlight = {"kind": p.kind, "id": p.id}
        note = _check_spotlight(conn, row["id"], p.kind, p.id)
        if note is not None:  # a dashboard may never have seen it
            spotlight["note"] = note_out(note)
        return {"spotlight": spotlight}
    return _event_setting(conn, session, change)


def _check_spotlight(conn: Connection, event_id: str, kind: str,
                     target: str | int | None) -> Row | None:
    """Check the spotlight's target is this event's (and public); a note is returned."""
    missing = NotFound(f"There is no such {kind} in this event.")
    if kind == "themes":  # the room's cross-table themes
        return None
    if kind == "theme":
        theme = theme_row(conn, target) if isinstance(target, str) else None
        if theme is None or theme["event_id"] != event_id or theme["hidden"]:
            raise missing
        return None
    if kind == "topic":
        topic = q.topic_of(conn, target if isinstance(target, int) else None)
        if topic is None or topic["event_id"] != event_id:
            raise missing
        return None
    if not isinstance(target, str):
        raise missing
    if kind == "table":
        table = q.table_row(conn, target)
        if table is None or table["event_id"] != event_id:
            raise missing
        return None
    note = q.note_row(conn, target)
    # The note's table locked (after the event, as everywhere), then the note read
    # again: a hide in flight on that table has committed by now, and is seen.
    table = q.table_row(conn, note["table_id"], lock="share") if note else None
    note = q.note_row(conn, target)
    if note is None or table is None or table["event_id"] != event_id \
            or note["deleted_ms"] is not None or note["merged_into"] is not None:
        raise missing
    if note["hidden"] or note["private"]:
        # The dashboard is projected to the whole room.
        raise IllegalMove("That note is hidden or still private, so it cannot go on "
                          "the big screen.", code="not_public")
    return note


def spotlights_note(conn: Connection, event_id: str, note_id: str) -> bool:
    """Whether the event's spotlight is on this note (a read without a lock)."""
    row = q.event_row(conn, event_id)
    spot = row["spotlight"] if row else None
    return bool(spot) and spot.get("kind") == "note" and spot.get("id") == note_id


def spotlight_lock(conn: Connection, event_id: str, note_id: str) -> q.Lock:
    """How a change to this note must lock its event: for update if it is spotlighted.

    A peek without a lock, so that a note action which will change the spotlight
    takes the event's lock for update first (event before table, as every action
    does), instead of upgrading a shared lock while holding the table's.
    """
    return "update" if spotlights_note(conn, event_id, note_id) else "share"


def spotlight_follows(conn: Connection, event_id: str, note: Row) -> dict[str, Any] | None:
    """Keep the spotlight true to a note that just changed: the event's new state, or None.

    The dashboard is projected and the event goes to every phone, so a note that
    leaves the public board (hidden, deleted, merged away) leaves the spotlight
    at once, and an edited one is shown as edited. None if it is not spotlighted.
    """
    if spotlight_lock(conn, event_id, note["id"]) == "share":
        return None
    row = load_event(conn, event_id)
    spot = row["spotlight"]
    if not spot or spot.get("kind") != "note" or spot.get("id") != note["id"]:
        return None
    public = (not note["hidden"] and not note["private"] and note["deleted_ms"] is None
              and note["merged_into"] is None)
    spotlight = {"kind": "note", "id": note["id"], "note": note_out(note)} if public else None
    q.update_event(conn, event_id, spotlight=spotlight)
    return event_update_out(row | {"spotlight": spotlight})


def lock_board(conn: Connection, session: Session, p: BoardLock) -> Outcome:
    """Lock (or unlock) one table's board or every board: read, but no changes."""
    actor = session.actor
    authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
    if p.table is None:
        # The event-wide lock is its own flag: a table locked on its own stays
        # locked when the whole event is unlocked.
        return _event_setting(conn, session, lambda conn, row: {"locked": p.locked})
    load_scope(conn, actor, p.table)  # the table is in this event
    q.set_table(conn, p.table, locked=p.locked)
    change = q.append_change(conn, p.table, "table.locked", {"locked": p.locked})
    return Outcome({"seq": change["seq"]}, actor.event_id, [change])


def _event_setting(conn: Connection, session: Session, change: Change) -> Outcome:
    actor = session.actor
    authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
    row = load_event(conn, actor.event_id)
    values = change(conn, row)
    q.update_event(conn, actor.event_id, **values)
    event = event_update_out(row | values)
    return Outcome({"event": event}, actor.event_id, event=event)
