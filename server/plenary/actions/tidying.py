"""The facilitator's tidying: star, hide, group, merge, summarise, mark ready."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..domain import board as rules_board
from ..domain import rules
from ..domain.errors import Conflict, InvalidPayload, NotFound
from ..domain.payloads import (
    GROUP_LABEL_MAX,
    SUMMARY_BYTES_CEILING,
    SUMMARY_CEILING,
    GroupDelete,
    GroupSave,
    NoteGroup,
    NoteHide,
    NoteMerge,
    NoteStar,
    SummarySet,
    TableReady,
    check_length,
    clean_text,
)
from ..store import queries as q
from ..wire import group_out, note_out
from .common import Outcome, Row, Session, private_to, staff_scope, without_votes
from .controls import spotlight_follows, spotlight_lock


def star_note(conn: Connection, session: Session, p: NoteStar) -> Outcome:
    """Mark (or unmark) a note as one of the table's big ideas."""
    return _flag(conn, session, p.id, p.table, "starred", p.starred, "note.starred")


def hide_note(conn: Connection, session: Session, p: NoteHide) -> Outcome:
    """Take an inappropriate note off participants' boards (kept, marked, for staff)."""
    return _flag(conn, session, p.id, p.table, "hidden", p.hidden,
                 "note.hidden" if p.hidden else "note.shown")


def _flag(conn: Connection, session: Session, note_id: str, table_id: str | None, column: str,
          value: bool, kind: str) -> Outcome:
    actor = session.actor
    lock = spotlight_lock(conn, actor.event_id, note_id) if column == "hidden" else "share"
    scope = staff_scope(conn, actor, table_id, event_lock=lock)
    note = rules_board.check_table_note(q.note_row(conn, note_id), scope.row["id"])
    if note[column] == value:
        return Outcome({"seq": scope.row["seq"], "unchanged": True}, actor.event_id)
    q.update_note(conn, note_id, **{column: value})
    note[column] = value
    data: dict[str, Any] = {"id": note_id, column: value}
    if kind == "note.shown":  # participants removed it: give it back
        data["note"] = without_votes(note_out(note))
    change = q.append_change(conn, scope.row["id"], kind, data, private_to=private_to(note))
    event = spotlight_follows(conn, actor.event_id, note) if column == "hidden" else None
    return Outcome({"seq": change["seq"]}, actor.event_id, [change], event=event)


def save_group(conn: Connection, session: Session, p: GroupSave) -> Outcome:
    """Create a labelled group (or relabel it) and optionally put notes in it."""
    actor = session.actor
    label = clean_text(p.label, limit=GROUP_LABEL_MAX, what="group label")
    scope = staff_scope(conn, actor, p.table)
    table_id = scope.row["id"]
    existing = q.group_row(conn, p.id)
    if existing is not None and existing["table_id"] != table_id:
        raise Conflict("That group id is already taken.", code="id_conflict")
    rules.require_live(scope.event, "group notes")
    group = {"id": p.id, "table_id": table_id, "label": label,
             "stage_index": existing["stage_index"] if existing else scope.table.stage_index}
    q.save_group(conn, group, exists=existing is not None)
    changes = [q.append_change(conn, table_id, "group.saved", {"group": group_out(group)})]
    for note_id in dict.fromkeys(p.notes):
        changes += _regroup(conn, table_id, note_id, p.id)
    return Outcome({"seq": changes[-1]["seq"], "group": group_out(group)}, actor.event_id,
                   changes)


def group_note(conn: Connection, session: Session, p: NoteGroup) -> Outcome:
    """Put a note in a group, or take it out (``group`` null)."""
    actor = session.actor
    scope = staff_scope(conn, actor, p.table)
    rules.require_live(scope.event, "group notes")
    if p.group is not None:
        group = q.group_row(conn, p.group)
        if group is None or group["table_id"] != scope.row["id"]:
            raise NotFound("That group is not on this board.")
    changes = _regroup(conn, scope.row["id"], p.id, p.group)
    seq = changes[-1]["seq"] if changes else scope.row["seq"]
    return Outcome({"seq": seq}, actor.event_id, changes)


def _regroup(conn: Connection, table_id: str, note_id: str, group_id: str | None) -> list[Row]:
    note = rules_board.check_table_note(q.note_row(conn, note_id), table_id)
    if note["group_id"] == group_id:
        return []
    q.update_note(conn, note_id, group_id=group_id)
    return [q.append_change(conn, table_id, "note.grouped", {"id": note_id, "group": group_id},
                            private_to=private_to(note))]


def delete_group(conn: Connection, session: Session, p: GroupDelete) -> Outcome:
    """Remove a group; its notes stay, ungrouped."""
    actor = session.actor
    scope = staff_scope(conn, actor, p.table)
    group = q.group_row(conn, p.id)
    if group is None or group["table_id"] != scope.row["id"]:
        raise NotFound("That group is not on this board.")
    q.delete_group(conn, p.id)
    change = q.append_change(conn, scope.row["id"], "group.deleted", {"id": p.id})
    return Outcome({"seq": change["seq"]}, actor.event_id, [change])


def merge_note(conn: Connection, session: Session, p: NoteMerge) -> Outcome:
    """Fold a duplicate into another note; its votes carry over."""
    actor = session.actor
    scope = staff_scope(conn, actor, p.table,
                        event_lock=spotlight_lock(conn, actor.event_id, p.id))
    table_id = scope.row["id"]
    rules.require_live(scope.event, "merge notes")
    source = rules_board.check_table_note(q.note_row(conn, p.id), table_id)
    target = rules_board.check_table_note(q.note_row(conn, p.into), table_id)
    rules_board.check_merge(source, target)
    q.move_votes(conn, p.id, p.into)
    q.update_note(conn, p.id, merged_into=p.into)
    total = q.count_votes_on(conn, p.into)
    blind = rules_board.vote_counts_hidden(scope.event, scope.table)
    change = q.append_change(conn, table_id, "note.merged",
                             {"id": p.id, "into": p.into, "votes": None if blind else total})
    event = spotlight_follows(conn, actor.event_id, source | {"merged_into": p.into})
    return Outcome({"seq": change["seq"], "votes": total}, actor.event_id, [change],
                   event=event)


def set_summary(conn: Connection, session: Session, p: SummarySet) -> Outcome:
    """The facilitator's summary of a stage; saved as they type."""
    actor = session.actor
    check_length(p.text, limit=SUMMARY_CEILING, what="summary",
                 byte_limit=SUMMARY_BYTES_CEILING)
    scope = staff_scope(conn, actor, p.table)
    rules.require_live(scope.event, "write the summary")
    if p.stage >= len(scope.event.template.stages) or p.stage > scope.table.stage_index:
        raise InvalidPayload("There is no such stage to summarise yet.", code="bad_stage")
    text = p.text.replace("\r\n", "\n")
    q.save_summary(conn, scope.row["id"], p.stage, text)
    change = q.append_change(conn, scope.row["id"], "summary.changed",
                             {"stage": p.stage, "text": text})
    return Outcome({"seq": change["seq"]}, actor.event_id, [change])


def set_ready(conn: Connection, session: Session, p: TableReady) -> Outcome:
    """The facilitator tells the organiser the table is ready for the next stage."""
    actor = session.actor
    scope = staff_scope(conn, actor, p.table)
    rules.require_live(scope.event, "mark the table ready")
    if scope.row["ready"] == p.ready:
        return Outcome({"seq": scope.row["seq"], "unchanged": True}, actor.event_id)
    q.set_table(conn, scope.row["id"], ready=p.ready)
    change = q.append_change(conn, scope.row["id"], "table.ready", {"ready": p.ready})
    return Outcome({"seq": change["seq"]}, actor.event_id, [change])
