"""Participants' notes: post, edit, delete."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from ..domain import board as rules_board
from ..domain import rules
from ..domain.errors import Conflict
from ..domain.model import EventState, EventStatus, TableState
from ..domain.payloads import NoteEdit, NotePost, NoteRef, clean_text, normalise_text
from ..domain.permissions import Action, Actor
from ..domain.rules import Position
from ..store import queries as q
from ..wire import note_out
from .common import (
    Outcome,
    Row,
    Session,
    check_unlocked,
    load_scope,
    participant,
    private_to,
    without_votes,
)
from .controls import spotlight_follows, spotlight_lock


def post_note(conn: Connection, session: Session, p: NotePost) -> Outcome:
    """Add a participant's note; a retry with the same id returns the first result."""
    actor = session.actor
    participant(actor, Action.POST_NOTE, p.table)
    # Locked first: a retry racing its original then finds the note, not a clash.
    scope = load_scope(conn, actor, actor.table_id)
    existing = q.note_row(conn, p.id)
    if existing is not None:
        return _repeat_post(actor, existing, p)
    event, table = scope.event, scope.table
    late = rules.check_can_post(event, table, queued=p.queued)
    if not late:
        check_unlocked(scope, "post a note")
    category = p.category
    if p.queued:
        # An idea written offline in stage 1 answers stage 1's prompt, if it
        # arrives within the grace time after writing there closed.
        stage = rules.queued_stage(event.template, table, p.stage)
        rules.check_queued_in_time(event.template, _history(conn, event, table), stage,
                                   q.now_ms())
        if stage != table.stage_index:
            table = replace(table, stage_index=stage, step_index=0)
        category = rules.fit_category(event.template, table, category)
    else:
        rules.check_category(event.template, table, category)
    text = clean_text(p.text, limit=event.template.note_max_length)
    private = (table.stage_index == scope.table.stage_index
               and rules_board.posting_is_private(event, table))
    row = {
        "id": p.id, "table_id": table.id, "participant_id": actor.participant_id,
        "stage_index": table.stage_index, "step_index": table.step_index,
        "category": category, "text": text,
        "author": session.name if event.template.show_author_names else None,
        "created_ms": q.now_ms(), "created_seq": q.next_seq(conn, table.id),
        "private": private, "updated_ms": None, "starred": False, "hidden": False,
        "group_id": None, "late": late, "deleted_ms": None, "merged_into": None,
    }
    q.insert_full_note(conn, row)
    note = note_out(row, votes=0)
    change = q.insert_change(conn, table.id, row["created_seq"], "note.added", {"note": note},
                             private_to=actor.participant_id if private else None)
    return Outcome({"seq": change["seq"], "note": note, "late": late}, actor.event_id, [change])


def _history(conn: Connection, event: EventState, table: TableState) -> list[Position]:
    """The table's positions from its change log, ending where it is now."""
    pos = Position(0, EventStatus.DRAFT, 0, 0)
    history = [pos]
    for c in q.position_changes(conn, table.id):
        data = c["data"]
        if c["kind"] == "event.status":
            pos = replace(pos, at_ms=c["created_ms"], status=EventStatus(data["status"]))
        else:
            pos = replace(pos, at_ms=c["created_ms"], stage=data["stage"], step=data["step"])
        history.append(pos)
    # A log that lost moves (an imported event starts a fresh one) ends where the table is.
    now = Position(q.now_ms(), event.status, table.stage_index, table.step_index)
    if (pos.status, pos.stage, pos.step) != (now.status, now.stage, now.step):
        history.append(now)
    return history


def _repeat_post(actor: Actor, existing: Row, p: NotePost) -> Outcome:
    if existing["participant_id"] != actor.participant_id:
        raise Conflict("That note id is already taken; your page will pick another.",
                       code="id_conflict")
    if existing["updated_ms"] is None and normalise_text(p.text) != existing["text"]:
        # The same id with other words is not a retry: say so rather than drop them.
        # (After an edit, a late retry of the first post is one: the edit stands.)
        raise Conflict("You already posted a different note with this id; this one "
                       "was not saved. Your page will send it again as a new note.",
                       code="id_conflict")
    # Already committed: acknowledge again with the original sequence number
    # and broadcast nothing, so a retry after a lost ack creates no second note.
    return Outcome({"seq": existing["created_seq"], "note": note_out(existing),
                    "duplicate": True}, actor.event_id)


def edit_note(conn: Connection, session: Session, p: NoteEdit) -> Outcome:
    """A participant rewrites their own note while its stage is open."""
    actor = session.actor
    participant(actor, Action.EDIT_OWN_NOTE)
    scope = load_scope(conn, actor, actor.table_id,
                       event_lock=spotlight_lock(conn, actor.event_id, p.id))
    text = clean_text(p.text, limit=scope.event.template.note_max_length)
    note = q.note_row(conn, p.id)
    rules_board.check_own_note(note, actor.participant_id, actor.table_id)
    assert note is not None
    rules_board.check_stage_open(scope.event, scope.table, note)
    rules_board.check_not_hidden(note)
    check_unlocked(scope, "change a note")
    rules.check_category(scope.event.template, scope.table, p.category)
    if text == note["text"] and p.category == note["category"]:
        return Outcome({"seq": scope.row["seq"], "note": note_out(note), "unchanged": True},
                       actor.event_id)
    note |= {"text": text, "category": p.category, "updated_ms": q.now_ms()}
    q.update_note(conn, p.id, text=text, category=p.category, updated_ms=note["updated_ms"])
    wire = without_votes(note_out(note))
    change = q.append_change(conn, actor.table_id, "note.edited", {"note": wire},
                             private_to=private_to(note))
    return Outcome({"seq": change["seq"], "note": wire}, actor.event_id, [change],
                   event=spotlight_follows(conn, actor.event_id, note))


def delete_note(conn: Connection, session: Session, p: NoteRef) -> Outcome:
    """A participant takes back their own note while its stage is open."""
    actor = session.actor
    participant(actor, Action.EDIT_OWN_NOTE, p.table)
    scope = load_scope(conn, actor, actor.table_id,
                       event_lock=spotlight_lock(conn, actor.event_id, p.id))
    note = q.note_row(conn, p.id)
    if note is not None and note["deleted_ms"] is not None \
            and note["participant_id"] == actor.participant_id:
        return Outcome({"seq": scope.row["seq"], "duplicate": True}, actor.event_id)
    rules_board.check_own_note(note, actor.participant_id, actor.table_id)
    assert note is not None
    rules_board.check_stage_open(scope.event, scope.table, note)
    rules_board.check_not_hidden(note)
    check_unlocked(scope, "delete a note")
    note["deleted_ms"] = q.now_ms()
    q.update_note(conn, p.id, deleted_ms=note["deleted_ms"])
    change = q.append_change(conn, actor.table_id, "note.deleted", {"id": p.id},
                             private_to=private_to(note))
    return Outcome({"seq": change["seq"]}, actor.event_id, [change],
                   event=spotlight_follows(conn, actor.event_id, note))
