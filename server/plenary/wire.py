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


def event_out(row: Row, now_ms: int | None = None) -> dict[str, Any]:
    """The event and its template (stages, steps, prompts), as every client sees it."""
    template = row["template"]
    timer = Timer(TimerState(row.get("timer_state") or "stopped"), row.get("timer_ends_ms"),
                  row.get("timer_remaining_ms"))
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return {
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
        "template": {
            "name": template["name"],
            "title": template["title"],
            "show_author_names": template["show_author_names"],
            "note_max_length": template["note_max_length"],
            "votes_per_participant": template["votes_per_participant"],
            "vote_counts": template.get("vote_counts", "after_vote"),
            "stages": template["stages"],
        },
    }


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
