"""Moving the event: a table's steps, every table's stage at once, its status."""

from __future__ import annotations

from sqlalchemy import Connection

from ..domain import board as rules_board
from ..domain import rules
from ..domain.model import EventState, TableState, event_state
from ..domain.payloads import StageMove, StatusChange, StepMove
from ..domain.permissions import Action, authorize
from ..store import queries as q
from ..wire import event_update_out, note_out
from .common import Outcome, Row, Session, load_event, staff_scope


def move_step(conn: Connection, session: Session, p: StepMove, delta: int) -> Outcome:
    """Move one table to the next (+1) or previous (-1) step of its stage."""
    actor = session.actor
    scope = staff_scope(conn, actor, p.table)
    event, table = scope.event, scope.table
    target = rules.move_step(event, table, delta, expected=p.expected)
    changes = _leave_step(conn, event, table, target)
    q.set_table_step(conn, table.id, target)
    changes.append(q.append_change(conn, table.id, "step.changed",
                                   {"stage": table.stage_index, "step": target}))
    return Outcome({"seq": changes[-1]["seq"], "step": target}, actor.event_id, changes)


def _leave_step(conn: Connection, event: EventState, table: TableState,
                target: int) -> list[Row]:
    """What leaving the current step publishes: private notes, blind vote counts."""
    changes = []
    if rules_board.reveals_on_move(event, table, target):
        changes += _reveal(conn, table.id, table.stage_index)
    if rules_board.vote_step_ends(event, table, target):
        counts = q.vote_counts(conn, table.id)
        changes.append(q.append_change(conn, table.id, "votes.revealed",
                                       {"stage": table.stage_index, "votes": counts}))
    return changes


def _reveal(conn: Connection, table_id: str, stage: int) -> list[Row]:
    revealed = q.reveal_notes(conn, table_id, stage)
    if not revealed:
        return []
    notes = [note_out(n, votes=0) for n in rules_board.shown_on_reveal(revealed)]
    return [q.append_change(conn, table_id, "notes.revealed", {"stage": stage, "notes": notes})]


def move_stage(conn: Connection, session: Session, p: StageMove, delta: int) -> Outcome:
    """Move every table of the event to the next (+1) or previous (-1) stage at once.

    A handful of statements for any number of tables: the reveals of every table
    in one UPDATE, every table moved and numbered in another, one INSERT for the log.
    """
    actor = session.actor
    authorize(actor, Action.MOVE_STAGE, event_id=actor.event_id)
    row = load_event(conn, actor.event_id)
    event = event_state(row)
    target = rules.move_stage(event, delta, expected=p.expected)
    q.lock_tables_of_event(conn, event.id)
    # Nothing written in silence stays unseen once the stage moves.
    revealed: dict[str, list[Row]] = {}
    for note in q.reveal_event_notes(conn, event.id):
        revealed.setdefault(note["table_id"], []).append(note)
    # The old stage's timer means nothing in the new stage.
    values = {"stage_index": target, "timer_state": "stopped", "timer_ends_ms": None,
              "timer_remaining_ms": None}
    q.update_event(conn, event.id, **values)
    last = q.move_tables(conn, event.id, stage_index=target, step_index=0,
                         two_changes=frozenset(revealed))
    at = q.now_ms()
    moved = {"stage": target, "step": 0}
    changes: list[Row] = []
    for table_id, seq in last.items():
        notes = revealed.get(table_id)
        if notes:
            shown = [note_out(n, votes=0) for n in rules_board.shown_on_reveal(notes)]
            changes.append(q.change_row(table_id, seq - 1, "notes.revealed",
                                        {"stage": notes[0]["stage_index"], "notes": shown},
                                        at=at))
        changes.append(q.change_row(table_id, seq, "stage.changed", moved, at=at))
    q.insert_changes(conn, changes)
    return Outcome({"stage": target}, actor.event_id, changes, event=event_update_out(row | values))


def change_status(conn: Connection, session: Session, p: StatusChange) -> Outcome:
    """Start, close or reopen the event; every table hears of it."""
    actor = session.actor
    authorize(actor, Action.CHANGE_EVENT_STATUS, event_id=actor.event_id)
    event = event_state(load_event(conn, actor.event_id))
    status = rules.change_status(event.status, p.action)
    q.update_event(conn, event.id, status=status.value)
    changes = q.append_event_change(conn, event.id, "event.status", {"status": status.value})
    return Outcome({"status": status.value}, actor.event_id, changes)
