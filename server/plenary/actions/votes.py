"""Dot voting: add and take back a participant's dots."""

from __future__ import annotations

from sqlalchemy import Connection

from ..domain import board as rules_board
from ..domain.errors import Conflict, NotFound
from ..domain.payloads import VoteAdd, VoteRemove
from ..domain.permissions import Action
from ..store import queries as q
from .common import Outcome, Session, check_unlocked, load_scope, participant


def add_vote(conn: Connection, session: Session, p: VoteAdd) -> Outcome:
    """One dot on a note; a retried vote (same id) counts once."""
    actor = session.actor
    participant(actor, Action.VOTE)
    scope = load_scope(conn, actor, actor.table_id)
    existing = q.vote_row(conn, p.id)
    if existing is not None:
        if existing["participant_id"] != actor.participant_id:
            raise Conflict("That vote id is already taken.", code="id_conflict")
        used = q.count_votes_of(conn, actor.participant_id, existing["stage_index"])
        limit = scope.event.template.votes_for(existing["stage_index"])
        return Outcome({"seq": scope.row["seq"], "duplicate": True,
                        "vote": {"id": p.id, "note": existing["note_id"]},
                        "votes_left": limit - used}, actor.event_id)
    note = rules_board.check_table_note(q.note_row(conn, p.note), actor.table_id)
    used = q.count_votes_of(conn, actor.participant_id, scope.table.stage_index)
    rules_board.check_vote(scope.event, scope.table, note, used)
    check_unlocked(scope, "vote")
    q.insert_vote(conn, id=p.id, table_id=actor.table_id, note_id=p.note,
                  participant_id=actor.participant_id, stage_index=scope.table.stage_index)
    blind = rules_board.vote_counts_hidden(scope.event, scope.table)
    total = q.count_votes_on(conn, p.note)
    change = q.append_change(
        conn, actor.table_id, "vote.added",
        {"vote": {"id": p.id, "note": p.note}, "votes": None if blind else total},
        private_to=actor.participant_id if blind else None)
    limit = scope.event.template.votes_for(scope.table.stage_index)
    return Outcome({"seq": change["seq"], "vote": {"id": p.id, "note": p.note},
                    "votes_left": limit - used - 1}, actor.event_id, [change])


def remove_vote(conn: Connection, session: Session, p: VoteRemove) -> Outcome:
    """Take one of your dots back while voting is open."""
    actor = session.actor
    participant(actor, Action.VOTE)
    scope = load_scope(conn, actor, actor.table_id)
    vote = q.vote_row(conn, p.id)
    if vote is None:  # already taken back (a retry): nothing to do
        return Outcome({"seq": scope.row["seq"], "duplicate": True}, actor.event_id)
    if vote["participant_id"] != actor.participant_id:
        raise NotFound("That is not one of your votes.")
    rules_board.check_unvote(scope.event, scope.table, vote)
    check_unlocked(scope, "change a vote")
    q.delete_vote(conn, p.id)
    blind = rules_board.vote_counts_hidden(scope.event, scope.table)
    total = q.count_votes_on(conn, vote["note_id"])
    change = q.append_change(
        conn, actor.table_id, "vote.removed",
        {"vote": {"id": p.id, "note": vote["note_id"]}, "votes": None if blind else total},
        private_to=actor.participant_id if blind else None)
    return Outcome({"seq": change["seq"]}, actor.event_id, [change])
