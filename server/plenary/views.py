"""What each viewer reads: snapshots and replays, filtered by who is looking.

The privacy rules themselves are in ``domain.board``; this module applies them
to rows read from the store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from .domain.board import Viewer, note_visible, view_change, vote_counts_hidden
from .domain.model import event_state, table_state
from .domain.permissions import Actor, Role
from .store import queries as q
from .wire import change_out, event_out, group_out, note_out, table_out

#: A client this far behind gets a fresh snapshot instead of a replay: past
#: a few hundred changes, one snapshot is smaller and quicker to apply.
REPLAY_LIMIT = 500

#: Latest notes per table in the dashboard's snapshot: enough to fill a projector's tile.
DASHBOARD_RECENT_NOTES = 8


def viewer_of(actor: Actor) -> Viewer:
    """The viewer an actor is, for the privacy rules."""
    return Viewer(actor.role, actor.participant_id)


def replay(conn: Connection, viewer: Viewer, table: q.Row,
                 since: int) -> list[dict[str, Any]] | None:
    """The changes after ``since`` as ``viewer`` may see them, or None if a snapshot is due."""
    if since > table["seq"] or table["seq"] - since > REPLAY_LIMIT:
        return None
    rows = q.changes_since(conn, table["id"], since, limit=REPLAY_LIMIT)
    hidden = frozenset() if viewer.is_staff else q.hidden_note_ids(conn, table["id"])
    return [view_change(change_out(c), viewer, hidden) for c in rows]


def table_snapshot(conn: Connection, viewer: Viewer, table: q.Row) -> dict[str, Any]:
    """The whole board of one table, as ``viewer`` may see it."""
    event = q.event_row(conn, table["event_id"])
    assert event is not None  # the foreign key guarantees it
    topic = q.topic_of(conn, table["topic_id"])
    notes = q.notes_of_table(conn, table["id"])
    counts = q.vote_counts(conn, table["id"])
    # Blind voting is blind for everyone, the facilitator too (a tablet can be
    # shown to the table): counts appear when the vote step ends.
    blind = vote_counts_hidden(event_state(event), table_state(table))
    me = viewer.participant_id
    out: dict[str, Any] = {
        "mode": "snapshot",
        "seq": table["seq"],
        "event": event_out(event),
        "table": table_out(table, topic),
        "notes": [
            note_out(n, votes=None if blind and n["stage_index"] == table["stage_index"]
                     else counts.get(n["id"], 0))
            | {"mine": n["participant_id"] == me}
            for n in notes if note_visible(n, viewer)
        ],
        "groups": [group_out(g) for g in q.groups_of_table(conn, table["id"])],
        "summaries": {str(k): v
                      for k, v in (q.summaries_of_table(conn, table["id"])).items()},
    }
    if me is not None:
        mine = q.votes_of(conn, me, table["stage_index"])
        out["my_votes"] = [{"id": v["id"], "note": v["note_id"]} for v in mine]
    return out


def event_snapshot(conn: Connection, actor: Actor) -> dict[str, Any] | None:
    """Every table of the event at a glance (organiser console, dashboard)."""
    event = q.event_row(conn, actor.event_id)
    if event is None:
        return None
    event_id, stage = actor.event_id, event["stage_index"]
    state = event_state(event)
    tables = q.tables_of_event(conn, event_id)
    counts = q.note_counts(conn, event_id)
    hidden = q.note_counts(conn, event_id, hidden=True)
    votes = q.vote_totals(conn, event_id)
    activity = q.last_activity(conn, event_id)
    recent = q.recent_notes(conn, event_id, per_table=DASHBOARD_RECENT_NOTES)
    blind = {t["id"] for t in tables if vote_counts_hidden(state, table_state(t))}
    out_tables = []
    for t in tables:
        topic = None
        if t["topic_id"] is not None:
            topic = {"title": t["topic_title"], "brief": t["topic_brief"], "id": t["topic_id"]}
        out_tables.append(table_out(t, topic) | {
            "notes": {str(k): n for k, n in sorted(counts.get(t["id"], {}).items())},
            "votes": {str(k): n for k, n in sorted(votes.get(t["id"], {}).items())},
            # The record's other notes: the closing screen's total counts every note.
            "hidden_notes": {str(k): n for k, n in sorted(hidden.get(t["id"], {}).items())},
            "last_activity": activity.get(t["id"]),
            "facilitator_name": t["facilitator_name"],
        })
    out = {
        "mode": "snapshot",
        "event": event_out(event),
        "tables": out_tables,
        "recent": [note_out(n) for n in recent],
        "top": _top_ideas(q.stage_notes_with_votes(conn, event_id, stage), blind),
        "summaries": q.stage_summaries(conn, event_id, stage),
        "you": {"role": actor.role.value},
    }
    if actor.role is Role.ORGANISER:
        out["hidden"] = [note_out(n) for n in q.hidden_notes_of_event(conn, event_id)]
    return out


#: Ideas per table that "rise to the top" on the dashboard.
TOP_IDEAS = 3


def _top_ideas(notes: list[q.Row], blind: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Per table, its starred notes first, then the most voted (counts hidden while blind)."""
    by_table: dict[str, list[q.Row]] = {}
    for n in notes:
        by_table.setdefault(n["table_id"], []).append(n)
    top = {}
    for table_id, rows in by_table.items():
        hide = table_id in blind
        rows.sort(key=lambda n: (not n["starred"], 0 if hide else -n["votes"], n["created_ms"]))
        chosen = [n for n in rows if n["starred"] or (not hide and n["votes"] > 0)][:TOP_IDEAS]
        top[table_id] = [note_out(n, votes=None if hide else n["votes"]) for n in chosen]
    return top


def you(actor: Actor, name: str | None) -> dict[str, Any]:
    """Who the server thinks the client is."""
    out: dict[str, Any] = {"role": actor.role.value, "table": actor.table_id}
    if actor.role is Role.PARTICIPANT:
        out |= {"participant": actor.participant_id, "name": name}
    return out
