"""What goes on the wire: store rows turned into the payloads of docs/protocol.md.

Pure functions of plain dicts, so the protocol's shapes live in one place.
"""

from __future__ import annotations

import time
from typing import Any

from .domain.controls import Timer, TimerState

Row = dict[str, Any]


def note_out(row: Row, *, votes: int | None = None) -> dict[str, Any]:
    """A note as the clients at the table see it (``votes`` None: not shown now)."""
    return {
        "id": row["id"],
        "table": row["table_id"],
        "stage": row["stage_index"],
        "step": row["step_index"],
        "category": row["category"],
        "text": row["text"],
        "author": row["author"],
        "at": row["created_ms"],
        "edited_at": row["updated_ms"],
        "starred": row["starred"],
        "hidden": row["hidden"],
        "private": row["private"],
        "group": row["group_id"],
        "late": row["late"],
        "votes": votes,
    }


def group_out(row: Row) -> dict[str, Any]:
    """A facilitator's cluster of notes."""
    return {"id": row["id"], "stage": row["stage_index"], "label": row["label"]}


def change_out(change: Row) -> dict[str, Any]:
    """A logged change of a table's board, as broadcast and as replayed.

    ``private_to`` is for the server only: the channel removes it (and the
    content, for everyone else) before anything leaves.
    """
    return {
        "table": change["table_id"],
        "seq": change["seq"],
        "type": change["kind"],
        "data": change["data"],
        "at": change["created_ms"],
        "private_to": change.get("private_to"),
    }


def event_out(row: Row, now_ms: int | None = None, *, template: bool = True) -> dict[str, Any]:
    """The event and its template (stages, steps, prompts), as every client sees it.

    ``template=False`` for updates (a stage move, the timer, a lock): the template never
    changes after set-up and every client has it from its snapshot, and it is most of
    the message (~5 kB of ~5.5 for the seed event's), sent to every screen at once.
    """
    timer = Timer(TimerState(row.get("timer_state") or "stopped"), row.get("timer_ends_ms"),
                  row.get("timer_remaining_ms"))
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    out: dict[str, Any] = {
        "id": row["id"],
        "title": row["title"],
        "venue": row["venue"],
        "date": row["starts_on"],
        "status": row["status"],
        "stage": row["stage_index"],
        "timer": timer.to_wire(now_ms),
        "message": row.get("message"),
        "spotlight": row.get("spotlight"),
        "locked": bool(row.get("locked")),
    }
    if not template:
        return out
    shape = row["template"]
    out["template"] = {
        "name": shape["name"],
        "title": shape["title"],
        "show_author_names": shape["show_author_names"],
        "note_max_length": shape["note_max_length"],
        "votes_per_participant": shape["votes_per_participant"],
        "vote_counts": shape.get("vote_counts", "after_vote"),
        "stages": shape["stages"],
    }
    return out


def event_update_out(row: Row) -> dict[str, Any]:
    """The event's new state for a broadcast: everything but the template."""
    return event_out(row, template=False)


def table_out(row: Row, topic: Row | None) -> dict[str, Any]:
    """A table: its number, topic and where it is in the event."""
    return {
        "id": row["id"],
        "number": row["number"],
        "topic": ({"id": topic.get("id"), "title": topic["title"], "brief": topic["brief"]}
                  if topic else None),
        "stage": row["stage_index"],
        "step": row["step_index"],
        "seq": row["seq"],
        "ready": row["ready"],
        "locked": row["locked"],
    }
